"""PDF rendering: the bundled Chinese font, the fast long-table path against its reference
rendering, SVG charts."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.utils.safestring import mark_safe
from pypdf import PdfReader

from govcloud.pdf import render as render_module
from govcloud.pdf.charts import bar_chart_svg
from govcloud.pdf.render import (
    PDF_FONT_NAME,
    PDF_TABLE_FONT_NAME,
    STYLESHEET,
    TABLE_TEMPLATE,
    Attachment,
    Column,
    Row,
    _ReportURLFetcher,
    render_pdf,
    render_table_pdf,
    render_table_reference_pdf,
)
from tests.pdf.pdf_layout import layout_differences, page_lines

TITLE = "政务云服务费用月度结算单"
RUNNING_TITLE = "焦作市政务云服务合同（JZ-2026）"
COLUMNS = [
    Column("使用单位", width="24%"),
    Column("资源项", width="36%"),
    Column("数量", width="10%", numeric=True),
    Column("金额（元）", width="30%", numeric=True),
]
DEPARTMENTS = ["焦作市财政局", "焦作市公安局", "焦作市卫生健康委员会"]
BUNDLED = (PDF_FONT_NAME, PDF_TABLE_FONT_NAME)


def statement_rows(count: int) -> list[Row]:
    """``count`` item rows over three departments, each department closed by a subtotal row."""
    rows: list[Row] = []
    per_department = count // len(DEPARTMENTS)
    for index, department in enumerate(DEPARTMENTS):
        rows.append(Row((f"{index + 1}、{department}",), kind="group", span=4))
        for number in range(index * per_department, (index + 1) * per_department):
            rows.append(Row((department, f"云服务器 4核8G 第{number:04d}行", "2", "620.00")))
        rows.append(Row((f"{department} 小计", "9,999.00"), kind="subtotal", span=3))
    rows.append(Row(("合计", "29,997.00"), kind="total", span=3))
    return rows


def texts(pdf: bytes) -> list[str]:
    """Text of each page, whitespace removed (extraction spaces CJK text unpredictably)."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(BytesIO(pdf)).pages]


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        fonts = dict(page["/Resources"].get("/Font", {}))
        for xobject in page["/Resources"].get("/XObject", {}).values():  # the drawn table
            fonts |= dict(xobject.get_object().get("/Resources", {}).get("/Font", {}))
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def context(**extra: object) -> dict[str, object]:
    return {
        "report_title": RUNNING_TITLE,
        "report_subtitle": "2026年3月",
        "heading": TITLE,
        "meta_items": [("合同编号", "JZ-2026"), ("结算月份", "2026年3月")],
        "summary_items": [("合计", "29,997.00"), ("应付金额", "29,994.00")],
        "signature_parties": ["甲方", "乙方", "监理单位"],
        **extra,
    }


def both(rows: list[Row], columns: list[Column] = COLUMNS, **extra: object) -> tuple[bytes, bytes]:
    """The fast rendering and the reference (one WeasyPrint document) of the same report."""
    arguments = {
        "columns": columns,
        "rows": rows,
        "context": context(**extra),
        "header_template": "reports/partials/_report_heading.html",
        "footer_template": "reports/partials/_report_summary.html",
    }
    return render_table_pdf(**arguments), render_table_reference_pdf(**arguments)


@pytest.fixture(scope="module")
def long_report() -> tuple[bytes, bytes]:
    return both(statement_rows(150))


def test_chinese_report_uses_only_the_bundled_font():
    pdf = render_pdf(
        TABLE_TEMPLATE,
        {
            "report_title": "焦作市政务云服务合同",
            "report_subtitle": "2026年3月",
            "header_html": mark_safe(f"<h1>{TITLE}</h1><p>焦作市财政局 对象存储</p>"),  # noqa: S308
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


def test_fast_table_matches_the_reference_page_by_page(long_report: tuple[bytes, bytes]):
    fast, reference = long_report

    assert len(page_lines(fast)) >= 4
    # Same pages; on each the same lines (running title, table header, rows, subtotals, footer,
    # "第 X 页 / 共 Y 页") at the same positions, to a third of a point.
    assert layout_differences(fast, reference) == []


def test_fast_table_numbers_pages_and_repeats_the_header(long_report: tuple[bytes, bytes]):
    pages = texts(long_report[0])
    total = len(pages)

    for number, page in enumerate(pages, start=1):
        assert f"第{number}页/共{total}页" in page
        assert RUNNING_TITLE in page
        assert "金额（元）" in page  # the table header repeats on every page
    assert TITLE in pages[0]
    assert "应付金额" in pages[-1]
    document = "".join(pages)
    for index in range(150):
        assert document.count(f"第{index:04d}行") == 1


def test_fast_table_embeds_only_the_bundled_font(long_report: tuple[bytes, bytes]):
    fonts = font_names(long_report[0])

    assert {name.split("+", 1)[1] for name in fonts} >= {PDF_FONT_NAME, PDF_TABLE_FONT_NAME}
    assert all(name.split("+", 1)[1].startswith(BUNDLED) for name in fonts), fonts


def test_wrapped_cells_break_like_the_reference():
    columns = [
        Column("编码", width="12%"),
        Column("名称", width="20%"),
        Column("说明"),  # shares the remaining width
        Column("金额（元）", width="14%", numeric=True),
    ]
    rows = [Row(("一、很长的使用单位名称" * 6,), kind="group", span=4)]
    for number in range(40):
        rows.append(
            Row(
                (
                    f"ecs.general.c{number:03d}.verylongcatalogcode",
                    "弹性云服务器（通用计算增强型，含系统盘与公网带宽）"[: 6 + number % 20],
                    "A very long English description that wraps, 以及中文说明（含括号）。" * 2
                    + "  multi-zone\nhigh-availability  cluster/standby",
                    f"{number * 1234.5:,.2f}",
                ),
            )
        )
    rows.append(Row(("合计", "1,234,567.00"), kind="total", span=3))

    fast, reference = both(rows, columns)

    assert any(len(line.text) < 10 for line in page_lines(fast)[0])  # wrapped, really
    assert layout_differences(fast, reference, compare_lines=False) == []


@pytest.mark.parametrize(("notes", "table_on_first_page"), [(72, True), (74, False)])
def test_a_table_starts_below_the_header_only_if_a_row_fits_there(notes, table_on_first_page):
    # 72 notes leave room for the column header and exactly one row; 74 do not.
    filler = [(f"附注{number}", "说明文字") for number in range(notes)]
    fast, reference = both(statement_rows(30), meta_items=filler)

    first = texts(reference)[0]
    assert f"附注{notes - 1}" in first
    assert ("金额（元）" in first) is table_on_first_page
    assert layout_differences(fast, reference) == []


def test_a_report_without_rows_is_the_header_and_footer():
    fast, reference = both([])

    assert layout_differences(fast, reference) == []
    assert "应付金额" in texts(fast)[0]


def test_attachments_are_embedded():
    csv = "\ufeff序号,金额\r\n1,620.00\r\n".encode()
    pdf = render_table_pdf(
        columns=COLUMNS,
        rows=statement_rows(3),
        context=context(),
        attachments=[Attachment("lines.csv", csv, "text/csv", "明细")],
    )

    assert PdfReader(BytesIO(pdf)).attachments == {"lines.csv": [csv]}


def test_rows_must_match_the_columns():
    with pytest.raises(ValueError, match="expected 4 columns"):
        render_table_pdf(columns=COLUMNS, rows=[Row(("焦作市财政局", "对象存储"))], context={})


def test_table_geometry_mirrors_report_css():
    """The fast path draws rows with the paddings, font size and colours of ``report.css``;
    the comparison with the reference catches a drift too, this names the rule that drifted."""
    css = STYLESHEET.read_text(encoding="utf-8")
    geometry = render_module._TableGeometry(page_width=0, page_height=0, left=0, right=0)
    mm, pt = 96 / 25.4, 4 / 3

    def rule(selector: str) -> str:
        return re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)[1]

    assert "margin: 20mm 14mm 18mm 14mm;" in rule("@page")
    assert geometry.content_top == pytest.approx(20 * mm)
    assert geometry.content_bottom == pytest.approx((297 - 18) * mm)
    assert "font-size: 8pt;" in rule(".report-table")
    assert geometry.font_size == 8 * pt
    assert "line-height: 1.3;" in rule(".report-table")
    assert geometry.line_height == pytest.approx(1.3 * 8 * pt)
    assert "padding: 1.2mm 1mm;" in rule(".report-table th")
    assert "border-bottom: 0.75pt solid #555;" in rule(".report-table th")
    assert "padding: 0.7mm 1mm;" in rule(".report-table td")
    assert "background: #eef2f7;" in rule(".report-table tr.alt")
    assert "background: #e3e9f1;" in rule(".report-table tr.subtotal")
    assert "background: #d3dce8;" in rule(".report-table tr.total")
    assert "font-size: 8.5pt;" in rule("@page")
    assert "color: #444;" in rule("@page")
    assert geometry.backgrounds["alt"] == (0xEE, 0xF2, 0xF7)
    assert geometry.th_padding_y == pytest.approx(1.2 * mm)
    assert geometry.td_padding_y == pytest.approx(0.7 * mm)


THIRD_PARTY = ("weasyprint", "fpdf", "pikepdf", "fontTools", "pyhanko", "pypdf", "cryptography")


def test_the_pdf_package_uses_no_private_attribute_of_a_library():
    """Only public APIs of WeasyPrint, fpdf2, pikepdf, fontTools, pyHanko and pypdf: no
    ``_private`` import or attribute of theirs, no override of one (``super()._x``), whatever
    the object — attribute access with a leading underscore is allowed only on ``self``/``cls``
    (our own classes) and on names this module defines itself."""
    package = Path(render_module.__file__).parent
    offences = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        }
        own |= {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(THIRD_PARTY):
                private = [
                    part for part in (node.module or "").split(".") if part.startswith("_")
                ] + [alias.name for alias in node.names if alias.name.startswith("_")]
                if private:
                    offences.append(f"{path.name}:{node.lineno} imports {private}")
            elif isinstance(node, ast.Attribute) and re.match(r"_[^_]", node.attr):
                base = node.value
                if isinstance(base, ast.Name) and (base.id in {"self", "cls"} or base.id in own):
                    continue
                offences.append(f"{path.name}:{node.lineno} uses .{node.attr}")
            elif isinstance(node, ast.FunctionDef) and re.match(r"_[^_]", node.name):
                # A private method defined in a subclass of a library class overrides its hook.
                parents = [
                    parent
                    for parent in ast.walk(tree)
                    if isinstance(parent, ast.ClassDef) and node in parent.body
                ]
                for parent in parents:
                    bases = [ast.unparse(base) for base in parent.bases]
                    if any(base not in own and base not in {"Protocol"} for base in bases):
                        offences.append(
                            f"{path.name}:{node.lineno} defines {node.name} in a subclass of "
                            f"{bases}"
                        )

    assert offences == []


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

    fast, reference = both(statement_rows(3), chart_svg=mark_safe(svg))  # noqa: S308

    [page] = texts(fast)
    assert "费用对比" in page
    assert "焦作市公安局" in page
    assert all(name.split("+", 1)[1].startswith(BUNDLED) for name in font_names(fast))
    assert layout_differences(fast, reference) == []
