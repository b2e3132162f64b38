"""Inventory corrections (资源清单更正, issue 12 item 6): fix a resource's times or one row of its
configuration history, confirmed by the parties, then reissue the statements it changes.

The statement engine bills from the inventory: ``Resource.billing_starts_at`` to ``offline_at``,
in the configurations of its ``ResourceChange`` history (the first row is the delivery). A
disputed statement used to be recomputed from the same inventory; a correction is the way to
fix the inventory itself:

* **Who proposes.** The staff of the contract's bureau or vendor (the parties who keep the
  inventory: the vendor records deliveries, the bureau approves them). Supervisors and auditors
  confirm; departments are not parties and never see corrections.
* **What.** Any of the resource's ``online_at``, ``billing_starts_at``, ``offline_at``; and one
  configuration row (``ResourceChange``: its effective time, catalog item, quantity) — an
  existing row, or a change that was never recorded (``add_change``: "quantity 4 → 2 from a
  date"). The resource's own ``quantity`` / ``catalog_item`` are its *current* configuration:
  they follow the latest history row, so correcting them is correcting that row (the default
  row when none is chosen). Two derived rules keep the record consistent, both shown on the
  page: when the online time moves and the billing start was the online time (no test period)
  and is not corrected itself, the billing start moves with it; the delivery row (the first
  history row) that was recorded at the online time moves with it too.
* **Why and evidence.** A reason and at least one evidence file are required: 包头 7.1.1 "若因
  系统故障导致工单时间记录异常，则以双方认可的日志数据为准" — the corrected times are the log
  data the parties accept.
* **Confirmed jointly.** The parties are ``govcloud.joint.required_roles(contract,
  INVENTORY_CORRECTION)``: the contract's term where it names them, else the statement's
  sign-off parties (包头 5.1.5 "经甲方、乙方以及监理三方共同书面确认，方可作为付款依据": bureau,
  vendor, supervisor; 焦作: bureau and vendor). The reading: a correction changes what the
  statement — the basis of payment — says, so it needs the same parties as the statement. The
  proposer's own confirmation is the first entry. Nothing moves until the last party confirms;
  an objection stops it (the proposer withdraws it and may propose a corrected one).
* **Applied atomically** on the last confirmation (``on_correction_confirmed``, inside the
  joint confirmation's transaction): the resource and the record must still be as they were
  when proposed (else refused: "资源清单在提出更正后已发生变化"), the corrected record must
  keep the inventory's rules (billing start ≥ online, offline > online, quantity > 0, changes
  inside the resource's life), or the confirmation is refused and nothing is saved. Audited
  with before and after.
* **Statements.** The months whose billing the correction changes (``affected_months``: where
  the resource's billed configuration over time differs, in the contract's billing window) get
  a new version where one exists (``statements.statement_reissue_for_correction``): a draft is
  recomputed, a disputed version answered with a new version, a signed one superseded by a
  correction version (the signed version itself stays exactly as it was). A version awaiting
  sign-off or the auditor is not touched — only a party may dispute it — and the parties are
  told that it does not contain the correction; the next version cites it. Every version cites
  the applied corrections of its month that no earlier version cited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from billing import notifications, pricing
from billing.models import (
    CatalogItem,
    InventoryCorrection,
    InventoryCorrectionEvidence,
    InventoryCorrectionStatus,
    Resource,
    ResourceChange,
    ResourceStatus,
    Statement,
)
from billing.services import statements
from govcloud.access import party_role_of, require_staff
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_for, joint_open, required_roles
from govcloud.models import (
    Contract,
    JointConfirmation,
    JointConfirmationEntry,
    JointSubject,
    PartyRole,
    User,
)
from govcloud.workflow import ActionRules, check_transition

__all__ = [
    "CORRECTION_ACTIONS",
    "CorrectionInput",
    "affected_months",
    "correction_diff",
    "inventory_correction_available_actions",
    "inventory_correction_may_propose",
    "inventory_correction_propose",
    "inventory_correction_withdraw",
    "on_correction_confirmed",
    "on_correction_objected",
]

SUBJECT = JointSubject.INVENTORY_CORRECTION
PROPOSER_ROLES = frozenset({PartyRole.BUREAU, PartyRole.VENDOR})
AUDIT_FIELDS = ("status", "months", "applied_at", "withdrawn_at", "objected_at")
RESOURCE_AUDIT = (
    "online_at",
    "billing_starts_at",
    "offline_at",
    "quantity",
    "catalog_item",
    "status",
)
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
ALLOWED_EVIDENCE_SUFFIXES = (
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".csv",
    ".png",
    ".jpg",
    ".jpeg",
    ".txt",
    ".log",
    ".zip",
)
_LABELS = dict(InventoryCorrectionStatus.choices)
_ONE_TICK = timedelta(microseconds=1)

#: Field labels for the old → new table (the page, the e-mail, the PDF).
FIELD_LABELS = {
    "online_at": _("上线时间"),
    "billing_starts_at": _("计费开始"),
    "offline_at": _("下线时间"),
    "delivered_at": _("配置生效时间"),
    "quantity": _("数量"),
    "catalog_item": _("目录项"),
}


# ---------------------------------------------------------------------- the record as data


@dataclass(frozen=True)
class _Row:
    """One configuration row: ``id`` None for a row the correction adds."""

    id: int | None
    delivered_at: datetime
    item_id: int
    quantity: int


@dataclass(frozen=True)
class _State:
    online_at: datetime
    billing_starts_at: datetime
    offline_at: datetime | None
    rows: tuple[_Row, ...]

    def config_rows(self) -> list[_Row]:
        """The rows in the engine's order (effective time, then id; an added row last)."""
        return sorted(
            self.rows,
            key=lambda r: (r.delivered_at, r.id is None, r.id or 0),
        )


@dataclass(frozen=True)
class CorrectionInput:
    """What the proposer asks to change; ``None`` = keep as it is.

    ``change_id`` names the history row to correct; ``add_change`` records a missing change
    instead (its time and quantity required). Configuration values without either correct the
    latest row (the resource's current configuration).
    """

    online_at: datetime | None = None
    billing_starts_at: datetime | None = None
    offline_at: datetime | None = None
    change_id: int | None = None
    add_change: bool = False
    change_delivered_at: datetime | None = None
    change_quantity: int | None = None
    change_catalog_item_id: int | None = None


def _iso(value: datetime | None) -> str | None:
    """One spelling of an instant (UTC), so that stored snapshots compare as equal."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise RuntimeError(f"stored correction value {value!r} is not a time")
    return parsed


def _required_time(value: Any) -> datetime:
    moment = _time(value)
    if moment is None:
        raise RuntimeError("a stored correction row has no time")
    return moment


def _state_of(resource: Resource) -> _State:
    rows = tuple(
        _Row(c.pk, c.delivered_at, c.catalog_item_id, c.quantity)
        for c in ResourceChange.objects.filter(resource=resource).order_by("delivered_at", "id")
    )
    if not rows:  # a resource always has its delivery row; an old one may not
        rows = (_Row(None, resource.online_at, resource.catalog_item_id, resource.quantity),)
    return _State(resource.online_at, resource.billing_starts_at, resource.offline_at, rows)


def _history(state: _State) -> list[list[Any]]:
    return [[r.id, _iso(r.delivered_at), r.item_id, r.quantity] for r in state.rows]


def _resource_values(resource: Resource) -> dict[str, Any]:
    return {
        "online_at": _iso(resource.online_at),
        "billing_starts_at": _iso(resource.billing_starts_at),
        "offline_at": _iso(resource.offline_at),
        "quantity": resource.quantity,
        "catalog_item": resource.catalog_item_id,
        "status": resource.status,
    }


# ------------------------------------------------------------------------- pure rules


Timeline = tuple[datetime, datetime | None, Sequence[tuple[datetime, Any]]]


def _segments(timeline: Timeline) -> list[tuple[Any, datetime, datetime | None]]:
    start, release, rows = timeline
    if not rows:
        return []
    return pricing.config_segments(
        billing_start=start, release=release, initial=rows[0][1], changes=list(rows[1:])
    )


def _config_at(segments: list[tuple[Any, datetime, datetime | None]], moment: datetime) -> Any:
    for config, start, end in segments:
        if start <= moment and (end is None or moment < end):
            return config
    return None


def affected_months(
    old: Timeline, new: Timeline, *, window_start: datetime, window_end: datetime
) -> list[str]:
    """The months ("YYYY-MM") whose billing differs between two records of a resource.

    A record is ``(billing start, release or None, [(effective time, configuration), …])``, the
    first row the delivery. Both are turned into billed configuration segments by the engine's
    own rule (``pricing.config_segments``: a change counts from its day before 12:00, else from
    the next); wherever, inside the contract's billing window, the configuration billed at an
    instant differs (or one is billed and the other not), that instant's month is affected. Days
    never straddle months, so a month outside these stretches is billed exactly as before.
    """
    before, after = _segments(old), _segments(new)
    points = {window_start, window_end}
    for _config, start, end in (*before, *after):
        for moment in (start, end):
            if moment is not None and window_start < moment < window_end:
                points.add(moment)
    ordered = sorted(points)
    months: set[tuple[int, int]] = set()
    for low, high in pairwise(ordered):
        if _config_at(before, low) == _config_at(after, low):
            continue
        first, last = business_date(low), business_date(high - _ONE_TICK)
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.add((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [f"{y:04d}-{m:02d}" for y, m in sorted(months)]


def _timeline(state: _State) -> Timeline:
    rows = state.config_rows()
    return (
        state.billing_starts_at,
        state.offline_at,
        [(r.delivered_at, (r.item_id, r.quantity)) for r in rows],
    )


# -------------------------------------------------------------------- who may do what


def _require_proposer(user: Any, contract: Contract) -> str:
    require_staff(user)
    role = party_role_of(user, contract)
    if role not in PROPOSER_ROLES:
        raise ActionForbidden(_("只有本合同甲方或乙方人员可以提出资源清单更正。"))
    return str(role)


def _check_propose(user: Any, resource: Resource) -> None:
    _require_proposer(user, resource.contract)


def _check_withdraw(user: Any, correction: InventoryCorrection) -> None:
    require_staff(user)
    if party_role_of(user, correction.contract) != correction.proposer_role:
        raise ActionForbidden(_("只有提出更正的一方可以撤回。"))
    if correction.status not in (
        InventoryCorrectionStatus.PROPOSED,
        InventoryCorrectionStatus.OBJECTED,
    ):
        raise InvalidTransition(
            _("该更正%(s)s，不能撤回。") % {"s": correction.get_status_display()},
            extra={"status": correction.status},
        )


CORRECTION_ACTIONS = ActionRules({"withdraw": _check_withdraw})
PROPOSE_ACTIONS = ActionRules({"propose": _check_propose})


def inventory_correction_available_actions(
    *, user: Any, obj: InventoryCorrection
) -> frozenset[str]:
    """``withdraw`` (the proposer's party, while proposed or objected). Confirming and
    objecting are the joint confirmation's (``govcloud.joint.joint_available_actions``)."""
    return CORRECTION_ACTIONS.available(user, obj)


def inventory_correction_may_propose(*, user: Any, resource: Resource) -> bool:
    """Whether ``user`` may propose a correction of ``resource`` (reads its contract's parties)."""
    return PROPOSE_ACTIONS.allows("propose", user, resource)


# ------------------------------------------------------------------------ the proposal


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写更正原因。"), extra={"field": "reason"})
    if len(reason) > 4000:
        raise ApplicationError(_("更正原因过长（上限 4000 字）。"), extra={"field": "reason"})
    return reason


def _check_evidence(files: Sequence[UploadedFile]) -> list[UploadedFile]:
    files = [f for f in files or [] if f]
    if not files:
        raise ApplicationError(
            _("请上传至少一份证明材料（如平台日志、交付记录截图）。"), extra={"field": "evidence"}
        )
    for upload in files:
        name = upload.name or "file"
        if upload.size is None:  # Django's upload handlers always set it
            raise RuntimeError(f"证明材料 {name} 没有大小。")
        if upload.size > MAX_EVIDENCE_BYTES:
            raise ApplicationError(
                _("证明材料 %(n)s 超过 20 MB。") % {"n": name}, extra={"field": "evidence"}
            )
        if not name.lower().endswith(ALLOWED_EVIDENCE_SUFFIXES):
            raise ApplicationError(
                _("证明材料 %(n)s 的类型不允许上传。") % {"n": name}, extra={"field": "evidence"}
            )
    return files


def _aware(value: datetime | None, field_name: str) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
        raise ApplicationError(_("请填写有效的时间（含时区）。"), extra={"field": field_name})
    return value


def _normalise(state: _State, resource: Resource, data: CorrectionInput) -> dict[str, Any]:
    """``new_values``: only what differs from the record now (times as ISO strings)."""
    contract = resource.contract
    res: dict[str, Any] = {}
    online = _aware(data.online_at, "online_at")
    billing = _aware(data.billing_starts_at, "billing_starts_at")
    offline = _aware(data.offline_at, "offline_at")
    if online is not None and online != state.online_at:
        res["online_at"] = _iso(online)
        if billing is None and state.billing_starts_at == state.online_at:
            billing = online  # no test period: billing starts at the (corrected) online time
    if billing is not None and billing != state.billing_starts_at:
        res["billing_starts_at"] = _iso(billing)
    if offline is not None and offline != state.offline_at:
        res["offline_at"] = _iso(offline)

    delivered = _aware(data.change_delivered_at, "change_delivered_at")
    quantity = data.change_quantity
    item_id = data.change_catalog_item_id
    if quantity is not None and quantity <= 0:
        raise ApplicationError(_("数量必须为正整数。"), extra={"field": "change_quantity"})
    if (
        item_id is not None
        and not CatalogItem.objects.filter(pk=item_id, contract_id=contract.pk).exists()
    ):
        raise ApplicationError(
            _("目录项须为本合同服务目录中的项目。"), extra={"field": "change_catalog_item"}
        )
    change: dict[str, Any] = {}
    if data.add_change:
        if delivered is None or quantity is None:
            raise ApplicationError(
                _("补录配置变更须填写生效时间和数量。"), extra={"field": "change_delivered_at"}
            )
        if item_id is None:  # the item in effect then
            earlier = [r for r in state.config_rows() if r.delivered_at <= delivered]
            item_id = (earlier or state.config_rows())[-1].item_id
        change = {
            "id": None,
            "add": True,
            "delivered_at": _iso(delivered),
            "quantity": quantity,
            "catalog_item": item_id,
        }
    elif data.change_id is not None or any(v is not None for v in (delivered, quantity, item_id)):
        rows = state.config_rows()
        chosen = rows[-1] if data.change_id is None else None
        if data.change_id is not None:
            chosen = next((r for r in rows if r.id == data.change_id), None)
        if chosen is None:
            raise ApplicationError(_("所选配置记录不属于该资源。"), extra={"field": "change"})
        row = chosen
        if row.id is None:
            raise ApplicationError(_("该资源没有可更正的配置记录。"), extra={"field": "change"})
        if delivered is not None and delivered != row.delivered_at:
            if row is rows[0]:
                raise ApplicationError(
                    _("交付记录的生效时间即上线时间，请更正上线时间。"),
                    extra={"field": "change_delivered_at"},
                )
            change["delivered_at"] = _iso(delivered)
        if quantity is not None and quantity != row.quantity:
            change["quantity"] = quantity
        if item_id is not None and item_id != row.item_id:
            change["catalog_item"] = item_id
        if change:
            change = {"id": row.id, "add": False, **change}
    values: dict[str, Any] = {}
    if res:
        values["resource"] = res
    if change:
        values["change"] = change
    return values


def _proposed_state(state: _State, values: dict[str, Any]) -> _State:
    """The record after the correction ``values`` (derived rules included)."""
    res = values.get("resource", {})
    online = _time(res.get("online_at")) or state.online_at
    billing = _time(res.get("billing_starts_at")) or state.billing_starts_at
    offline = _time(res["offline_at"]) if "offline_at" in res else state.offline_at
    rows = list(state.config_rows())
    if online != state.online_at and rows and rows[0].delivered_at == state.online_at:
        rows[0] = replace(rows[0], delivered_at=online)  # the delivery row follows the delivery
    change = values.get("change")
    if change:
        if change.get("add"):
            rows.append(
                _Row(
                    None,
                    _required_time(change["delivered_at"]),
                    int(change["catalog_item"]),
                    int(change["quantity"]),
                )
            )
        else:
            index = next((i for i, r in enumerate(rows) if r.id == change["id"]), None)
            if index is None:
                raise ApplicationError(
                    _("所更正的配置记录已不存在，请撤回后重新提出。"), extra={"field": "change"}
                )
            row = rows[index]
            rows[index] = _Row(
                row.id,
                _time(change.get("delivered_at")) or row.delivered_at,
                int(change.get("catalog_item", row.item_id)),
                int(change.get("quantity", row.quantity)),
            )
    return _State(online, billing, offline, tuple(rows))


def _validate(old: _State, new: _State, now: datetime) -> None:
    """The inventory's own rules, with the field to blame (nothing is saved on refusal)."""
    if new.online_at > now:
        raise ApplicationError(_("上线时间不能晚于当前时间。"), extra={"field": "online_at"})
    if new.billing_starts_at < new.online_at:
        raise ApplicationError(
            _("计费开始不得早于上线时间。"), extra={"field": "billing_starts_at"}
        )
    if new.offline_at is not None:
        if new.offline_at <= new.online_at:
            raise ApplicationError(_("下线时间必须晚于上线时间。"), extra={"field": "offline_at"})
        if new.offline_at > now:
            raise ApplicationError(_("下线时间不能晚于当前时间。"), extra={"field": "offline_at"})
    rows = new.config_rows()
    for row in rows:
        if row.quantity <= 0:
            raise ApplicationError(_("数量必须为正整数。"), extra={"field": "change_quantity"})
    delivery = rows[0] if rows else None
    for row in rows[1:]:
        if row.delivered_at < new.online_at:
            raise ApplicationError(
                _("配置变更时间（%(t)s）不得早于上线时间。") % {"t": _local(row.delivered_at)},
                extra={"field": "change_delivered_at" if row.id is None else "online_at"},
            )
        if new.offline_at is not None and row.delivered_at >= new.offline_at:
            raise ApplicationError(
                _("配置变更时间（%(t)s）须早于下线时间。") % {"t": _local(row.delivered_at)},
                extra={"field": "change_delivered_at"},
            )
    if delivery is not None and old.rows and delivery.id != old.config_rows()[0].id:
        raise ApplicationError(
            _("配置变更时间不能早于交付记录（上线时间）。"), extra={"field": "change_delivered_at"}
        )


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _months(contract: Contract, old: _State, new: _State) -> list[str]:
    start, end = pricing.billing_window(
        billing_from=contract.billing_from, service_end=contract.service_end
    )
    return affected_months(_timeline(old), _timeline(new), window_start=start, window_end=end)


def _old_values(resource: Resource, state: _State, values: dict[str, Any]) -> dict[str, Any]:
    old: dict[str, Any] = {"resource": _resource_values(resource), "history": _history(state)}
    change = values.get("change")
    if change and not change.get("add"):
        row = next(r for r in state.rows if r.id == change["id"])
        old["change"] = {
            "id": row.id,
            "delivered_at": _iso(row.delivered_at),
            "quantity": row.quantity,
            "catalog_item": row.item_id,
        }
    return old


def _lock_resource(resource: Resource) -> Resource:
    return (
        Resource.objects.select_for_update(of=("self",))
        .select_related("contract", "catalog_item")
        .get(pk=resource.pk)
    )


@transaction.atomic
def inventory_correction_propose(
    *,
    actor: User,
    resource: Resource,
    reason: str,
    evidence: Sequence[UploadedFile],
    data: CorrectionInput,
) -> InventoryCorrection:
    """The bureau or the vendor proposes a correction of ``resource``, with the reason and at
    least one evidence file; the joint confirmation opens with the proposer's confirmation as
    its first entry (where the proposer's role is one of those named). Refused, nothing saved,
    when the correction changes nothing or would break the inventory's rules.
    """
    resource = _lock_resource(resource)
    contract = resource.contract
    role = _require_proposer(actor, contract)
    reason = _clean_reason(reason)
    files = _check_evidence(evidence)
    pending = InventoryCorrection.objects.filter(
        resource=resource, status=InventoryCorrectionStatus.PROPOSED
    ).first()
    if pending is not None:
        raise InvalidTransition(
            _("该资源已有待会签的更正（%(n)s），请待其办结或撤回后再提出。") % {"n": pending.number}
        )
    state = _state_of(resource)
    values = _normalise(state, resource, data)
    if not values:
        raise ApplicationError(_("更正内容与现有记录相同，无需更正。"))
    new_state = _proposed_state(state, values)
    now = timezone.now()
    _validate(state, new_state, now)
    correction = InventoryCorrection(
        contract=contract,
        resource=resource,
        change_id=(values.get("change") or {}).get("id"),
        adds_change=bool((values.get("change") or {}).get("add")),
        old_values=_old_values(resource, state, values),
        new_values=values,
        reason=reason,
        months=_months(contract, state, new_state),
        proposed_by=actor,
        proposer_role=role,
        proposed_at=now,
    )
    correction.full_clean()
    correction.save()
    for upload in files:
        InventoryCorrectionEvidence.objects.create(
            correction=correction,
            file=upload,
            name=(upload.name or "file")[:200],
            uploaded_by=actor,
            uploaded_at=now,
        )
    audit_log(
        actor=actor,
        action="inventory_correction.propose",
        obj=correction,
        after={
            **snapshot(correction, AUDIT_FIELDS),
            "resource": resource.pk,
            "old": correction.old_values,
            "new": values,
            "reason": reason,
            "evidence": len(files),
        },
        contract=contract,
    )
    confirmation = joint_open(
        actor=actor,
        contract=contract,
        subject=SUBJECT,
        obj=correction,
        title=_("资源清单更正 %(n)s（资源 #%(r)s）") % {"n": correction.number, "r": resource.pk},
    )
    if confirmation is None:  # the subject always names parties (``_workflow_roles``)
        raise RuntimeError("An inventory correction opened no joint confirmation.")
    roles = list(confirmation.required_roles)
    notifications.notify_correction_proposed(correction, correction_diff(correction), roles)
    if role in confirmation.required_roles:
        joint_confirm(actor=actor, confirmation=confirmation)  # may apply it at once
        correction.refresh_from_db()
    return correction


def _lock(correction: InventoryCorrection) -> tuple[InventoryCorrection, dict[str, Any]]:
    locked = (
        InventoryCorrection.objects.select_for_update(of=("self",))
        .select_related("contract", "resource")
        .get(pk=correction.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


def _set_status(correction: InventoryCorrection, target: str) -> None:
    check_transition(
        InventoryCorrection.TRANSITIONS, current=correction.status, target=target, labels=_LABELS
    )
    correction.status = target


@transaction.atomic
def inventory_correction_withdraw(
    *, actor: User, correction: InventoryCorrection, reason: str = ""
) -> InventoryCorrection:
    """The proposer's party withdraws a correction not applied yet (after an objection, say)."""
    correction, before = _lock(correction)
    CORRECTION_ACTIONS.require("withdraw", actor, correction)
    _set_status(correction, InventoryCorrectionStatus.WITHDRAWN)
    correction.withdrawn_at = timezone.now()
    correction.withdraw_reason = (reason or "").strip()
    correction.save(update_fields=["status", "withdrawn_at", "withdraw_reason"])
    audit_log(
        actor=actor,
        action="inventory_correction.withdraw",
        obj=correction,
        before=before,
        after={**snapshot(correction, AUDIT_FIELDS), "reason": correction.withdraw_reason},
        contract=correction.contract,
    )
    return correction


# ------------------------------------------------------------------ joint confirmation


def _is_ours(confirmation: JointConfirmation) -> bool:
    return (
        confirmation.subject == SUBJECT
        and confirmation.content_type.model_class() is InventoryCorrection
    )


def on_correction_confirmed(sender: Any, confirmation: JointConfirmation, **kwargs: Any) -> None:
    """Every named party confirmed: apply the correction now, inside the last confirmation's
    transaction — a refusal here undoes that confirmation and saves nothing."""
    if not _is_ours(confirmation):
        return
    last = confirmation.entries.order_by("-at", "-pk").select_related("user").first()
    _apply(
        actor=last.user if last else "会签",
        correction_id=confirmation.object_id,
        roles=list(confirmation.required_roles),
    )


def on_correction_objected(
    sender: Any,
    confirmation: JointConfirmation,
    entry: JointConfirmationEntry | None = None,
    **kwargs: Any,
) -> None:
    """A party objected: the correction stops (the proposer withdraws it)."""
    if not _is_ours(confirmation):
        return
    correction = InventoryCorrection.objects.get(pk=confirmation.object_id)
    correction, before = _lock(correction)
    if correction.status != InventoryCorrectionStatus.PROPOSED:
        return
    _set_status(correction, InventoryCorrectionStatus.OBJECTED)
    correction.objected_at = timezone.now()
    correction.objection = (entry.reason if entry else "") or _("（未说明）")
    correction.save(update_fields=["status", "objected_at", "objection"])
    audit_log(
        actor=entry.user if entry else "会签",
        action="inventory_correction.object",
        obj=correction,
        before=before,
        after={
            **snapshot(correction, AUDIT_FIELDS),
            "role": entry.role if entry else "",
            "reason": correction.objection,
            "joint_confirmation": confirmation.pk,
        },
        contract=correction.contract,
    )
    roles = list(confirmation.required_roles)
    notifications.notify_correction_objected(correction, correction_diff(correction), roles)


def _refuse_changed() -> ApplicationError:
    return InvalidTransition(
        _(
            "资源清单在提出更正后已发生变化（如又有工单交付），本更正未生效；请撤回后按现状重新提出。"
        )
    )


def _apply(*, actor: Any, correction_id: int, roles: list[str]) -> InventoryCorrection:
    correction = InventoryCorrection.objects.get(pk=correction_id)
    correction, before = _lock(correction)
    if correction.status != InventoryCorrectionStatus.PROPOSED:
        raise InvalidTransition(
            _("该更正%(s)s，不能再生效。") % {"s": correction.get_status_display()}
        )
    resource = _lock_resource(correction.resource)
    state = _state_of(resource)
    stored = correction.old_values
    if stored.get("resource") != _resource_values(resource) or stored.get("history") != _history(
        state
    ):
        raise _refuse_changed()
    new_state = _proposed_state(state, correction.new_values)
    now = timezone.now()
    _validate(state, new_state, now)
    resource_before = _resource_values(resource)
    rows_before = _history(state)

    # The history rows first (the resource's current configuration follows the latest row).
    created: ResourceChange | None = None
    old_rows = {r.id: r for r in state.rows}
    for row in new_state.rows:
        if row.id is None:
            created = ResourceChange(
                resource=resource,
                catalog_item_id=row.item_id,
                quantity=row.quantity,
                delivered_at=row.delivered_at,
                note=_("资源清单更正 %(n)s") % {"n": correction.number},
            )
            created.full_clean()
            created.save()
        elif row != old_rows.get(row.id):
            ResourceChange.objects.filter(pk=row.id).update(
                delivered_at=row.delivered_at, catalog_item_id=row.item_id, quantity=row.quantity
            )
    latest = new_state.config_rows()[-1]
    resource.online_at = new_state.online_at
    resource.billing_starts_at = new_state.billing_starts_at
    resource.offline_at = new_state.offline_at
    if new_state.offline_at is not None:
        resource.status = ResourceStatus.RELEASED
    resource.quantity = latest.quantity
    resource.catalog_item_id = latest.item_id
    try:
        resource.full_clean(exclude=["department", "system", "contract"])
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages)) from exc
    resource.save(update_fields=list(RESOURCE_AUDIT))

    _set_status(correction, InventoryCorrectionStatus.APPLIED)
    correction.applied_at = now
    correction.months = _months(correction.contract, state, new_state)
    update = ["status", "applied_at", "months"]
    if created is not None:
        correction.change = created
        update.append("change")
    correction.save(update_fields=update)
    audit_log(
        actor=actor,
        action="inventory_correction.apply",
        obj=resource,
        before={**resource_before, "history": rows_before},
        after={
            **_resource_values(resource),
            "history": _history(_state_of(resource)),
            "correction": correction.pk,
            "number": correction.number,
        },
        contract=correction.contract,
    )
    audit_log(
        actor=actor,
        action="inventory_correction.applied",
        obj=correction,
        before=before,
        after=snapshot(correction, AUDIT_FIELDS),
        contract=correction.contract,
    )
    outcome = statements.statement_reissue_for_correction(actor=actor, correction=correction)
    notifications.notify_correction_applied(correction, correction_diff(correction), roles, outcome)
    return correction


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class DiffRow:
    label: str
    old: str
    new: str


def _show(key: str, value: Any, items: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if key.endswith("_at"):
        moment = _time(value)
        return _local(moment) if moment else "—"
    if key == "catalog_item":
        return items.get(int(value), f"#{value}")
    return str(value)


def correction_diff(correction: InventoryCorrection) -> list[DiffRow]:
    """The old → new rows of a correction, labelled, for the page, the e-mail and the API."""
    old, new = correction.old_values, correction.new_values
    item_ids = {
        int(v)
        for part in (old.get("resource", {}), old.get("change", {}), new.get("change", {}))
        for k, v in part.items()
        if k == "catalog_item" and v is not None
    }
    items = {
        pk: f"{code} {name}"
        for pk, code, name in CatalogItem.objects.filter(pk__in=item_ids).values_list(
            "pk", "code", "name"
        )
    }
    rows: list[DiffRow] = []
    for key, value in new.get("resource", {}).items():
        rows.append(
            DiffRow(
                str(FIELD_LABELS[key]),
                _show(key, old.get("resource", {}).get(key), items),
                _show(key, value, items),
            )
        )
    change = new.get("change")
    if change:
        prefix = _("补录配置变更") if change.get("add") else _("配置记录")
        for key in ("delivered_at", "catalog_item", "quantity"):
            if key not in change:
                continue
            before = "—" if change.get("add") else _show(key, old.get("change", {}).get(key), items)
            rows.append(
                DiffRow(f"{prefix}·{FIELD_LABELS[key]}", before, _show(key, change[key], items))
            )
    return rows


def corrections_pending_for(statement: Statement) -> QuerySet[InventoryCorrection]:
    """Applied corrections of the statement's month that this version does not contain (it
    was generated before they took effect): shown on versions awaiting sign-off."""
    period = statement.period
    ids = [
        c.pk
        for c in InventoryCorrection.objects.filter(
            contract_id=statement.contract_id,
            status=InventoryCorrectionStatus.APPLIED,
            applied_at__gt=statement.generated_at,
        ).only("pk", "months")
        if period in (c.months or [])
    ]
    return InventoryCorrection.objects.filter(pk__in=ids).select_related("contract")


def correction_confirmation(correction: InventoryCorrection) -> JointConfirmation | None:
    return joint_for(correction, SUBJECT)


def correction_required_roles(contract: Contract) -> list[str]:
    return required_roles(contract, SUBJECT) or []
