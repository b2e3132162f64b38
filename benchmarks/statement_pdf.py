"""Benchmark: the monthly statement PDF (月度服务资源统计表) through its real templates.

    .venv/bin/python benchmarks/statement_pdf.py [--sizes 1000 10000] [--runs 3 1]

Synthetic statements of N lines over 20 departments with 4 business systems each (so the table
carries department and system headings and subtotals, like a real statement), rendered with the
production code path, ``billing.reports.statement_pdf.statement_render`` (``render_table_pdf``:
WeasyPrint lays out the header, footer and sign-off table, the line table is drawn with fpdf2 and
laid over, the lines embedded as CSV), next to the naive render of the same data:
``reports/statement.html``, one Django template loop and one WeasyPrint document
(``statement_single_template_pdf``).

Each render runs in a fresh child process (``multiprocessing`` "spawn"), so its peak RSS is that
render's alone. Printed per size and strategy: runs, median wall time, median CPU time (the
render process plus any child process — on a shared machine the wall time also measures the
neighbours), peak RSS of the render process and of its largest child, pages and PDF size. The
last line is the summary for the largest size:

    RESULT statement_pdf lines=10000 fast_s=<s> naive_s=<s> ratio=<naive/fast> peak_mib=<MiB>

(``peak_mib``: the fast render's peak RSS plus that of its largest child process, if any.)
No database: the statement and contract are unsaved model instances.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEPARTMENTS = [
    "包头市教育局",
    "包头市卫生健康委员会",
    "包头市公安局",
    "包头市人力资源和社会保障局",
    "包头市财政局",
    "包头市自然资源局",
    "包头市生态环境局",
    "包头市住房和城乡建设局",
    "包头市交通运输局",
    "包头市水务局",
    "包头市农牧局",
    "包头市商务局",
    "包头市文化旅游广电局",
    "包头市应急管理局",
    "包头市市场监督管理局",
    "包头市医疗保障局",
    "包头市民政局",
    "包头市司法局",
    "包头市统计局",
    "包头市行政审批政务服务与数据管理局",
]
SYSTEMS = ["政务服务平台", "业务办理系统", "数据共享交换", "视频会商系统"]
ITEMS = [
    ("ecs.general.vcpu", "弹性云服务器(通用型)", "核", Decimal("21.60"), 4, 64),
    ("ecs.general.mem", "弹性云服务器(通用型)", "GB", Decimal("21.60"), 8, 256),
    ("ebs.ssd", "SSD块存储", "GB", Decimal("0.45"), 100, 4000),
    ("ebs.sas", "SAS块存储", "GB", Decimal("0.27"), 100, 8000),
    ("oss", "对象存储", "GB", Decimal("0.18"), 500, 50000),
    ("sec.mlps3", "等保三级组件", "项目", Decimal("3330.00"), 1, 1),
    ("backup.local", "本地备份服务", "GB", Decimal("0.18"), 100, 5000),
]
CENT = Decimal("0.01")
STRATEGIES = ["fast", "naive"]


def build(lines: int):
    """An unsaved statement, its lines in statement order, and its sign-off parties."""
    from billing.models import Statement
    from billing.reports.parties import PartyInfo
    from billing.reports.statement_pdf import LineData
    from govcloud.models import Contract, User

    rng = random.Random(20260301)
    groups = [(d, s) for d in range(len(DEPARTMENTS)) for s in range(len(SYSTEMS))]
    per_group, extra = divmod(lines, len(groups))
    rows: list[LineData] = []
    for index, (department, system) in enumerate(groups):
        for _ in range(per_group + (1 if index < extra else 0)):
            code, name, unit, price, low, high = rng.choice(ITEMS)
            quantity = rng.randint(low, high)
            days = rng.choice([Decimal("31.0")] * 4 + [Decimal("15.5"), Decimal("9.0")])
            amount = (price * quantity * days / 31).quantize(CENT, rounding=ROUND_HALF_UP)
            rows.append(
                LineData(
                    len(rows) + 1,
                    department,
                    DEPARTMENTS[department],
                    department * 10 + system,
                    SYSTEMS[system],
                    code,
                    name,
                    unit,
                    quantity,
                    price,
                    "month",
                    days,
                    amount,
                )
            )
    subtotal = sum(r.amount for r in rows)
    total = (subtotal * Decimal("0.9999")).quantize(CENT, rounding=ROUND_HALF_UP)
    vat = total - (total / Decimal("1.06")).quantize(CENT, rounding=ROUND_HALF_UP)
    contract = Contract(
        code="BT-2025",
        name="包头市本级政务云服务项目（含多云管理服务）",
        service_start=date(2025, 6, 20),
        service_end=date(2026, 6, 19),
        billing_from=date(2025, 6, 20),
        price_period="month",
        proration="days_in_month",
        partial_day_rule="half_day_under_12h",
        discount_factor=Decimal("0.9999"),
        settlement_cadence="half_yearly",
    )
    statement = Statement(
        contract=contract,
        year=2026,
        month=3,
        version=1,
        status="submitted",
        due_date=date(2026, 4, 8),
        discount=Decimal("0.9999"),
        vat_rate=Decimal("0.06"),
        subtotal=subtotal,
        total=total,
        vat=vat,
        generated_at=datetime(2026, 4, 2, 1, tzinfo=UTC),
        submitted_at=datetime(2026, 4, 2, 2, tzinfo=UTC),
        submitted_by=User(username="bt_vendor", full_name="包头电信交付工程师"),
    )
    parties = [
        PartyInfo(1, 1, "包头市行政审批政务服务与数据管理局", "bureau", 1),
        PartyInfo(2, 2, "中国电信股份有限公司包头分公司", "vendor", 2),
        PartyInfo(3, 3, "包头市本级政务云服务项目第三方监理单位", "supervisor", 3),
    ]
    return statement, rows, parties


def render_once(lines: int, strategy: str, queue: multiprocessing.Queue) -> None:
    """Child process body: set Django up, render once, report the measurements."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govcloud.settings")
    import django

    django.setup()
    from pypdf import PdfReader

    from billing.reports.statement_pdf import statement_render, statement_single_template_pdf

    statement, rows, parties = build(lines)
    before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if strategy == "naive":
        pdf = statement_single_template_pdf(statement, rows, parties=parties)
    else:
        pdf = statement_render(statement, rows, parties=parties)
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


def main() -> None:
    from benchmarks._pdf_harness import run

    measured = run(render_once, description=__doc__.splitlines()[0], strategies=STRATEGIES)
    lines = max(size for size, _ in measured)
    if (lines, "fast") in measured and (lines, "naive") in measured:
        fast = statistics.median(result[0] for result in measured[lines, "fast"])
        naive = statistics.median(result[0] for result in measured[lines, "naive"])
        peak = max(result[2] + result[3] for result in measured[lines, "fast"])
        print(
            f"RESULT statement_pdf lines={lines} fast_s={fast:.2f} naive_s={naive:.2f} "
            f"ratio={naive / fast:.1f} peak_mib={peak:.0f}"
        )


if __name__ == "__main__":
    main()
