"""PDF rendering: bundled Chinese font, page numbering across chunks, SVG charts."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO
from xml.etree import ElementTree

import pytest
import weasyprint
from django.utils.safestring import mark_safe
from pypdf import PdfReader

from govcloud.pdf import render as render_module
from govcloud.pdf.charts import bar_chart_svg
from govcloud.pdf.render import (
    PDF_FONT_NAME,
    TABLE_TEMPLATE,
    Column,
    Row,
    _ReportURLFetcher,
    render_pdf,
    render_table_pdf,
)

TITLE = "政务云服务费用月度结算单"
RUNNING_TITLE = "焦作市政务云服务合同（JZ-2026）"
COLUMNS = [
    Column("使用单位", width="24%"),
    Column("资源项", width="36%"),
    Column("数量", width="10%", numeric=True),
    Column("金额（元）", width="30%", numeric=True),
]
DEPARTMENTS = ["焦作市财政局", "焦作市公安局", "焦作市卫生健康委员会"]


def statement_rows(count: int) -> list[Row]:
    """``count`` item rows over three departments, each department closed by a subtotal row."""
    rows: list[Row] = []
    per_department = count // len(DEPARTMENTS)
    for index, department in enumerate(DEPARTMENTS):
        for number in range(index * per_department, (index + 1) * per_department):
            rows.append(Row((department, f"云服务器 4核8G 第{number:04d}行", "2", "620.00")))
        rows.append(Row((f"{department} 小计", "9,999.00"), kind="subtotal", span=3))
    return rows


def texts(pdf: bytes) -> list[str]:
    """Text of each page, whitespace removed (extraction spaces CJK text unpredictably)."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(BytesIO(pdf)).pages]


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def table_pdf(
    rows: list[Row], chunk_rows: int | None, workers: int | None = 1, **context: object
) -> bytes:
    return render_table_pdf(
        columns=COLUMNS,
        rows=rows,
        context={
            "report_title": RUNNING_TITLE,
            "report_subtitle": "2026年3月",
            "heading": TITLE,
            "meta_items": [("合同编号", "JZ-2026"), ("结算月份", "2026年3月")],
            "summary_items": [("合计", "29,997.00"), ("应付金额", "29,994.00")],
            "signature_parties": ["甲方", "乙方", "监理单位"],
            **context,
        },
        header_template="reports/partials/_report_heading.html",
        footer_template="reports/partials/_report_summary.html",
        chunk_rows=chunk_rows,
        workers=workers,
    )


@pytest.fixture(scope="module")
def long_rows() -> list[Row]:
    return statement_rows(150)


@pytest.fixture(scope="module")
def chunked_pdf(long_rows: list[Row]) -> bytes:
    return table_pdf(long_rows, chunk_rows=60)


def test_chinese_report_uses_only_the_bundled_font():
    pdf = render_pdf(
        TABLE_TEMPLATE,
        {
            "report_title": "焦作市政务云服务合同",
            "report_subtitle": "2026年3月",
            "header_html": mark_safe(f"<h1>{TITLE}</h1>"),  # noqa: S308 — constant markup
            "columns": COLUMNS,
            "rows_html": mark_safe(
                "<tr><td>焦作市财政局</td><td>对象存储</td><td>1</td><td>120.00</td></tr>"
            ),
        },
    )

    fonts = font_names(pdf)
    assert fonts, "the PDF embeds no font"
    # Subset fonts are named "/ABCDEF+<name>": every one must be the shipped Noto Sans SC subset,
    # never a system fallback (a machine without CJK fonts would print boxes).
    assert all(name.split("+", 1)[1].startswith(PDF_FONT_NAME) for name in fonts), fonts
    [page] = texts(pdf)
    assert TITLE in page
    assert "焦作市财政局" in page
    assert "焦作市政务云服务合同" in page  # running header from the page margin box
    assert "第1页/共1页" in page


def test_chunked_table_numbers_pages_across_chunks(chunked_pdf: bytes):
    pages = texts(chunked_pdf)
    total = len(pages)

    assert total >= 4  # several chunks of 60 rows, several pages each
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页/共{total}页" in page
        assert "金额（元）" in page  # the table header repeats on every page
    assert TITLE in pages[0]
    assert "应付金额" in pages[-1]


def test_chunks_join_seamlessly(long_rows: list[Row], chunked_pdf: bytes):
    single_document = texts(table_pdf(long_rows, chunk_rows=None))

    # Same page breaks as one big document: no half-empty page where a chunk ended ...
    assert texts(chunked_pdf) == single_document
    # ... and every row exactly once.
    document = "".join(single_document)
    for index in range(150):
        assert document.count(f"第{index:04d}行") == 1


def test_parallel_segments_number_pages_across_workers(long_rows: list[Row]):
    pages = texts(table_pdf(long_rows, chunk_rows=60, workers=2))
    total = len(pages)

    for number, page in enumerate(pages, start=1):
        assert f"第{number}页/共{total}页" in page
    assert TITLE in pages[0]
    assert "应付金额" in pages[-1]
    document = "".join(pages)
    for index in range(150):
        assert document.count(f"第{index:04d}行") == 1
    # The second worker's segment starts on a new page right after a department's subtotal.
    seam = next(n for n, page in enumerate(pages) if "焦作市财政局小计" in page)
    assert pages[seam].split(RUNNING_TITLE)[0].endswith("焦作市财政局小计9,999.00")
    assert pages[seam + 1].split("金额（元）", 1)[1].startswith("焦作市公安局")


def test_rows_must_match_the_columns():
    with pytest.raises(ValueError, match="expected 4 columns"):
        table_pdf([Row(("焦作市财政局", "对象存储"))], chunk_rows=None)


def test_report_assets_are_limited_to_project_files(tmp_path):
    fetcher = _ReportURLFetcher([tmp_path])
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")

    assert fetcher.fetch((tmp_path / "logo.svg").as_uri())
    with pytest.raises(ValueError, match="outside allowed"):
        fetcher.fetch("file:///etc/hostname")
    with pytest.raises(ValueError, match="disallowed protocol"):
        fetcher.fetch("http://example.test/tracker.png")


def test_bar_chart_is_standalone_svg_with_labels():
    svg = bar_chart_svg(
        ["焦作市财政局", "焦作市人力资源和社会保障局信息中心", "A&B <测试>"],
        [Decimal("12345.60"), Decimal("80000.00"), Decimal("-5.00")],
        title="各单位费用（2026年3月）",
    )

    root = ElementTree.fromstring(svg)  # noqa: S314 — our own output; must be well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = "".join(root.itertext())
    assert "各单位费用（2026年3月）" in text
    assert "焦作市财政局" in text
    assert "A&B <测试>" in text  # escaped in the markup, intact once parsed
    assert "12,345.60 元" in text
    assert "-5.00 元" in text
    # CSP-safe: presentation attributes only, no style attribute/element, no script.
    for element in root.iter():
        assert "style" not in element.attrib
        assert not element.tag.endswith(("}style", "}script"))
    widths = [float(rect.get("width")) for rect in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert min(widths) == 0  # the negative value gets an empty bar


def test_bar_chart_prints_values_as_given_or_through_the_callers_format():
    # The chart never rounds (rounding is billing.money's); the caller may format the values.
    plain = "".join(
        ElementTree.fromstring(  # noqa: S314
            bar_chart_svg(["甲"], [Decimal("12.5")], title="得分", unit="分")
        ).itertext()
    )
    assert "12.5 分" in plain
    formatted = "".join(
        ElementTree.fromstring(  # noqa: S314
            bar_chart_svg(["甲"], [Decimal("12.345")], title="t", value_format=lambda v: f"[{v}]")
        ).itertext()
    )
    assert "[12.345]" in formatted


def test_bar_chart_without_data_says_so():
    root = ElementTree.fromstring(bar_chart_svg([], [], title="无费用"))  # noqa: S314
    assert "无数据" in "".join(root.itertext())


def test_chart_labels_render_in_the_pdf_with_the_bundled_font():
    svg = bar_chart_svg(
        ["焦作市财政局", "焦作市公安局"], [Decimal(100), Decimal(300)], title="费用对比"
    )

    pdf = table_pdf(statement_rows(3), chunk_rows=None, chart_svg=mark_safe(svg))  # noqa: S308

    [page] = texts(pdf)
    assert "费用对比" in page
    assert "焦作市公安局" in page
    assert all(name.split("+", 1)[1].startswith(PDF_FONT_NAME) for name in font_names(pdf))


def test_canary_the_trimmed_ua_stylesheet_override_still_applies(monkeypatch):
    """``_ReportHTML`` overrides WeasyPrint's private ``HTML._ua_stylesheets`` to trim the
    user-agent stylesheet (a speed-up only). Should a WeasyPrint release rename or stop calling
    it, reports still render — with the full stylesheet, the fallback — but this canary fails,
    so the pin in pyproject.toml is not lifted unnoticed (issue 13 item 10)."""
    assert hasattr(weasyprint.HTML, "_ua_stylesheets"), "WeasyPrint renamed _ua_stylesheets"
    calls: list[bool] = []
    original = render_module._ReportHTML._ua_stylesheets

    def spy(self, forms=False):
        calls.append(forms)
        return original(self, forms)

    monkeypatch.setattr(render_module._ReportHTML, "_ua_stylesheets", spy)
    pdf = render_pdf(
        TABLE_TEMPLATE,
        {"report_title": "试", "header_html": "", "columns": COLUMNS, "rows_html": ""},
    )
    assert pdf.startswith(b"%PDF")
    assert calls, "WeasyPrint no longer calls HTML._ua_stylesheets: the override is dead code"
