"""Catalog import: a contract's priced service catalog from CSV, all rows or none."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import CatalogItem
from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, PricePeriod

CATALOG_COLUMNS = ("code", "section", "name", "spec", "unit", "unit_price", "period")
CATALOG_AUDIT_FIELDS = ("code", "section", "name", "spec", "unit", "unit_price", "period")
_FLAVOUR = re.compile(r"^ecs\.(\d+)c(\d+)g$")


@dataclass(frozen=True)
class CatalogImportResult:
    created: int
    updated: int
    unchanged: int


def _flavour_size(code: str) -> tuple[int | None, int | None]:
    """Flavour catalogs (焦作 ``ecs.4c8g``) carry vCPU and memory in the code."""
    match = _FLAVOUR.match(code)
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _parse_catalog_rows(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CATALOG_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [_("缺少列：%(cols)s") % {"cols": ", ".join(missing)}]
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):  # line 1 is the header
        row = {k: (raw.get(k) or "").strip() for k in CATALOG_COLUMNS}
        problems = []
        if not row["code"]:
            problems.append(_("目录编码为空"))
        elif row["code"] in seen:
            problems.append(
                _("目录编码 %(code)s 与第 %(line)s 行重复")
                % {"code": row["code"], "line": seen[row["code"]]}
            )
        for field in ("section", "name", "unit"):
            if not row[field]:
                problems.append(_("%(field)s 为空") % {"field": field})
        try:
            price = Decimal(row["unit_price"])
            if not price.is_finite() or price < 0:
                raise InvalidOperation
            if price != price.quantize(Decimal("0.01")):
                problems.append(_("单价 %(p)s 超过两位小数") % {"p": row["unit_price"]})
        except InvalidOperation:
            problems.append(_("单价“%(p)s”不是非负金额") % {"p": row["unit_price"]})
            price = None
        if row["period"] not in PricePeriod.values:
            problems.append(_("计价周期“%(p)s”应为 year 或 month") % {"p": row["period"]})
        if problems:
            errors.append(
                _("第 %(line)s 行：%(msg)s") % {"line": line_no, "msg": "；".join(problems)}
            )
            continue
        seen[row["code"]] = line_no
        row["unit_price"] = price
        row["sort_order"] = line_no - 1
        rows.append(row)
    if not rows and not errors:
        errors.append(_("文件中没有目录行。"))
    return rows, errors


@transaction.atomic
def catalog_import(*, actor: Any, contract: Contract, csv_text: str) -> CatalogImportResult:
    """Create or update a contract's catalog from CSV; all rows or none.

    Raises ApplicationError listing every bad row by its line number.
    """
    rows, errors = _parse_catalog_rows(csv_text)
    if errors:
        raise ApplicationError(_("目录导入失败，未做任何修改。"), extra={"errors": errors})
    existing = {item.code: item for item in contract.catalog_items.select_for_update(of=("self",))}
    created = updated = unchanged = 0
    for row in rows:
        vcpus, memory_gb = _flavour_size(row["code"])
        values = {
            "section": row["section"],
            "name": row["name"],
            "spec": row["spec"],
            "unit": row["unit"],
            "unit_price": row["unit_price"],
            "period": row["period"],
            "sort_order": row["sort_order"],
            "vcpus": vcpus,
            "memory_gb": memory_gb,
        }
        item = existing.get(row["code"])
        if item is None:
            item = CatalogItem(contract=contract, code=row["code"], **values)
            item.full_clean()
            item.save()
            audit_log(
                actor=actor,
                action="catalog_item.create",
                obj=item,
                after=snapshot(item, CATALOG_AUDIT_FIELDS),
                contract=contract,
            )
            created += 1
            continue
        before = snapshot(item, CATALOG_AUDIT_FIELDS)
        changed = [k for k, v in values.items() if getattr(item, k) != v]
        if not changed:
            unchanged += 1
            continue
        for key in changed:
            setattr(item, key, values[key])
        try:
            item.full_clean()
        except ValidationError as exc:
            raise ApplicationError(
                _("目录项 %(code)s 校验失败。") % {"code": item.code},
                extra={"errors": exc.messages},
            ) from exc
        item.save(update_fields=changed)
        audit_log(
            actor=actor,
            action="catalog_item.update",
            obj=item,
            before=before,
            after=snapshot(item, CATALOG_AUDIT_FIELDS),
            contract=contract,
        )
        updated += 1
    return CatalogImportResult(created=created, updated=updated, unchanged=unchanged)
