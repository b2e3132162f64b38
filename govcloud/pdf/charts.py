"""Server-side SVG charts shared by the portal pages and the PDF reports.

The output is a standalone SVG document string: no script, no ``style`` attributes or elements
(the portal's Content-Security-Policy forbids inline styles), only presentation attributes such as
``fill="#..."``, which CSP does not treat as styles. The same string is embedded in a web page and
in a WeasyPrint report; in the PDF the text is set in the bundled font (``FONT_FAMILY``), in the
browser the fallbacks apply.

Amounts stay ``Decimal``: bar lengths are computed as Decimal ratios and only formatted to
coordinates at the end, so no float touches money.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext

from govcloud.pdf.render import FONT_FAMILY

# The bundled font in PDFs; in browsers (no @font-face for it there) the usual Chinese UI fonts.
SVG_FONT_FAMILY = (
    f"'{FONT_FAMILY}', 'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', "
    "sans-serif"
)

WIDTH = 640
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TITLE_HEIGHT = 34
AXIS_HEIGHT = 24
LABEL_WIDTH = 170
VALUE_WIDTH = 110
MAX_LABEL_CHARS = 12
BAR_COLOR = "#3a6ea5"
GRID_COLOR = "#d5dbe3"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#666666"


def bar_chart_svg(
    labels: list[str],
    values: list[Decimal],
    *,
    title: str,
    unit: str = "元",
    value_format: Callable[[Decimal], str] | None = None,
) -> str:
    """Return a horizontal bar chart as a standalone SVG document.

    Horizontal bars leave room for long Chinese names (departments, systems). Negative values are
    drawn as empty bars but keep their printed amount. Values are printed as given (with
    thousands separators and ``unit``): the chart does not round — the caller passes amounts
    already rounded by ``billing.money``, or a ``value_format`` that does.
    """
    if len(labels) != len(values):
        raise ValueError("labels and values must have the same length")
    values = [Decimal(value) for value in values]

    plot_left = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = max(len(labels), 1)
    plot_top = TITLE_HEIGHT
    plot_bottom = plot_top + rows * ROW_HEIGHT
    height = plot_bottom + AXIS_HEIGHT

    top = _nice_ceiling(max([*values, Decimal(0)]))
    step = top / 4

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label={quoteattr(title)} '
        f'font-family={quoteattr(SVG_FONT_FAMILY)} font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{WIDTH // 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" '
        f'fill="{TEXT_COLOR}">{escape(title)}</text>',
    ]

    # Vertical grid lines with their axis labels.
    for tick in range(5):
        tick_value = step * tick
        x = _coord(plot_left + plot_width * (tick_value / top))
        parts.append(
            f'<line x1="{x}" y1="{plot_top}" x2="{x}" y2="{plot_bottom}" stroke="{GRID_COLOR}" '
            'stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x}" y="{plot_bottom + 16}" text-anchor="middle" font-size="10" '
            f'fill="{MUTED_COLOR}">{escape(_axis_label(tick_value))}</text>'
        )

    if not labels:
        parts.append(
            f'<text x="{plot_left + plot_width // 2}" y="{plot_top + 17}" text-anchor="middle" '
            f'fill="{MUTED_COLOR}">{escape(gettext("无数据"))}</text>'
        )

    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = plot_top + index * ROW_HEIGHT
        bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) // 2
        text_y = y + ROW_HEIGHT // 2 + 4
        length = plot_width * (max(value, Decimal(0)) / top)
        amount = value_format(value) if value_format else f"{value:,} {unit}"
        parts.append(
            f"<g><title>{escape(label)}：{escape(amount)}</title>"
            f'<text x="{plot_left - 8}" y="{text_y}" text-anchor="end" fill="{TEXT_COLOR}">'
            f"{escape(_shorten(label))}</text>"
            f'<rect x="{plot_left}" y="{bar_y}" width="{_coord(length)}" height="{BAR_HEIGHT}" '
            f'fill="{BAR_COLOR}"/>'
            f'<text x="{_coord(plot_left + length + 6)}" y="{text_y}" fill="{TEXT_COLOR}">'
            f"{escape(amount)}</text></g>"
        )

    parts.append(
        f'<line x1="{plot_left}" y1="{plot_top}" x2="{plot_left}" y2="{plot_bottom}" '
        f'stroke="{MUTED_COLOR}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _nice_ceiling(value: Decimal) -> Decimal:
    """Smallest 1, 2, 4, 6, 8 or 10 times a power of ten that is >= value (and > 0).

    The axis has four intervals, so these give round steps (0.25, 0.5, 1, 1.5, 2, 2.5).
    """
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (value.adjusted())
    for factor in (Decimal(1), Decimal(2), Decimal(4), Decimal(6), Decimal(8), Decimal(10)):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover — the loop ends with 10 x magnitude >= value


def _axis_label(value: Decimal) -> str:
    if value >= 10_000:
        return f"{(value / 10_000).normalize():f}万"
    return f"{value.normalize():f}"


def _coord(value: Decimal | int) -> str:
    # Pixel geometry, not money (amounts are rounded by billing.money before they get here).
    return f"{round(float(value), 1):.1f}"


def _shorten(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    # The full name stays in the <title> tooltip; the axis label has room for ~12 hanzi.
    return label if len(label) <= limit else label[: limit - 1] + "…"
