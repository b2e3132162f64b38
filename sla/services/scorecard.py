"""The annual SLA scorecard (服务水平协议考核, 附件2): gather the records, score them, finalise.

Only a contract whose terms include an SLA annex (``Contract.scorecard``, DESIGN §4a) has a
scorecard: for any other (JZ-2026, whose text has none) every entry point refuses with
``NoScorecard`` — no scorecard row, no points, no money, nothing written into settlement.
The numbers the annex leaves to the contract are its terms (the utilization threshold and
charge, the fix period of notices, the maintenance approvers), and every area of the snapshot
carries its rule and the clauses of the terms it rests on (shown on the page and the PDF).

``scorecard_compute`` reads the service year's records, turns them into the inputs of the pure
``sla.rules.score_*`` functions and returns the scorecard as a JSON-ready dict (the same shape
the finalised snapshot stores, so the page and the PDF render either the same way). Every
deduction carries the stable reference of its event (``sla.refs``).

Money (readings of the contract, see also the module docstring of ``sla.rules``):

* **Annual fee** (年度服务费): the service year's signed monthly statements when billing has
  them; otherwise an estimate — the contract's estimated amount prorated to the service year's
  days, or, without one, the current inventory's monthly cost × 12 × discount. The basis is
  shown on the scorecard.
* **Itemised money deductions**: incidents Ⅰ/Ⅱ/Ⅲ (¥100,000 / 50,000 / 10,000), utilization
  below 30 % (20 % of the annual fee) and the amounts of penalties the vendor acknowledged.
* **Assessment result** (§11 "良好对应最高扣款比例为5%，及格对应最高扣款比例为10%"): the grade's
  ratio is a *ceiling*; the scorecard applies it to the annual fee unless the bureau fixes a
  lower ratio when finalising. It is cumulative with the itemised deductions (they are
  separate clauses).
* **Cap**: "所有扣款及处罚金额原则上不超过年度服务费" (附件3 五(二)) — the total is capped at the
  annual fee.

Finalising freezes the snapshot and writes the money deductions into billing settlement
(``billing.Deduction``, source "sla"), once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, overload

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import (
    Deduction,
    DeductionSource,
    DeductionStatus,
    Resource,
    ResourceStatus,
    Statement,
    StatementStatus,
)
from billing.money import format_yuan, quantize_yuan
from billing.services.settlement import contract_settlement_periods, deduction_create
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date
from govcloud.exceptions import ApplicationError, InvalidTransition
from govcloud.jobs import job_schedule
from govcloud.joint import (
    confirmed_ids,
    joint_for,
    joint_open,
    joint_restart,
    required_roles,
    roles_text,
)
from govcloud.models import Contract, JointStatus, JointSubject, PartyRole, PricePeriod, User
from govcloud.terms import cite
from govcloud.workflow import ActionRules
from requests_app.models import RequestStatus, ResourceRequest
from sla import notifications, periods, refs, rules, tasks
from sla.models import (
    SCORECARD_TRANSITIONS,
    ChecklistStatus,
    Decision,
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
    DeliverableSubmission,
    ImprovementNotice,
    IncidentStatus,
    NoticeStatus,
    Outage,
    OutageStatus,
    Penalty,
    PenaltyStatus,
    PlanStatus,
    RightsizingReport,
    SatisfactionSurvey,
    Scorecard,
    ScorecardStatus,
    SecurityIncident,
    SecurityMechanismItem,
    SessionStatus,
    SurveyStatus,
    TrainingPlan,
    TrainingSession,
)
from sla.models.scorecard import (
    RECTIFICATION_TRANSITIONS,
    PenaltyDecision,
    RectificationStatus,
    ScorecardRectification,
    ScorecardRound,
)
from sla.services.actions import SCORECARD_ACTIONS
from sla.services.common import (
    has_scorecard,
    maintenance_rule_text,
    require_party,
    require_scorecard,
    require_text,
    service_year,
    set_status,
    utilization_rule,
    validate_upload,
)
from sla.services.rightsizing import contract_averages
from sla.services.signed_months import month_key, service_year_months, unsigned_months
from sla.services.surveys import SurveyStats, survey_stats

ZERO = Decimal("0")


@overload
def _num(value: Decimal) -> str: ...


@overload
def _num(value: None) -> None: ...


def _num(value: Decimal | None) -> str | None:
    """Decimals as plain strings in the snapshot ("262.8", never "2.628E+2")."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


# ---------------------------------------------------------------- annual fee


def _signed_statements_total(
    contract: Contract, year: periods.ServiceYear
) -> tuple[Decimal, int, int] | None:
    """Σ totals of the signed monthly statements of the service year, with (signed, months).

    A month belongs to the service year holding its last billed day (the month's last day, or
    the service end), as in ``billing.periods``; months billed before the service start belong
    to the first year.
    """
    wanted = set(service_year_months(contract, year))
    totals = [
        total
        for y, m, total in Statement.objects.filter(
            contract=contract, status=StatementStatus.SIGNED
        ).values_list("year", "month", "total")
        if (y, m) in wanted
    ]
    if not totals:
        return None
    return quantize_yuan(sum(totals, ZERO)), len(totals), len(wanted)


def annual_fee(contract: Contract, year: periods.ServiceYear) -> tuple[Decimal, str]:
    """The service year's fee and how it was obtained (shown on the scorecard)."""
    signed = _signed_statements_total(contract, year)
    if signed is not None:
        total, count, months = signed
        return total, _("服务年度内已签认的月度服务资源统计表合计（%(n)s/%(m)s 个月）") % {
            "n": count,
            "m": months,
        }
    if contract.estimated_amount:
        total_days = (contract.service_end - contract.service_start).days + 1
        fee = quantize_yuan(contract.estimated_amount * year.days / total_days)
        return fee, _("暂按合同估算金额按服务年度天数折算（尚无已签认的统计表）")
    monthly = ZERO
    for resource in Resource.objects.filter(
        contract=contract, status=ResourceStatus.ACTIVE
    ).select_related("catalog_item"):
        item = resource.catalog_item
        per_month = item.unit_price if item.period == PricePeriod.MONTH else item.unit_price / 12
        monthly += per_month * resource.quantity
    fee = quantize_yuan(monthly * 12 * contract.discount_factor)
    return fee, _("暂按当前资源清单估算全年费用（尚无已签认的统计表）")


# ---------------------------------------------------------------- gathering the records


def _refs(prefix: str, ids: Iterable[int]) -> list[str]:
    return [f"{prefix}:{pk}" for pk in ids]


def _delivery_breaches(contract: Contract, year: periods.ServiceYear, now: datetime) -> list[str]:
    """Tickets delivered late (not exempted) or still undelivered past their deadline."""
    tickets = ResourceRequest.objects.filter(contract=contract, due_at__isnull=False)
    breached: list[int] = []
    for pk, status, due_at, is_breached, exempted in tickets.values_list(
        "pk", "status", "due_at", "breached", "exempted"
    ).order_by("due_at", "pk"):
        # The deadline instant is 24:00 of its last working day, so its last day is the day before.
        if business_date(due_at - timedelta(microseconds=1)) not in year:
            continue
        late_open = status == RequestStatus.APPROVED and now >= due_at
        if (is_breached and not exempted) or late_open:
            breached.append(pk)
    return _refs("ticket", breached)


def _pending(contract: Contract, label: int) -> list[str]:
    """Records still awaiting the bureau, supervisor or auditor: finalising waits for them."""
    checks = [
        (
            Outage.objects.filter(status=OutageStatus.REPORTED),
            _("%(n)s 起服务中断待确认"),
        ),
        (
            SecurityIncident.objects.filter(status=IncidentStatus.REPORTED),
            _("%(n)s 起安全事件待认定"),
        ),
        (
            SecurityMechanismItem.objects.filter(status=ChecklistStatus.SUBMITTED),
            _("%(n)s 项安全机制材料待审核"),
        ),
        (
            TrainingPlan.objects.filter(status=PlanStatus.SUBMITTED),
            _("培训计划待评审"),
        ),
        (
            TrainingSession.objects.filter(status=SessionStatus.RECORDED),
            _("%(n)s 次培训待确认"),
        ),
        (
            Deliverable.objects.filter(status=DeliverableStatus.SUBMITTED).exclude(
                kind=DeliverableKind.STATEMENT  # confirmed in billing, not reviewed here
            ),
            _("%(n)s 项交付物待审核"),
        ),
        (
            ImprovementNotice.objects.filter(status=NoticeStatus.FIXED),
            _("%(n)s 条整改待确认"),
        ),
        (
            SatisfactionSurvey.objects.filter(status=SurveyStatus.OPEN),
            _("满意度调查尚未结束"),
        ),
    ]
    result = []
    for queryset, message in checks:
        count = queryset.filter(contract=contract, service_year=label).count()
        if count:
            result.append(message % {"n": count})
    return result


# ---------------------------------------------------------------- rules and their clauses

#: The terms each area rests on (their clauses are shown beside the area's rule). ``scorecard``
#: is the annex itself; the others are the numbers the annex leaves to the contract.
AREA_TERMS: dict[str, tuple[str, ...]] = {
    "availability": ("scorecard", "maintenance_approvers", "maintenance_notice_hours"),
    "delivery": ("delivery_working_days", "extended_delivery_working_days"),
    "security_mechanism": ("scorecard",),
    "security_responsibility": ("scorecard",),
    "training": ("scorecard",),
    "disaster_recovery": ("scorecard",),
    "utilization": ("utilization_threshold_pct", "utilization_charge_pct"),
    "satisfaction": ("scorecard",),
    "improvement": ("improvement_working_days",),
    "deliverables": ("scorecard", "statement_is_deliverable"),
}
#: The term a money deduction of each area rests on (grade and penalty money: the annex).
MONEY_TERMS = {"utilization": "utilization_charge_pct"}


def _term_set(contract: Contract, key: str) -> bool:
    value = {
        "maintenance_approvers": contract.maintenance_approvers,
        "maintenance_notice_hours": contract.maintenance_notice_hours,
        "extended_delivery_working_days": contract.extended_delivery_working_days,
        "statement_is_deliverable": contract.statement_is_deliverable,
    }.get(key, True)
    return value not in (None, [], False)


def term_citation(contract: Contract, key: str) -> dict[str, str]:
    """A term's citation as the snapshot stores it (the link is built when shown)."""
    citation = cite(contract, key)
    return {
        "key": key,
        "label": citation.label,
        "clause": citation.clause,
        "quote": citation.quote,
    }


def area_terms(contract: Contract, code: str) -> list[dict[str, str]]:
    """The citations of the terms an area rests on (those the contract sets)."""
    return [term_citation(contract, key) for key in AREA_TERMS[code] if _term_set(contract, key)]


def area_rule(contract: Contract, code: str) -> str:
    """The area's rule as the contract's terms set it (shown next to its clauses)."""
    if code == "availability":
        return _(
            "全年服务中断不超过262.8分钟（可用性99.95%%）；超出30分钟内扣1分、30–60分钟扣2分、"
            "60–120分钟扣3分、120分钟以上扣5分并每超30分钟加扣1分；%(m)s不计入。"
        ) % {"m": maintenance_rule_text(contract)}
    if code == "delivery":
        days, extended = contract.delivery_working_days, contract.extended_delivery_working_days
        if days is None:
            return _("合同未约定交付时限，不计超时。")
        longer = _("（经甲方批准可延至%(n)s个工作日）") % {"n": extended} if extended else ""
        return _("审批通过后%(n)s个工作日内交付%(e)s，每超时1次扣1分。") % {
            "n": days,
            "e": longer,
        }
    if code == "utilization":
        rule = utilization_rule(contract)
        text = _("资源调整建议当月未按时提交或存在计算错误的扣2分")
        if rule is None:
            return text + _("；合同未约定利用率扣款。")
        return text + _("；CPU或内存整体平均使用率低于%(t)s%%的，扣除年度服务费用的%(c)s%%。") % {
            "t": _num(rule[0]),
            "c": _num(rule[1]),
        }
    if code == "improvement":
        days = contract.improvement_working_days
        return _("整改通知后%(n)s个工作日内未完成整改的，每条扣2分。") % {
            "n": days if days is not None else "—"
        }
    if code == "deliverables":
        text = _("交付成果逾期或不符合要求，每项每次扣1分")
        if contract.statement_is_deliverable:
            text += _("；月度服务资源统计表逾期提交按交付物超时、内容错误按交付物不合格处理")
        return text + "。"
    return str(_STATIC_RULES[code])


_STATIC_RULES = {
    "security_mechanism": gettext_lazy(
        "应急预案、应急演练、等保三级测评、商用密码安全性评估、云计算服务安全评估，每缺1项扣2分。"
    ),
    "security_responsibility": gettext_lazy(
        "发生Ⅰ/Ⅱ/Ⅲ级安全事故分别扣款10万/5万/1万元；未如实全面报告的扣10分。"
    ),
    "training": gettext_lazy("无经甲方评审通过的培训计划扣3分；培训少于2次，每少1次扣1分。"),
    "disaster_recovery": gettext_lazy("中断超过2小时且备份恢复未起作用的，每次扣2.5分。"),
    "satisfaction": gettext_lazy(
        "满意度总分≥85不扣分，75–85之间扣3分，≤75扣5分（调查对象不少于平台用户的95%）。"
    ),
}


def _area_dict(
    area: rules.AreaScore, *, contract: Contract, events: list[str] | None = None
) -> dict[str, Any]:
    name, _max = rules.AREAS[area.area]
    return {
        "code": area.area,
        "label": str(name),
        "rule": area_rule(contract, area.area),
        "terms": area_terms(contract, area.area),
        "max_points": _num(area.max_points),
        "points": _num(area.points),
        "deducted": _num(min(area.max_points, area.deducted_points)),
        "deductions": [
            {
                "points": _num(d.points),
                "reason": d.reason,
                "ref": d.ref,
                "ref_label": refs.ref_label(d.ref),
            }
            for d in area.deductions
        ],
        "money": [
            {
                "amount": _num(m.amount),
                "reason": m.reason,
                "ref": m.ref,
                **_money_term(contract, area.area),
            }
            for m in area.money
        ],
        "notes": list(area.notes),
        "events": [{"ref": r, "ref_label": refs.ref_label(r)} for r in (events or [])],
    }


def _money_term(contract: Contract, area: str) -> dict[str, str]:
    key = MONEY_TERMS.get(area, "scorecard")
    citation = cite(contract, key)
    return {"term": key, "clause": citation.clause}


def _with_penalty_points(area: rules.AreaScore, penalties: list[Penalty]) -> rules.AreaScore:
    extra = tuple(
        rules.Deduction(
            points=p.points,
            reason=_("罚则记录：%(r)s（%(c)s），扣%(p)s分")
            % {"r": p.reason, "c": p.clause, "p": _num(p.points)},
            ref=f"penalty:{p.pk}",
        )
        for p in penalties
        if p.points and p.area == area.area
    )
    return dataclasses.replace(area, deductions=area.deductions + extra) if extra else area


@dataclasses.dataclass(frozen=True)
class _Gathered:
    """What one gatherer found: the scored area(s) and what the snapshot shows beside them."""

    areas: tuple[rules.AreaScore, ...]
    events: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()


def gather_outages(contract: Contract, label: int) -> _Gathered:
    """1 availability and 6 disaster recovery: confirmed, vendor-caused, not maintenance."""
    base = {"contract": contract, "service_year": label}
    outages = [
        o
        for o in Outage.objects.filter(**base, status=OutageStatus.CONFIRMED)
        .select_related("contract")
        .order_by("started_at", "pk")
        if o.counts_for_availability
    ]
    inputs = [rules.OutageInput(minutes=o.minutes, ref=f"outage:{o.pk}") for o in outages]
    availability = rules.score_availability(inputs)
    disaster = rules.score_disaster_recovery(
        [i for o, i in zip(outages, inputs, strict=True) if o.backup_restore_failed]
    )
    excluded = sum(
        1
        for o in Outage.objects.filter(**base, planned=True).select_related("contract")
        if o.excluded_as_maintenance
    )
    notes: tuple[str, ...] = ()
    if excluded:
        notes = (
            _("计划内停机 %(n)s 次（%(rule)s）不计入服务中断。")
            % {"n": excluded, "rule": maintenance_rule_text(contract)},
        )
    return _Gathered(
        areas=(availability, disaster),
        events={"availability": [f"outage:{o.pk}" for o in outages]},
        notes=notes,
    )


def gather_delivery(contract: Contract, sy: periods.ServiceYear, now: datetime) -> _Gathered:
    """2 delivery: tickets delivered late or still undelivered past their deadline."""
    return _Gathered(areas=(rules.score_delivery(_delivery_breaches(contract, sy, now)),))


def gather_security_mechanism(contract: Contract, label: int) -> _Gathered:
    """3 security mechanism: the checklist items neither accepted nor waived."""
    fulfilled = set(
        SecurityMechanismItem.objects.filter(
            contract=contract,
            service_year=label,
            status__in=[ChecklistStatus.ACCEPTED, ChecklistStatus.WAIVED],
        ).values_list("item", flat=True)
    )
    missing = [code for code in rules.SECURITY_MECHANISM_ITEMS if code not in fulfilled]
    return _Gathered(areas=(rules.score_security_mechanism(missing),))


def gather_security_responsibility(contract: Contract, label: int) -> _Gathered:
    """4 security responsibility: assessed incidents that were the vendor's."""
    incidents = SecurityIncident.objects.filter(
        contract=contract, service_year=label, status=IncidentStatus.ASSESSED, vendor_caused=True
    ).order_by("occurred_at", "pk")
    if required_roles(contract, JointSubject.INCIDENT_LEVEL) is not None:
        # 附件2 §4: only a level the bureau confirmed costs money.
        counted = confirmed_ids(
            SecurityIncident,
            JointSubject.INCIDENT_LEVEL,
            list(incidents.values_list("pk", flat=True)),
        )
        incidents = incidents.filter(pk__in=counted)
    inputs = [
        rules.IncidentInput(
            level=i.level, fully_reported=bool(i.fully_reported), ref=f"incident:{i.pk}"
        )
        for i in incidents
    ]
    return _Gathered(areas=(rules.score_security_responsibility(inputs),))


def gather_training(contract: Contract, label: int) -> _Gathered:
    """5 training: an approved plan and the confirmed sessions."""
    base = {"contract": contract, "service_year": label}
    plan_ok = TrainingPlan.objects.filter(**base, status=PlanStatus.APPROVED).exists()
    sessions = _refs(
        "training",
        TrainingSession.objects.filter(**base, status=SessionStatus.CONFIRMED)
        .order_by("held_on", "pk")
        .values_list("pk", flat=True),
    )
    return _Gathered(
        areas=(rules.score_training(plan_ok, sessions),), events={"training": sessions}
    )


def gather_utilization(
    contract: Contract, sy: periods.ServiceYear, now: datetime
) -> tuple[_Gathered, Any, Decimal, str]:
    """7 utilization: late or wrong monthly advice, and the year's averages against the fee.

    Also returns the averages and the annual fee (with its basis), which the snapshot shows.
    """
    reports = RightsizingReport.objects.filter(contract=contract, service_year=sy.label)
    bad_months = [
        f"rightsizing:{r.pk}" for r in reports.order_by("month") if r.marked_wrong or r.is_late(now)
    ]
    averages = contract_averages(
        contract, sy.start, min(sy.end, business_date(now)), confirmed_only=True
    )
    fee, fee_basis = annual_fee(contract, sy)
    rule = utilization_rule(contract)
    area = rules.score_utilization(
        bad_months,
        avg_cpu_pct=averages.cpu_pct,
        avg_mem_pct=averages.mem_pct,
        annual_fee=fee,
        threshold_pct=rule[0] if rule else None,
        charge_pct=rule[1] if rule else None,
        metrics_ref=f"utilization:{contract.pk}:{sy.label}",
    )
    if averages.notes:
        area = dataclasses.replace(area, notes=(*area.notes, *averages.notes))
    return _Gathered(areas=(area,)), averages, fee, fee_basis


def gather_satisfaction(contract: Contract, label: int) -> tuple[_Gathered, SurveyStats | None]:
    """8 satisfaction: the year's survey (live statistics while it is open)."""
    survey = (
        SatisfactionSurvey.objects.filter(contract=contract, service_year=label)
        .select_related("contract")
        .first()
    )
    stats = survey_stats(survey) if survey else None
    area = rules.score_satisfaction(
        stats.mean if stats else None, stats.coverage_pct if stats else None
    )
    if survey and survey.status == SurveyStatus.OPEN:
        area = dataclasses.replace(
            area, notes=(*area.notes, _("满意度调查仍在进行中，结果为实时统计"))
        )
    return _Gathered(areas=(area,)), stats


def gather_improvement(contract: Contract, label: int, now: datetime) -> _Gathered:
    """9 improvement: notices not fixed within the contract's fix period."""
    notices = ImprovementNotice.objects.filter(contract=contract, service_year=label).order_by(
        "issued_at", "pk"
    )
    # Under a joint confirmation (BT 附件2 §9) a report counts only once jointly confirmed.
    joint = required_roles(contract, JointSubject.IMPROVEMENT_REPORT) is not None
    late = _refs(
        "notice",
        [
            n.pk
            for n in notices
            if n.is_unfixed_in_time(now)
            or (joint and n.status != NoticeStatus.CONFIRMED and now >= n.due_at)
        ],
    )
    area = rules.score_improvement(late, working_days=contract.improvement_working_days)
    return _Gathered(areas=(area,))


def gather_deliverables(contract: Contract, label: int, now: datetime) -> _Gathered:
    """10 deliverables: late ones, every rejected submission, and the monthly statements found
    wrong (once a month, where the contract's terms make statements deliverables)."""
    deliverables = list(
        Deliverable.objects.filter(contract=contract, service_year=label).order_by("due_date", "pk")
    )
    rejected = DeliverableSubmission.objects.filter(
        deliverable__in=deliverables, decision=Decision.REJECTED
    ).order_by("deliverable_id", "number")
    area = rules.score_deliverables(
        _refs("deliverable", [d.pk for d in deliverables if d.is_late(now)]),
        [f"submission:{s.deliverable_id}:{s.pk}" for s in rejected]
        + [f"nonconforming:{d.pk}" for d in deliverables if d.found_wrong_at is not None],
    )
    return _Gathered(areas=(area,))


def gather_penalties(contract: Contract, label: int) -> list[Penalty]:
    """Penalties the vendor acknowledged: their points go to an area, their amounts to money."""
    return list(
        Penalty.objects.filter(
            contract=contract, service_year=label, status=PenaltyStatus.ACKNOWLEDGED
        ).order_by("occurred_on", "pk")
    )


def scorecard_compute(
    *, contract: Contract, year: int, now: datetime | None = None, ratio: Decimal | None = None
) -> dict[str, Any]:
    """The scorecard of a service year, computed from the records as they are now."""
    require_scorecard(contract)
    now = now or timezone.now()
    sy = service_year(contract, year)
    label = sy.label
    outages = gather_outages(contract, label)
    utilization, averages, fee, fee_basis = gather_utilization(contract, sy, now)
    satisfaction, stats = gather_satisfaction(contract, label)
    gathered = (
        outages,
        gather_delivery(contract, sy, now),
        gather_security_mechanism(contract, label),
        gather_security_responsibility(contract, label),
        gather_training(contract, label),
        utilization,
        satisfaction,
        gather_improvement(contract, label, now),
        gather_deliverables(contract, label, now),
    )
    penalties = gather_penalties(contract, label)
    scored = {area.area: area for g in gathered for area in g.areas}
    events = {key: refs_ for g in gathered for key, refs_ in g.events.items()}
    notes = [note for g in gathered for note in g.notes]
    return scorecard_snapshot(
        contract=contract,
        sy=sy,
        now=now,
        ratio=ratio,
        areas=[_with_penalty_points(area, penalties) for area in scored.values()],
        penalties=penalties,
        fee=fee,
        fee_basis=fee_basis,
        averages=averages,
        stats=stats,
        events=events,
        notes=notes,
    )


def scorecard_snapshot(
    *,
    contract: Contract,
    sy: periods.ServiceYear,
    now: datetime,
    ratio: Decimal | None,
    areas: list[rules.AreaScore],
    penalties: list[Penalty],
    fee: Decimal,
    fee_basis: str,
    averages: Any,
    stats: SurveyStats | None,
    events: dict[str, list[str]],
    notes: list[str],
) -> dict[str, Any]:
    """The JSON-ready scorecard (what the page shows and finalising freezes)."""
    label = sy.label
    card = rules.build_scorecard(areas)

    ceiling = card.deduction_ratio
    applied_ratio = ceiling if ratio is None else ratio
    ratio_amount = quantize_yuan(fee * applied_ratio)
    money: list[dict[str, Any]] = [
        {
            "amount": _num(m.amount),
            "reason": m.reason,
            "ref": m.ref,
            "kind": "area",
            **_money_term(contract, area.area),
        }
        for area in card.areas
        for m in area.money
    ]
    for p in penalties:
        if p.amount:
            money.append(
                {
                    "amount": _num(p.amount),
                    "reason": _("罚则记录：%(r)s（%(c)s）") % {"r": p.reason, "c": p.clause},
                    "ref": f"penalty:{p.pk}",
                    "kind": "penalty",
                    **_money_term(contract, ""),
                }
            )
    if ratio_amount:
        money.append(
            {
                "amount": _num(ratio_amount),
                "reason": _("考核结果%(g)s（%(t)s分），按年度服务费的%(r)s%%扣款")
                % {
                    "g": card.grade.label,
                    "t": _num(card.total_points),
                    "r": _num(applied_ratio * 100),
                },
                "ref": f"grade:{contract.pk}:{label}",
                "kind": "grade",
                **_money_term(contract, ""),
            }
        )
    money_total = sum((Decimal(m["amount"]) for m in money), ZERO)
    capped = min(money_total, fee)

    return {
        "contract": {"id": contract.pk, "code": contract.code, "name": contract.name},
        "service_year": label,
        "period": {"start": sy.start.isoformat(), "end": sy.end.isoformat()},
        "computed_at": now.isoformat(),
        "areas": [_area_dict(a, contract=contract, events=events.get(a.area)) for a in card.areas],
        "total_points": _num(card.total_points),
        "grade": card.grade.value,
        "grade_label": card.grade.label,
        "termination_right": card.termination_right,
        "requires_rectification": card.requires_rectification,
        "termination_penalty": penalty_terms(contract, card.total_points),
        "deduction_ratio_ceiling": _num(ceiling),
        "deduction_ratio": _num(applied_ratio),
        "annual_fee": _num(fee),
        "annual_fee_basis": fee_basis,
        "ratio_amount": _num(ratio_amount),
        "money": money,
        "money_total": _num(quantize_yuan(money_total)),
        "money_payable": _num(quantize_yuan(capped)),
        "cap_applied": capped < money_total,
        "utilization": {
            "avg_cpu_pct": _num(averages.cpu_pct),
            "avg_mem_pct": _num(averages.mem_pct),
        },
        "survey": (
            {
                "answered": stats.answered,
                "eligible": stats.eligible,
                "mean": _num(stats.mean),
                "coverage_pct": _num(stats.coverage_pct),
            }
            if stats
            else None
        ),
        "pending": _pending(contract, label),
        "notes": notes,
    }


def penalty_terms(contract: Contract, total_points: Decimal) -> dict[str, Any]:
    """The 违约金 of 附件2 §11 for a total, as the snapshot and the page show it.

    合同总价 is ``Contract.estimated_amount`` (BT-2025 ¥8,700,000.00 → ¥870,000.00); without
    it the penalty applies but has no amount, and nothing is offered (``no_price``).
    """
    penalty = rules.termination_penalty(total_points, contract.estimated_amount)
    return {
        "applies": penalty.applies,
        "threshold": _num(rules.TERMINATION_BELOW),
        "ratio": _num(penalty.ratio),
        "ratio_pct": _num(penalty.ratio * 100),
        "contract_price": (
            None if penalty.contract_price is None else _num(penalty.contract_price)
        ),
        "amount": None if penalty.amount is None else _num(penalty.amount),
        "no_price": penalty.no_price,
        "rule": _(
            "考核结果与扣款规则（§11）：年度总评＜%(t)s分，甲方有权终止合同，乙方按合同总价"
            "%(r)s%%支付违约金。"
        )
        % {"t": _num(rules.TERMINATION_BELOW), "r": _num(penalty.ratio * 100)},
        "terms": [term_citation(contract, "scorecard")],
    }


# ---------------------------------------------------------------- the scorecard row


def scorecard_for(*, contract: Contract, year: int) -> Scorecard:
    """The scorecard row of a service year (created live on first use; refused, and nothing
    created, on a contract without an SLA annex)."""
    require_scorecard(contract)
    service_year(contract, year)
    card, _created = Scorecard.objects.get_or_create(contract=contract, service_year=year)
    return card


def scorecard_data(card: Scorecard, *, now: datetime | None = None) -> dict[str, Any]:
    """What the page shows: the frozen snapshot, or a fresh computation while live."""
    if card.is_final:
        if card.snapshot is None:
            raise RuntimeError(f"Finalised scorecard {card.pk} has no snapshot.")
        frozen: dict[str, Any] = card.snapshot
        return frozen
    return scorecard_compute(contract=card.contract, year=card.service_year, now=now)


SCORECARD_FIELDS = ("status", "finalised_at", "override_reason", "override_months")


@transaction.atomic
def scorecard_finalise(
    *,
    actor: User,
    contract: Contract,
    year: int,
    ratio: Decimal | None = None,
    override_reason: str = "",
) -> Scorecard:
    """The bureau finalises a year once it has ended and nothing awaits confirmation.

    Every month the service year bills must have a signed statement (the annual fee, and so
    the 5 %/10 %/20 % charges, rest on them); otherwise the bureau may still finalise with an
    ``override_reason``, stored with who, when and the unsigned months, shown on the card.
    The snapshot is frozen (immutable afterwards) and the money deductions are written to
    billing settlement. ``ratio`` lets the bureau apply less than the grade's ceiling.
    """
    reason = (override_reason or "").strip()
    card = (
        Scorecard.objects.select_for_update(of=("self",))
        .filter(contract=contract, service_year=year)
        .first()
    )
    SCORECARD_ACTIONS.require(
        "override_finalise" if reason else "finalise",
        actor,
        card or Scorecard(contract=contract, service_year=year),
    )
    now = timezone.now()
    if card is None:
        card = Scorecard.objects.create(contract=contract, service_year=year)
        card = Scorecard.objects.select_for_update(of=("self",)).get(pk=card.pk)
    before = snapshot(card, SCORECARD_FIELDS)
    pending = _pending(contract, year)
    if pending:
        raise ApplicationError(
            _("以下事项尚待确认，确认后才能定稿：%(p)s") % {"p": "；".join(pending)},
            extra={"pending": pending},
        )
    _check_ratio(contract, year, now, ratio)
    data = scorecard_compute(contract=contract, year=year, now=now, ratio=ratio)
    set_status(card, SCORECARD_TRANSITIONS, ScorecardStatus.FINALISED)
    card.snapshot = data
    card.finalised_by, card.finalised_at = actor, now
    fields = ["status", "snapshot", "finalised_by", "finalised_at"]
    if reason:
        missing = unsigned_months(contract, service_year(contract, year))
        card.override_reason, card.override_by, card.override_at = reason, actor, now
        card.override_months = [month_key(ym) for ym in missing]
        fields += ["override_reason", "override_by", "override_at", "override_months"]
    card.save(update_fields=fields)
    settled: list[dict[str, Any]] = []
    created = _billing_deductions(card, data, actor, rows=settled)
    ScorecardRound.objects.create(
        card=card,
        number=1,
        snapshot=data,
        finalised_by=actor,
        finalised_at=now,
        settlement=settled,
    )
    audit_log(
        actor=actor,
        action="scorecard.finalise",
        obj=card,
        before=before,
        after={
            **snapshot(card, SCORECARD_FIELDS),
            "total_points": data["total_points"],
            "grade": data["grade"],
            "money_payable": data["money_payable"],
            "billing_deductions": created,
        },
        contract=contract,
    )
    job_schedule(tasks.render_scorecard_pdf.name, card.pk, contract=contract)
    return card


def _check_ratio(contract: Contract, year: int, now: datetime, ratio: Decimal | None) -> None:
    """The bureau's ratio must lie within the grade's ceiling (附件2 §11 "最高扣款比例")."""
    if ratio is None:
        return
    ceiling = rules.deduction_ratio(
        Decimal(scorecard_compute(contract=contract, year=year, now=now)["total_points"])
    )
    if not isinstance(ratio, Decimal) or ratio < 0 or ratio > ceiling:
        raise ApplicationError(
            _("扣款比例须在 0 与 %(c)s 之间。") % {"c": _num(ceiling)},
            extra={"field": "ratio"},
        )


def _settlement_period(card: Scorecard, data: dict[str, Any]) -> Any:
    """The settlement period holding the service year's last day (None outside every one)."""
    end = date.fromisoformat(data["period"]["end"])
    return next((p for p in contract_settlement_periods(card.contract) if end in p), None)


def _billing_deductions(
    card: Scorecard, data: dict[str, Any], actor: User, *, rows: list[dict[str, Any]] | None = None
) -> int:
    """Write the scorecard's money into billing settlement, once, capped at the annual fee.

    The deductions go to the settlement period that holds the service year's last day (the
    final settlement after the assessment, 包头 "尾款：服务期满考核后"). ``rows`` collects what
    was written (the round's settlement record).
    """
    if not has_scorecard(card.contract):  # the finalise check refused it already
        raise RuntimeError(f"Contract {card.contract.code} has no scorecard to settle.")
    period = _settlement_period(card, data)
    if period is None:
        return 0
    remaining = Decimal(data["money_payable"])
    created = 0
    for item in data["money"]:
        amount = min(Decimal(item["amount"]), remaining)
        if amount <= 0:
            continue
        remaining -= amount
        sla_ref = f"scorecard:{card.pk}:{item['ref']}"
        if Deduction.objects.filter(contract=card.contract, sla_ref=sla_ref).exists():
            continue
        reason = item["reason"]
        if amount < Decimal(item["amount"]):
            reason += _("（扣款总额以年度服务费为限，本项计 %(a)s）") % {"a": format_yuan(amount)}
        deduction = deduction_create(
            actor=actor,
            contract=card.contract,
            period_label=period.key,
            amount=amount,
            reason=_("%(y)s 服务年度考核：%(r)s") % {"y": card.service_year, "r": reason},
            source=DeductionSource.SLA,
            sla_ref=sla_ref,
        )
        created += 1
        if rows is not None:
            rows.append(
                _settlement_row(
                    item["ref"],
                    item["reason"],
                    target=amount,
                    before=ZERO,
                    action="created",
                    deduction=deduction,
                )
            )
    return created


# ---------------------------------------------------------------- rectification and re-score
#
# 附件2 §11 "不及格需按要求进行整改，整改完成后再进行评分。年度总评＜59分，甲方有权终止合同，
# 乙方按合同总价10%支付违约金". Readings:
#
# * A failing round (不及格, < 60) is answered by a rectification the bureau opens on the card
#   (``ScorecardRectification``), not by an improvement notice: a notice is itself a scored
#   event of the service year (−2 points when late, and it holds up finalising), so reusing it
#   would let the rectification move the very score it is meant to redo. Its report is
#   confirmed as the annex confirms every 整改报告 (§9.2 "整改报告需经甲方、监理方和审计方共同
#   确认"): through the ``improvement_report`` joint confirmation where the terms name its
#   parties, by the bureau alone where they do not.
# * Only after that confirmation may the bureau score again (整改完成后再进行评分): a new round is
#   computed from the records as they are then, and frozen; earlier rounds stay as they were.
# * Money of a re-score, event by event (the scorecard's stable refs): what the earlier rounds
#   wrote stays as billing holds it; a re-score writes only what it finds *more* (a new event,
#   or a larger amount: the difference), within the annual-fee cap — so nothing is deducted
#   twice. Where it finds *less*, nothing is lowered silently: billing lowers a deduction only
#   through the vendor's objection and the bureau's withdrawal or re-issue (7.1.2), so the
#   round records the difference, which part is already effective (not lowered; any refund is
#   the bureau's separate decision) and which part still awaits the vendor's signature.
# * The penalty is 10 % of the contract price (合同总价 = ``Contract.estimated_amount``), offered
#   while the latest round is below 59 (59 itself, and 59–60, is 不及格 without it). The bureau
#   claims it once per card (a billing deduction, with the vendor's acknowledgement where the
#   terms ask it) or waives it for the round with a reason; a later round below 59 is offered
#   it again unless it was claimed. Termination itself is the contract's life-cycle, not this.

REPORT_SUBJECT = JointSubject.IMPROVEMENT_REPORT
PENALTY_REF = "termination-penalty"
RECTIFICATION_FIELDS = ("status", "round_number", "reported_at", "confirmed_at", "last_comment")
LIVE_DEDUCTION = (DeductionStatus.PENDING, DeductionStatus.OBJECTED, DeductionStatus.EFFECTIVE)


def latest_round(card: Scorecard) -> ScorecardRound | None:
    return card.rounds.order_by("-number").first() if card.pk else None


def current_rectification(card: Scorecard) -> ScorecardRectification | None:
    """The rectification of the latest round, if the bureau opened one."""
    last = latest_round(card)
    if last is None:
        return None
    return ScorecardRectification.objects.filter(card=card, round_number=last.number).first()


def _final_round(card: Scorecard) -> ScorecardRound:
    last = latest_round(card) if card.is_final else None
    if last is None:
        raise InvalidTransition(_("考核表尚未定稿。"))
    return last


def _joint_named(card: Scorecard) -> bool:
    return required_roles(card.contract, REPORT_SUBJECT) is not None


def rectification_confirmed(rect: ScorecardRectification) -> bool:
    """Confirmed by the bureau, or jointly by every party the terms name (§9.2)."""
    if rect.status in (RectificationStatus.CONFIRMED, RectificationStatus.RESCORED):
        return True
    if rect.status != RectificationStatus.REPORTED or not _joint_named(rect.card):
        return False
    confirmation = joint_for(rect, REPORT_SUBJECT)
    return confirmation is not None and confirmation.status == JointStatus.CONFIRMED


def rectification_state(rect: ScorecardRectification) -> str:
    """What the rectification waits for, in words (the joint confirmation included)."""
    if rect.status == RectificationStatus.REPORTED and _joint_named(rect.card):
        confirmation = joint_for(rect, REPORT_SUBJECT)
        if confirmation is not None and confirmation.status == JointStatus.CONFIRMED:
            return _("整改已共同确认，待甲方复评")
        if confirmation is not None and confirmation.status == JointStatus.OBJECTED:
            return _("整改报告有异议，待乙方重新提交")
        return _("整改报告待%(r)s共同确认") % {
            "r": roles_text(required_roles(rect.card.contract, REPORT_SUBJECT) or [])
        }
    if rect.status == RectificationStatus.REPORTED:
        return _("整改报告待甲方确认")
    if rect.status == RectificationStatus.CONFIRMED:
        return _("整改已确认，待甲方复评")
    return str(rect.get_status_display())


def _check_open(user: Any, card: Scorecard) -> None:
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.BUREAU)
    last = _final_round(card)
    if last.snapshot["grade"] != rules.Grade.FAIL:
        raise InvalidTransition(
            _("第%(n)s轮考核结果为%(g)s，无须整改。")
            % {"n": last.number, "g": last.snapshot["grade_label"]}
        )
    if current_rectification(card) is not None:
        raise InvalidTransition(_("第%(n)s轮考核已发出整改要求。") % {"n": last.number})


def _check_report(user: Any, card: Scorecard) -> None:
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.VENDOR)
    rect = current_rectification(card) if card.is_final else None
    if rect is None:
        raise InvalidTransition(_("没有待整改的考核事项。"))
    if rect.status == RectificationStatus.OPEN:
        return
    confirmation = joint_for(rect, REPORT_SUBJECT) if _joint_named(card) else None
    objected = confirmation is not None and confirmation.status == JointStatus.OBJECTED
    if rect.status != RectificationStatus.REPORTED or not objected:
        raise InvalidTransition(_("整改报告已提交：%(s)s。") % {"s": rectification_state(rect)})


def _check_decide(user: Any, card: Scorecard) -> None:
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.BUREAU)
    rect = current_rectification(card) if card.is_final else None
    if rect is None or rect.status != RectificationStatus.REPORTED:
        raise InvalidTransition(_("没有待确认的整改报告。"))
    if _joint_named(card):
        raise InvalidTransition(
            _("整改报告须经%(r)s共同确认，请在会签栏签署意见。")
            % {"r": roles_text(required_roles(card.contract, REPORT_SUBJECT) or [])}
        )


def _check_rescore(user: Any, card: Scorecard) -> None:
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.BUREAU)
    _final_round(card)
    rect = current_rectification(card)
    if rect is None or not rectification_confirmed(rect):
        raise InvalidTransition(_("不及格的考核须整改并经确认后，才能再进行评分。"))


def _check_penalty(user: Any, card: Scorecard) -> None:
    require_scorecard(card.contract)
    require_party(user, card.contract, PartyRole.BUREAU)
    last = _final_round(card)
    penalty = rules.termination_penalty(last.total_points, card.contract.estimated_amount)
    if not penalty.applies:
        raise InvalidTransition(
            _("第%(n)s轮年度总评 %(t)s 分，不低于 %(b)s 分，不产生违约金。")
            % {"n": last.number, "t": _num(last.total_points), "b": _num(rules.TERMINATION_BELOW)}
        )
    if penalty.amount is None:
        raise InvalidTransition(_("合同未载明合同总价，无法计算违约金。"))
    if card.rounds.filter(penalty_decision=PenaltyDecision.CLAIMED).exists():
        raise InvalidTransition(_("本考核表的违约金已经主张，不能重复主张。"))
    if last.penalty_decision:
        raise InvalidTransition(
            _("第%(n)s轮已%(d)s。") % {"n": last.number, "d": last.get_penalty_decision_display()}
        )


RECTIFICATION_ACTIONS = ActionRules(
    {
        "rectification_open": _check_open,
        "rectification_report": _check_report,
        "rectification_decide": _check_decide,
        "rescore": _check_rescore,
        "penalty_claim": _check_penalty,
        "penalty_waive": _check_penalty,
    }
)


def rectification_available_actions(*, user: Any, obj: Scorecard) -> frozenset[str]:
    """What ``user`` may do now after ``obj`` was finalised (rectify, re-score, penalty)."""
    return RECTIFICATION_ACTIONS.available(user, obj)


def _lock_card(card: Scorecard) -> Scorecard:
    return (
        Scorecard.objects.select_for_update(of=("self",)).select_related("contract").get(pk=card.pk)
    )


def _lock_rectification(card: Scorecard) -> ScorecardRectification:
    rect = current_rectification(card)
    if rect is None:  # the action check found one
        raise RuntimeError(f"Scorecard {card.pk} has no rectification to lock.")
    return (
        ScorecardRectification.objects.select_for_update(of=("self",))
        .select_related("card__contract")
        .get(pk=rect.pk)
    )


def _card_link(card: Scorecard) -> str:
    return notifications.link("sla_scorecard", card.contract_id, card.service_year)


@transaction.atomic
def scorecard_rectification_open(
    *, actor: User, card: Scorecard, requirements: str
) -> ScorecardRectification:
    """The bureau asks the vendor to rectify a failing round (按要求进行整改)."""
    card = _lock_card(card)
    RECTIFICATION_ACTIONS.require("rectification_open", actor, card)
    requirements = require_text(requirements, _("请填写整改要求。"), "requirements")
    last = _final_round(card)
    rect = ScorecardRectification.objects.create(
        card=card,
        round_number=last.number,
        requirements=requirements,
        opened_by=actor,
        opened_at=timezone.now(),
    )
    audit_log(
        actor=actor,
        action="scorecard.rectification_open",
        obj=rect,
        after={**snapshot(rect, RECTIFICATION_FIELDS), "requirements": requirements},
        contract=card.contract,
    )
    notifications.send(
        key=f"scorecard:{card.pk}:rectification:{rect.pk}:opened",
        contract=card.contract,
        recipients=notifications.party_emails(
            card.contract, PartyRole.VENDOR, PartyRole.SUPERVISOR
        ),
        subject=_("%(y)s 服务年度考核不及格，请按要求整改") % {"y": card.service_year},
        body=_(
            "第%(n)s轮考核得分 %(t)s 分（%(g)s）。不及格需按要求进行整改，整改完成后再进行评分"
            "（附件2 §11）。\n\n整改要求：\n%(r)s"
        )
        % {
            "n": last.number,
            "t": last.snapshot["total_points"],
            "g": last.snapshot["grade_label"],
            "r": requirements,
        },
        url=_card_link(card),
    )
    return rect


@transaction.atomic
def scorecard_rectification_report(
    *, actor: User, card: Scorecard, report: str, document: UploadedFile | None = None
) -> ScorecardRectification:
    """The vendor reports the rectification done (again after an objection)."""
    card = _lock_card(card)
    RECTIFICATION_ACTIONS.require("rectification_report", actor, card)
    rect = _lock_rectification(card)
    before = snapshot(rect, RECTIFICATION_FIELDS)
    report = require_text(report, _("请填写整改报告。"), "report")
    validate_upload(document, required=False, field="document")
    set_status(rect, RECTIFICATION_TRANSITIONS, RectificationStatus.REPORTED)
    rect.report = report
    if document is not None:
        rect.report_document = document
    rect.reported_by, rect.reported_at = actor, timezone.now()
    rect.save()
    confirmation = joint_open(
        actor=actor,
        contract=card.contract,
        subject=REPORT_SUBJECT,
        obj=rect,
        title=_("考核不及格整改报告：%(y)s 服务年度第%(n)s轮")
        % {"y": card.service_year, "n": rect.round_number},
    )
    if confirmation is not None:
        joint_restart(actor=actor, confirmation=confirmation, note=_("乙方重新提交整改报告"))
    audit_log(
        actor=actor,
        action="scorecard.rectification_report",
        obj=rect,
        before=before,
        after={**snapshot(rect, RECTIFICATION_FIELDS), "report": report},
        contract=card.contract,
    )
    confirmers = required_roles(card.contract, REPORT_SUBJECT) or [PartyRole.BUREAU]
    notifications.send(
        key=f"scorecard:{card.pk}:rectification:{rect.pk}:reported:{rect.reported_at.isoformat()}",
        contract=card.contract,
        recipients=notifications.party_emails(
            card.contract, PartyRole.BUREAU, *[r for r in confirmers if r != PartyRole.VENDOR]
        ),
        subject=_("乙方已提交考核整改报告（%(y)s 服务年度）") % {"y": card.service_year},
        body=_("%(r)s\n\n请%(who)s确认后，由甲方再进行评分。")
        % {"r": report, "who": roles_text([str(r) for r in confirmers])},
        url=_card_link(card),
    )
    return rect


@transaction.atomic
def scorecard_rectification_decide(
    *, actor: User, card: Scorecard, accept: bool, comment: str = ""
) -> ScorecardRectification:
    """The bureau confirms the report or returns it (only where the terms name no joint
    confirmation of improvement reports)."""
    card = _lock_card(card)
    RECTIFICATION_ACTIONS.require("rectification_decide", actor, card)
    rect = _lock_rectification(card)
    before = snapshot(rect, RECTIFICATION_FIELDS)
    comment = (comment or "").strip()
    if not accept:
        comment = require_text(comment, _("退回整改时须填写意见。"), "comment")
    target = RectificationStatus.CONFIRMED if accept else RectificationStatus.OPEN
    set_status(rect, RECTIFICATION_TRANSITIONS, target)
    rect.last_comment = comment
    if accept:
        rect.confirmed_by, rect.confirmed_at = actor, timezone.now()
    else:
        rect.reported_by, rect.reported_at = None, None
    rect.save()
    audit_log(
        actor=actor,
        action="scorecard.rectification_confirm" if accept else "scorecard.rectification_return",
        obj=rect,
        before=before,
        after=snapshot(rect, RECTIFICATION_FIELDS),
        contract=card.contract,
    )
    notifications.send(
        key=f"scorecard:{card.pk}:rectification:{rect.pk}:{target}:{timezone.now().isoformat()}",
        contract=card.contract,
        recipients=notifications.party_emails(card.contract, PartyRole.VENDOR),
        subject=(_("考核整改已确认") if accept else _("考核整改报告被退回"))
        + f"（{card.service_year}）",
        body=(_("甲方已确认整改，将再进行评分。") if accept else _("意见：%(c)s") % {"c": comment}),
        url=_card_link(card),
    )
    return rect


# ---------------------------------------------------------------- money of a re-score


@dataclasses.dataclass
class _Held:
    """What billing holds for one event of a card (all its rounds, re-issues followed)."""

    effective: Decimal = ZERO
    pending: Decimal = ZERO  # awaiting the vendor's signature, or objected to
    withdrawn: Decimal = ZERO
    ids: list[int] = dataclasses.field(default_factory=list)

    @property
    def live(self) -> Decimal:
        return self.effective + self.pending


def _event_ref(card: Scorecard, sla_ref: str) -> str | None:
    """``scorecard:<pk>:<ref>`` (round 1) or ``scorecard:<pk>:round-<n>:<ref>`` → ``<ref>``."""
    prefix = f"scorecard:{card.pk}:"
    if not sla_ref.startswith(prefix):
        return None
    rest = sla_ref[len(prefix) :]
    if rest == PENALTY_REF:
        return None
    if rest.startswith("round-"):
        rest = rest.partition(":")[2]
    return rest or None


def scorecard_held(card: Scorecard) -> dict[str, _Held]:
    """Per event ref, the card's deductions in billing by state.

    A deduction re-issued after an objection (``deduction_reissue``) carries no ``sla_ref``;
    it belongs to the event of the deduction it replaced.
    """
    rows = list(
        Deduction.objects.filter(contract=card.contract, source=DeductionSource.SLA).order_by("pk")
    )
    by_pk = {d.pk: d for d in rows}
    held: dict[str, _Held] = {}
    for row in rows:
        origin, seen = row, set()
        while not origin.sla_ref and origin.reissue_of_id in by_pk and origin.pk not in seen:
            seen.add(origin.pk)
            origin = by_pk[origin.reissue_of_id]
        ref = _event_ref(card, origin.sla_ref)
        if ref is None:
            continue
        entry = held.setdefault(ref, _Held())
        entry.ids.append(row.pk)
        if row.status == DeductionStatus.EFFECTIVE:
            entry.effective += row.amount
        elif row.status in LIVE_DEDUCTION:
            entry.pending += row.amount
        else:
            entry.withdrawn += row.amount
    return held


def _settlement_row(
    ref: str,
    reason: str,
    *,
    target: Decimal,
    before: Decimal,
    action: str,
    deduction: Deduction | None = None,
    note: str = "",
) -> dict[str, Any]:
    return {
        "ref": ref,
        "reason": reason,
        "target": _num(quantize_yuan(target)),
        "before": _num(quantize_yuan(before)),
        "action": action,
        "action_label": str(SETTLEMENT_ACTIONS_LABELS[action]),
        "deduction": deduction.pk if deduction else None,
        "amount": _num(deduction.amount) if deduction else None,
        "note": note,
    }


SETTLEMENT_ACTIONS_LABELS = {
    "created": gettext_lazy("已写入结算"),
    "supplemented": gettext_lazy("补扣差额"),
    "kept": gettext_lazy("维持原扣款"),
    "above": gettext_lazy("原扣款高于复评结果"),
    "withdrawn": gettext_lazy("原扣款已撤回"),
    "capped": gettext_lazy("超出年度服务费上限，未扣"),
}


def _above_note(held: _Held, target: Decimal) -> str:
    excess = held.live - target
    parts = [
        _("复评结果 %(t)s 低于已计扣的 %(b)s（差额 %(d)s），复评不自动减少扣款。")
        % {"t": format_yuan(target), "b": format_yuan(held.live), "d": format_yuan(excess)}
    ]
    if held.effective:
        parts.append(
            _("其中已生效 %(e)s 保持不变，如需退还由甲方另行办理。")
            % {"e": format_yuan(held.effective)}
        )
    if held.pending:
        parts.append(
            _("待乙方签字确认的 %(p)s，乙方可提出异议，由甲方撤回或按复评结果重新出具通知书。")
            % {"p": format_yuan(held.pending)}
        )
    return "".join(parts)


def _rescore_deductions(
    card: Scorecard, number: int, data: dict[str, Any], actor: User
) -> list[dict[str, Any]]:
    """Write what the new round finds beyond what billing already holds; record the rest.

    Per event: nothing held → the round's amount; less held → the difference (a
    supplementary deduction ``scorecard:<pk>:round-<n>:<ref>``); the same → nothing; more
    held → nothing, and the round records the difference (see the section comment).
    Everything written stays within the annual fee (附件3 五(二)).
    """
    period = _settlement_period(card, data)
    held = scorecard_held(card)
    fee = Decimal(data["annual_fee"])
    headroom = fee - sum((h.live for h in held.values()), ZERO)
    remaining = Decimal(data["money_payable"])
    targets: dict[str, tuple[Decimal, str]] = {}
    for item in data["money"]:
        amount = max(min(Decimal(item["amount"]), remaining), ZERO)
        remaining -= amount
        targets[item["ref"]] = (amount, item["reason"])
    rows: list[dict[str, Any]] = []
    for ref in [*targets, *(r for r in held if r not in targets)]:
        target, reason = targets.get(ref, (ZERO, ""))
        mine = held.get(ref)
        before = mine.live if mine else ZERO
        if mine is not None and not mine.live:
            if target:
                rows.append(
                    _settlement_row(
                        ref,
                        reason,
                        target=target,
                        before=before,
                        action="withdrawn",
                        note=_("该项扣款此前已由甲方撤回，复评不再重复扣款。"),
                    )
                )
            continue
        if mine is not None and target < before:
            rows.append(
                _settlement_row(
                    ref,
                    reason,
                    target=target,
                    before=before,
                    action="above",
                    note=_above_note(mine, target),
                )
            )
            continue
        if target == before:
            if target:
                rows.append(
                    _settlement_row(ref, reason, target=target, before=before, action="kept")
                )
            continue
        amount = min(target - before, headroom)
        if amount <= 0 or period is None:
            rows.append(
                _settlement_row(
                    ref,
                    reason,
                    target=target,
                    before=before,
                    action="capped",
                    note=_("扣款合计已达年度服务费上限。")
                    if period is not None
                    else _("服务年度末不在任何结算期内，未写入结算。"),
                )
            )
            continue
        headroom -= amount
        text = (
            reason
            if not before
            else _("%(r)s（复评补扣差额，原已计扣 %(b)s）")
            % {
                "r": reason,
                "b": format_yuan(before),
            }
        )
        deduction = deduction_create(
            actor=actor,
            contract=card.contract,
            period_label=period.key,
            amount=quantize_yuan(amount),
            reason=_("%(y)s 服务年度考核第%(n)s轮：%(r)s")
            % {"y": card.service_year, "n": number, "r": text},
            source=DeductionSource.SLA,
            sla_ref=f"scorecard:{card.pk}:round-{number}:{ref}",
        )
        rows.append(
            _settlement_row(
                ref,
                reason,
                target=target,
                before=before,
                action="supplemented" if before else "created",
                deduction=deduction,
            )
        )
    return rows


@transaction.atomic
def scorecard_rescore(
    *, actor: User, card: Scorecard, ratio: Decimal | None = None
) -> ScorecardRound:
    """After the rectification is confirmed the bureau scores the year again (a new round).

    The new round is computed from the records as they are now and frozen; it becomes the
    card's snapshot, the earlier rounds keep theirs. Its money is settled per
    ``_rescore_deductions``. ``ratio`` as when finalising.
    """
    card = _lock_card(card)
    RECTIFICATION_ACTIONS.require("rescore", actor, card)
    contract, year = card.contract, card.service_year
    previous = _final_round(card)
    rect = _lock_rectification(card)
    pending = _pending(contract, year)
    if pending:
        raise ApplicationError(
            _("以下事项尚待确认，确认后才能再评分：%(p)s") % {"p": "；".join(pending)},
            extra={"pending": pending},
        )
    now = timezone.now()
    _check_ratio(contract, year, now, ratio)
    data = scorecard_compute(contract=contract, year=year, now=now, ratio=ratio)
    rect_before = snapshot(rect, RECTIFICATION_FIELDS)
    if rect.status == RectificationStatus.REPORTED:  # jointly confirmed (the check says so)
        confirmation = joint_for(rect, REPORT_SUBJECT)
        last = confirmation.entries.order_by("-at", "-pk").first() if confirmation else None
        rect.confirmed_by = last.user if last else None
        rect.confirmed_at = confirmation.confirmed_at if confirmation else now
    set_status(rect, RECTIFICATION_TRANSITIONS, RectificationStatus.RESCORED)
    rect.save()
    number = previous.number + 1
    new_round = ScorecardRound.objects.create(
        card=card,
        number=number,
        snapshot=data,
        finalised_by=actor,
        finalised_at=now,
        rectification=rect,
    )
    new_round.settlement = _rescore_deductions(card, number, data, actor)
    new_round.save(update_fields=["settlement"])
    card.snapshot = data
    card.save(update_fields=["snapshot"])
    audit_log(
        actor=actor,
        action="scorecard.rescore",
        obj=card,
        before={
            "round": previous.number,
            "total_points": previous.snapshot["total_points"],
            "grade": previous.snapshot["grade"],
            "money_payable": previous.snapshot["money_payable"],
            "rectification": rect_before,
        },
        after={
            "round": number,
            "total_points": data["total_points"],
            "grade": data["grade"],
            "money_payable": data["money_payable"],
            "rectification": rect.pk,
            "settlement": new_round.settlement,
        },
        contract=contract,
    )
    notifications.send(
        key=f"scorecard:{card.pk}:round:{number}",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.VENDOR, PartyRole.SUPERVISOR),
        subject=_("%(y)s 服务年度考核已再评分（第%(n)s轮）") % {"y": year, "n": number},
        body=_("整改确认后再评分：%(t)s 分（%(g)s），第%(p)s轮为 %(pt)s 分（%(pg)s）。")
        % {
            "t": data["total_points"],
            "g": data["grade_label"],
            "p": previous.number,
            "pt": previous.snapshot["total_points"],
            "pg": previous.snapshot["grade_label"],
        },
        url=_card_link(card),
    )
    job_schedule(tasks.render_scorecard_pdf.name, card.pk, force=True, contract=card.contract)
    return new_round


# ---------------------------------------------------------------- the termination penalty


def penalty_offer(card: Scorecard) -> dict[str, Any] | None:
    """The penalty of the latest round with the card's decisions (None before finalising)."""
    last = latest_round(card) if card.is_final else None
    if last is None:
        return None
    claimed = card.rounds.filter(penalty_decision=PenaltyDecision.CLAIMED).first()
    return {
        **penalty_terms(card.contract, last.total_points),
        "round": last.number,
        "decision": last.penalty_decision,
        "claimed": claimed,
        "waived_rounds": list(
            card.rounds.filter(penalty_decision=PenaltyDecision.WAIVED).order_by("number")
        ),
    }


@transaction.atomic
def scorecard_penalty_claim(*, actor: User, card: Scorecard) -> ScorecardRound:
    """The bureau claims the 违约金 (10 % of the contract price): a billing deduction, once."""
    card = _lock_card(card)
    RECTIFICATION_ACTIONS.require("penalty_claim", actor, card)
    last = ScorecardRound.objects.select_for_update(of=("self",)).get(pk=_final_round(card).pk)
    contract = card.contract
    penalty = rules.termination_penalty(last.total_points, contract.estimated_amount)
    if penalty.amount is None:  # the action check refused it already
        raise RuntimeError(f"Scorecard {card.pk}: penalty without an amount.")
    sla_ref = f"scorecard:{card.pk}:{PENALTY_REF}"
    if Deduction.objects.filter(contract=contract, sla_ref=sla_ref).exists():
        raise InvalidTransition(_("本考核表的违约金已经主张，不能重复主张。"))
    period = _settlement_period(card, last.snapshot)
    if period is None:
        raise ApplicationError(_("服务年度末不在任何结算期内，无法计入结算。"))
    citation = cite(contract, "scorecard")
    deduction = deduction_create(
        actor=actor,
        contract=contract,
        period_label=period.key,
        amount=penalty.amount,
        reason=_(
            "%(y)s 服务年度考核第%(n)s轮总评 %(t)s 分，低于 %(b)s 分：乙方按合同总价 %(p)s 的"
            "%(r)s%%支付违约金（%(c)s §11）"
        )
        % {
            "y": card.service_year,
            "n": last.number,
            "t": _num(last.total_points),
            "b": _num(rules.TERMINATION_BELOW),
            "p": format_yuan(penalty.contract_price) if penalty.contract_price is not None else "",
            "r": _num(penalty.ratio * 100),
            "c": citation.clause or citation.label,
        },
        source=DeductionSource.SLA,
        sla_ref=sla_ref,
    )
    last.penalty_decision = PenaltyDecision.CLAIMED
    last.penalty_amount = penalty.amount
    last.penalty_by, last.penalty_at = actor, timezone.now()
    last.penalty_deduction = deduction
    last.save(
        update_fields=[
            "penalty_decision",
            "penalty_amount",
            "penalty_by",
            "penalty_at",
            "penalty_deduction",
        ]
    )
    audit_log(
        actor=actor,
        action="scorecard.penalty_claim",
        obj=card,
        after={
            "round": last.number,
            "total_points": last.snapshot["total_points"],
            "contract_price": _num(penalty.contract_price) if penalty.contract_price else None,
            "amount": _num(penalty.amount),
            "deduction": deduction.pk,
            "deduction_status": deduction.status,
        },
        contract=contract,
    )
    notifications.send(
        key=f"scorecard:{card.pk}:penalty:claimed",
        contract=contract,
        recipients=notifications.party_emails(contract, PartyRole.VENDOR, PartyRole.SUPERVISOR),
        subject=_("甲方主张考核违约金 %(a)s（%(y)s 服务年度）")
        % {"a": format_yuan(penalty.amount), "y": card.service_year},
        body=deduction.reason
        + (
            _("\n扣款通知书须经乙方签字确认后生效。")
            if deduction.status == DeductionStatus.PENDING
            else ""
        ),
        url=_card_link(card),
    )
    return last


@transaction.atomic
def scorecard_penalty_waive(*, actor: User, card: Scorecard, reason: str) -> ScorecardRound:
    """The bureau records that it does not claim the penalty of the latest round (with why)."""
    card = _lock_card(card)
    RECTIFICATION_ACTIONS.require("penalty_waive", actor, card)
    reason = require_text(reason, _("请填写放弃主张违约金的原因。"), "reason")
    last = ScorecardRound.objects.select_for_update(of=("self",)).get(pk=_final_round(card).pk)
    penalty = rules.termination_penalty(last.total_points, card.contract.estimated_amount)
    last.penalty_decision = PenaltyDecision.WAIVED
    last.penalty_amount = penalty.amount
    last.penalty_reason = reason
    last.penalty_by, last.penalty_at = actor, timezone.now()
    last.save(
        update_fields=[
            "penalty_decision",
            "penalty_amount",
            "penalty_reason",
            "penalty_by",
            "penalty_at",
        ]
    )
    audit_log(
        actor=actor,
        action="scorecard.penalty_waive",
        obj=card,
        after={
            "round": last.number,
            "total_points": last.snapshot["total_points"],
            "amount": _num(penalty.amount) if penalty.amount is not None else None,
            "reason": reason,
        },
        contract=card.contract,
    )
    notifications.send(
        key=f"scorecard:{card.pk}:penalty:waived:{last.number}",
        contract=card.contract,
        recipients=notifications.party_emails(
            card.contract, PartyRole.VENDOR, PartyRole.SUPERVISOR
        ),
        subject=_("甲方放弃主张考核违约金（%(y)s 服务年度第%(n)s轮）")
        % {"y": card.service_year, "n": last.number},
        body=_("原因：%(r)s") % {"r": reason},
        url=_card_link(card),
    )
    return last
