"""PDF reports of the SLA (right-sizing advice per contract-month, the annual scorecard).

The page and the PDF share one view model and one SVG chart (``govcloud.pdf.charts``), so what
the bureau sees on screen is what it prints.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from billing.money import round_half_up
from govcloud.pdf.charts import bar_chart_svg
from govcloud.pdf.render import render_pdf
from sla import refs
from sla.models import (
    AdviceAction,
    RightsizingAdvice,
    RightsizingReport,
    Scorecard,
)
from sla.rules import utilization_low
from sla.services.actions import REPORT_ACTIONS, SCORECARD_ACTIONS
from sla.services.common import utilization_rule
from sla.services.scorecard import scorecard_data


def term_url(contract_id: int, key: str) -> str:
    """The row of a term on the contract's terms page."""
    return reverse("contract_terms", args=[contract_id]) + f"#term-{key}"


def scorecard_view_model(data: dict[str, Any], *, absolute: str = "") -> dict[str, Any]:
    """The snapshot plus links to each cited event and the chart of points per area."""
    contract_id = data["contract"]["id"]
    year = data["service_year"]
    areas = []
    for area in data["areas"]:
        areas.append(
            {
                **area,
                "deductions": [
                    {
                        **d,
                        "url": absolute
                        + refs.ref_url(d["ref"], contract_id=contract_id, year=year),
                    }
                    for d in area["deductions"]
                ],
                "money": [
                    {
                        **m,
                        "url": absolute
                        + refs.ref_url(m["ref"], contract_id=contract_id, year=year),
                    }
                    for m in area["money"]
                ],
                "events": [
                    {
                        **e,
                        "url": absolute
                        + refs.ref_url(e["ref"], contract_id=contract_id, year=year),
                    }
                    for e in area["events"]
                ],
                # Snapshots finalised before terms were cited have neither key.
                "rule": area.get("rule", ""),
                "terms": [
                    {**t, "url": absolute + term_url(contract_id, t["key"])}
                    for t in area.get("terms", [])
                ],
            }
        )
    money = [
        {
            **m,
            "url": absolute + refs.ref_url(m["ref"], contract_id=contract_id, year=year),
            "term_url": absolute + term_url(contract_id, m["term"]) if m.get("term") else "",
        }
        for m in data["money"]
    ]
    chart = bar_chart_svg(
        [a["label"] for a in data["areas"]],
        [Decimal(a["points"]) for a in data["areas"]],
        title="各考核项得分（满分见表）",
        unit="分",
    )
    percent = {
        f"{key}_pct": format((Decimal(data[key]) * 100).normalize(), "f")
        for key in ("deduction_ratio", "deduction_ratio_ceiling")
    }
    computed = timezone.localtime(datetime.fromisoformat(data["computed_at"]))
    return {
        **data,
        **percent,
        "computed_at_display": f"{computed:%Y-%m-%d %H:%M}",
        "areas": areas,
        "money": money,
        "chart_svg": mark_safe(chart),  # noqa: S308 — built by bar_chart_svg with escaping
    }


def advice_view_model(report: RightsizingReport, advice: list[RightsizingAdvice]) -> dict[str, Any]:
    """Counts, per-department CPU averages (chart) and the utilization warning of a report
    (the contract's threshold, where it has a utilization rule)."""
    counts: dict[str, int] = defaultdict(int)
    by_department: dict[str, list[Decimal]] = defaultdict(list)
    for row in advice:
        counts[row.action] += 1
        if row.cpu_avg is not None and row.resource_class in ("flavour", "vcpu"):
            by_department[row.department.display_name].append(row.cpu_avg)
    labels = sorted(by_department)
    values = [
        round_half_up(sum(by_department[name], Decimal(0)) / len(by_department[name]))
        for name in labels
    ]
    chart = bar_chart_svg(labels, values, title="各使用单位 CPU 平均使用率", unit="%")
    rule = utilization_rule(report.contract)
    low = utilization_low(report.avg_cpu_pct, report.avg_mem_pct, rule[0] if rule else None)
    return {
        "report": report,
        "advice": advice,
        "counts": {
            "change": counts[AdviceAction.CHANGE],
            "keep": counts[AdviceAction.KEEP],
            "exempt": counts[AdviceAction.EXEMPT],
        },
        "low_metrics": low,
        "utilization_rule": rule,
        "chart_svg": mark_safe(chart),  # noqa: S308 — built by bar_chart_svg with escaping
    }


def _advice_rows(report: RightsizingReport) -> list[RightsizingAdvice]:
    return list(
        report.advice.select_related(
            "department", "system", "resource", "current_item", "advised_item", "change_request"
        ).order_by("department__name", "system__name", "resource_id")
    )


def rightsizing_pdf_bytes(report: RightsizingReport) -> bytes:
    context = advice_view_model(report, _advice_rows(report))
    context.update(
        {
            "report_title": f"{report.contract.code} {report.contract.name}",
            "report_subtitle": f"{report.month:%Y年%m月} 资源调整建议",
        }
    )
    return render_pdf("reports/advice.html", context)


def rightsizing_pdf_store(*, report_id: int, force: bool = False) -> bool:
    report = RightsizingReport.objects.select_related("contract").filter(pk=report_id).first()
    if report is None or (report.pdf and not force):
        return False
    content = rightsizing_pdf_bytes(report)
    with transaction.atomic():
        locked = RightsizingReport.objects.select_for_update(of=("self",)).get(pk=report_id)
        if locked.pdf:
            locked.pdf.delete(save=False)  # a re-render replaces the file, it does not pile up
        locked.pdf.save(
            f"advice-{locked.contract.code}-{locked.month:%Y-%m}.pdf",
            ContentFile(content),
            save=False,
        )
        locked.pdf_rendered_at = timezone.now()
        locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def scorecard_pdf_bytes(card: Scorecard) -> bytes:
    data = scorecard_view_model(scorecard_data(card))
    data.update(
        {
            "report_title": f"{card.contract.code} {card.contract.name}",
            "report_subtitle": f"{card.service_year} 服务年度服务水平考核",
            "scorecard": card,
        }
    )
    return render_pdf("reports/sla_scorecard.html", data)


def scorecard_pdf_store(*, scorecard_id: int, force: bool = False) -> bool:
    card = Scorecard.objects.select_related("contract").filter(pk=scorecard_id).first()
    if card is None or (card.pdf and card.is_final and not force):
        return False
    content = scorecard_pdf_bytes(card)
    with transaction.atomic():
        locked = Scorecard.objects.select_for_update(of=("self",)).get(pk=scorecard_id)
        if locked.pdf:
            locked.pdf.delete(save=False)
        stamp = "final" if locked.is_final else timezone.localtime().strftime("%Y%m%d%H%M")
        locked.pdf.save(
            f"scorecard-{locked.contract.code}-{locked.service_year}-{stamp}.pdf",
            ContentFile(content),
            save=False,
        )
        locked.pdf_rendered_at = timezone.now()
        locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def rightsizing_render(*, actor: Any, report: RightsizingReport) -> bool:
    """A party (re)renders a month's advice PDF on request (vendor or bureau)."""
    REPORT_ACTIONS.require("render", actor, report)
    return rightsizing_pdf_store(report_id=report.pk, force=True)


def scorecard_render(*, actor: Any, card: Scorecard) -> bool:
    """The bureau or the supervisor renders the scorecard PDF (a live one is re-rendered)."""
    SCORECARD_ACTIONS.require("render", actor, card)
    return scorecard_pdf_store(scorecard_id=card.pk, force=not card.is_final)
