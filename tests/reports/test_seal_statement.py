"""Visible seals on the signed statement (issue 14, item 3): each party's signature shows its
seal — organisation, signer, "已签认" and the signing time in +0800, red, in the bundled font —
in that party's row of the printed sign-off table, applied with the signature itself; rows not
signed yet read "待签认". The printed last page proves who signed and when.

The rendered pages are kept in ``var/test-artifacts/`` (git-ignored) for a human look.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from billing.models import EscalationDecision, StatementSignoff
from billing.services.statements import (
    statement_decide_escalation,
    statement_dispute,
    statement_escalate_overdue_disputes,
)
from govcloud.pdf.signing import PENDING_TEXT, seal_boxes
from govcloud.workdays import BUSINESS_TZ
from tests.billing.conftest import password, signing_passphrase
from tests.pdf.test_signing import SEAL_TIME, page_png, pdf_text, pdfsig_report, red_pixels
from tests.reports.conftest import document, file_bytes, generate, sign_off
from tests.reports.test_signing import BT_SIGNING_ORDER, org_name, reports_of

ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"
DPI = 100
ROLE_OF_FIELD = {
    "sig-2-vendor": "vendor",
    "sig-1-bureau": "bureau",
    "sig-3-supervisor": "supervisor",
}


def last_page(pdf: bytes) -> tuple[int, float]:
    """Index and height (points) of the last page, where the sign-off table is."""
    reader = PdfFileReader(BytesIO(pdf))
    pages = reader.root["/Pages"]
    index = int(pages["/Count"]) - 1
    node = pages
    while "/Kids" in node:  # walk down to the last leaf
        node = node["/Kids"][len(node["/Kids"]) - 1]
    return index, float(node["/MediaBox"][3])


def seal_texts(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    """The text printed in each party's seal box (its row of the sign-off table)."""
    _page, height = last_page(pdf)
    return {
        field: " ".join(pdf_text(pdf, tmp_path, box=box, page_height=height).split())
        for field, box in seal_boxes(pdf, BT_SIGNING_ORDER).items()
    }


def keep_png(png: Path, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    target.write_bytes(png.read_bytes())
    return target


def seal_state(pdf: bytes, tmp_path: Path) -> dict[str, int]:
    """Red pixels in each party's seal box on the printed last page."""
    page, height = last_page(pdf)
    boxes = seal_boxes(pdf, BT_SIGNING_ORDER)
    assert sorted(boxes) == sorted(BT_SIGNING_ORDER)
    assert {box.page for box in boxes.values()} == {page}  # the table is on the last page
    png = page_png(pdf, page, tmp_path, dpi=DPI)
    return {field: red_pixels(png, box, height, dpi=DPI) for field, box in boxes.items()}


def test_a_signed_bt_statement_shows_three_seals_with_names_and_times(bt, tmp_path: Path):
    statement = generate(bt)
    versions = [file_bytes(document(statement))]
    for role in ("vendor", "bureau", "supervisor"):
        sign_off(bt, statement, role)
        versions.append(file_bytes(document(statement)))

    # Rendered: every row reads "待签认", no seal anywhere.
    assert set(seal_state(versions[0], tmp_path).values()) == {0}
    assert set(seal_texts(versions[0], tmp_path).values()) == {PENDING_TEXT}

    # Each sign-off adds exactly its own seal, in its own row, as an incremental update.
    for count, (before, after) in enumerate(itertools.pairwise(versions), start=1):
        assert after.startswith(before)  # never a re-render of the signed bytes
        signed = set(BT_SIGNING_ORDER[:count])
        red = seal_state(after, tmp_path)
        assert {field for field, pixels in red.items() if pixels > 300} == signed, red
        assert {field for field, pixels in red.items() if pixels == 0} == (
            set(BT_SIGNING_ORDER) - signed
        ), red
        texts = seal_texts(after, tmp_path)
        assert {field for field, text in texts.items() if text == PENDING_TEXT} == (
            set(BT_SIGNING_ORDER) - signed
        )

    pdf = versions[-1]
    page, _height = last_page(pdf)
    keep_png(page_png(versions[0], page, tmp_path, dpi=DPI), "seal-bt-statement-unsigned.png")
    kept = keep_png(page_png(pdf, page, tmp_path, dpi=DPI), "seal-bt-statement-signed.png")
    assert kept.stat().st_size > 0

    # Who and when, as printed in each row: organisation, signer, the signature's own time.
    texts = seal_texts(pdf, tmp_path)
    reports = reports_of(pdf)
    assert [r.field_name for r in reports] == BT_SIGNING_ORDER
    assert all(r.ok for r in reports)  # earlier signatures hold after the later ones
    signoffs = {s.party.role: s for s in StatementSignoff.objects.filter(statement=statement)}
    for report in reports:
        role = ROLE_OF_FIELD[report.field_name]
        seal = texts[report.field_name]
        assert org_name(bt, role) in seal
        assert f"签认人：{signoffs[role].user}" in seal
        when = report.signing_time.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
        assert SEAL_TIME.findall(seal) == [when]
    assert not any(PENDING_TEXT in text for text in texts.values())

    sig = pdfsig_report(pdf, tmp_path)
    assert sig.count("Signature Validation: Signature is Valid.") == 3


def test_the_auditors_ruling_shows_the_auditors_seal_in_the_disputing_partys_row(
    bt, tmp_path: Path
):
    statement = generate(bt)
    sign_off(bt, statement, "vendor", "bureau")
    statement_dispute(
        actor=bt.users["supervisor"], statement=statement, reauth=password(), comment="不符"
    )
    statement_escalate_overdue_disputes(now=timezone.now() + timedelta(days=15))
    auditor = bt.users["auditor"]
    statement_decide_escalation(
        actor=auditor,
        statement=statement,
        decision=EscalationDecision.UPHOLD_VENDOR,
        comment="经核对，乙方统计无误。",
        reauth=password(),
        signing_passphrase=signing_passphrase(auditor),
    )

    pdf = file_bytes(document(statement))

    red = seal_state(pdf, tmp_path)
    assert all(pixels > 300 for pixels in red.values()), red
    texts = seal_texts(pdf, tmp_path)
    assert f"{org_name(bt, 'auditor')}（审计确定，代监理）" in texts["sig-3-supervisor"]
    assert org_name(bt, "supervisor") not in texts["sig-3-supervisor"]
    assert not any(PENDING_TEXT in text for text in texts.values())
    assert all(r.ok for r in reports_of(pdf))
