"""The free test period of a new business system (包头 §5.1.2: "原则上测试期为1个月，
测试期间不计费").

A contract term (``contract.test_period_months``; 0 = none, 焦作). The period is a record
(``SystemTestPeriod``), not something inferred:

* it **starts** at the first ticket delivery of a system that has no resource yet (in any
  contract: a successor contract taking a system over gives it no second free month) and lasts
  ``test_period_months`` (``pricing.test_period_end``);
* every resource of the system **delivered by a ticket** while it runs starts billing at its end
  — the first one and a second one delivered inside the same month alike
  (``delivery_billing_start``, called by the ticket delivery); a resource delivered after it
  bills from its delivery. Imported resources (``Resource.imported``) are billed as their file
  says and are never moved (DESIGN §4a);
* the **bureau** may end it early at a cutover instant or extend it to a new end, with a reason
  (``system_test_period_end_early``, ``system_test_period_extend``). The billing start of
  every resource it covers follows (``pricing.billing_start``: the later of its delivery and
  the period's end).
  The statement engine reads ``Resource.billing_starts_at``; the delivery row of the resource's
  ``ResourceChange`` history stays at the delivery (it sets the configuration, which the engine
  applies from the billing start), so nothing else moves. A change that would alter a month
  whose statement is signed is refused, nothing changed: a signed statement is final (§4).

Each change is audited, recorded (``SystemTestPeriodChange``: who, when, why, from which end to
which, the resources that moved) and e-mailed to the vendor and the system's department through
the outbox after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import notifications
from billing.models import (
    Resource,
    Statement,
    StatementStatus,
    SystemTestPeriod,
    SystemTestPeriodChange,
    SystemTestPeriodChangeKind,
)
from billing.pricing import billing_start, local_midnight, test_period_end
from govcloud.access import party_role_of, require_staff
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import BusinessSystem, Contract, PartyRole, User
from govcloud.workflow import ActionRules

__all__ = [
    "TEST_PERIOD_ACTIONS",
    "covered_resources",
    "delivery_billing_start",
    "system_test_period_available_actions",
    "system_test_period_end_early",
    "system_test_period_extend",
]

AUDIT_FIELDS = ("started_at", "ends_at", "contract_ends_at", "change_reason")
_TIME = "%Y-%m-%d %H:%M"


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime(_TIME)


# ------------------------------------------------------------------------- at delivery


@transaction.atomic
def delivery_billing_start(
    *, actor: Any, contract: Contract, system: BusinessSystem, delivered_at: datetime
) -> datetime:
    """When billing starts for a resource of ``system`` a ticket delivers at ``delivered_at``.

    The system's test period of this contract (if any) decides: delivered while it runs →
    its end; otherwise → the delivery. A system with no resource yet, under a contract with a
    test period, starts one now (audited). Call it inside the delivery's transaction, before
    the resource is created.
    """
    if timezone.is_naive(delivered_at):
        raise ApplicationError(_("交付时间必须带时区。"))
    # Serialise deliveries of one system: the first one decides whether it is new.
    BusinessSystem.objects.select_for_update().filter(pk=system.pk).first()
    period = SystemTestPeriod.objects.filter(contract=contract, system=system).first()
    if period is None and contract.test_period_months:
        if not Resource.objects.filter(system=system).exists():
            period = _start(actor=actor, contract=contract, system=system, at=delivered_at)
    if period is None or delivered_at < period.started_at:
        return delivered_at
    return billing_start(delivered_at, test_period_ends_at=period.ends_at)


def _start(
    *, actor: Any, contract: Contract, system: BusinessSystem, at: datetime
) -> SystemTestPeriod:
    ends = test_period_end(at, contract.test_period_months)
    period = SystemTestPeriod(
        contract=contract,
        system=system,
        started_at=at,
        ends_at=ends,
        contract_ends_at=ends,
        created_at=timezone.now(),
    )
    period.full_clean()
    period.save()
    audit_log(
        actor=actor,
        action="test_period.start",
        obj=period,
        after={
            **snapshot(period, AUDIT_FIELDS),
            "system": system.pk,
            "months": contract.test_period_months,
        },
        contract=contract,
    )
    return period


# --------------------------------------------------------------------- who may change it


def _require_bureau(user: Any, period: SystemTestPeriod) -> None:
    require_staff(user)
    if party_role_of(user, period.contract) != PartyRole.BUREAU:
        raise ActionForbidden(_("只有本合同甲方可以调整新系统测试期。"))


def _check_end_early(user: Any, period: SystemTestPeriod) -> None:
    _require_bureau(user, period)
    if period.ends_at <= period.started_at:
        raise InvalidTransition(_("该测试期已在开始时结束，不能再提前。"))


def _check_extend(user: Any, period: SystemTestPeriod) -> None:
    _require_bureau(user, period)


TEST_PERIOD_ACTIONS = ActionRules({"end_early": _check_end_early, "extend": _check_extend})


def system_test_period_available_actions(*, user: Any, obj: SystemTestPeriod) -> frozenset[str]:
    """``end_early`` and/or ``extend``: the services' own checks (reads ``obj.contract``)."""
    return TEST_PERIOD_ACTIONS.available(user, obj)


# ----------------------------------------------------------------------- the resources


def covered_resources(period: SystemTestPeriod) -> QuerySet[Resource]:
    """The system's resources delivered by ticket since the period began: their billing start
    is the later of their delivery and the period's end."""
    return Resource.objects.filter(
        contract_id=period.contract_id,
        system_id=period.system_id,
        imported=False,
        online_at__gte=period.started_at,
    ).order_by("online_at", "pk")


@dataclass(frozen=True)
class _Move:
    resource: Resource
    old: datetime
    new: datetime


def _moves(period: SystemTestPeriod, new_end: datetime) -> list[_Move]:
    moves = []
    for resource in covered_resources(period).select_for_update(of=("self",)):
        new = billing_start(resource.online_at, test_period_ends_at=new_end)
        if new != resource.billing_starts_at:
            moves.append(_Move(resource=resource, old=resource.billing_starts_at, new=new))
    return moves


def _months_touched(moves: list[_Move]) -> set[tuple[int, int]]:
    """The months whose billing a move changes: those its shifted stretch touches."""
    months: set[tuple[int, int]] = set()
    for move in moves:
        low, high = min(move.old, move.new), max(move.old, move.new)
        offline = move.resource.offline_at
        if offline is not None:
            high = min(high, offline)
        if high <= low:
            continue  # released before either start: never billed either way
        first = business_date(low)
        last = business_date(high)
        if high == local_midnight(last):
            last -= timedelta(days=1)
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.add((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _refuse_signed(period: SystemTestPeriod, moves: list[_Move]) -> list[str]:
    months = _months_touched(moves)
    if not months:
        return []
    signed = sorted(
        {
            (year, month)
            for year, month in Statement.objects.filter(
                contract_id=period.contract_id, status=StatementStatus.SIGNED
            ).values_list("year", "month")
            if (year, month) in months
        }
    )
    if signed:
        labels = "、".join(f"{y:04d}-{m:02d}" for y, m in signed)
        raise InvalidTransition(
            _(
                "调整测试期会改变已签认的 %(months)s 月度服务资源统计表，未做修改。"
                "已签认的统计表不能更改；如确需调整，请乙方出具更正版本后再办理。"
            )
            % {"months": labels},
            extra={"signed_months": [f"{y:04d}-{m:02d}" for y, m in signed]},
        )
    return sorted(f"{y:04d}-{m:02d}" for y, m in months)


# -------------------------------------------------------------------------- the changes


def _lock(period: SystemTestPeriod) -> tuple[SystemTestPeriod, dict[str, Any]]:
    locked = (
        SystemTestPeriod.objects.select_for_update(of=("self",))
        .select_related("contract", "system__department")
        .get(pk=period.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写调整原因。"), extra={"field": "reason"})
    if len(reason) > 2000:
        raise ApplicationError(_("调整原因过长（上限 2000 字）。"), extra={"field": "reason"})
    return reason


def _aware(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ApplicationError(_("请填写有效的时间（含时区）。"), extra={"field": field})
    return value


def _change(
    *,
    actor: User,
    period: SystemTestPeriod,
    before: dict[str, Any],
    kind: str,
    new_end: datetime,
    reason: str,
) -> SystemTestPeriod:
    moves = _moves(period, new_end)
    months = _refuse_signed(period, moves)
    now = timezone.now()
    old_end = period.ends_at
    for move in moves:
        Resource.objects.filter(pk=move.resource.pk).update(billing_starts_at=move.new)
    period.ends_at = new_end
    period.changed_at = now
    period.changed_by = actor
    period.change_reason = reason
    period.full_clean()
    period.save(update_fields=["ends_at", "changed_at", "changed_by", "change_reason"])
    change = SystemTestPeriodChange.objects.create(
        period=period,
        kind=kind,
        old_ends_at=old_end,
        new_ends_at=new_end,
        reason=reason,
        actor=actor,
        at=now,
        resources=[move.resource.pk for move in moves],
    )
    audit_log(
        actor=actor,
        action=f"test_period.{kind}",
        obj=period,
        before=before,
        after={
            **snapshot(period, AUDIT_FIELDS),
            "change": change.pk,
            "reason": reason,
            "months": months,
            "resources": {
                str(m.resource.pk): {"from": m.old.isoformat(), "to": m.new.isoformat()}
                for m in moves
            },
        },
        contract=period.contract,
    )
    notifications.notify_test_period_changed(period, change)
    return period


@transaction.atomic
def system_test_period_end_early(
    *, actor: User, period: SystemTestPeriod, cutover: datetime, reason: str
) -> SystemTestPeriod:
    """The bureau ends the test period at ``cutover`` (the system went into production):
    resources it covers bill from the later of their delivery and the cutover.

    ``cutover`` lies in [start, current end). Refused, nothing changed, when a signed month
    would change.
    """
    period, before = _lock(period)
    TEST_PERIOD_ACTIONS.require("end_early", actor, period)
    reason = _clean_reason(reason)
    cutover = _aware(cutover, "cutover")
    if not period.started_at <= cutover < period.ends_at:
        raise ApplicationError(
            _("提前结束的时间须不早于测试期开始（%(start)s）且早于当前结束时间（%(end)s）。")
            % {"start": _local(period.started_at), "end": _local(period.ends_at)},
            extra={"field": "cutover"},
        )
    return _change(
        actor=actor,
        period=period,
        before=before,
        kind=SystemTestPeriodChangeKind.END_EARLY,
        new_end=cutover,
        reason=reason,
    )


@transaction.atomic
def system_test_period_extend(
    *, actor: User, period: SystemTestPeriod, ends_at: datetime, reason: str
) -> SystemTestPeriod:
    """The bureau extends the test period to ``ends_at``: the system's resources delivered by
    ticket before it bill from it.

    ``ends_at`` lies after the current end and not after the contract's service period.
    Refused, nothing changed, when a signed month would change.
    """
    period, before = _lock(period)
    TEST_PERIOD_ACTIONS.require("extend", actor, period)
    reason = _clean_reason(reason)
    ends_at = _aware(ends_at, "ends_at")
    if ends_at <= period.ends_at:
        raise ApplicationError(
            _("延长后的结束时间须晚于当前结束时间（%(end)s）。") % {"end": _local(period.ends_at)},
            extra={"field": "ends_at"},
        )
    limit = local_midnight(period.contract.service_end + timedelta(days=1))
    if ends_at > limit:
        raise ApplicationError(
            _("延长后的结束时间不得晚于合同服务期结束（%(end)s）。")
            % {"end": period.contract.service_end.isoformat()},
            extra={"field": "ends_at"},
        )
    return _change(
        actor=actor,
        period=period,
        before=before,
        kind=SystemTestPeriodChangeKind.EXTEND,
        new_end=ends_at,
        reason=reason,
    )
