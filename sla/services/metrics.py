"""Utilization metrics pushed by the vendor (API and CSV upload share this service).

A push is a list of rows ``{resource, day, cpu_pct, mem_pct, disk_pct, disk_used_gb}``: each
row is one resource's *daily average*. The push is all-or-nothing — every row is validated
first and any error refuses the whole push with row-numbered messages — and idempotent per
(resource, day): pushing a day again replaces that day's values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Resource
from billing.money import round_half_up
from govcloud.access import require_staff
from govcloud.audit import audit_log
from govcloud.dates import business_today
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import ContractParty, OrganizationKind, PartyRole, User
from govcloud.workdays import BUSINESS_TZ
from sla.models import UtilizationSample
from sla.services.utilization_months import utilization_months_touched

MAX_ROWS = 20_000
CSV_COLUMNS = ("resource", "day", "cpu_pct", "mem_pct", "disk_pct", "disk_used_gb")
PCT_FIELDS = ("cpu_pct", "mem_pct", "disk_pct")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class PushResult:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class _Row:
    resource_id: int
    day: date
    cpu_pct: Decimal
    mem_pct: Decimal
    disk_pct: Decimal
    disk_used_gb: Decimal | None


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidOperation
    if isinstance(value, float):
        # JSON numbers arrive as floats with some parsers: go through their shortest repr,
        # never through binary expansion.
        value = repr(value)
    result = Decimal(str(value).strip())
    if not result.is_finite():
        raise InvalidOperation
    return result


def _parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        raise ValueError
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _int_or_none(value: Any) -> int | None:
    """An id as the database keeps it; anything else (text, infinity, beyond 64 bits) is none."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if abs(number) < 2**63 else None


def _vendor_contract_ids(actor: User) -> set[int]:
    require_staff(actor)
    org = actor.organization
    if org is None or org.kind != OrganizationKind.VENDOR:
        raise ActionForbidden(_("只有乙方可以推送资源使用率数据。"))
    return set(
        ContractParty.objects.filter(organization=org, role=PartyRole.VENDOR).values_list(
            "contract_id", flat=True
        )
    )


def _validate(
    rows: Sequence[Mapping[str, Any]], *, contract_ids: set[int], first_row_number: int
) -> list[_Row]:
    if not isinstance(rows, Sequence) or isinstance(rows, str | bytes):
        raise ApplicationError(_("请求体必须是数据行的列表。"))
    if not rows:
        raise ApplicationError(_("没有数据行。"))
    if len(rows) > MAX_ROWS:
        raise ApplicationError(_("一次最多推送 %(n)s 行，请分批推送。") % {"n": MAX_ROWS})
    ids: set[int] = set()
    for raw in rows:
        if isinstance(raw, Mapping):
            resource_id = _int_or_none(raw.get("resource"))
            if resource_id is not None:
                ids.add(resource_id)
    resources = {
        r.pk: r
        for r in Resource.objects.filter(pk__in=ids, contract_id__in=contract_ids).only(
            "pk", "online_at", "offline_at", "contract_id"
        )
    }
    today = business_today()
    errors: list[dict[str, Any]] = []
    parsed: list[_Row] = []
    seen: dict[tuple[int, date], int] = {}

    for index, raw in enumerate(rows):
        number = first_row_number + index
        problems: list[str] = []

        def problem(message: str, problems: list[str] = problems) -> None:
            problems.append(message)

        if not isinstance(raw, Mapping):
            errors.append({"row": number, "errors": [_("数据行必须是对象。")]})
            continue
        unknown = set(raw) - set(CSV_COLUMNS)
        if unknown:
            problem(_("未知字段：%(f)s") % {"f": "、".join(sorted(map(str, unknown)))})
        resource_id = _int_or_none(raw.get("resource"))
        resource = None if resource_id is None else resources.get(resource_id)
        if resource is None:
            problem(_("资源不存在或不属于您的合同"))
        day = None
        try:
            day = _parse_day(raw.get("day"))
        except (TypeError, ValueError):
            problem(_("日期必须是 YYYY-MM-DD"))
        if day is not None and day > today:
            problem(_("日期不能晚于今天"))
        pcts: dict[str, Decimal] = {}
        disk_used_gb: Decimal | None = None
        for field in PCT_FIELDS:
            try:
                value = _decimal(raw.get(field))
            except (InvalidOperation, ValueError):
                problem(_("%(f)s 必须是 0 到 100 之间的数") % {"f": field})
                continue
            if not 0 <= value <= HUNDRED:
                problem(_("%(f)s 必须是 0 到 100 之间的数") % {"f": field})
                continue
            pcts[field] = round_half_up(value)
        used = raw.get("disk_used_gb")
        if used not in (None, ""):
            try:
                used_value = _decimal(used)
                if used_value < 0:
                    raise InvalidOperation
                disk_used_gb = round_half_up(used_value)
            except (InvalidOperation, ValueError):
                problem(_("disk_used_gb 必须是非负数"))
        if resource is not None and day is not None:
            start = datetime.combine(day, time.min, tzinfo=BUSINESS_TZ)
            if resource.online_at >= start + timedelta(days=1) or (
                resource.offline_at is not None and resource.offline_at <= start
            ):
                problem(_("资源在该日不在线"))
            key = (resource.pk, day)
            if key in seen:
                problem(_("与第 %(n)s 行的资源和日期重复") % {"n": seen[key]})
            else:
                seen[key] = number
        if problems:
            errors.append({"row": number, "errors": problems})
            continue
        if resource is None or day is None:
            raise RuntimeError(f"Row {number} passed validation without a resource and a day.")
        parsed.append(
            _Row(
                resource_id=resource.pk,
                day=day,
                cpu_pct=pcts["cpu_pct"],
                mem_pct=pcts["mem_pct"],
                disk_pct=pcts["disk_pct"],
                disk_used_gb=disk_used_gb,
            )
        )
    if errors:
        first = errors[0]
        raise ApplicationError(
            _("第 %(n)s 行：%(e)s（共 %(count)s 行有误，未保存任何数据）")
            % {"n": first["row"], "e": "；".join(first["errors"]), "count": len(errors)},
            extra={"errors": errors},
        )
    return parsed


@transaction.atomic
def metrics_push(
    *, actor: User, rows: Sequence[Mapping[str, Any]], first_row_number: int = 1
) -> PushResult:
    """Validate every row, then upsert all of them (or nothing)."""
    contract_ids = _vendor_contract_ids(actor)
    parsed = _validate(rows, contract_ids=contract_ids, first_row_number=first_row_number)
    keys = {(r.resource_id, r.day) for r in parsed}
    existing = set(
        UtilizationSample.objects.filter(
            resource_id__in={r.resource_id for r in parsed},
            day__in={r.day for r in parsed},
        ).values_list("resource_id", "day")
    )
    now = timezone.now()
    UtilizationSample.objects.bulk_create(
        [
            UtilizationSample(
                resource_id=r.resource_id,
                day=r.day,
                cpu_pct=r.cpu_pct,
                mem_pct=r.mem_pct,
                disk_pct=r.disk_pct,
                disk_used_gb=r.disk_used_gb,
                pushed_by=actor,
                pushed_at=now,
            )
            for r in parsed
        ],
        update_conflicts=True,
        unique_fields=["resource", "day"],
        update_fields=["cpu_pct", "mem_pct", "disk_pct", "disk_used_gb", "pushed_by", "pushed_at"],
        batch_size=1000,
    )
    contract_of = dict(
        Resource.objects.filter(pk__in={r.resource_id for r in parsed}).values_list(
            "pk", "contract_id"
        )
    )
    utilization_months_touched(
        actor=actor,
        months={(contract_of[r.resource_id], r.day.replace(day=1)) for r in parsed},
    )
    updated = len(keys & existing)
    result = PushResult(created=len(keys) - updated, updated=updated)
    days = sorted(r.day for r in parsed)
    audit_log(
        actor=actor,
        action="utilization.push",
        after={
            "rows": len(parsed),
            "created": result.created,
            "updated": result.updated,
            "from": days[0].isoformat(),
            "to": days[-1].isoformat(),
        },
    )
    return result


def parse_csv(text: str) -> list[dict[str, str]]:
    """CSV with the header ``resource,day,cpu_pct,mem_pct,disk_pct,disk_used_gb``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c != "disk_used_gb" and c not in header]
    if missing:
        raise ApplicationError(
            _("CSV 缺少列：%(c)s（表头应为 %(h)s）")
            % {"c": "、".join(missing), "h": ",".join(CSV_COLUMNS)}
        )
    rows: list[dict[str, str]] = []
    for raw in reader:
        rows.append({k.strip(): (v or "").strip() for k, v in raw.items() if k is not None})
    return rows


def metrics_upload_csv(*, actor: User, text: str) -> PushResult:
    """The portal's CSV upload: the same rules; rows are numbered by their line in the file."""
    _vendor_contract_ids(actor)
    return metrics_push(actor=actor, rows=parse_csv(text), first_row_number=2)
