"""Page-by-page comparison of two PDFs by their text lines and where they sit.

The fast table renderer (``govcloud.pdf.render.render_table_pdf``) must produce what one WeasyPrint
document of the same report produces: the same pages, on each page the same lines of text at the
same heights, starting at the same x (right-aligned amounts included). Each text run is located
with pypdf's ``visitor_text`` (text matrix × current transformation matrix, PDF points); runs on
one baseline form a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO

from pypdf import PdfReader

#: Baselines closer than this are one line (points).
SAME_LINE = 0.3


@dataclass(frozen=True)
class Line:
    y: float
    x: float
    text: str


def page_lines(pdf: bytes) -> list[list[Line]]:
    """Per page, its lines top to bottom; text without whitespace (extraction spaces CJK text
    unpredictably)."""
    pages = []
    for page in PdfReader(BytesIO(pdf)).pages:
        runs: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, font_dict, font_size, runs=runs):
            # NUL bytes: pypdf's rendering of two-byte codes in form XObjects, not content.
            text = re.sub(r"[\s\x00]+", "", text)
            if text:
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                runs.append((y, x, text))

        page.extract_text(visitor_text=visit)
        runs.sort(key=lambda run: (-run[0], run[1]))
        lines: list[list[tuple[float, float, str]]] = []
        for run in runs:
            if lines and abs(lines[-1][0][0] - run[0]) <= SAME_LINE:
                lines[-1].append(run)
            else:
                lines.append([run])
        pages.append(
            [
                Line(
                    y=line[0][0],
                    x=min(x for _, x, _ in line),
                    text="".join(text for _, _, text in sorted(line, key=lambda run: run[1])),
                )
                for line in lines
            ]
        )
    return pages


def text_runs(pdf: bytes) -> list[list[tuple[float, float]]]:
    """Per page, where each text-showing operator starts (x, y in points), sorted.

    Both renderers show one line of one cell per operator, so this locates every line of text
    — also those that pypdf's text visitor merges (the lines of a wrapped cell)."""
    pages = []
    for page in PdfReader(BytesIO(pdf)).pages:
        runs: list[tuple[float, float]] = []

        def visit(operator, operands, cm, tm, runs=runs):
            if operator in (b"Tj", b"TJ", b"'", b'"'):
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                runs.append((x, y))

        page.extract_text(visitor_operand_before=visit)
        pages.append(sorted(runs, key=lambda run: (-round(run[1], 1), run[0])))
    return pages


def layout_differences(
    actual: bytes,
    expected: bytes,
    *,
    tolerance: float = 0.3,
    limit: int = 10,
    compare_lines: bool = True,
) -> list[str]:
    """What differs between the two PDFs' pages (empty: the same layout): the characters of
    each page, where each line of text starts, and — with ``compare_lines`` — each line's text
    and position (pypdf's visitor merges the lines of wrapped cells: compare_lines=False there).
    """
    got, want = page_lines(actual), page_lines(expected)
    if len(got) != len(want):
        return [f"{len(got)} pages instead of {len(want)}"]
    differences = []
    for number, (page, reference) in enumerate(zip(got, want, strict=True), start=1):
        characters = sorted("".join(line.text for line in page))
        if characters != sorted("".join(line.text for line in reference)):
            differences.append(f"page {number}: the text differs")
    for number, (runs, reference) in enumerate(
        zip(text_runs(actual), text_runs(expected), strict=True), start=1
    ):
        if len(runs) != len(reference):
            differences.append(f"page {number}: {len(runs)} text lines, not {len(reference)}")
            continue
        for (x, y), (ref_x, ref_y) in zip(runs, reference, strict=True):
            if abs(x - ref_x) > tolerance or abs(y - ref_y) > tolerance:
                differences.append(
                    f"page {number}: text at ({x:.2f}, {y:.2f}), "
                    f"reference ({ref_x:.2f}, {ref_y:.2f})"
                )
                break
    if not compare_lines:
        return differences[:limit]
    for number, (page, reference) in enumerate(zip(got, want, strict=True), start=1):
        if [line.text for line in page] != [line.text for line in reference]:
            texts = {line.text for line in page} ^ {line.text for line in reference}
            differences.append(f"page {number}: lines differ: {sorted(texts)[:6]}")
            continue
        for line, ref in zip(page, reference, strict=True):
            if abs(line.y - ref.y) > tolerance or abs(line.x - ref.x) > tolerance:
                differences.append(
                    f"page {number}: {line.text!r} at ({line.x:.2f}, {line.y:.2f}), "
                    f"reference ({ref.x:.2f}, {ref.y:.2f})"
                )
    return differences[:limit]
