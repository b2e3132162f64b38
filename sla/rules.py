"""SLA rules of the Baotou 政务云服务水平协议 (contract BT-2025, 附件2) as pure functions.

These are the rules of the ``sla100`` scorecard term (``Contract.scorecard``): only a contract
whose terms include such an annex is scored. Where a rule's number is a term of the contract
(the utilization threshold and charge, the fix period of a notice), the caller passes the
contract's value in; nothing here knows which contract it scores.

Everything here is plain Python on ``Decimal``: no Django, no ORM, no clock. The services gather
the recorded events (outages, incidents, deliverables, …), filter out what the bureau or the
supervisor attributed to someone other than the vendor, and pass small value objects in; this
module turns them into points, money deductions and a grade, with a Chinese reason and the
caller's opaque event reference on every deduction so the scorecard can link back to the event.

Where DESIGN.md §5/§6 and the contract text differ, the contract wins; each such reading is
noted next to the rule it affects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType
from typing import NamedTuple

from billing.money import format_yuan, quantize_yuan

__all__ = [
    "AREAS",
    "AVAILABILITY_ALLOWANCE_MINUTES",
    "CPU_BANDS",
    "DISK_TARGET_USAGE",
    "DR_OUTAGE_THRESHOLD_MINUTES",
    "GRADE_BANDS",
    "INCIDENT_MONEY",
    "MEM_BANDS",
    "SATISFACTION_GOOD",
    "SATISFACTION_MIN_COVERAGE_PCT",
    "SATISFACTION_POOR",
    "SECURITY_MECHANISM_ITEMS",
    "TERMINATION_BELOW",
    "TERMINATION_PENALTY_RATIO",
    "AreaScore",
    "Band",
    "Deduction",
    "Grade",
    "IncidentInput",
    "MoneyDeduction",
    "OutageInput",
    "Scorecard",
    "TerminationPenalty",
    "availability_allowance",
    "availability_deduction",
    "availability_excess",
    "build_scorecard",
    "deduction_ratio",
    "grade",
    "has_termination_right",
    "rightsize",
    "rightsize_disk",
    "score_availability",
    "score_deliverables",
    "score_delivery",
    "score_disaster_recovery",
    "score_improvement",
    "score_satisfaction",
    "score_security_mechanism",
    "score_security_responsibility",
    "score_training",
    "score_utilization",
    "termination_penalty",
    "utilization_low",
]

ZERO = Decimal("0")
HUNDRED = Decimal("100")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _dec(value: Decimal | int, name: str) -> Decimal:
    """Return ``value`` as a finite Decimal; floats are refused so binary noise never enters."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal (or int), got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def _non_negative(value: Decimal | int, name: str) -> Decimal:
    result = _dec(value, name)
    if result < 0:
        raise ValueError(f"{name} must not be negative, got {result}")
    return result


def _percent(value: Decimal | int, name: str) -> Decimal:
    result = _dec(value, name)
    if not ZERO <= result <= HUNDRED:
        raise ValueError(f"{name} must be a percentage between 0 and 100, got {result}")
    return result


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _yuan(value: Decimal) -> Decimal:
    return quantize_yuan(value)


def _fmt(value: Decimal) -> str:
    """Human form for reasons: 262.8000 → "262.8", 100 → "100" (never "1E+2")."""
    return format(value.normalize(), "f")


def _unique_refs(refs: Iterable[str], name: str) -> tuple[str, ...]:
    """Refs are event identities; the same event twice would be penalised twice, so refuse it."""
    if isinstance(refs, str):
        # A bare string is a sequence of characters: almost certainly a caller mistake.
        raise TypeError(f"{name} must be a sequence of refs, not a single string")
    result = tuple(refs)
    seen: set[str] = set()
    for ref in result:
        if ref in seen:
            raise ValueError(f"{name} contains the ref {ref!r} more than once")
        seen.add(ref)
    return result


# --------------------------------------------------------------------------------------------
# Value objects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points taken off an area, with the reason shown on the scorecard and the event it cites."""

    points: Decimal
    reason: str
    ref: str | None = None

    def __post_init__(self) -> None:
        _non_negative(self.points, "points")


@dataclass(frozen=True, slots=True)
class MoneyDeduction:
    """A penalty in yuan (扣款) that the SLA imposes besides, or instead of, points."""

    amount: Decimal
    reason: str
    ref: str | None = None

    def __post_init__(self) -> None:
        _non_negative(self.amount, "amount")


@dataclass(frozen=True, slots=True)
class AreaScore:
    """One assessment area (考核项) of the scorecard."""

    area: str
    max_points: Decimal
    deductions: tuple[Deduction, ...] = ()
    money: tuple[MoneyDeduction, ...] = ()
    # Remarks that change no number but that the assessors must see (e.g. an invalid survey).
    notes: tuple[str, ...] = ()

    @property
    def deducted_points(self) -> Decimal:
        """Sum of the deductions, before the area's floor at 0."""
        return sum((d.points for d in self.deductions), ZERO)

    @property
    def points(self) -> Decimal:
        # Each area floors at 0 (the contract's "扣完为止" / "扣满…为止"): an area can never
        # eat into another area's points.
        return max(ZERO, self.max_points - self.deducted_points)

    @property
    def money_total(self) -> Decimal:
        return sum((m.amount for m in self.money), ZERO)


@dataclass(frozen=True, slots=True)
class OutageInput:
    """A service interruption, in minutes (fractions allowed), and the caller's event ref."""

    minutes: Decimal
    ref: str | None = None

    def __post_init__(self) -> None:
        _non_negative(self.minutes, "minutes")


@dataclass(frozen=True, slots=True)
class IncidentInput:
    """An information-security incident of level 1 (Ⅰ, worst) … 4 (Ⅳ)."""

    level: int
    fully_reported: bool
    ref: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or not isinstance(self.level, int):
            raise TypeError("level must be an int 1..4")
        if not 1 <= self.level <= 4:
            raise ValueError(f"incident level must be 1..4 (Ⅰ…Ⅳ), got {self.level}")


# --------------------------------------------------------------------------------------------
# Areas (附件2 §1–§10)
# --------------------------------------------------------------------------------------------

AREAS: Mapping[str, tuple[str, Decimal]] = MappingProxyType(
    {
        "availability": ("服务可用性", Decimal("10")),
        "delivery": ("资源交付服务响应时间", Decimal("5")),
        "security_mechanism": ("安全机制", Decimal("10")),
        "security_responsibility": ("安全责任", Decimal("20")),
        "training": ("培训服务", Decimal("5")),
        "disaster_recovery": ("灾难备份", Decimal("5")),
        "utilization": ("资源使用率", Decimal("20")),
        "satisfaction": ("用户满意度", Decimal("5")),
        "improvement": ("服务改进", Decimal("10")),
        "deliverables": ("交付成果", Decimal("10")),
    }
)


def _area(
    code: str,
    *,
    deductions: tuple[Deduction, ...] = (),
    money: tuple[MoneyDeduction, ...] = (),
    notes: tuple[str, ...] = (),
) -> AreaScore:
    return AreaScore(
        area=code, max_points=AREAS[code][1], deductions=deductions, money=money, notes=notes
    )


def _per_ref(points: Decimal, reason: str, refs: Sequence[str]) -> tuple[Deduction, ...]:
    return tuple(Deduction(points=points, reason=reason, ref=ref) for ref in refs)


# --- 1 服务可用性 (10) ------------------------------------------------------------------------

# "全年政务云平台服务中断时间之和不超过365×24×60×0.0005=262.8分钟"
AVAILABILITY_ALLOWANCE_MINUTES = Decimal("262.8")
_AVAILABILITY_RATE = Decimal("0.0005")
_MINUTES_PER_DAY = 1440
# The contract fixes the year: "当年总运行时间（按365天计算）". A service year containing
# 29 February does not enlarge the allowance, so the default is what BT-2025 callers must use.
_CONTRACT_YEAR_DAYS = 365

# "超出允许中断时长：影响业务在30分钟以内扣1分；30-60分钟扣2分；60-120分钟扣3分；
#  120分钟以上扣5分，每超出30分钟加扣1分，累计扣完10分为止。"
# (upper bound inclusive, points) for the first bands; above the last one the stepped rule.
_AVAILABILITY_BANDS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal("0"), Decimal("0")),
    (Decimal("30"), Decimal("1")),
    (Decimal("60"), Decimal("2")),
    (Decimal("120"), Decimal("3")),
    (Decimal("150"), Decimal("5")),
)
_AVAILABILITY_STEP_MINUTES = Decimal("30")
_AVAILABILITY_CAP = AREAS["availability"][1]


def availability_deduction(excess_minutes: Decimal) -> Decimal:
    """Points (0…10) lost for ``excess_minutes`` of outage *beyond* the allowance.

    0 → 0; (0, 30] → 1; (30, 60] → 2; (60, 120] → 3; (120, 150] → 5; then one more point for
    each further *started* 30 minutes beyond 150 (151 → 6, 180 → 6, 180.5 → 7), capped at 10.
    Reading of "120分钟以上扣5分，每超出30分钟加扣1分": the 5 points cover the first 30 minutes
    above 120, each further started 30 minutes adds one (DESIGN §6: "150 → −5, 151 → −6").
    """
    excess = _non_negative(excess_minutes, "excess_minutes")
    for upper, points in _AVAILABILITY_BANDS:
        if excess <= upper:
            return points
    last_upper, last_points = _AVAILABILITY_BANDS[-1]
    steps = _ceil((excess - last_upper) / _AVAILABILITY_STEP_MINUTES)
    return min(_AVAILABILITY_CAP, last_points + steps)


def availability_allowance(*, year_days: int = _CONTRACT_YEAR_DAYS) -> Decimal:
    """Allowed outage minutes: 0.05% of ``year_days`` × 1440 (262.8 for the contract's 365)."""
    days = _positive_int(year_days, "year_days")
    return _AVAILABILITY_RATE * days * _MINUTES_PER_DAY


def availability_excess(
    outage_minutes: Decimal, *, year_days: int = _CONTRACT_YEAR_DAYS
) -> Decimal:
    """Outage minutes beyond the allowance (never negative).

    ``year_days`` is the number of days the *contract* counts the year as, not the calendar
    length of the service year: BT-2025 says "按365天计算", so leave it at 365 even for a
    service year that contains 29 February. Another contract may define it otherwise.
    """
    minutes = _non_negative(outage_minutes, "outage_minutes")
    return max(ZERO, minutes - availability_allowance(year_days=year_days))


def score_availability(
    outages: Sequence[OutageInput], *, year_days: int = _CONTRACT_YEAR_DAYS
) -> AreaScore:
    """服务可用性 (10 points) from the vendor-caused, unplanned outages of the service year.

    The caller leaves out approved maintenance (计划内停机) and outages the bureau and the
    supervisor attributed to others; the minutes given are summed as they stand
    ("服务中断时间之和"). The single deduction is for the year as a whole, so it carries no
    ref; its reason gives the number of outages, the total, the allowance and the excess.
    """
    items = tuple(outages)
    total = sum((o.minutes for o in items), ZERO)
    allowance = availability_allowance(year_days=year_days)
    excess = availability_excess(total, year_days=year_days)
    points = availability_deduction(excess)
    deductions: tuple[Deduction, ...] = ()
    if points:
        deductions = (
            Deduction(
                points=points,
                reason=(
                    f"全年服务中断{len(items)}次共{_fmt(total)}分钟，允许{_fmt(allowance)}分钟"
                    f"（可用性99.95%），超出{_fmt(excess)}分钟，扣{_fmt(points)}分"
                ),
            ),
        )
    return _area("availability", deductions=deductions)


# --- 2 资源交付服务响应时间 (5) ---------------------------------------------------------------


def score_delivery(breached_refs: Sequence[str]) -> AreaScore:
    """资源交付 (5 points): "每超时1次扣1分" per ticket delivered after its deadline."""
    refs = _unique_refs(breached_refs, "breached_refs")
    return _area(
        "delivery", deductions=_per_ref(Decimal("1"), "资源交付超时（超过交付时限），扣1分", refs)
    )


# --- 3 安全机制 (10) ---------------------------------------------------------------------------

SECURITY_MECHANISM_ITEMS: Mapping[str, str] = MappingProxyType(
    {
        "emergency_plan": "应急预案",
        "drill": "应急演练",
        "mlps3": "等保三级测评",
        "crypto": "密码应用安全性评估",
        "cac_review": "云计算服务安全评估",
    }
)
_SECURITY_MECHANISM_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "emergency_plan": "未按甲方要求编制《专项应急响应预案》，扣2分",
        "drill": "未组织开展专项应急演练，扣2分",
        "mlps3": "服务期内未通过信息系统等级保护三级测评，扣2分",
        "crypto": "服务期内未通过商用密码安全性评估，扣2分",
        "cac_review": "未通过中央网信办政务云服务安全评估（增强级）等相关安全审查，扣2分",
    }
)


def score_security_mechanism(missing: Sequence[str]) -> AreaScore:
    """安全机制 (10 points): −2 for each of the five items the vendor failed.

    ``missing`` holds item codes of ``SECURITY_MECHANISM_ITEMS``; each deduction's ref is the
    item code (the item, not an event, is what is missing). Deductions follow the contract order.
    """
    codes = set(_unique_refs(missing, "missing"))
    unknown = codes - set(SECURITY_MECHANISM_ITEMS)
    if unknown:
        raise ValueError(f"unknown security mechanism items: {sorted(unknown)}")
    deductions = tuple(
        Deduction(points=Decimal("2"), reason=_SECURITY_MECHANISM_REASONS[code], ref=code)
        for code in SECURITY_MECHANISM_ITEMS
        if code in codes
    )
    return _area("security_mechanism", deductions=deductions)


# --- 4 安全责任 (20) ---------------------------------------------------------------------------

# "发生Ⅰ级安全事故扣10万元；发生Ⅱ级安全事故扣5万元；发生Ⅲ级安全事故扣1万元。" — Ⅳ is not
# listed, so a level-Ⅳ incident costs nothing by itself.
INCIDENT_MONEY: Mapping[int, Decimal] = MappingProxyType(
    {1: Decimal("100000.00"), 2: Decimal("50000.00"), 3: Decimal("10000.00")}
)
_LEVEL_NAMES = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
_UNREPORTED_POINTS = Decimal("10")


def score_security_responsibility(incidents: Sequence[IncidentInput]) -> AreaScore:
    """安全责任 (20 points) from the vendor-caused security incidents.

    Levels Ⅰ/Ⅱ/Ⅲ are money deductions (10万/5万/1万元), not points; "乙方未向甲方如实全面报告的
    扣10分" applies per incident, so two unreported incidents empty the area.
    """
    deductions: list[Deduction] = []
    money: list[MoneyDeduction] = []
    for incident in incidents:
        name = _LEVEL_NAMES[incident.level]
        amount = INCIDENT_MONEY.get(incident.level)
        if amount is not None:
            money.append(
                MoneyDeduction(
                    amount=amount,
                    reason=f"发生{name}级安全责任事故，扣款{format_yuan(amount)}",
                    ref=incident.ref,
                )
            )
        if not incident.fully_reported:
            deductions.append(
                Deduction(
                    points=_UNREPORTED_POINTS,
                    reason=f"{name}级安全事件未向甲方如实全面报告，扣10分",
                    ref=incident.ref,
                )
            )
    return _area("security_responsibility", deductions=tuple(deductions), money=tuple(money))


# --- 5 培训服务 (5) ----------------------------------------------------------------------------


def score_training(
    has_approved_plan: bool, session_refs: Sequence[str], required_sessions: int = 2
) -> AreaScore:
    """培训服务 (5 points): no approved 《培训计划》 −3; −1 per session short of the minimum.

    The main contract §5.3 also lets the bureau claim 1% of the fee (no plan) and ¥10,000 per
    missed training ("甲方有权…"): those are discretionary, so they are recorded as penalties by
    the supervisor, not applied here.
    """
    refs = _unique_refs(session_refs, "session_refs")
    if isinstance(required_sessions, bool) or not isinstance(required_sessions, int):
        raise TypeError("required_sessions must be an int")
    if required_sessions < 0:
        raise ValueError(f"required_sessions must not be negative, got {required_sessions}")
    deductions: list[Deduction] = []
    if not has_approved_plan:
        deductions.append(
            Deduction(
                points=Decimal("3"),
                reason="未提交《培训计划》或《培训计划》未通过甲方评审，扣3分",
            )
        )
    held = len(refs)
    for missing_number in range(held + 1, required_sessions + 1):
        deductions.append(
            Deduction(
                points=Decimal("1"),
                reason=(
                    f"服务期内培训{held}次，少于{required_sessions}次（缺第{missing_number}次），扣1分"
                ),
            )
        )
    return _area("training", deductions=tuple(deductions))


# --- 6 灾难备份 (5) ----------------------------------------------------------------------------

# "导致应用系统中断时间超过2小时 … 单次事故扣2.5分": strictly more than 120 minutes.
DR_OUTAGE_THRESHOLD_MINUTES = Decimal("120")
_DR_POINTS = Decimal("2.5")


def score_disaster_recovery(failed_restore_outages: Sequence[OutageInput]) -> AreaScore:
    """灾难备份 (5 points): −2.5 per outage over 2 h in which the vendor's backup/restore failed.

    Pass every vendor-caused outage where backup or restore did not work; the 2-hour rule is
    applied here (exactly 120 minutes does not count) so it is tested with the other edges. The
    contract's extra "违约金 万元" has no amount filled in, so no money deduction is made.
    """
    deductions = tuple(
        Deduction(
            points=_DR_POINTS,
            reason=f"备份恢复未起作用，应用系统中断{_fmt(o.minutes)}分钟（超过2小时），扣2.5分",
            ref=o.ref,
        )
        for o in failed_restore_outages
        if o.minutes > DR_OUTAGE_THRESHOLD_MINUTES
    )
    return _area("disaster_recovery", deductions=deductions)


# --- 7 资源使用率 (20) -------------------------------------------------------------------------


def utilization_low(
    avg_cpu_pct: Decimal | None, avg_mem_pct: Decimal | None, threshold_pct: Decimal | int | None
) -> list[str]:
    """Which contract-wide averages are below the contract's threshold ("CPU", "内存").

    ``threshold_pct`` is the contract's term (BT-2025: 30); ``None`` = the contract sets no
    utilization rule, so nothing is ever low. A missing average is never low.
    """
    if threshold_pct is None:
        return []
    threshold = _percent(threshold_pct, "threshold_pct")
    return [
        label
        for label, value in (("CPU", avg_cpu_pct), ("内存", avg_mem_pct))
        if value is not None and _percent(value, label) < threshold
    ]


def score_utilization(
    late_or_wrong_month_refs: Sequence[str],
    *,
    avg_cpu_pct: Decimal | None,
    avg_mem_pct: Decimal | None,
    annual_fee: Decimal,
    threshold_pct: Decimal | int | None,
    charge_pct: Decimal | int | None,
    metrics_ref: str | None = None,
) -> AreaScore:
    """资源使用率 (20 points + money).

    −2 per month whose right-sizing advice was late (after the 5th working day) or wrong; one
    ref per offending month ("当月未按时提交或存在计算错误的扣2分": late *and* wrong in the
    same month is still one −2). If the contract-wide average CPU *or* memory utilization is
    below the contract's ``threshold_pct`` (BT-2025 附件2 7.3: 30), ``charge_pct`` percent of
    the annual fee (BT-2025: 20) is deducted — once, even if both are low, because the contract
    names one sanction for either condition. Either term ``None`` = no such rule: no money. An
    average that is ``None`` (no tri-party-confirmed data) cannot trigger the sanction; a note
    says so.
    """
    refs = _unique_refs(late_or_wrong_month_refs, "late_or_wrong_month_refs")
    fee = _non_negative(annual_fee, "annual_fee")
    cpu = None if avg_cpu_pct is None else _percent(avg_cpu_pct, "avg_cpu_pct")
    mem = None if avg_mem_pct is None else _percent(avg_mem_pct, "avg_mem_pct")
    threshold = None if threshold_pct is None else _percent(threshold_pct, "threshold_pct")
    charge = None if charge_pct is None else _percent(charge_pct, "charge_pct")

    deductions = _per_ref(Decimal("2"), "当月资源调整建议未按时提交或存在计算错误，扣2分", refs)

    money: tuple[MoneyDeduction, ...] = ()
    notes: tuple[str, ...] = ()
    if threshold is None or charge is None:
        notes = ("合同未约定资源使用率扣款规则，本项不扣款",)
        return _area("utilization", deductions=deductions, notes=notes)
    low = [
        f"{label}平均使用率{_fmt(value)}%"
        for label, value in (("CPU", cpu), ("内存", mem))
        if value is not None and value < threshold
    ]
    if low:
        amount = _yuan(fee * charge / HUNDRED)
        money = (
            MoneyDeduction(
                amount=amount,
                reason=(
                    f"{'、'.join(low)}，低于{_fmt(threshold)}%，扣除年度服务费用的"
                    f"{_fmt(charge)}%（{format_yuan(amount)}）"
                ),
                ref=metrics_ref,
            ),
        )
    notes = tuple(
        f"缺少经三方确认的{label}平均使用率数据，{label}使用率不作为扣款依据"
        for label, value in (("CPU", cpu), ("内存", mem))
        if value is None
    )
    return _area("utilization", deductions=deductions, money=money, notes=notes)


# --- 8 用户满意度 (5) --------------------------------------------------------------------------

# "满意度总分≥85 不扣分；满意度总分介于75到85之间（不含）扣3分；满意度总分≤75 扣5分"
SATISFACTION_GOOD = Decimal("85")
SATISFACTION_POOR = Decimal("75")
# "调查对象应不小于平台用户的95%"
SATISFACTION_MIN_COVERAGE_PCT = Decimal("95")


def score_satisfaction(mean_score: Decimal | None, coverage: Decimal | None) -> AreaScore:
    """用户满意度 (5 points) from the survey's mean total score (0–100).

    ``coverage`` is the share of platform users surveyed, in percent. The survey is run by the
    bureau and the auditor (8.1 "甲方、审计方组织开展"), so a missing survey (``mean_score``
    None) or one below the required 95 % coverage does not meet the SLA's conditions and is not
    held against the vendor: no deduction, and a note asks for a valid survey. Unknown coverage
    (``None``) is scored on the mean, with a note.
    """
    mean = None if mean_score is None else _percent(mean_score, "mean_score")
    cover = None if coverage is None else _percent(coverage, "coverage")
    if mean is None:
        return _area("satisfaction", notes=("未开展用户满意度调查，本项暂不扣分",))
    if cover is not None and cover < SATISFACTION_MIN_COVERAGE_PCT:
        return _area(
            "satisfaction",
            notes=(
                f"满意度调查覆盖{_fmt(cover)}%的平台用户，低于协议要求的95%，调查无效，"
                "本项不扣分，应由甲方、审计方重新组织调查",
            ),
        )
    notes: tuple[str, ...] = ()
    if cover is None:
        notes = ("未提供满意度调查覆盖率，无法核实是否达到平台用户的95%",)
    if mean >= SATISFACTION_GOOD:
        points = ZERO
    elif mean > SATISFACTION_POOR:
        points = Decimal("3")
    else:
        points = Decimal("5")
    deductions: tuple[Deduction, ...] = ()
    if points:
        deductions = (
            Deduction(points=points, reason=f"用户满意度总分{_fmt(mean)}，扣{_fmt(points)}分"),
        )
    return _area("satisfaction", deductions=deductions, notes=notes)


# --- 9 服务改进 (10) ---------------------------------------------------------------------------


def score_improvement(unfixed_refs: Sequence[str], *, working_days: int | None) -> AreaScore:
    """服务改进 (10 points): −2 per notified issue not fixed within its fix period.

    ``working_days`` is the contract's fix period (BT-2025 附件2 §9: 10; ``None`` where the
    contract sets none); it only words the reason — whether a notice was fixed in time is
    decided by its own deadline.
    """
    refs = _unique_refs(unfixed_refs, "unfixed_refs")
    period = (
        "整改期限内"
        if working_days is None
        else (f"{_positive_int(working_days, 'working_days')}个工作日内")
    )
    return _area(
        "improvement",
        deductions=_per_ref(Decimal("2"), f"整改通知后{period}未完成整改，扣2分", refs),
    )


# --- 10 交付成果 (10) --------------------------------------------------------------------------


def score_deliverables(late_refs: Sequence[str], rejected_refs: Sequence[str]) -> AreaScore:
    """交付成果 (10 points): "每项每次扣1分" for each late and for each rejected submission.

    A deliverable both late and rejected costs 2 (two separate clauses); a resubmission that is
    rejected again is a new event with its own ref. Per 附件3, a late or wrong monthly statement
    or right-sizing plan counts here as a late or rejected deliverable.
    """
    late = _unique_refs(late_refs, "late_refs")
    rejected = _unique_refs(rejected_refs, "rejected_refs")
    deductions = _per_ref(Decimal("1"), "未按规定期限提交交付成果，扣1分", late) + _per_ref(
        Decimal("1"), "交付成果不符合要求或质量标准，扣1分", rejected
    )
    return _area("deliverables", deductions=deductions)


# --------------------------------------------------------------------------------------------
# Grade and scorecard (附件2 §11)
# --------------------------------------------------------------------------------------------


class Grade(StrEnum):
    """考核结果 per "85分（含）以上为优秀，70分（含）—85分为良好，60（含）—70分为及格，…不及格"."""

    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"  # noqa: S105 (a grade, not a password)
    FAIL = "fail"

    @property
    def label(self) -> str:
        return _GRADE_LABELS[self]

    @property
    def max_deduction_ratio(self) -> Decimal:
        return _GRADE_RATIOS[self]


_GRADE_LABELS = {
    Grade.EXCELLENT: "优秀",
    Grade.GOOD: "良好",
    Grade.PASS: "及格",
    Grade.FAIL: "不及格",
}
# "优秀对应最高付款比例为100%，良好对应最高扣款比例为5%，及格对应最高扣款比例为10%".
# 不及格 has no ratio: the vendor rectifies and is scored again. Until then the 及格 ceiling
# applies, since a failing score must not cost less than a passing one.
_GRADE_RATIOS = {
    Grade.EXCELLENT: Decimal("0.00"),
    Grade.GOOD: Decimal("0.05"),
    Grade.PASS: Decimal("0.10"),
    Grade.FAIL: Decimal("0.10"),
}
# (lower bound inclusive, grade), best first. Scores between 59 and 60 (possible with the
# 2.5-point steps) do not reach "60（含）" and so are 不及格, as DESIGN §6 says (<60).
GRADE_BANDS: tuple[tuple[Decimal, Grade], ...] = (
    (Decimal("85"), Grade.EXCELLENT),
    (Decimal("70"), Grade.GOOD),
    (Decimal("60"), Grade.PASS),
    (Decimal("0"), Grade.FAIL),
)
# "年度总评＜59分，甲方有权终止合同，乙方按合同总价10%支付违约金" — note ＜59, not ＜60.
TERMINATION_BELOW = Decimal("59")
TERMINATION_PENALTY_RATIO = Decimal("0.10")


def _total(total_points: Decimal) -> Decimal:
    total = _dec(total_points, "total_points")
    if not ZERO <= total <= HUNDRED:
        raise ValueError(f"total_points must be between 0 and 100, got {total}")
    return total


def grade(total_points: Decimal) -> Grade:
    """The grade band of a 0–100 total."""
    total = _total(total_points)
    for lower, result in GRADE_BANDS:
        if total >= lower:
            return result
    raise AssertionError("unreachable: the last band starts at 0")  # pragma: no cover


def deduction_ratio(total_points: Decimal) -> Decimal:
    """Share of the service fee that may be withheld for this total (0.00, 0.05 or 0.10).

    The contract gives only a ceiling per band ("最高扣款比例"), no formula inside a band, so
    this returns that ceiling; the bureau may decide on less. It is not interpolated by points.
    """
    return grade(total_points).max_deduction_ratio


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The annual SLA assessment: ten areas, total, grade and what it costs the vendor."""

    areas: tuple[AreaScore, ...]
    total_points: Decimal
    grade: Grade
    deduction_ratio: Decimal
    money_total: Decimal
    money: tuple[MoneyDeduction, ...] = field(default=())
    # The bureau may terminate and claim 10 % of the contract price below 59 (not below 60).
    termination_right: bool = False

    @property
    def requires_rectification(self) -> bool:
        # "不及格需按要求进行整改，整改完成后再进行评分"
        return self.grade is Grade.FAIL


def build_scorecard(areas: Sequence[AreaScore]) -> Scorecard:
    """Assemble the scorecard; every area of ``AREAS`` must be present exactly once.

    Areas are put in ``AREAS`` order. Money deductions are summed as they stand: the cap of
    "所有扣款及处罚金额原则上不超过年度服务费" (附件3 五(二)) is applied at settlement, where the
    fees are known.
    """
    by_code: dict[str, AreaScore] = {}
    for area in areas:
        if area.area not in AREAS:
            raise ValueError(f"unknown SLA area {area.area!r}")
        if area.area in by_code:
            raise ValueError(f"SLA area {area.area!r} given more than once")
        if area.max_points != AREAS[area.area][1]:
            raise ValueError(
                f"SLA area {area.area!r} has max_points {area.max_points}, "
                f"expected {AREAS[area.area][1]}"
            )
        by_code[area.area] = area
    missing = [code for code in AREAS if code not in by_code]
    if missing:
        raise ValueError(f"SLA areas missing from the scorecard: {missing}")

    ordered = tuple(by_code[code] for code in AREAS)
    total = sum((a.points for a in ordered), ZERO)
    money = tuple(m for a in ordered for m in a.money)
    return Scorecard(
        areas=ordered,
        total_points=total,
        grade=grade(total),
        deduction_ratio=deduction_ratio(total),
        money_total=sum((m.amount for m in money), ZERO),
        money=money,
        termination_right=has_termination_right(total),
    )


# --------------------------------------------------------------------------------------------
# Termination penalty (附件2 §11 "年度总评＜59分，甲方有权终止合同，乙方按合同总价10%支付违约金")
# --------------------------------------------------------------------------------------------


def has_termination_right(total_points: Decimal) -> bool:
    """The bureau may terminate and claim the penalty: the year's total is *below* 59.

    The text says "＜59分", strictly: 59 itself (and 59–60, still 不及格) gives no such right,
    while 58.99 does. This is a narrower band than 不及格 (< 60).
    """
    return _total(total_points) < TERMINATION_BELOW


@dataclass(frozen=True, slots=True)
class TerminationPenalty:
    """The 违约金 of 附件2 §11 for one total and contract price.

    ``applies``: the total is below 59. ``amount`` is ``ratio`` × ``contract_price`` rounded
    half-up to the fen, or None when the penalty does not apply or the contract states no price
    (合同总价): then nothing can be offered (``no_price`` says why).
    """

    applies: bool
    ratio: Decimal
    contract_price: Decimal | None
    amount: Decimal | None

    @property
    def no_price(self) -> bool:
        return self.applies and self.amount is None


def termination_penalty(
    total_points: Decimal,
    contract_price: Decimal | int | None,
    *,
    ratio: Decimal = TERMINATION_PENALTY_RATIO,
) -> TerminationPenalty:
    """附件2 §11: 10 % of the contract price (合同总价) when the year's total is below 59.

    Reading: 合同总价 is the contract's stated total price (``Contract.estimated_amount``; BT-2025
    ¥8,700,000.00 → ¥870,000.00), not the annual fee nor the amount billed so far. A missing or
    zero price means the contract states none: the penalty applies but has no amount.
    """
    applies = has_termination_right(total_points)
    price = None if contract_price is None else _non_negative(contract_price, "contract_price")
    if price is not None and price == 0:
        price = None
    rate = _non_negative(ratio, "ratio")
    amount = _yuan(price * rate) if applies and price is not None else None
    return TerminationPenalty(applies=applies, ratio=rate, contract_price=price, amount=amount)


# --------------------------------------------------------------------------------------------
# Right-sizing (附件2 §7.2, DESIGN §5)
# --------------------------------------------------------------------------------------------


class Band(NamedTuple):
    """A utilization band: applies from ``lower`` (inclusive or not) up to the next band."""

    lower: Decimal
    lower_inclusive: bool
    factor: Decimal


# Table 附2-5, highest band first. "增加原来两倍" = grow *by* two times = ×3, consistent with
# "增加原来一倍" = ×2 in the next band; "（含）" marks inclusive lower bounds, and the bands
# written "15%～30%" / "20%～40%" exclude their lower bound because "≤15%" / "≤20%" own it.
CPU_BANDS: tuple[Band, ...] = (
    Band(Decimal("70"), True, Decimal("3")),
    Band(Decimal("50"), True, Decimal("2")),
    Band(Decimal("30"), True, Decimal("1")),
    Band(Decimal("15"), False, Decimal("0.5")),
    Band(Decimal("0"), True, Decimal("0.25")),
)
MEM_BANDS: tuple[Band, ...] = (
    Band(Decimal("70"), True, Decimal("2")),
    Band(Decimal("40"), True, Decimal("1")),
    Band(Decimal("20"), False, Decimal("0.5")),
    Band(Decimal("0"), True, Decimal("0.25")),
)


def _checked_bands(bands: Sequence[Band | tuple[Decimal, bool, Decimal]]) -> tuple[Band, ...]:
    """Contract data may override the table, so check its shape instead of trusting it."""
    checked = tuple(Band(*raw) for raw in bands)
    for higher, lower in pairwise(checked):
        if lower.lower >= higher.lower:
            raise ValueError("bands must be ordered by strictly decreasing lower bound")
    for band in checked:
        _dec(band.lower, "lower")
        if _dec(band.factor, "factor") <= 0:
            raise ValueError("band factors must be positive")
    return checked


def _band_factor(pct: Decimal, bands: Sequence[Band | tuple[Decimal, bool, Decimal]]) -> Decimal:
    for band in _checked_bands(bands):
        if pct > band.lower or (band.lower_inclusive and pct == band.lower):
            return band.factor
    raise ValueError(f"no band covers {pct}%")


def rightsize(
    cpu_pct: Decimal,
    mem_pct: Decimal,
    vcpus: int,
    mem_gb: int,
    *,
    cpu_bands: Sequence[Band | tuple[Decimal, bool, Decimal]] = CPU_BANDS,
    mem_bands: Sequence[Band | tuple[Decimal, bool, Decimal]] = MEM_BANDS,
) -> tuple[int, int]:
    """Advised (vCPUs, memory GB) for a VM's monthly average utilization, before catalog bounds.

    Sizes are rounded up to whole units and never go below 1 (3 vCPUs at ×½ → 2).
    """
    cpu = _percent(cpu_pct, "cpu_pct")
    mem = _percent(mem_pct, "mem_pct")
    cores = _positive_int(vcpus, "vcpus")
    memory = _positive_int(mem_gb, "mem_gb")
    new_cores = _ceil(cores * _band_factor(cpu, cpu_bands))
    new_memory = _ceil(memory * _band_factor(mem, mem_bands))
    return max(1, new_cores), max(1, new_memory)


# "磁盘空间平均使用率：以保持磁盘空间使用率＞85%为基准进行配置"
DISK_TARGET_USAGE = Decimal("0.85")


def rightsize_disk(used_gb: Decimal, size_gb: int) -> int:
    """Advised disk size in whole GB so that usage stays *above* 85 %.

    The contract asks for usage "＞85%", which ``ceil(used / 0.85)`` (DESIGN §5) does not give:
    that size makes usage ≤ 85 % (85 GB used → 100 GB = exactly 85 %). So the advice is the
    largest whole size with used / size > 0.85, i.e. the most headroom the rule allows. The disk
    must still hold the data: when no whole size between ``used`` and ``used / 0.85`` exists
    (small disks, e.g. 2.5 GB used), the smallest size that holds it, and never below 1 GB.
    """
    used = _non_negative(used_gb, "used_gb")
    size = _positive_int(size_gb, "size_gb")
    if used > size:
        raise ValueError(f"used_gb {used} exceeds the disk size {size} GB")
    largest_above_target = _ceil(used / DISK_TARGET_USAGE) - 1
    return max(1, _ceil(used), largest_above_target)
