"""Benchmark: a monthly-statement-like PDF, fast table path versus one WeasyPrint document.

    .venv/bin/python benchmarks/pdf_render.py [--sizes 1000 10000] [--runs 3 1]

Strategies: ``fast`` — ``render_table_pdf`` (WeasyPrint for header and footer, the table drawn with
fpdf2 at WeasyPrint's positions); ``single`` — ``render_table_reference_pdf``, the same markup as
one WeasyPrint document (the reference the tests compare ``fast`` with); ``naive`` — a Django
template loop and stock WeasyPrint.

Each render runs in a fresh child process (``multiprocessing`` with the "spawn" start method), so
its peak RSS (``ru_maxrss`` of that child) is the cost of that render alone — fonts, Django and
WeasyPrint included — and no render inherits another's heap. Prints, per size and strategy, the
number of runs, the median wall time, the median CPU time (render process plus any child
process: on a busy machine, wall time says more about the neighbours than about the code), the
peak RSS of the render process and of its largest child process, and the page count.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import resource
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEPARTMENTS = [
    "焦作市财政局",
    "焦作市公安局",
    "焦作市教育局",
    "焦作市卫生健康委员会",
    "焦作市人力资源和社会保障局",
    "焦作市自然资源和规划局",
    "焦作市市场监督管理局",
    "焦作市住房和城乡建设局",
    "焦作市交通运输局",
    "焦作市政务服务和大数据管理局",
]
SYSTEMS = ["政务服务平台", "一网通办", "数据共享交换", "视频会商", "电子证照库", "办公自动化"]
ITEMS = [
    ("云服务器 4核8G", Decimal("310.00")),
    ("云服务器 8核16G", Decimal("620.00")),
    ("块存储 高效云盘 100G", Decimal("45.00")),
    ("对象存储 1T", Decimal("120.00")),
    ("云数据库 MySQL 主备", Decimal("1150.00")),
    ("负载均衡 标准型", Decimal("260.00")),
    ("云防火墙 等保三级", Decimal("980.00")),
    ("互联网带宽 10Mbps", Decimal("400.00")),
]
CENT = Decimal("0.01")


def yuan(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,}"


def build_rows(lines: int) -> tuple[list, list, Decimal]:
    """Synthetic statement rows grouped by department, each group closed by a subtotal row."""
    from govcloud.pdf.render import Column, Row

    columns = [
        Column("使用单位", width="19%"),
        Column("业务系统", width="15%"),
        Column("资源项", width="22%"),
        Column("数量", width="7%", numeric=True),
        Column("单价（元/月）", width="13%", numeric=True),
        Column("服务天数", width="9%", numeric=True),
        Column("金额（元）", width="15%", numeric=True),
    ]
    rng = random.Random(20260301)
    per_department = lines // len(DEPARTMENTS)
    rows: list[Row] = []
    total = Decimal(0)
    for index, department in enumerate(DEPARTMENTS):
        count = per_department if index < len(DEPARTMENTS) - 1 else lines - per_department * index
        subtotal = Decimal(0)
        for _ in range(count):
            item, price = rng.choice(ITEMS)
            quantity = rng.randint(1, 12)
            days = rng.choice([31, 31, 31, 30, 17, 5])
            amount = (price * quantity * days / 31).quantize(CENT, rounding=ROUND_HALF_UP)
            subtotal += amount
            rows.append(
                Row(
                    (
                        department,
                        rng.choice(SYSTEMS),
                        item,
                        str(quantity),
                        yuan(price),
                        str(days),
                        yuan(amount),
                    )
                )
            )
        rows.append(Row((f"{department} 小计", yuan(subtotal)), kind="subtotal", span=6))
        total += subtotal
    return columns, rows, total


NAIVE_TEMPLATE = """{% extends "reports/base.html" %}{% block content %}
{% include "reports/partials/_report_heading.html" %}
<table class="report-table">
<thead><tr>{% for c in columns %}<th>{{ c.label }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr class="{{ row.kind }}">
{% for cell in row.cells %}<td{% if forloop.first and row.span > 1 %} colspan="{{ row.span }}"
{% endif %}>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% include "reports/partials/_report_summary.html" %}{% endblock %}"""


def render_once(lines: int, strategy: str, queue: multiprocessing.Queue) -> None:
    """Child process body: set Django up, render once, report the measurements."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govcloud.settings")
    import django

    django.setup()
    from django.template import engines
    from pypdf import PdfReader
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from govcloud.pdf.render import STYLESHEET, render_table_pdf, render_table_reference_pdf

    columns, rows, total = build_rows(lines)
    context = {
        "report_title": "焦作市政务云服务合同（JZ-2026）",
        "report_subtitle": "2026年3月 费用结算单",
        "heading": "政务云服务费用月度结算单",
        "meta_items": [("合同编号", "JZ-2026"), ("结算月份", "2026年3月"), ("行数", str(lines))],
        "summary_items": [("合计", yuan(total)), ("应付金额", yuan(total))],
        "signature_parties": ["甲方", "乙方", "监理单位"],
    }
    before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if strategy == "naive":
        # What one would write first: a template loop and WeasyPrint with its defaults (plus the
        # FontConfiguration that @font-face needs — without it every hanzi is a box).
        template = engines["django"].from_string(NAIVE_TEMPLATE)
        html = template.render({**context, "columns": columns, "rows": rows})
        font_config = FontConfiguration()
        stylesheet = CSS(filename=str(STYLESHEET), font_config=font_config)
        pdf = HTML(string=html, base_url=str(ROOT)).write_pdf(
            stylesheets=[stylesheet], font_config=font_config
        )
    else:
        render = render_table_pdf if strategy == "fast" else render_table_reference_pdf
        pdf = render(
            columns=columns,
            rows=rows,
            context=context,
            header_template="reports/partials/_report_heading.html",
            footer_template="reports/partials/_report_summary.html",
        )
    elapsed = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime
    worker_cpu = (
        workers.ru_utime + workers.ru_stime - children_before.ru_utime - children_before.ru_stime
    )
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    # ru_maxrss of the children is the largest child ever waited for, in KiB on Linux. Library
    # lookups at import fork short helper processes, whose ru_maxrss is this process's size at
    # the fork: a child counts only when children did real work (the render starts none).
    worker_rss = workers.ru_maxrss / 1024 if worker_cpu > 0.5 else 0.0
    queue.put((elapsed, cpu + worker_cpu, own.ru_maxrss / 1024, worker_rss, pages, len(pdf)))


STRATEGIES = ["fast", "single", "naive"]


def main() -> None:
    from benchmarks._pdf_harness import run

    run(render_once, description=__doc__.splitlines()[0], strategies=STRATEGIES)


if __name__ == "__main__":
    main()
