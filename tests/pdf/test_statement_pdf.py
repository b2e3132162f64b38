"""The monthly statement PDF: the fast rendering against the reference, its CSV attachment, and
signatures over both."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image, ImageChops, ImageFilter, ImageStat
from pypdf import PdfReader

from benchmarks.statement_pdf import build
from billing.reports.statement_pdf import (
    CSV_HEADER,
    statement_csv_filename,
    statement_render,
    statement_single_template_pdf,
)
from govcloud.pdf.signing import (
    Pkcs12PartySigner,
    SigningSecret,
    create_dev_ca,
    demo_signing_passphrase,
    dev_party,
    party_key,
    prepare_signature_fields,
    sign_pdf,
    verify_pdf,
)
from tests.pdf.pdf_layout import layout_differences, page_lines

LINES = 300  # ~12 pages: several department and system groups, quick to compare


@pytest.fixture(scope="module")
def statement():
    return build(LINES)


@pytest.fixture(scope="module")
def fast_pdf(statement) -> bytes:
    record, lines, parties = statement
    return statement_render(record, lines, parties=parties)


@pytest.fixture(scope="module")
def reference_pdf(statement) -> bytes:
    """The naive rendering: ``reports/statement.html``, one WeasyPrint document."""
    record, lines, parties = statement
    return statement_single_template_pdf(record, lines, parties=parties)


def attachment(pdf: bytes) -> tuple[str, bytes]:
    [(name, [data])] = PdfReader(io.BytesIO(pdf)).attachments.items()
    return name, data


def test_statement_matches_the_single_template_rendering_page_by_page(fast_pdf, reference_pdf):
    reference = reference_pdf
    pages = page_lines(fast_pdf)
    assert len(pages) > 5
    text = "".join(line.text for page in pages for line in page)
    assert "一、包头市教育局" in text
    assert "（四）视频会商系统" in text
    assert "政务服务平台小计" in text
    assert "全部使用单位合计" in text
    assert f"第1页/共{len(pages)}页" in text
    assert "签认" in "".join(line.text for line in pages[-1])  # the sign-off table, last
    # Every page: the same lines of text, at the same positions (a third of a point).
    assert layout_differences(fast_pdf, reference) == []


def test_statement_pages_look_like_the_single_template_rendering(fast_pdf, reference_pdf, tmp_path):
    """Rasterised (poppler, 60 dpi, slightly blurred so that a hairline one pixel off does not
    count), every page matches the reference: backgrounds, zebra stripes, rules and text. The
    thresholds are a fraction of what a wrong stripe colour or a shifted row costs."""
    fast, reference = raster(fast_pdf, tmp_path / "fast"), raster(reference_pdf, tmp_path / "ref")

    assert len(fast) == len(reference)
    for number, (page, expected) in enumerate(zip(fast, reference, strict=True), start=1):
        assert page.size == expected.size
        difference = ImageChops.difference(page, expected)
        histogram = difference.histogram()
        assert ImageStat.Stat(difference).mean[0] < 0.6, f"page {number}"
        assert sum(histogram[24:]) / sum(histogram) < 0.005, f"page {number}"


def raster(pdf: bytes, stem: Path) -> list[Image.Image]:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is not installed"
    stem.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(  # noqa: S603 — our own files
        [pdftoppm, "-r", "60", "-gray", "-png", str(stem.with_suffix(".pdf")), str(stem)],
        check=True,
    )
    return [
        Image.open(path).convert("L").filter(ImageFilter.BoxBlur(2))
        for path in sorted(stem.parent.glob(f"{stem.name}-*.png"))
    ]


def test_statement_embeds_its_lines_as_csv_for_spreadsheets(statement, fast_pdf):
    record, lines, _ = statement
    name, data = attachment(fast_pdf)

    assert name == statement_csv_filename(record) == "statement-BT-2025-202603-v1-lines.csv"
    assert data.startswith("\ufeff".encode())  # the BOM that makes Excel read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == LINES + 1
    for row, line in zip(rows[1:], lines, strict=True):
        assert row == [
            str(line.position),
            line.department,
            line.system,
            line.item_code,
            line.item_name,
            line.unit,
            str(line.quantity),
            str(line.unit_price),
            "月",
            str(line.service_days),
            str(line.amount),
        ]
    assert sum(Decimal(row[10]) for row in rows[1:]) == record.subtotal


@pytest.fixture(scope="module")
def signing_dir(tmp_path_factory: pytest.TempPathFactory, statement) -> Path:
    _, _, parties = statement
    directory = tmp_path_factory.mktemp("statement-signing")
    create_dev_ca(directory, [dev_party(p.organization_id, p.organization) for p in parties])
    return directory


def test_signatures_cover_the_embedded_csv(statement, fast_pdf, signing_dir):
    _, _, parties = statement
    pdf = prepare_signature_fields(
        fast_pdf, [party.field_name for party in parties], require_seal_boxes=True
    )
    signers = parties[:2]
    for party in signers:
        key = party_key(party.organization_id)
        signer = Pkcs12PartySigner(key=key, path=signing_dir / f"{key}.p12").open(
            SigningSecret(demo_signing_passphrase(party.organization_id))
        )
        pdf = sign_pdf(
            pdf,
            signer=signer,
            field_name=party.field_name,
            reason="签认月度服务资源统计表",
            location="包头",
            name=party.organization,
        )

    roots = x509.load_pem_x509_certificates((signing_dir / "ca.pem").read_bytes())
    reports = verify_pdf(pdf, trust_roots=roots)
    assert [report.field_name for report in reports] == [party.field_name for party in signers]
    assert all(report.ok for report in reports)
    assert reports[-1].coverage == "ENTIRE_FILE"
    # The attachment is part of the first revision: the same bytes, under both signatures ...
    assert attachment(pdf) == attachment(fast_pdf)
    # ... so a changed byte in it breaks them.
    embedded = pdf.index(b"/EmbeddedFile")
    start = pdf.index(b"stream", embedded) + len(b"stream\n")
    tampered = bytearray(pdf)
    tampered[start + 5] ^= 0x01
    assert not any(report.ok for report in verify_pdf(bytes(tampered), trust_roots=roots))
