"""Inventory import: resources already in service, loaded from CSV (DESIGN §8).

Columns ``department,system,item,quantity,online_at,offline_at,billing_starts_at``; times are
local ``YYYY-MM-DD HH:MM`` (Asia/Shanghai); an empty cell means none. All rows or none: every
bad row is reported by its line number and nothing is saved.

The file is authoritative (DESIGN §4a): a row is billed from its ``billing_starts_at`` when
given, else from its ``online_at``. The import never infers a test period — the free test
period of a new system (包头 §5.1.2) is for resources delivered through tickets
(``billing.services.test_periods``); a resource already in service that was in its test
period is imported with the ``billing_starts_at`` its test period gave it. Imported resources
are marked ``imported``: a test period never moves their billing start.

Importing is idempotent. A row is one catalog item in one business system with its times
(online, offline, billing start): a row whose resource is already in the inventory with the same
quantity is skipped and reported (importing the same file twice bills nothing twice); one that is
there with another quantity is refused — the file cannot silently rewrite what statements were
computed from; that is an inventory correction. Two such rows in one file are refused too (one
row per resource: add the quantities). ``dry_run`` validates and reports what would change,
without changing anything.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import CatalogItem, Resource, ResourceChange, ResourceStatus
from billing.pricing import BUSINESS_TZ
from govcloud.audit import audit_log
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import (
    BusinessSystem,
    Contract,
    Organization,
    OrganizationKind,
    PartyRole,
    Role,
    User,
)

__all__ = [
    "INVENTORY_COLUMNS",
    "InventoryImportResult",
    "inventory_import",
]

INVENTORY_COLUMNS = (
    "department",
    "system",
    "item",
    "quantity",
    "online_at",
    "offline_at",
    "billing_starts_at",
)
TIME_FORMAT = "%Y-%m-%d %H:%M"
IMPORT_NOTE = "库存导入"


#: The largest quantity the inventory stores (PositiveIntegerField on every database).
MAX_QUANTITY = 2_147_483_647
#: A cell longer than this is a wrong file, not a name (the longest stored text is 200).
MAX_CELL = 1_000


@dataclass(frozen=True)
class InventoryImportResult:
    resources_created: int
    departments_created: list[str]
    systems_created: list[str]
    #: Rows whose ``billing_starts_at`` the file gave later than their ``online_at``.
    deferred_billing_rows: int
    #: "第 N 行：…已在清单中（资源 #id），跳过" — rows already imported, nothing changed.
    skipped: list[str] = field(default_factory=list)
    #: SHA-256 of the file's text, recorded in the audit trail.
    sha256: str = ""
    #: Nothing was saved: the figures say what the import would do.
    dry_run: bool = False


@dataclass
class _Row:
    line_no: int
    department: str
    system: str
    item: CatalogItem
    quantity: int
    online_at: datetime
    offline_at: datetime | None
    billing_starts_at: datetime | None


def _parse_time(value: str) -> datetime | None:
    """Local ``YYYY-MM-DD HH:MM`` → aware datetime; raises ValueError on anything else."""
    if not value:
        return None
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=BUSINESS_TZ)


def _check_actor(actor: Any, contract: Contract) -> None:
    """People: bureau staff or system admin, or vendor staff, of this contract. Commands and
    data migrations pass a string actor (the operator on the server)."""
    if not isinstance(actor, User):
        return
    if not actor.is_active:
        raise ActionForbidden(_("账号已停用。"))
    # Keyed and compared by the stored strings (``party.role``, ``actor.role``).
    allowed: dict[str, set[str]] = {
        PartyRole.BUREAU: {Role.STAFF, Role.SYSTEM_ADMIN},
        PartyRole.VENDOR: {Role.STAFF},
    }
    for party in contract.parties.all():
        if party.organization_id == actor.organization_id and actor.role in allowed.get(
            party.role, set()
        ):
            return
    raise ActionForbidden(_("只有本合同的甲方或乙方人员可以导入资源清单。"))


def _parse(text: str, items: dict[str, CatalogItem]) -> tuple[list[_Row], list[str]]:
    try:
        return _parse_rows(text, items)
    except csv.Error as exc:  # e.g. a field beyond the csv module's limit, a stray NUL
        return [], [_("文件不是有效的 CSV：%(e)s") % {"e": exc}]


def _parse_rows(text: str, items: dict[str, CatalogItem]) -> tuple[list[_Row], list[str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in INVENTORY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [_("缺少列：%(cols)s") % {"cols": ", ".join(missing)}]
    rows: list[_Row] = []
    errors: list[str] = []
    for line_no, raw in enumerate(reader, start=2):  # line 1 is the header
        cell = {k: (raw.get(k) or "").strip() for k in INVENTORY_COLUMNS}
        if not any(cell.values()):
            continue  # a blank line
        problems: list[str] = []
        too_long = [k for k, v in cell.items() if len(v) > MAX_CELL]
        if too_long:
            errors.append(
                _("第 %(line)s 行：%(cols)s 超过 %(n)s 个字符")
                % {"line": line_no, "cols": "、".join(too_long), "n": MAX_CELL}
            )
            continue
        if not cell["department"]:
            problems.append(_("使用单位为空"))
        elif len(cell["department"]) > 200:
            problems.append(_("使用单位名称超过200个字符"))
        if not cell["system"]:
            problems.append(_("业务系统为空"))
        elif len(cell["system"]) > 120:
            problems.append(_("业务系统名称超过120个字符"))
        item = items.get(cell["item"])
        if item is None:
            problems.append(_("目录编码“%(code)s”不在本合同服务目录中") % {"code": cell["item"]})
        try:
            quantity = int(cell["quantity"])
        except ValueError:
            quantity = 0
        if quantity <= 0:
            problems.append(_("数量“%(q)s”不是正整数") % {"q": cell["quantity"]})
        elif quantity > MAX_QUANTITY:
            problems.append(
                _("数量“%(q)s”超过上限 %(max)s") % {"q": cell["quantity"], "max": MAX_QUANTITY}
            )
        times: dict[str, datetime | None] = {}
        labels = {
            "online_at": _("上线时间"),
            "offline_at": _("下线时间"),
            "billing_starts_at": _("计费开始"),
        }
        for name, label in labels.items():
            try:
                times[name] = _parse_time(cell[name])
            except ValueError:
                problems.append(
                    _("%(label)s“%(value)s”格式应为 YYYY-MM-DD HH:MM")
                    % {"label": label, "value": cell[name]}
                )
                times[name] = None
        online, offline, billing = (
            times["online_at"],
            times["offline_at"],
            times["billing_starts_at"],
        )
        if not cell["online_at"]:
            problems.append(_("上线时间为空"))
        if online is not None:
            if offline is not None and offline <= online:
                problems.append(_("下线时间必须晚于上线时间"))
            if billing is not None and billing < online:
                problems.append(_("计费开始不得早于上线时间"))
        if problems:
            errors.append(
                _("第 %(line)s 行：%(msg)s") % {"line": line_no, "msg": "；".join(problems)}
            )
            continue
        if item is None or online is None:  # reported above; narrows the types
            continue
        rows.append(
            _Row(
                line_no=line_no,
                department=cell["department"],
                system=cell["system"],
                item=item,
                quantity=quantity,
                online_at=online,
                offline_at=offline,
                billing_starts_at=billing,
            )
        )
    if not rows and not errors:
        errors.append(_("文件中没有资源行。"))
    errors.extend(_repeated_rows(rows))
    return rows, errors


RowKey = tuple[str, str, int, datetime, datetime | None, datetime]


def _row_key(
    department: str,
    system: str,
    item_id: int,
    online_at: datetime,
    offline_at: datetime | None,
    billing_starts_at: datetime,
) -> RowKey:
    """What makes a row one resource: an item in a system with its times."""
    return (department, system, item_id, online_at, offline_at, billing_starts_at)


def _key_of_row(row: _Row) -> RowKey:
    return _row_key(
        row.department,
        row.system,
        row.item.pk,
        row.online_at,
        row.offline_at,
        row.billing_starts_at or row.online_at,
    )


def _repeated_rows(rows: list[_Row]) -> list[str]:
    first: dict[RowKey, int] = {}
    errors = []
    for row in rows:
        key = _key_of_row(row)
        if key in first:
            errors.append(
                _(
                    "第 %(line)s 行：与第 %(first)s 行是同一资源（同一业务系统、目录项和时间），"
                    "请合并为一行并相加数量"
                )
                % {"line": row.line_no, "first": first[key]}
            )
        else:
            first[key] = row.line_no
    return errors


def _already_imported(
    contract: Contract, rows: list[_Row]
) -> tuple[dict[int, Resource], list[str]]:
    """Rows whose resource is in the inventory already (by line number), and rows that are there
    with other figures (errors: the file may not rewrite the inventory)."""
    moments = sorted({row.online_at for row in rows})
    existing: dict[RowKey, Resource] = {}
    for start in range(0, len(moments), 500):  # bounded IN lists on every database
        for r in Resource.objects.filter(
            contract=contract, online_at__in=moments[start : start + 500]
        ).select_related("department", "system"):
            key = _row_key(
                r.department.name,
                r.system.name,
                r.catalog_item_id,
                r.online_at,
                r.offline_at,
                r.billing_starts_at,
            )
            existing[key] = r
    present: dict[int, Resource] = {}
    errors: list[str] = []
    for row in rows:
        resource = existing.get(_key_of_row(row))
        if resource is None:
            continue
        if resource.quantity == row.quantity:
            present[row.line_no] = resource
        else:
            errors.append(
                _(
                    "第 %(line)s 行：资源 #%(id)s 已在清单中，数量为 %(q)s 而非 %(new)s；"
                    "已计费的资源只能通过资源清单更正修改"
                )
                % {
                    "line": row.line_no,
                    "id": resource.pk,
                    "q": resource.quantity,
                    "new": row.quantity,
                }
            )
    return present, errors


def _departments(
    *,
    actor: Any,
    contract: Contract,
    names: Iterable[str],
    create: bool,
    rows: list[_Row],
) -> tuple[dict[str, Organization], list[str], list[str]]:
    """The departments by name (created if allowed), the names created, and errors."""
    bureau = contract.bureau
    if bureau is None:
        raise ApplicationError(_("合同没有甲方，无法确定使用单位。"))
    wanted = sorted(set(names))
    found = {o.name: o for o in Organization.objects.filter(name__in=wanted)}
    first_line: dict[str, int] = {}
    for row in rows:
        first_line.setdefault(row.department, row.line_no)
    errors: list[str] = []
    created: list[str] = []
    for name in wanted:
        org = found.get(name)
        line = first_line[name]
        if org is None:
            if not create:
                errors.append(
                    _(
                        "第 %(line)s 行：使用单位“%(name)s”不存在"
                        "（可使用 --create-departments 创建）"
                    )
                    % {"line": line, "name": name}
                )
                continue
            org = Organization(name=name, kind=OrganizationKind.DEPARTMENT, parent=bureau)
            org.full_clean()
            org.save()
            audit_log(
                actor=actor,
                action="organization.create",
                obj=org,
                after={"name": name, "kind": org.kind, "parent": bureau.pk, "via": "inventory"},
                contract=contract,
            )
            found[name] = org
            created.append(name)
        elif org.kind != OrganizationKind.DEPARTMENT or org.parent_id != bureau.pk:
            errors.append(
                _("第 %(line)s 行：“%(name)s”不是本合同甲方下属的使用单位")
                % {"line": line, "name": name}
            )
    return found, created, errors


@transaction.atomic
def inventory_import(
    *,
    actor: Any,
    contract: Contract,
    csv_text: str,
    create_departments: bool = False,
    dry_run: bool = False,
) -> InventoryImportResult:
    """Create the resources of a CSV inventory, each with its delivery as first change row.

    Raises ApplicationError (``extra["errors"]``: one message per bad row, by line number)
    and saves nothing when any row is wrong. Rows already in the inventory are skipped and
    reported (``skipped``); with ``dry_run`` nothing is saved and the result says what would be.
    """
    _check_actor(actor, contract)
    Contract.objects.select_for_update().filter(pk=contract.pk).first()  # one import at a time
    items = {item.code: item for item in CatalogItem.objects.filter(contract=contract)}
    rows, errors = _parse(csv_text, items)
    if errors:
        raise ApplicationError(_("资源清单导入失败，未做任何修改。"), extra={"errors": errors})
    present, errors = _already_imported(contract, rows)
    if errors:
        raise ApplicationError(_("资源清单导入失败，未做任何修改。"), extra={"errors": errors})
    skipped = [
        _("第 %(line)s 行：已在清单中（资源 #%(id)s），跳过") % {"line": line, "id": r.pk}
        for line, r in sorted(present.items())
    ]
    rows = [row for row in rows if row.line_no not in present]
    sha256 = hashlib.sha256(csv_text.encode("utf-8")).hexdigest()

    departments, departments_created, errors = _departments(
        actor=actor,
        contract=contract,
        names=(row.department for row in rows),
        create=create_departments,
        rows=rows,
    )
    if errors:
        # Departments created above roll back with the transaction.
        raise ApplicationError(_("资源清单导入失败，未做任何修改。"), extra={"errors": errors})

    systems: dict[tuple[int, str], BusinessSystem] = {
        (s.department_id, s.name): s
        for s in BusinessSystem.objects.filter(department__in=list(departments.values()))
    }
    systems_created: list[str] = []
    for row in rows:
        department = departments[row.department]
        key = (department.pk, row.system)
        if key not in systems:
            system = BusinessSystem(department=department, name=row.system)
            system.full_clean()
            system.save()
            audit_log(
                actor=actor,
                action="business_system.create",
                obj=system,
                after={"department": department.pk, "name": row.system, "via": "inventory"},
                contract=contract,
            )
            systems[key] = system
            systems_created.append(f"{department.name} / {row.system}")

    resources: list[Resource] = []
    deferred = 0
    for row in rows:
        department = departments[row.department]
        system = systems[(department.pk, row.system)]
        # The file says when billing starts; nothing is inferred (DESIGN §4a).
        starts = row.billing_starts_at or row.online_at
        if starts != row.online_at:
            deferred += 1
        resources.append(
            Resource(
                contract=contract,
                department=department,
                system=system,
                catalog_item=row.item,
                quantity=row.quantity,
                status=ResourceStatus.RELEASED if row.offline_at else ResourceStatus.ACTIVE,
                online_at=row.online_at,
                billing_starts_at=starts,
                offline_at=row.offline_at,
                imported=True,
            )
        )
    Resource.objects.bulk_create(resources)
    ResourceChange.objects.bulk_create(
        ResourceChange(
            resource=resource,
            catalog_item=resource.catalog_item,
            quantity=resource.quantity,
            delivered_at=resource.online_at,
            note=IMPORT_NOTE,
        )
        for resource in resources
    )
    result = InventoryImportResult(
        resources_created=len(resources),
        departments_created=departments_created,
        systems_created=systems_created,
        deferred_billing_rows=deferred,
        skipped=skipped,
        sha256=sha256,
        dry_run=dry_run,
    )
    if dry_run:
        transaction.set_rollback(True)
        return result
    if resources or skipped:
        audit_log(
            actor=actor,
            action="inventory.import",
            obj=contract,
            after={
                "rows": len(rows),
                "resources": [r.pk for r in resources],
                "skipped_rows": len(skipped),
                "sha256": sha256,
                "departments_created": departments_created,
                "systems_created": systems_created,
                "deferred_billing_rows": deferred,
            },
            contract=contract,
        )
    return result
