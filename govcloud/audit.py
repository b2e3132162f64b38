"""Writing the append-only audit trail (the request's IP taken from a context variable) and
verifying its hash chain (govcloud.audit_chain)."""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

from govcloud.audit_chain import CHAIN_FIELDS, ChainHead, Finding, FindingKind, walk_chain
from govcloud.models import AuditEvent, Contract


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "govcloud_request_context", default=None
)


def set_request_context(ctx: RequestContext | None) -> contextvars.Token:
    return _request_context.set(ctx)


def reset_request_context(token: contextvars.Token) -> None:
    _request_context.reset(token)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as JSON-safe values (FKs as ids, money as strings)."""
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        data[name] = value
    return data


def model_snapshot(obj: models.Model) -> dict[str, Any]:
    concrete = [
        f.name
        for f in obj._meta.concrete_fields
        if f.name not in {"password"} and not f.name.endswith("_ptr")
    ]
    return snapshot(obj, concrete)


def audit_log(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    contract: Contract | None = None,
) -> AuditEvent:
    """Append one audit event to the chain. Call it inside the service's transaction.

    On PostgreSQL appending takes the chain lock until that transaction ends (see
    ``AuditEvent.save``): call it once the service has done its locking and checks.
    """
    ctx = _request_context.get()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    if contract is None and obj is not None:
        if isinstance(obj, Contract):
            contract = obj
        else:
            contract = getattr(obj, "contract", None)
            if not isinstance(contract, Contract):
                contract = None
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_repr=(actor.get_username() if is_user else str(actor or "系统"))[:150],
        organization_id=getattr(actor, "organization_id", None) if is_user else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
        ip_address=ctx.ip_address if ctx else None,
        contract=contract,
    )


# ------------------------------------------------------------------------------ verification

# The triggers the migrations put on the audit table (0002, 0007); one missing or disabled is
# reported, since it is the first thing a tamperer would switch off.
AUDIT_GUARD_TRIGGERS = {
    "postgresql": ("govcloud_auditevent_append_only", "govcloud_auditevent_no_truncate"),
    "sqlite": ("govcloud_auditevent_no_update", "govcloud_auditevent_no_delete"),
}

FINDING_LABELS = {
    FindingKind.GAP: "记录缺失（被删除）",
    FindingKind.EDITED: "内容被修改",
    FindingKind.BROKEN_LINK: "链接断裂（插入、伪造或删除）",
    FindingKind.BACKDATED: "时间倒填",
    FindingKind.GUARD: "数据库防护缺失",
}


@dataclass
class AuditVerification:
    """What one walk of the chain found. Lists at most ``max_findings``; counts all."""

    checked: int
    head_seq: int
    head_hash: str
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    not_listed: int = 0

    @property
    def intact(self) -> bool:
        return not self.counts

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def labelled_counts(self) -> list[tuple[str, int]]:
        return [(FINDING_LABELS[kind], n) for kind, n in self.counts.items()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "checked": self.checked,
            "head": {"seq": self.head_seq, "row_hash": self.head_hash},
            "counts": self.counts,
            "findings": [finding.as_dict() for finding in self.findings],
            "findings_not_listed": self.not_listed,
        }


def _guard_findings(using: str) -> list[Finding]:
    connection = connections[using]
    expected = AUDIT_GUARD_TRIGGERS.get(connection.vendor, ())
    if not expected:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'govcloud_auditevent'::regclass"
                " AND tgenabled IN ('O', 'A')"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = 'govcloud_auditevent'"
            )
        present = {name for (name,) in cursor.fetchall()}
    return [
        Finding(FindingKind.GUARD, f"数据库触发器 {name} 不存在或已停用：审计表失去了数据库防护。")
        for name in expected
        if name not in present
    ]


def audit_verify(
    *, using: str = DEFAULT_DB_ALIAS, max_findings: int = 1000, chunk_size: int = 2000
) -> AuditVerification:
    """Walk the whole chain in ``seq`` order, one chunk at a time, and report every defect.

    The chain is global: the result is the same for every caller, so it names rows only by
    ``seq`` and id, never by content.
    """
    head = ChainHead()
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    rows = (
        AuditEvent.objects.using(using)
        .order_by("seq")
        .values("id", "row_hash", *CHAIN_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for finding in itertools.chain(_guard_findings(using), walk_chain(rows, head)):
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
        if len(findings) < max_findings:
            findings.append(finding)
    total = sum(counts.values())
    return AuditVerification(
        checked=head.rows,
        head_seq=head.seq,
        head_hash=head.row_hash,
        findings=findings,
        counts=counts,
        not_listed=total - len(findings),
    )
