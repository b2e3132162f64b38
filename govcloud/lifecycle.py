"""The life-cycle of a contract (DESIGN §4 "Life-cycle"; issue 12 item 7).

States, derived from the contract's dates and terms on a given business day::

    draft ──activate──▶ active ──(90 days before the end)──▶ expiring ──(after the end)──▶
        continuation (BT 2.2: up to N working days) ──(deadline, or a successor's cutover)──▶ closed
    active / expiring ──(termination date passed)──▶ terminated

* **draft** — onboarded, not yet put in force by the bureau (``Contract.activated_at`` empty).
  A contract created without saying otherwise is in force from its creation (the reference
  contracts load as active); ``contract_activate`` is the bureau's step out of draft, and a
  successor still in draft is activated by its cutover.
* **active** — from activation (also before the service start: a billing window may begin
  earlier, JZ-2026 "usage from then is settled under this contract") until 90 days before the
  end of the service period.
* **expiring** — the last 90 days of the service period (the day of the 90-day warning and
  after). Expiry warnings go to every party at 90 and 30 days before the end, once each.
* **continuation** — after the service period, for at most ``continuation_working_days``
  working days on the official calendar (BT 2.2 "继续提供服务最多不超过30个工作日，直至与新的
  服务商完成服务交接"), ended earlier by a successor's cutover. A contract without the term
  (JZ-2026) has no continuation: it closes the day after its end.
* **closed** — after the continuation, or from the day a successor took the inventory over
  (``Contract.cutover_on`` of the successor, 00:00 Asia/Shanghai).
* **terminated** — after the termination date (``terminates_on``: the last day of service),
  recorded with the notice the terms require (BT 15.4.3: 60 days; JZ 十.1: 30 days).

Readings of the texts (also in the report of issue 12):

* The continuation's deadline counts like every working-day clock (民法典 art. 201): the end
  day does not count; the N-th working day after it is the last day of continuation. BT-2025
  ends 2026-06-19 (端午节, a holiday), so its 30 working days run 2026-06-22 … 2026-07-31.
* Continuation days are **not billed by the contract's monthly statements**: the billing
  window stays the service period (DESIGN §4), because BT 2.2 ends "涉及费用另行协商解决" —
  the cost of the continuation and handover is settled separately. ``billing_last_day`` is the
  last day statements bill: the service end, or earlier the termination date or the day before
  a successor's cutover.
* Requests are accepted only while active, expiring or in continuation; a ticket approved in
  time may still be delivered during continuation, never once closed or terminated.

The state rules are pure (``Facts`` in, a state out); ``contract_state(contract, on=…)``
reads the facts from a ``Contract``. ``Contract.status`` stores the state for lists and
filters: it is refreshed by the daily Celery beat task (``govcloud.contract_lifecycle``) and by
every life-cycle action (activation, cutover, termination); the rules never read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud import terms
from govcloud.access import party_role_of, require_staff
from govcloud.audit import audit_log
from govcloud.dates import business_date, business_today
from govcloud.exceptions import ActionForbidden, InvalidTransition
from govcloud.models import (
    Contract,
    ContractExpiryWarning,
    ContractStatus,
    Organization,
    PartyRole,
    Role,
    User,
)
from govcloud.outbox import outbox_enqueue
from govcloud.workdays import CalendarYearMissing, add_working_days
from govcloud.workflow import ActionRules

__all__ = [
    "EXPIRING_WITHIN_DAYS",
    "EXPIRY_WARNING_DAYS",
    "LIFECYCLE_ACTIONS",
    "OPEN_STATES",
    "Deadline",
    "Facts",
    "Lifecycle",
    "billing_last_day",
    "continuation_deadline",
    "contract_activate",
    "contract_available_actions",
    "contract_billing_last_day",
    "contract_expiry_warnings",
    "contract_refresh_state",
    "contract_refresh_states",
    "contract_state",
    "facts_of",
    "is_open_for_requests",
    "last_service_day",
    "lifecycle_of",
    "open_contracts",
    "party_recipients",
    "require_open_for_delivery",
    "require_open_for_requests",
    "state_on",
    "successor_of",
]

#: The expiry warnings, in days before the end of the service period (issue 12 item 7).
EXPIRY_WARNING_DAYS: tuple[int, ...] = (90, 30)
#: A contract is "expiring" from the day of the first warning on.
EXPIRING_WITHIN_DAYS = 90
#: States in which new requests are accepted (and approved tickets delivered).
OPEN_STATES = frozenset(
    {ContractStatus.ACTIVE, ContractStatus.EXPIRING, ContractStatus.CONTINUATION}
)
#: Who the daily refresh acts as in the audit trail.
SYSTEM_ACTOR = "系统（合同生命周期）"

_ONE_DAY = timedelta(days=1)


# ----------------------------------------------------------------------------- pure rules


@dataclass(frozen=True)
class Facts:
    """What the life-cycle of one contract depends on (no ORM)."""

    service_start: date
    service_end: date
    continuation_working_days: int | None
    activated: bool
    terminates_on: date | None = None
    #: The successor's cutover: its first day (00:00 Asia/Shanghai); this contract's last
    #: day is the day before.
    cutover_on: date | None = None


@dataclass(frozen=True)
class Deadline:
    """The last day of the continuation; ``provisional`` when a calendar year it needs is not
    loaded (counted on weekends only, recomputed once the year is loaded)."""

    day: date
    provisional: bool = False


def continuation_deadline(facts: Facts) -> Deadline | None:
    """The last day the service may continue after the end (None: the terms set none)."""
    days = facts.continuation_working_days
    if not days:
        return None
    try:
        return Deadline(add_working_days(facts.service_end, days))
    except CalendarYearMissing:
        return Deadline(add_working_days(facts.service_end, days, provisional=True), True)


def billing_last_day(facts: Facts) -> date:
    """The last day the contract's monthly statements bill (through its 24:00).

    The service end — or earlier, the termination date or the day before a successor's
    cutover. Continuation days are not billed (BT 2.2 "涉及费用另行协商解决").
    """
    candidates = [facts.service_end]
    if facts.terminates_on is not None:
        candidates.append(facts.terminates_on)
    if facts.cutover_on is not None:
        candidates.append(facts.cutover_on - _ONE_DAY)
    return min(candidates)


def last_service_day(facts: Facts, on: date) -> date:
    """The contract's effective end as known on ``on``: the last day it serves.

    The termination date; else the day before a successor's cutover; else, once the service
    period is over, the continuation's deadline (the latest it may run); else the service end.
    """
    if facts.terminates_on is not None:
        if facts.cutover_on is not None:
            return min(facts.terminates_on, facts.cutover_on - _ONE_DAY)
        return facts.terminates_on
    if facts.cutover_on is not None:
        return facts.cutover_on - _ONE_DAY
    if on > facts.service_end:
        deadline = continuation_deadline(facts)
        if deadline is not None:
            return deadline.day
    return facts.service_end


def state_on(facts: Facts, on: date) -> ContractStatus:
    """The contract's state on business day ``on`` (see the module docstring)."""
    if not facts.activated:
        return ContractStatus.DRAFT
    if facts.terminates_on is not None and on > facts.terminates_on:
        return ContractStatus.TERMINATED
    if facts.cutover_on is not None and on >= facts.cutover_on:
        return ContractStatus.CLOSED
    if on > facts.service_end:
        deadline = continuation_deadline(facts)
        if deadline is not None and on <= deadline.day:
            return ContractStatus.CONTINUATION
        return ContractStatus.CLOSED
    end = facts.service_end
    if facts.terminates_on is not None:
        end = min(end, facts.terminates_on)
    if (end - on).days <= EXPIRING_WITHIN_DAYS:
        return ContractStatus.EXPIRING
    return ContractStatus.ACTIVE


# ------------------------------------------------------------------- reading a contract


def successor_of(contract: Contract) -> Contract | None:
    """The contract that took ``contract``'s inventory over, or None."""
    try:
        return contract.successor
    except ObjectDoesNotExist:
        return None


def facts_of(contract: Contract) -> Facts:
    successor = successor_of(contract)
    return Facts(
        service_start=contract.service_start,
        service_end=contract.service_end,
        continuation_working_days=contract.continuation_working_days,
        activated=contract.activated_at is not None,
        terminates_on=contract.terminates_on,
        cutover_on=successor.cutover_on if successor is not None else None,
    )


def contract_state(contract: Contract, *, on: date | None = None) -> ContractStatus:
    """The state of ``contract`` on ``on`` (default: today's business date)."""
    return state_on(facts_of(contract), on or business_today())


def contract_billing_last_day(contract: Contract) -> date:
    """``billing_last_day`` of a contract (the forecast and the statements' end)."""
    return billing_last_day(facts_of(contract))


@dataclass(frozen=True)
class Lifecycle:
    """Everything the contract page, the API and the warnings show about the life-cycle."""

    state: ContractStatus
    on: date
    effective_end: date
    billing_last_day: date
    continuation_deadline: Deadline | None
    handover_plan_due: date | None
    successor: Contract | None
    predecessor: Contract | None
    warnings: list[ContractExpiryWarning] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(ContractStatus(self.state).label)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def days_to_end(self) -> int:
        return (self.effective_end - self.on).days


def lifecycle_of(contract: Contract, *, on: date | None = None) -> Lifecycle:
    on = on or business_today()
    facts = facts_of(contract)
    handover = contract.handover_plan_days_before_end
    return Lifecycle(
        state=state_on(facts, on),
        on=on,
        effective_end=last_service_day(facts, on),
        billing_last_day=billing_last_day(facts),
        continuation_deadline=continuation_deadline(facts),
        handover_plan_due=(
            contract.service_end - timedelta(days=handover) if handover is not None else None
        ),
        successor=successor_of(contract),
        predecessor=contract.predecessor,
        warnings=list(contract.expiry_warnings.all()),
    )


# ----------------------------------------------------------------------------- gating


def _cited(contract: Contract, key: str) -> str:
    clause = terms.clause_of(contract, key)
    return _("（合同第 %(c)s 条）") % {"c": clause} if clause else ""


def closed_reason(contract: Contract, state: str, on: date) -> str:
    """Why ``contract`` is not open on ``on``, citing the term that closed it."""
    facts = facts_of(contract)
    code = contract.code
    if state == ContractStatus.DRAFT:
        return _("合同 %(c)s 尚未生效（待甲方启用）。") % {"c": code}
    if state == ContractStatus.TERMINATED:
        return _("合同 %(c)s 已于 %(d)s 提前终止%(cite)s。") % {
            "c": code,
            "d": facts.terminates_on.isoformat() if facts.terminates_on else "",
            "cite": _cited(contract, "termination_notice_days"),
        }
    successor = successor_of(contract)
    if successor is not None and successor.cutover_on is not None and on >= successor.cutover_on:
        return _("合同 %(c)s 的资源已于 %(d)s 由后续合同 %(s)s 承接，请在 %(s)s 下办理。") % {
            "c": code,
            "d": successor.cutover_on.isoformat(),
            "s": successor.code,
        }
    deadline = continuation_deadline(facts)
    if deadline is None:
        return _("合同 %(c)s 服务期已于 %(d)s 届满，合同未约定期满后继续服务。") % {
            "c": code,
            "d": contract.service_end.isoformat(),
        }
    return _(
        "合同 %(c)s 服务期已于 %(d)s 届满，期满后继续服务（最多 %(n)s 个工作日%(cite)s）"
        "已于 %(last)s 结束。"
    ) % {
        "c": code,
        "d": contract.service_end.isoformat(),
        "n": contract.continuation_working_days,
        "cite": _cited(contract, "continuation_working_days"),
        "last": deadline.day.isoformat(),
    }


def is_open_for_requests(contract: Contract, on: date | None = None) -> bool:
    return contract_state(contract, on=on) in OPEN_STATES


def open_contracts(contracts: Iterable[Contract], on: date | None = None) -> list[Contract]:
    """The contracts that accept requests on ``on`` (the request form's choices)."""
    on = on or business_today()
    return [c for c in contracts if is_open_for_requests(c, on)]


def require_open_for_requests(contract: Contract, at: datetime | None = None) -> None:
    """Refuse a new request, its submission or its approval outside active, expiring and
    continuation (``InvalidTransition``, with the term that closed the contract)."""
    on = business_date(at or timezone.now())
    state = contract_state(contract, on=on)
    if state in OPEN_STATES:
        return
    raise InvalidTransition(
        closed_reason(contract, state, on) + _("不再受理资源申请。"),
        extra={"contract_state": str(state)},
    )


def require_open_for_delivery(contract: Contract, at: datetime | None = None) -> None:
    """A ticket approved in time may be delivered during continuation, never after the contract
    closed or was terminated."""
    on = business_date(at or timezone.now())
    state = contract_state(contract, on=on)
    if state in OPEN_STATES:
        return
    raise InvalidTransition(
        closed_reason(contract, state, on) + _("不能再交付资源。"),
        extra={"contract_state": str(state)},
    )


# ----------------------------------------------------------------------------- services


def party_recipients(*contracts: Contract, roles: Iterable[str] | None = None) -> list[str]:
    """Every active staff user of every party organisation of ``contracts`` (only the parties
    in ``roles`` when given), and the organisations' own notice addresses."""
    wanted = set(roles) if roles is not None else None
    org_ids = {
        p.organization_id
        for c in contracts
        for p in c.parties.all()
        if wanted is None or p.role in wanted
    }
    users = User.objects.filter(organization_id__in=org_ids, is_active=True, role=Role.STAFF)
    emails = set(users.exclude(email="").values_list("email", flat=True))
    emails.update(
        Organization.objects.filter(pk__in=org_ids)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted(emails)


def _require_bureau(user: Any, contract: Contract) -> None:
    require_staff(user)
    if party_role_of(user, contract) != PartyRole.BUREAU:
        raise ActionForbidden(_("只有本合同的甲方可以办理此操作。"))


def _check_activate(user: Any, contract: Contract) -> None:
    _require_bureau(user, contract)
    if contract.activated_at is not None:
        raise InvalidTransition(_("合同已生效，无需再次启用。"))


def _require_ends_once(contract: Contract) -> None:
    """A contract ends once: by termination or by a successor's cutover, never both."""
    if contract.activated_at is None:
        raise InvalidTransition(_("合同尚未生效（待甲方启用）。"))
    if contract.terminates_on is not None:
        raise InvalidTransition(
            _("合同已于 %(d)s 提前终止。") % {"d": contract.terminates_on.isoformat()}
        )
    successor = successor_of(contract)
    if successor is not None:
        raise InvalidTransition(
            _("合同的资源已于 %(d)s 由后续合同 %(s)s 承接（每个合同只能承接一次）。")
            % {
                "d": successor.cutover_on.isoformat() if successor.cutover_on else "",
                "s": successor.code,
            }
        )


def _check_cutover(user: Any, contract: Contract) -> None:
    """The bureau hands the contract's inventory over to a successor (billing's service)."""
    _require_bureau(user, contract)
    _require_ends_once(contract)


def _check_terminate(user: Any, contract: Contract) -> None:
    """The bureau records an early termination (billing's service)."""
    _require_bureau(user, contract)
    _require_ends_once(contract)


#: The one "what may this user do now" of the life-cycle: ``activate`` here, ``cutover`` and
#: ``terminate`` in ``billing.services.succession`` (they close and carry resources), all
#: shown on the contract page from this table.
LIFECYCLE_ACTIONS = ActionRules(
    {"activate": _check_activate, "cutover": _check_cutover, "terminate": _check_terminate}
)


def contract_available_actions(*, user: Any, obj: Contract) -> frozenset[str]:
    """What ``user`` may do on the contract's life-cycle now (``activate``, ``cutover``,
    ``terminate``); reads ``obj.parties``."""
    return LIFECYCLE_ACTIONS.available(user, obj)


@transaction.atomic
def contract_refresh_state(
    *, contract: Contract, on: date | None = None, actor: Any = SYSTEM_ACTOR
) -> ContractStatus:
    """Store the contract's current state on ``Contract.status`` (audited when it changes)."""
    on = on or business_today()
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    state = contract_state(locked, on=on)
    if locked.status != state:
        before = {"status": locked.status}
        locked.status = state
        locked.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="contract.state",
            obj=locked,
            before=before,
            after={"status": str(state), "on": on.isoformat()},
        )
    contract.status = state
    return state


def contract_refresh_states(*, on: date | None = None) -> dict[str, str]:
    """The daily task: every contract's stored state brought in step. Returns the changes."""
    on = on or business_today()
    changed: dict[str, str] = {}
    for contract in Contract.objects.select_related("successor").order_by("pk"):
        before = contract.status
        state = contract_refresh_state(contract=contract, on=on)
        if state != before:
            changed[contract.code] = str(state)
    return changed


@transaction.atomic
def contract_activate(*, actor: User, contract: Contract) -> Contract:
    """The bureau puts an onboarded (draft) contract in force."""
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    LIFECYCLE_ACTIONS.require("activate", actor, locked)
    locked.activated_at = timezone.now()
    locked.save(update_fields=["activated_at", "updated_at"])
    audit_log(
        actor=actor,
        action="contract.activate",
        obj=locked,
        before={"activated_at": None},
        after={"activated_at": locked.activated_at.isoformat()},
    )
    contract_refresh_state(contract=locked, actor=actor)
    return locked


# ------------------------------------------------------------------------ expiry warnings


def _term_sentence(contract: Contract, key: str, text: str) -> str:
    citation = terms.cite(contract, key)
    if citation.clause:
        quoted = f"：“{citation.quote}”" if citation.quote else ""
        return f"{text}（合同第 {citation.clause} 条{quoted}）"
    return text


def expiry_warning_text(contract: Contract, days_before: int, on: date) -> tuple[str, str]:
    """Subject and body of an expiry warning, citing the continuation and handover terms."""
    facts = facts_of(contract)
    end = contract.service_end
    remaining = (end - on).days
    subject = _("【合同到期提醒】%(c)s 将于 %(d)s 服务期满（还有 %(n)s 天）") % {
        "c": contract.code,
        "d": end.isoformat(),
        "n": remaining,
    }
    deadline = continuation_deadline(facts)
    if deadline is not None:
        continuation = _term_sentence(
            contract,
            "continuation_working_days",
            _(
                "服务期满后，乙方继续提供服务最多不超过 %(n)s 个工作日，直至与新的服务商完成"
                "服务交接；按法定工作日计算最迟至 %(d)s%(p)s。继续服务期间仍受理资源申请，"
                "期满继续服务的费用按合同约定另行协商"
            )
            % {
                "n": contract.continuation_working_days,
                "d": deadline.day.isoformat(),
                "p": _("（该年度法定节假日尚未载入，暂按周末计算）")
                if deadline.provisional
                else "",
            },
        )
    else:
        continuation = _("合同未约定期满后继续服务：服务期满即结束，%(d)s 起不再受理资源申请。") % {
            "d": (end + _ONE_DAY).isoformat()
        }
    handover_days = contract.handover_plan_days_before_end
    if handover_days is not None:
        handover = _term_sentence(
            contract,
            "handover_plan_days_before_end",
            _("乙方须于服务期满前 %(n)s 天（%(d)s 前）提交详细的交接计划，报甲方审核")
            % {"n": handover_days, "d": (end - timedelta(days=handover_days)).isoformat()},
        )
    else:
        handover = _("合同未约定交接计划。")
    body = "\n".join(
        [
            f"{contract.code} {contract.name}",
            _("服务期：%(s)s 至 %(e)s；距服务期满还有 %(n)s 天（%(w)s 天提醒）。")
            % {
                "s": contract.service_start.isoformat(),
                "e": end.isoformat(),
                "n": remaining,
                "w": days_before,
            },
            "",
            _("期满后继续服务：") + continuation,
            _("交接计划：") + handover,
            "",
            _(
                "如有后续合同，请甲方在平台录入后续合同，并在切换日办理资源承接：在用资源自切换日"
                "00:00 起转由后续合同计费，不重复、不遗漏。"
            ),
        ]
    )
    return subject, body


@transaction.atomic
def _warn(contract: Contract, due: list[int], on: date) -> ContractExpiryWarning | None:
    """Record every threshold in ``due`` (descending days); e-mail only the nearest."""
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    already = set(locked.expiry_warnings.values_list("days_before", flat=True))
    pending = [d for d in due if d not in already]
    if not pending:
        return None
    now = timezone.now()
    nearest = min(pending)
    sent: ContractExpiryWarning | None = None
    for days in pending:
        record = ContractExpiryWarning(
            contract=locked,
            days_before=days,
            due_on=locked.service_end - timedelta(days=days),
            sent_at=now,
            skipped=days != nearest,
        )
        if days == nearest:
            subject, body = expiry_warning_text(locked, days, on)
            recipients = party_recipients(locked)
            outbox_enqueue(
                key=f"contract-expiry:{locked.pk}:{days}",
                recipients=recipients,
                subject=subject,
                body=body,
                contract=locked,
            )
            record.recipients = len(recipients)
            sent = record
        record.save()
        audit_log(
            actor=SYSTEM_ACTOR,
            action="contract.expiry_warning",
            obj=locked,
            after={
                "days_before": days,
                "due_on": record.due_on.isoformat(),
                "recipients": record.recipients,
                "skipped": record.skipped,
            },
        )
    return sent


def contract_expiry_warnings(*, on: date | None = None) -> list[str]:
    """The daily task: warn every party of each contract 90 and 30 days before its end.

    Each threshold once (``ContractExpiryWarning``); a contract first seen past both gets the
    nearer warning only, the other recorded as skipped. Drafts, and contracts already past their
    end, closed or terminated, get none. Returns "CODE −N" for each warning sent.
    """
    on = on or business_today()
    sent: list[str] = []
    latest = max(EXPIRY_WARNING_DAYS)
    candidates = Contract.objects.filter(
        activated_at__isnull=False,
        terminates_on__isnull=True,
        service_end__gte=on,
        service_end__lte=on + timedelta(days=latest),
    ).prefetch_related("parties", "clauses")
    for contract in candidates.order_by("pk"):
        if contract_state(contract, on=on) not in OPEN_STATES:
            continue
        due = sorted(
            (d for d in EXPIRY_WARNING_DAYS if on >= contract.service_end - timedelta(days=d)),
            reverse=True,
        )
        if not due:
            continue
        record = _warn(contract, due, on)
        if record is not None:
            sent.append(f"{contract.code} −{record.days_before}")
    return sent
