"""A successor contract takes the inventory over at a cutover instant (issue 12 item 7).

``contract_cutover(actor=…, predecessor=…, successor=…, cutover_on=…)`` — run by the bureau of
both contracts, on or after the cutover day — at 00:00 Asia/Shanghai of ``cutover_on``:

* every resource of the predecessor active at that instant is closed there (``offline_at`` =
  the instant) and carried over to the successor from the same instant: a new ``Resource``
  linked to the old one (``carried_from``), same department, system, quantity and vendor
  reference, its catalog item the successor's item with the **same stable code** as the
  configuration in effect at the instant (refused, listing the codes, when the successor's
  catalog lacks one). No new test period: billing starts at the instant — or later, where the
  old resource was still in its free test period (the period runs on, it does not restart);
* the successor records its predecessor and the cutover day and is put in force (a draft
  successor is activated); the predecessor closes (``govcloud.lifecycle``);
* all or nothing, audited, notified to the parties of both contracts; a second run is refused
  (a contract has one successor).

Why no day is billed twice or lost: the instant is a local midnight, and usage intervals are
half-open — the old resource's last covered day is the day before the cutover, the new one's
first the cutover day — so under either partial-day rule the day weights of old + new equal
those of one uninterrupted resource (``pricing.service_days``; a midnight edge creates no
partial day). A configuration change delivered the day before after 12:00 takes effect at the
cutover midnight: it is the new resource's configuration, exactly as one contract would bill
it. ``tests/billing/test_succession.py`` proves it with a property test.

Refused, nothing changed: a cutover in the future (it is recorded once it has happened), before
the successor's billing start (those days would be billed by nobody), after the predecessor's
continuation deadline, with resources delivered or changed on the predecessor at or after the
instant (a backdated cutover: those belong to the successor — re-deliver them there), or where
a signed statement of either contract covers a month the move changes (signed is final, §4).

Continuation days between the predecessor's service end and a later cutover are billed by
neither contract's statements (BT 2.2 "涉及费用另行协商解决"; see ``govcloud.lifecycle``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from billing.models import (
    CatalogItem,
    Resource,
    ResourceChange,
    ResourceStatus,
    Statement,
    StatementStatus,
)
from billing.pricing import local_midnight
from govcloud import lifecycle
from govcloud.access import party_role_of
from govcloud.audit import audit_log
from govcloud.dates import business_date, business_today
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, ContractStatus, PartyRole, User
from govcloud.outbox import outbox_enqueue

__all__ = [
    "CarryPlan",
    "CutoverPreview",
    "contract_cutover",
    "cutover_preview",
    "resources_active_at",
]

_ONE_DAY = timedelta(days=1)
FOOTER = "\n—— 本邮件由政务云服务管理平台自动发送，请勿直接回复。"


# ----------------------------------------------------------------------------- shared


def resources_active_at(contract: Contract, at: datetime) -> QuerySet[Resource]:
    """The contract's resources online at instant ``at`` (delivered before, released after)."""
    return Resource.objects.filter(
        Q(offline_at__isnull=True) | Q(offline_at__gt=at), contract=contract, online_at__lt=at
    )


def later_records(contract: Contract, at: datetime) -> list[int]:
    """Ids of the contract's resources delivered or changed at or after ``at``."""
    delivered = Resource.objects.filter(contract=contract, online_at__gte=at).values_list(
        "pk", flat=True
    )
    changed = ResourceChange.objects.filter(
        resource__contract=contract, delivered_at__gte=at
    ).values_list("resource_id", flat=True)
    return sorted(set(delivered) | set(changed))


def signed_months_from(contract: Contract, at: datetime) -> list[str]:
    """Signed statements of ``contract`` for the month of ``at`` and later (YYYY-MM)."""
    day = business_date(at)
    rows = Statement.objects.filter(contract=contract, status=StatementStatus.SIGNED).filter(
        Q(year__gt=day.year) | Q(year=day.year, month__gte=day.month)
    )
    return sorted({f"{y:04d}-{m:02d}" for y, m in rows.values_list("year", "month")})


def close_at(resources: Iterable[Resource], at: datetime) -> list[dict[str, Any]]:
    """Close each resource at ``at`` (the caller locked them); the audit rows of the moves."""
    moved = []
    for resource in resources:
        moved.append(
            {
                "resource": resource.pk,
                "offline_at_before": resource.offline_at.isoformat()
                if resource.offline_at
                else None,
                "offline_at": at.isoformat(),
            }
        )
        resource.offline_at = at
        resource.status = ResourceStatus.RELEASED
        resource.save(update_fields=["offline_at", "status"])
    return moved


def notify_parties(
    *,
    key: str,
    contracts: Iterable[Contract],
    subject: str,
    body: str,
    roles: Iterable[str] | None = None,
) -> None:
    contracts = list(contracts)
    portal = settings.PORTAL_BASE_URL.rstrip("/")
    outbox_enqueue(
        key=key,
        recipients=lifecycle.party_recipients(*contracts, roles=roles),
        subject=f"【政务云】{subject}",
        body=f"{body}\n\n平台地址：{portal}\n{FOOTER}",
        contract=contracts[0],
    )


# ------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class CarryPlan:
    """One resource to carry over: the configuration in effect at the instant, and the
    successor's item with the same code (None: missing from the successor's catalog)."""

    resource: Resource
    code: str
    quantity: int
    item: CatalogItem | None
    billing_starts_at: datetime


@dataclass
class CutoverPreview:
    """What ``contract_cutover`` would do, and why it would refuse (``problems``)."""

    predecessor: Contract
    successor: Contract | None
    cutover_on: date
    at: datetime
    plans: list[CarryPlan] = field(default_factory=list)
    missing_codes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def carried(self) -> int:
        return len(self.plans)

    @property
    def in_test_period(self) -> int:
        return sum(1 for p in self.plans if p.billing_starts_at > self.at)


def _config_at(resource: Resource, at: datetime) -> tuple[CatalogItem, int]:
    """The (item, quantity) in effect from ``at``: the last history row delivered before it.

    Every row delivered before ``at`` (a midnight) takes effect at or before it (before 12:00
    the same day, else the next midnight ≤ ``at``), so the last one — the later-listed at equal
    instants, as the engine applies them — is the configuration that bills the cutover day.
    """
    rows = [c for c in resource.changes.all() if c.delivered_at < at]
    if not rows:
        return resource.catalog_item, resource.quantity
    last = max(rows, key=lambda c: (c.delivered_at, c.pk))
    return last.catalog_item, last.quantity


def _problems(predecessor: Contract, successor: Contract, cutover_on: date) -> list[str]:
    problems: list[str] = []
    if successor.pk == predecessor.pk:
        return [_("后续合同不能是原合同本身。")]
    if successor.bureau is None or successor.bureau != predecessor.bureau:
        problems.append(_("后续合同须与原合同为同一甲方。"))
    if successor.predecessor_id is not None:
        problems.append(
            _("合同 %(s)s 已承接过合同 %(p)s 的资源。")
            % {
                "s": successor.code,
                "p": successor.predecessor.code if successor.predecessor else "",
            }
        )
    if successor.terminates_on is not None:
        problems.append(_("后续合同 %(s)s 已提前终止。") % {"s": successor.code})
    today = business_today()
    if cutover_on > today:
        problems.append(
            _("切换日 %(d)s 尚未到：承接在切换日当天或之后办理（按实际切换时刻计费）。")
            % {"d": cutover_on.isoformat()}
        )
    if cutover_on <= predecessor.billing_from:
        problems.append(
            _("切换日须晚于原合同的计费起始日 %(d)s。")
            % {"d": predecessor.billing_from.isoformat()}
        )
    if cutover_on < successor.billing_from:
        problems.append(
            _("切换日早于后续合同 %(s)s 的计费起始日 %(d)s：其间的使用将无合同计费。")
            % {"s": successor.code, "d": successor.billing_from.isoformat()}
        )
    if cutover_on > successor.service_end:
        problems.append(
            _("切换日晚于后续合同 %(s)s 的服务期结束日 %(d)s。")
            % {"s": successor.code, "d": successor.service_end.isoformat()}
        )
    facts = lifecycle.facts_of(predecessor)
    deadline = lifecycle.continuation_deadline(facts)
    latest = deadline.day if deadline is not None else predecessor.service_end
    if cutover_on > latest + _ONE_DAY:
        problems.append(
            _("原合同已于 %(d)s 结束（含期满继续服务），切换日不得晚于 %(n)s。")
            % {"d": latest.isoformat(), "n": (latest + _ONE_DAY).isoformat()}
        )
    return problems


def cutover_preview(
    *, predecessor: Contract, successor: Contract | None, cutover_on: date
) -> CutoverPreview:
    """The resources a cutover would carry over and every reason it would be refused."""
    at = local_midnight(cutover_on)
    preview = CutoverPreview(
        predecessor=predecessor, successor=successor, cutover_on=cutover_on, at=at
    )
    if successor is None:
        preview.problems.append(_("请选择后续合同。"))
        return preview
    preview.problems.extend(_problems(predecessor, successor, cutover_on))
    items = {i.code: i for i in CatalogItem.objects.filter(contract=successor)}
    resources = (
        resources_active_at(predecessor, at)
        .select_related("catalog_item", "department", "system")
        .prefetch_related(
            Prefetch("changes", queryset=ResourceChange.objects.select_related("catalog_item"))
        )
        .order_by("pk")
    )
    missing: set[str] = set()
    for resource in resources:
        item, quantity = _config_at(resource, at)
        target = items.get(item.code)
        if target is None:
            missing.add(item.code)
        preview.plans.append(
            CarryPlan(
                resource=resource,
                code=item.code,
                quantity=quantity,
                item=target,
                billing_starts_at=max(at, resource.billing_starts_at),
            )
        )
    preview.missing_codes = sorted(missing)
    if missing:
        preview.problems.append(
            _("后续合同 %(s)s 的服务目录缺少以下编码，无法承接：%(codes)s。")
            % {"s": successor.code, "codes": "、".join(preview.missing_codes)}
        )
    later = later_records(predecessor, at)
    if later:
        preview.problems.append(
            _(
                "原合同在切换时刻之后仍有资源交付或变更（资源 %(ids)s）：这些应在后续合同下办理，"
                "请先更正后再承接。"
            )
            % {"ids": "、".join(f"#{pk}" for pk in later)}
        )
    # The predecessor's statements change only where the instant falls inside the window they
    # bill: a cutover after its last billed day (the day after the service end, say) leaves
    # every one of them — June's, which bills through the service end, included — as it is.
    predecessor_end = local_midnight(lifecycle.contract_billing_last_day(predecessor) + _ONE_DAY)
    affected = [successor] if at >= predecessor_end else [predecessor, successor]
    for contract in affected:
        signed = signed_months_from(contract, at)
        if signed:
            preview.problems.append(
                _(
                    "合同 %(c)s 已签认的 %(m)s 月度服务资源统计表涵盖切换之后的服务，承接会改变其"
                    "金额；已签认的统计表不能更改，请乙方先出具更正版本。"
                )
                % {"c": contract.code, "m": "、".join(signed)}
            )
    return preview


# ----------------------------------------------------------------------------- the service


@transaction.atomic
def contract_cutover(
    *, actor: User, predecessor: Contract, successor: Contract, cutover_on: date
) -> list[Resource]:
    """Carry ``predecessor``'s inventory over to ``successor`` at 00:00 of ``cutover_on``.

    Returns the successor's new resources. See the module docstring for the rules.
    """
    predecessor = (
        Contract.objects.select_for_update().prefetch_related("parties").get(pk=predecessor.pk)
    )
    successor = (
        Contract.objects.select_for_update().prefetch_related("parties").get(pk=successor.pk)
    )
    lifecycle.LIFECYCLE_ACTIONS.require("cutover", actor, predecessor)
    if party_role_of(actor, successor) != PartyRole.BUREAU:
        raise ApplicationError(_("后续合同须由同一甲方办理。"), extra={"field": "successor"})
    preview = cutover_preview(predecessor=predecessor, successor=successor, cutover_on=cutover_on)
    if not preview.ok:
        raise ApplicationError(
            _("不能办理资源承接：%(p)s") % {"p": "；".join(preview.problems)},
            extra={"problems": preview.problems, "missing_codes": preview.missing_codes},
        )
    at = preview.at
    olds = list(
        Resource.objects.select_for_update().filter(pk__in=[p.resource.pk for p in preview.plans])
    )
    old_by_pk = {r.pk: r for r in olds}
    created: list[Resource] = []
    moves: list[dict[str, Any]] = []
    for plan in preview.plans:
        old = old_by_pk[plan.resource.pk]
        if plan.item is None:  # preview.ok says every code is in the successor's catalog
            raise RuntimeError(f"no successor item for {plan.code}")
        released_at = old.offline_at
        new = Resource(
            contract=successor,
            department_id=old.department_id,
            system_id=old.system_id,
            catalog_item=plan.item,
            quantity=plan.quantity,
            vendor_ref=old.vendor_ref,
            status=ResourceStatus.RELEASED if released_at is not None else ResourceStatus.ACTIVE,
            online_at=at,
            billing_starts_at=plan.billing_starts_at,
            offline_at=released_at,
            imported=old.imported,
            carried_from=old,
        )
        new.full_clean(exclude=["contract", "department", "system", "catalog_item"])
        new.save()
        ResourceChange.objects.create(
            resource=new,
            catalog_item=plan.item,
            quantity=plan.quantity,
            delivered_at=at,
            note=_("自 %(c)s 资源 #%(r)s 承接") % {"c": predecessor.code, "r": old.pk},
        )
        close_at([old], at)
        created.append(new)
        moves.append(
            {
                "from": old.pk,
                "to": new.pk,
                "item": plan.code,
                "quantity": plan.quantity,
                "billing_starts_at": plan.billing_starts_at.isoformat(),
                "offline_at": released_at.isoformat() if released_at else None,
            }
        )
    before = {
        "predecessor": None,
        "cutover_on": None,
        "activated_at": successor.activated_at.isoformat() if successor.activated_at else None,
    }
    successor.predecessor = predecessor
    successor.cutover_on = cutover_on
    update = ["predecessor", "cutover_on", "updated_at"]
    if successor.activated_at is None:
        successor.activated_at = at
        update.append("activated_at")
    successor.save(update_fields=update)
    after = {
        "predecessor": predecessor.code,
        "cutover_on": cutover_on.isoformat(),
        "at": at.isoformat(),
        "carried": len(created),
    }
    audit_log(
        actor=actor,
        action="contract.cutover",
        obj=successor,
        before=before,
        after={**after, "resources": moves},
        contract=successor,
    )
    audit_log(
        actor=actor,
        action="contract.handed_over",
        obj=predecessor,
        before={"status": predecessor.status},
        after={
            "successor": successor.code,
            "cutover_on": cutover_on.isoformat(),
            "carried": len(created),
        },
        contract=predecessor,
    )
    lifecycle.contract_refresh_state(contract=predecessor, actor=actor)
    lifecycle.contract_refresh_state(contract=successor, actor=actor)
    notify_parties(
        key=f"contract-cutover:{successor.pk}",
        contracts=[successor, predecessor],
        subject=_("%(p)s 的资源已由 %(s)s 承接（切换日 %(d)s）")
        % {"p": predecessor.code, "s": successor.code, "d": cutover_on.isoformat()},
        body=_(
            "合同 %(p)s 在用的 %(n)s 项资源自 %(d)s 00:00（北京时间）起转由后续合同 %(s)s 计费；"
            "%(p)s 计费至 %(last)s 24:00，随即结束。承接的资源不再另计测试期。"
        )
        % {
            "p": predecessor.code,
            "s": successor.code,
            "n": len(created),
            "d": cutover_on.isoformat(),
            "last": (cutover_on - _ONE_DAY).isoformat(),
        },
    )
    return created


def successor_choices(predecessor: Contract, contracts: Iterable[Contract]) -> list[Contract]:
    """Contracts that could take ``predecessor`` over: same bureau, not yet a successor, not
    ended (the cutover form's choices)."""
    return [
        c
        for c in contracts
        if c.pk != predecessor.pk
        and c.predecessor_id is None
        and c.terminates_on is None
        and c.bureau == predecessor.bureau
        and c.status not in (ContractStatus.CLOSED, ContractStatus.TERMINATED)
    ]
