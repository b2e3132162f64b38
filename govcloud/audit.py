"""Writing the append-only audit trail, with the request's IP taken from a context variable."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

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
    """Append one audit event. Call it inside the service's transaction."""
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
