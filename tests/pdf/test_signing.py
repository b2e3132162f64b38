"""PAdES multi-party signing: dev CA, signing in order, and detection of later changes."""

from __future__ import annotations

import itertools
import pickle
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import tzlocal
import weasyprint
from cryptography import x509
from django.core.management import CommandError, call_command
from django.utils.safestring import mark_safe
from fontTools.ttLib import TTFont
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from govcloud.models import OrganizationKind
from govcloud.pdf import signing as pdf_signing
from govcloud.pdf.render import TABLE_TEMPLATE, render_pdf
from govcloud.pdf.signing import (
    PENDING_TEXT,
    SEAL_FONT,
    InvalidPdf,
    PartySigner,
    Pkcs12PartySigner,
    SealBox,
    SigningError,
    SigningKeyMissing,
    SigningSecret,
    WrongSigningSecret,
    create_dev_ca,
    demo_signing_passphrase,
    dev_party,
    party_signer,
    prepare_signature_fields,
    seal_anchor,
    seal_boxes,
    seal_end_anchor,
    seal_font_file,
    sha256_hex,
    sign_pdf,
    verify_pdf,
)
from govcloud.workdays import BUSINESS_TZ
from tests.factories import DepartmentFactory, OrganizationFactory

PARTIES = [
    dev_party(1, "浪潮软件科技有限公司"),  # vendor submits
    dev_party(2, "河南华建工程监理有限公司"),  # supervisor confirms
    dev_party(3, "焦作市政务服务和大数据管理局"),  # bureau confirms last
]
FIELDS = ["vendor", "supervisor", "bureau"]


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("signing")
    create_dev_ca(directory, PARTIES)
    return directory


@pytest.fixture(scope="module")
def trust_roots(ca_dir: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((ca_dir / "ca.pem").read_bytes())


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    pdf = render_pdf(
        TABLE_TEMPLATE,
        {
            "report_title": "焦作市政务云服务合同（JZ-2026）",
            "report_subtitle": "2026年3月",
            "header_html": mark_safe("<h1>政务云服务费用月度结算单</h1>"),
            "columns": [],
        },
    )
    return prepare_signature_fields(pdf, FIELDS)


def open_key(ca_dir: Path, key: str):
    secret = SigningSecret(demo_signing_passphrase(int(key.removeprefix("org-"))))
    return Pkcs12PartySigner(key=key, path=ca_dir / f"{key}.p12").open(secret)


def sign_as(pdf: bytes, ca_dir: Path, key: str, field: str) -> bytes:
    signer = open_key(ca_dir, key)
    return sign_pdf(
        pdf, signer=signer, field_name=field, reason="确认月度结算单", location="焦作", name=field
    )


@pytest.fixture(scope="module")
def fully_signed(unsigned_pdf: bytes, ca_dir: Path) -> list[bytes]:
    """The PDF after each of the three signatures, in order."""
    versions = []
    pdf = unsigned_pdf
    for (key, _, _), field in zip(PARTIES, FIELDS, strict=True):
        pdf = sign_as(pdf, ca_dir, key, field)
        versions.append(pdf)
    return versions


def test_three_parties_sign_in_order_and_each_signature_holds(
    unsigned_pdf: bytes, fully_signed: list[bytes], trust_roots: list[x509.Certificate]
):
    # Each signature is an incremental update: the previous version is a byte prefix.
    previous = unsigned_pdf
    for version in fully_signed:
        assert version.startswith(previous)
        previous = version

    reports = verify_pdf(fully_signed[-1], trust_roots=trust_roots)

    assert [r.field_name for r in reports] == FIELDS
    assert [r.signer_common_name for r in reports] == [name for _, name, _ in PARTIES]
    assert [r.signer_organization for r in reports] == [name for _, name, _ in PARTIES]
    assert all(r.intact and r.valid and r.trusted and r.ok for r in reports)
    assert [r.coverage for r in reports] == ["ENTIRE_REVISION", "ENTIRE_REVISION", "ENTIRE_FILE"]
    assert [r.modification_level for r in reports] == ["FORM_FILLING", "FORM_FILLING", "NONE"]


def test_partially_signed_pdf_lists_only_the_signatures_so_far(
    fully_signed: list[bytes], trust_roots: list[x509.Certificate]
):
    reports = verify_pdf(fully_signed[0], trust_roots=trust_roots)

    assert [(r.field_name, r.ok) for r in reports] == [("vendor", True)]


def test_signing_time_comes_from_the_clock(
    unsigned_pdf: bytes, ca_dir: Path, trust_roots: list[x509.Certificate]
):
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    with time_machine.travel(moment, tick=False):
        signed = sign_as(unsigned_pdf, ca_dir, "org-1", "vendor")
        [report] = verify_pdf(signed, trust_roots=trust_roots)

    assert report.signing_time == moment
    assert report.ok


def test_a_flipped_byte_in_signed_content_is_detected(
    fully_signed: list[bytes], trust_roots: list[x509.Certificate]
):
    pdf = bytearray(fully_signed[-1])
    # Inside the first content stream of the original revision: covered by every signature.
    position = pdf.index(b"stream\n") + len(b"stream\n") + 10
    pdf[position] ^= 0x01

    reports = verify_pdf(bytes(pdf), trust_roots=trust_roots)

    assert len(reports) == 3
    assert not any(r.intact or r.ok for r in reports)


def test_a_later_change_of_page_content_is_detected(
    fully_signed: list[bytes], trust_roots: list[x509.Certificate]
):
    # An attacker appends a well-formed incremental update drawing over page 1.
    writer = IncrementalPdfFileWriter(BytesIO(fully_signed[-1]))
    overlay = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 50 700 200 40 re f"))
    writer.add_stream_to_page(0, overlay)
    output = BytesIO()
    writer.write(output)

    reports = verify_pdf(output.getvalue(), trust_roots=trust_roots)

    # The signed bytes are untouched (intact, valid), yet no signature holds any more.
    assert all(r.intact and r.valid and r.trusted for r in reports)
    assert [r.modification_level for r in reports] == ["OTHER", "OTHER", "OTHER"]
    assert not any(r.ok for r in reports)


def test_a_signature_from_another_ca_is_not_trusted(fully_signed: list[bytes], tmp_path: Path):
    create_dev_ca(tmp_path, [dev_party(9, "冒充单位")])
    other_root = x509.load_pem_x509_certificates((tmp_path / "ca.pem").read_bytes())

    reports = verify_pdf(fully_signed[-1], trust_roots=other_root)

    assert all(r.intact and not r.trusted and not r.ok for r in reports)


def test_a_field_signs_once_and_must_exist(fully_signed: list[bytes], ca_dir: Path):
    with pytest.raises(SigningError):
        sign_as(fully_signed[-1], ca_dir, "org-1", "vendor")
    with pytest.raises(SigningError):
        sign_as(fully_signed[-1], ca_dir, "org-1", "auditor")


def test_fields_cannot_be_added_once_signed(fully_signed: list[bytes]):
    with pytest.raises(SigningError, match="already signed"):
        prepare_signature_fields(fully_signed[0], ["auditor"])


def test_a_certifying_first_signature_still_allows_the_later_ones(
    unsigned_pdf: bytes, ca_dir: Path, trust_roots: list[x509.Certificate]
):
    vendor = open_key(ca_dir, "org-1")
    certified = sign_pdf(
        unsigned_pdf,
        signer=vendor,
        field_name="vendor",
        reason="提交结算单",
        location="焦作",
        name="乙方",
        certify=True,
    )
    signed = sign_as(certified, ca_dir, "org-2", "supervisor")

    reports = verify_pdf(signed, trust_roots=trust_roots)

    assert [(r.field_name, r.docmdp_ok, r.ok) for r in reports] == [
        ("vendor", True, True),
        ("supervisor", True, True),
    ]


def test_garbage_is_not_a_pdf(trust_roots: list[x509.Certificate]):
    with pytest.raises(InvalidPdf):
        verify_pdf(b"%PDF-1.7 not really", trust_roots=trust_roots)


def test_sha256_hex_fingerprints_the_bytes():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_create_dev_ca_is_idempotent(tmp_path: Path):
    first = create_dev_ca(tmp_path, [dev_party(1, "甲方")])
    ca_pem = (tmp_path / "ca.pem").read_bytes()
    party_p12 = (tmp_path / "org-1.p12").read_bytes()

    second = create_dev_ca(tmp_path, [dev_party(1, "甲方"), dev_party(2, "乙方")])

    assert [p.name for p in first] == ["ca.pem", "ca-key.pem", "org-1.p12"]
    assert [p.name for p in second] == ["org-2.p12"]
    assert (tmp_path / "ca.pem").read_bytes() == ca_pem
    assert (tmp_path / "org-1.p12").read_bytes() == party_p12
    assert (tmp_path / "org-1.p12").stat().st_mode & 0o077 == 0  # private key: owner only

    forced = create_dev_ca(tmp_path, [dev_party(1, "甲方")], force=True)
    assert [p.name for p in forced] == ["ca.pem", "ca-key.pem", "org-1.p12"]
    assert (tmp_path / "ca.pem").read_bytes() != ca_pem


def test_each_party_key_opens_only_with_that_partys_own_passphrase(settings, ca_dir: Path):
    settings.SIGNING_DIR = ca_dir
    settings.DEBUG = False  # no fallback of any kind in production

    supervisor = party_signer("org-2")
    signer = supervisor.open(SigningSecret(demo_signing_passphrase(2)))

    assert isinstance(supervisor, PartySigner)
    assert signer.signing_cert.subject.native["common_name"] == "河南华建工程监理有限公司"
    # another party's passphrase, a wrong one, none at all: refused
    for wrong in (demo_signing_passphrase(1), "govcloud-dev", "", None):
        with pytest.raises(WrongSigningSecret):
            supervisor.open(SigningSecret(wrong))
    with pytest.raises(SigningKeyMissing, match="create_dev_ca"):
        party_signer("org-404").open(SigningSecret("x"))
    with pytest.raises(ValueError, match="Invalid signing key"):
        party_signer("../ca")


def test_the_secret_never_prints_compares_or_pickles():
    secret = SigningSecret("demo-sign-org-2")

    assert "demo-sign" not in repr(secret)
    assert "demo-sign" not in str(secret)
    assert "demo-sign" not in f"{secret} {[secret]} { ({'s': secret}) }"
    assert secret != SigningSecret("demo-sign-org-2")
    assert secret.reveal() == b"demo-sign-org-2"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_a_wrong_passphrase_leaves_no_trace_of_it_in_the_exception(ca_dir: Path):
    key = Pkcs12PartySigner(key="org-2", path=ca_dir / "org-2.p12")

    with pytest.raises(WrongSigningSecret) as refused:
        key.open(SigningSecret("guess-123"))

    # no chained exception whose frames hold the passphrase as a local
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__
    assert "guess-123" not in str(refused.value)


def test_the_party_signer_backend_is_a_setting(settings):
    settings.SIGNING_PARTY_SIGNER = "tests.pdf.test_signing.FakeTokenSigner"

    signer = party_signer("org-5")

    assert isinstance(signer, FakeTokenSigner)
    assert signer.key == "org-5"


class FakeTokenSigner:
    """What a PKCS#11 or remote backend looks like to the platform: a key name and ``open``."""

    def __init__(self, key: str) -> None:
        self.key = key

    def open(self, secret: SigningSecret):  # pragma: no cover — only its shape matters here
        raise WrongSigningSecret("token PIN refused")


@pytest.mark.django_db
def test_create_dev_ca_command_issues_a_key_per_party(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    settings.SIGNING_DIR = tmp_path
    settings.DEBUG = True
    vendor = OrganizationFactory(kind=OrganizationKind.VENDOR, name="浪潮软件科技有限公司")
    auditor = OrganizationFactory(kind=OrganizationKind.AUDITOR, name="某审计事务所")
    department = DepartmentFactory()

    call_command("create_dev_ca")

    for org in (vendor, auditor, department.parent):
        assert (tmp_path / f"org-{org.pk}.p12").exists()
    assert not (tmp_path / f"org-{department.pk}.p12").exists()  # departments do not sign
    key = party_signer(f"org-{vendor.pk}")
    opened = key.open(SigningSecret(demo_signing_passphrase(vendor.pk)))
    with pytest.raises(WrongSigningSecret):  # each party its own passphrase
        key.open(SigningSecret(demo_signing_passphrase(auditor.pk)))
    assert opened.signing_cert.subject.native == {
        "country_name": "CN",
        "organization_name": "浪潮软件科技有限公司",
        "common_name": "浪潮软件科技有限公司",
    }
    first_output = capsys.readouterr().out
    assert "已创建" in first_output
    assert f"演示口令 demo-sign-org-{vendor.pk}" in first_output

    call_command("create_dev_ca")
    output = capsys.readouterr().out
    assert "已创建" not in output
    assert f"org-{vendor.pk}.p12 已存在" in output


@pytest.mark.django_db
def test_create_dev_ca_command_refuses_production(settings, tmp_path: Path):
    settings.SIGNING_DIR = tmp_path
    settings.DEBUG = False

    with pytest.raises(CommandError, match="生产模式"):
        call_command("create_dev_ca")
    assert not (tmp_path / "ca.pem").exists()


# ------------------------------------------------------------------------------- visible seals

SEAL_FIELDS = ["sig-1-bureau", "sig-2-vendor", "sig-3-supervisor"]
SIGNED_IN_ORDER = [  # (field, key, signer, organisation)
    ("sig-2-vendor", "org-1", "张晓明", PARTIES[0][1]),
    ("sig-3-supervisor", "org-2", "李建国", PARTIES[1][1]),
    ("sig-1-bureau", "org-3", "王丽华", PARTIES[2][1]),
]
RENDER_DPI = 72  # one pixel per point: PDF boxes are pixel boxes
SEAL_TIME = re.compile(r"已签认 (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \+0800")


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool (pdftoppm, pdftotext, pdfsig): installed with the PDF
    toolchain (README), so a missing one fails the test rather than skipping it."""
    path = shutil.which(tool)
    assert path, f"{tool} (poppler-utils) is not installed"
    return path


def seal_table_pdf(field_names: list[str]) -> bytes:
    """A page with a sign-off table whose rows carry the seal boxes the renderer marks."""
    rows = "".join(
        f"<tr><td>{index}</td><td>单位{index}</td><td class='seal-cell'>"
        f"<div class='seal-box' id='{seal_anchor(name)}'>"
        f"<span class='seal-box-end' id='{seal_end_anchor(name)}'></span></div></td>"
        f"<td>{name}</td></tr>"
        for index, name in enumerate(field_names, start=1)
    )
    html = f"""<html><head><style>
      @font-face {{ font-family: Seal; src: url({SEAL_FONT.as_uri()}); }}
      @page {{ size: A4; margin: 20mm; }}
      body {{ font-family: Seal; }}
      table {{ border-collapse: collapse; width: 100%; }}
      td {{ border: 1px solid #999; }}
      col.order {{ width: 8%; }} col.org {{ width: 30%; }} col.seal {{ width: 40%; }}
      .seal-box {{ position: relative; height: 20mm; }}
      .seal-box-end {{ position: absolute; right: 0; bottom: 0; }}
    </style></head><body><h2>签认</h2><table><colgroup><col class="order"><col class="org">
      <col class="seal"><col></colgroup>{rows}</table></body></html>"""
    return weasyprint.HTML(string=html).write_pdf()


def page_png(pdf: bytes, page: int, directory: Path, *, dpi: int = RENDER_DPI) -> Path:
    """Page ``page`` (0-based) as poppler prints it: annotations (the seals) included."""
    source = directory / "render.pdf"
    source.write_bytes(pdf)
    prefix = directory / f"page-{page}"
    subprocess.run(  # noqa: S603 — fixed arguments
        [
            poppler("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page + 1),
            "-l",
            str(page + 1),
            "-singlefile",
            str(source),
            str(prefix),
        ],
        check=True,
    )
    return prefix.with_suffix(".png")


def red_pixels(png: Path, box: SealBox, page_height: float, *, dpi: int = RENDER_DPI) -> int:
    """Seal-red pixels inside ``box`` (PDF points) of a page rendered at ``dpi``."""
    scale = dpi / 72
    llx, lly, urx, ury = box.rect
    with Image.open(png) as image:
        crop = image.convert("RGB").crop(
            (
                int(llx * scale),
                int((page_height - ury) * scale),
                int(urx * scale),
                int((page_height - lly) * scale),
            )
        )
        return sum(1 for r, g, b in crop.get_flattened_data() if r > 150 and g < 90 and b < 90)


def pdf_text(
    pdf: bytes,
    directory: Path,
    *,
    page: int | None = None,
    box: SealBox | None = None,
    page_height: float = 0.0,
) -> str:
    """What poppler extracts — appearances of form fields (the seals) included — from the whole
    document, one page (0-based), or only the area of ``box`` on it."""
    source = directory / "text.pdf"
    source.write_bytes(pdf)
    area: list[str] = []
    if box is not None:
        page = box.page
        llx, lly, urx, ury = box.rect
        area = ["-x", f"{llx:.0f}", "-y", f"{page_height - ury:.0f}"]
        area += ["-W", f"{urx - llx:.0f}", "-H", f"{ury - lly:.0f}"]
    pages = [] if page is None else ["-f", str(page + 1), "-l", str(page + 1)]
    return subprocess.run(  # noqa: S603 — fixed arguments
        [poppler("pdftotext"), "-layout", *pages, *area, str(source), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pdfsig_report(pdf: bytes, directory: Path) -> str:
    source = directory / "sig.pdf"
    source.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 — fixed arguments
        [poppler("pdfsig"), str(source)], capture_output=True, text=True, check=False
    ).stdout


def page_height(pdf: bytes, page: int) -> float:
    reader = PdfFileReader(BytesIO(pdf))
    return float(reader.root["/Pages"]["/Kids"][page]["/MediaBox"][3])


def widget_fonts(pdf: bytes, field_name: str) -> list[str]:
    reader = PdfFileReader(BytesIO(pdf))
    [(_name, _value, ref)] = list(enumerate_sig_fields(reader, with_name=field_name))
    appearance = ref.get_object()["/AP"]["/N"]
    found: list[str] = []

    def collect(xobject, depth: int = 0) -> None:  # the stamp nests its parts as form XObjects
        resources = xobject.get_object().get("/Resources") or {}
        fonts = resources.get("/Font") or generic.DictionaryObject()
        found.extend(str(fonts[name]["/BaseFont"]) for name in fonts)
        inner = resources.get("/XObject") or generic.DictionaryObject()
        for name in inner if depth < 4 else ():
            collect(inner[name], depth + 1)

    collect(appearance)
    return found


@pytest.fixture(scope="module")
def sealed(ca_dir: Path) -> tuple[bytes, list[bytes]]:
    """The seal-table PDF prepared with visible fields, then after each signature."""
    prepared = prepare_signature_fields(
        seal_table_pdf(SEAL_FIELDS), SEAL_FIELDS, require_seal_boxes=True
    )
    versions, pdf = [], prepared
    for index, (field, key, signer_name, organization) in enumerate(SIGNED_IN_ORDER):
        pdf = sign_pdf(
            pdf,
            signer=open_key(ca_dir, key),
            field_name=field,
            reason="确认月度服务资源统计表",
            location=organization,
            name=signer_name,
            certify=index == 0,
        )
        versions.append(pdf)
    return prepared, versions


def test_seal_boxes_come_from_the_named_destinations_of_the_rows():
    pdf = seal_table_pdf(SEAL_FIELDS)

    boxes = seal_boxes(pdf, [*SEAL_FIELDS, "sig-9-nobody"])

    assert sorted(boxes) == SEAL_FIELDS  # a field the page does not mark has no box
    rows = [boxes[name] for name in SEAL_FIELDS]
    assert {box.page for box in rows} == {0}
    for box in rows:
        assert box.height == pytest.approx(20 * 72 / 25.4, abs=0.5)  # the CSS height, 20 mm
        assert 100 < box.width < 400
    tops = [box.rect[3] for box in rows]
    assert tops == sorted(tops, reverse=True)  # one row under the other, in table order
    assert all(upper.rect[1] >= lower.rect[3] - 0.5 for upper, lower in itertools.pairwise(rows))


def test_a_statement_without_its_seal_boxes_is_refused_when_they_are_required(
    unsigned_pdf: bytes,
):
    with pytest.raises(SigningError, match="No seal box"):
        prepare_signature_fields(
            seal_table_pdf(["sig-1-bureau"]), SEAL_FIELDS, require_seal_boxes=True
        )
    # other documents keep invisible fields
    assert seal_boxes(unsigned_pdf, FIELDS) == {}


def test_each_signature_shows_its_partys_seal_in_its_row_and_the_rest_still_read_pending(
    sealed: tuple[bytes, list[bytes]], trust_roots: list[x509.Certificate], tmp_path: Path
):
    prepared, versions = sealed
    boxes = seal_boxes(prepared, SEAL_FIELDS)
    height = page_height(prepared, 0)

    before = page_png(prepared, 0, tmp_path)
    assert all(red_pixels(before, box, height) == 0 for box in boxes.values())
    assert pdf_text(prepared, tmp_path).count(PENDING_TEXT) == 3

    for count, version in enumerate(versions, start=1):
        signed_now = {field for field, *_ in SIGNED_IN_ORDER[:count]}
        png = page_png(version, 0, tmp_path)
        for field, box in boxes.items():
            red = red_pixels(png, box, height)
            if field in signed_now:
                assert red > 300, (count, field, red)  # border, inner rule and red text
            else:
                assert red == 0, (count, field, red)
        text = pdf_text(version, tmp_path)
        assert text.count(PENDING_TEXT) == 3 - count
        assert len(SEAL_TIME.findall(text)) == count

    final_text = pdf_text(versions[-1], tmp_path)
    for field, _key, signer_name, organization in SIGNED_IN_ORDER:  # each in its own row
        seal = pdf_text(versions[-1], tmp_path, box=boxes[field], page_height=height)
        assert organization in seal
        assert f"签认人：{signer_name}" in seal
        assert len(SEAL_TIME.findall(seal)) == 1

    reports = verify_pdf(versions[-1], trust_roots=trust_roots)
    assert [r.field_name for r in reports] == [field for field, *_ in SIGNED_IN_ORDER]
    assert all(r.ok for r in reports)
    assert [r.modification_level for r in reports] == ["FORM_FILLING", "FORM_FILLING", "NONE"]
    # the time on each seal is the signature's own signing time, in Beijing time
    stamped = SEAL_TIME.findall(final_text)
    signed_at = [
        r.signing_time.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") for r in reports
    ]
    assert sorted(stamped) == sorted(signed_at)


def test_poppler_finds_every_signature_valid_after_the_later_ones(
    sealed: tuple[bytes, list[bytes]], tmp_path: Path
):
    _prepared, versions = sealed

    report = pdfsig_report(versions[-1], tmp_path)

    assert report.count("Signature Validation: Signature is Valid.") == 3
    for field, *_ in SIGNED_IN_ORDER:
        assert f"Signature Field Name: {field}" in report
    assert report.count("Total document signed") == 1  # the last; the others cover revisions


def test_the_seal_is_drawn_in_the_bundled_font(sealed: tuple[bytes, list[bytes]]):
    prepared, versions = sealed

    for field, *_ in SIGNED_IN_ORDER:
        assert any("NotoSansSCGovCloud" in name for name in widget_fonts(versions[-1], field))
    assert any("NotoSansSCGovCloud" in name for name in widget_fonts(prepared, "sig-1-bureau"))


def test_the_seal_reads_beijing_time_whatever_the_servers_zone(
    ca_dir: Path, trust_roots: list[x509.Certificate], tmp_path: Path, monkeypatch
):
    prepared = prepare_signature_fields(seal_table_pdf(["sig-2-vendor"]), ["sig-2-vendor"])
    monkeypatch.setattr(tzlocal, "get_localzone", lambda: ZoneInfo("America/New_York"))
    moment = datetime(2026, 3, 31, 20, 30, 5, tzinfo=UTC)  # 2026-04-01 04:30:05 in Beijing

    with time_machine.travel(moment, tick=False):
        signed = sign_as(prepared, ca_dir, "org-1", "sig-2-vendor")
        [report] = verify_pdf(signed, trust_roots=trust_roots)

    assert report.signing_time == moment
    assert "已签认 2026-04-01 04:30:05 +0800" in pdf_text(signed, tmp_path)


def test_the_seal_font_is_the_bundled_one_without_its_layout_tables(
    settings, tmp_path, monkeypatch
):
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(pdf_signing, "_SEAL_FONT_FILES", {})

    path = seal_font_file()

    assert path.parent == tmp_path / "cache"
    assert seal_font_file() == path  # written once
    lean, bundled = TTFont(path), TTFont(SEAL_FONT)
    assert not {"GSUB", "GPOS", "GDEF"} & set(lean.keys())
    assert lean["maxp"].numGlyphs == bundled["maxp"].numGlyphs
    assert lean.getBestCmap() == bundled.getBestCmap()
    assert lean["name"].getDebugName(6) == bundled["name"].getDebugName(6)  # same PostScript name
