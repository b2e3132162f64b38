"""Catalog import and prices with effective dates: a contract's priced service catalog.

``catalog_import`` creates or updates a contract's catalog from CSV, all rows or none. A new
item's price is its first dated price (``CatalogPrice``), effective from the contract's billing
start. A *changed* price never rewrites history: it applies from an effective date, with the
clause or amendment it rests on (``price_effective_from`` / ``price_basis``), and months before
it keep billing at the old price. Without an effective date a changed price is refused, naming
the item codes. ``catalog_price_set`` is the same change for one item (the admin's edit).

A price change is refused, nothing changed, when it would alter a month whose statement is
signed (a signed line of the item reaching past the effective date): a signed statement is
final, a correction is a new statement version (DESIGN §4).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import CatalogItem, CatalogPrice, StatementLine, StatementStatus
from billing.pricing import local_midnight
from govcloud.audit import audit_log, snapshot
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, PricePeriod, User

__all__ = [
    "CATALOG_COLUMNS",
    "FIRST_PRICE_BASIS",
    "CatalogImportResult",
    "catalog_import",
    "catalog_item_first_price",
    "catalog_price_check",
    "catalog_price_set",
]

CATALOG_COLUMNS = ("code", "section", "name", "spec", "unit", "unit_price", "period")
CATALOG_AUDIT_FIELDS = ("code", "section", "name", "spec", "unit", "unit_price", "period")
PRICE_AUDIT_FIELDS = ("effective_from", "unit_price", "basis")
#: The basis of an item's first price: the contract's own catalog.
FIRST_PRICE_BASIS = "合同服务目录"
_FLAVOUR = re.compile(r"^ecs\.(\d+)c(\d+)g$")
_BASIS_MAX = 300


@dataclass(frozen=True)
class CatalogImportResult:
    created: int
    updated: int
    unchanged: int
    #: Codes of the items whose price changed (from ``price_effective_from``).
    prices_changed: list[str] = field(default_factory=list)


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
        for name in ("section", "name", "unit"):
            if not row[name]:
                problems.append(_("%(field)s 为空") % {"field": name})
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


# ------------------------------------------------------------------------- dated prices


def _actor_fields(actor: Any) -> dict[str, Any]:
    if isinstance(actor, User):
        return {"actor": actor, "actor_repr": actor.get_username()[:150]}
    return {"actor": None, "actor_repr": str(actor or "系统")[:150]}


def catalog_item_first_price(*, actor: Any, item: CatalogItem, basis: str = "") -> CatalogPrice:
    """The item's first dated price: its ``unit_price`` from the contract's billing start
    (created once; an item that already has dated prices keeps them)."""
    existing = item.prices.order_by("effective_from").first()
    if existing is not None:
        return existing
    price = CatalogPrice(
        item=item,
        effective_from=item.contract.billing_from,
        unit_price=item.unit_price,
        basis=(basis or FIRST_PRICE_BASIS)[:_BASIS_MAX],
        created_at=timezone.now(),
        **_actor_fields(actor),
    )
    price.full_clean()
    price.save()
    audit_log(
        actor=actor,
        action="catalog_price.create",
        obj=item,
        after={"code": item.code, **snapshot(price, PRICE_AUDIT_FIELDS)},
        contract=item.contract,
    )
    return price


def _signed_months_reached(item: CatalogItem, effective_from: date) -> list[str]:
    """Months whose signed statement bills the item on or after ``effective_from``."""
    months = (
        StatementLine.objects.filter(
            statement__contract_id=item.contract_id,
            statement__status=StatementStatus.SIGNED,
            catalog_item=item,
            segment_end__gt=local_midnight(effective_from),
        )
        .values_list("statement__year", "statement__month")
        .distinct()
    )
    return sorted(f"{year:04d}-{month:02d}" for year, month in months)


def _price_problem(
    item: CatalogItem, unit_price: Decimal, effective_from: date | None, basis: str
) -> str | None:
    """Why this price change cannot be made, or None. Reads the item's dated prices."""
    contract = item.contract
    if effective_from is None or not (basis or "").strip():
        return _(
            "目录项 %(code)s 的单价由 %(old)s 改为 %(new)s：价格变更须给出生效日期及依据"
            "（合同条款或补充协议），生效日前的月份仍按原价计费。"
        ) % {"code": item.code, "old": item.unit_price, "new": unit_price}
    if len(basis.strip()) > _BASIS_MAX:
        return _("价格依据过长（上限 %(n)s 字）。") % {"n": _BASIS_MAX}
    if not contract.billing_from <= effective_from <= contract.service_end:
        return _("目录项 %(code)s：生效日期 %(d)s 不在合同计费期（%(a)s 至 %(b)s）内。") % {
            "code": item.code,
            "d": effective_from.isoformat(),
            "a": contract.billing_from.isoformat(),
            "b": contract.service_end.isoformat(),
        }
    latest = item.prices.order_by("-effective_from").first()
    if latest is not None and effective_from < latest.effective_from:
        return _("目录项 %(code)s 已有自 %(d)s 起生效的价格，新价格的生效日期不得早于该日。") % {
            "code": item.code,
            "d": latest.effective_from.isoformat(),
        }
    signed = _signed_months_reached(item, effective_from)
    if signed:
        return _(
            "目录项 %(code)s：自 %(d)s 起调价会改变已签认的 %(months)s 月度统计表，"
            "未做修改（如需更正已签认月份，请乙方出具更正版本）。"
        ) % {"code": item.code, "d": effective_from.isoformat(), "months": "、".join(signed)}
    return None


def catalog_price_check(
    *, item: CatalogItem, unit_price: Decimal, effective_from: date | None, basis: str
) -> None:
    """Raise ApplicationError when the price change could not be made (for forms)."""
    problem = _price_problem(item, unit_price, effective_from, basis)
    if problem:
        raise ApplicationError(problem, extra={"field": "price_effective_from"})


def _apply_price(
    *, actor: Any, item: CatalogItem, unit_price: Decimal, effective_from: date, basis: str
) -> CatalogPrice:
    """Write the dated price (the caller checked it) and make it the item's current price."""
    catalog_item_first_price(actor=actor, item=item)
    row = CatalogPrice.objects.filter(item=item, effective_from=effective_from).first()
    before = snapshot(row, PRICE_AUDIT_FIELDS) if row is not None else None
    if row is None:
        row = CatalogPrice(item=item, effective_from=effective_from)
    row.unit_price = unit_price
    row.basis = basis.strip()
    row.created_at = timezone.now()
    for key, value in _actor_fields(actor).items():
        setattr(row, key, value)
    row.full_clean()
    row.save()
    newest = item.prices.order_by("-effective_from").values_list("unit_price", flat=True).first()
    old_price = item.unit_price
    item.unit_price = newest if newest is not None else unit_price
    item.save(update_fields=["unit_price"])
    audit_log(
        actor=actor,
        action="catalog_price.change",
        obj=item,
        before={"code": item.code, "unit_price": str(old_price), **(before or {})},
        after={"code": item.code, **snapshot(row, PRICE_AUDIT_FIELDS)},
        contract=item.contract,
    )
    return row


@transaction.atomic
def catalog_price_set(
    *,
    actor: Any,
    item: CatalogItem,
    unit_price: Decimal,
    effective_from: date | None,
    basis: str,
) -> CatalogPrice:
    """Change one item's price from ``effective_from`` on, resting on ``basis``.

    Refused (ApplicationError, nothing changed) without a date or basis, before the latest
    dated price, outside the contract's billing period, or where a signed statement would
    change.
    """
    item = (
        CatalogItem.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=item.pk)
    )
    if unit_price is None or unit_price < 0:
        raise ApplicationError(_("单价必须为非负金额。"), extra={"field": "unit_price"})
    if unit_price != Decimal(unit_price).quantize(Decimal("0.01")):
        raise ApplicationError(_("单价最多两位小数。"), extra={"field": "unit_price"})
    catalog_price_check(
        item=item, unit_price=unit_price, effective_from=effective_from, basis=basis
    )
    if effective_from is None:  # refused above; narrows the type
        raise ApplicationError(_("请填写价格生效日期。"))
    return _apply_price(
        actor=actor, item=item, unit_price=unit_price, effective_from=effective_from, basis=basis
    )


# ----------------------------------------------------------------------------- the import


@transaction.atomic
def catalog_import(
    *,
    actor: Any,
    contract: Contract,
    csv_text: str,
    price_effective_from: date | None = None,
    price_basis: str = "",
) -> CatalogImportResult:
    """Create or update a contract's catalog from CSV; all rows or none.

    New items get their price from the contract's billing start. An existing item whose
    price differs changes price from ``price_effective_from`` on, with ``price_basis`` (the
    clause or amendment) recorded; without them such a row is refused, naming the item codes.
    Raises ApplicationError (``extra["errors"]``: every bad row by line number, or every
    refused price change by item code) and saves nothing.
    """
    rows, errors = _parse_catalog_rows(csv_text)
    if errors:
        raise ApplicationError(_("目录导入失败，未做任何修改。"), extra={"errors": errors})
    existing = {item.code: item for item in contract.catalog_items.select_for_update(of=("self",))}
    for known in existing.values():
        known.contract = contract
    price_errors = []
    for row in rows:
        current = existing.get(row["code"])
        if current is None or current.unit_price == row["unit_price"]:
            continue
        problem = _price_problem(current, row["unit_price"], price_effective_from, price_basis)
        if problem:
            price_errors.append(problem)
    if price_errors:
        raise ApplicationError(
            _("目录导入失败，未做任何修改：%(codes)s 的单价有变化。")
            % {"codes": "、".join(_changed_codes(rows, existing))},
            extra={"errors": price_errors},
        )
    created = updated = unchanged = 0
    prices_changed: list[str] = []
    for row in rows:
        vcpus, memory_gb = _flavour_size(row["code"])
        values = {
            "section": row["section"],
            "name": row["name"],
            "spec": row["spec"],
            "unit": row["unit"],
            "period": row["period"],
            "sort_order": row["sort_order"],
            "vcpus": vcpus,
            "memory_gb": memory_gb,
        }
        item = existing.get(row["code"])
        if item is None:
            item = CatalogItem(
                contract=contract, code=row["code"], unit_price=row["unit_price"], **values
            )
            item.full_clean()
            item.save()
            audit_log(
                actor=actor,
                action="catalog_item.create",
                obj=item,
                after=snapshot(item, CATALOG_AUDIT_FIELDS),
                contract=contract,
            )
            catalog_item_first_price(actor=actor, item=item, basis=price_basis)
            created += 1
            continue
        before = snapshot(item, CATALOG_AUDIT_FIELDS)
        changed = [k for k, v in values.items() if getattr(item, k) != v]
        price_changed = item.unit_price != row["unit_price"]
        if not changed and not price_changed:
            unchanged += 1
            continue
        if changed:
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
        if price_changed:
            if price_effective_from is None:  # refused above; narrows the type
                raise ApplicationError(_("请填写价格生效日期。"))
            _apply_price(
                actor=actor,
                item=item,
                unit_price=row["unit_price"],
                effective_from=price_effective_from,
                basis=price_basis,
            )
            prices_changed.append(item.code)
        updated += 1
    return CatalogImportResult(
        created=created, updated=updated, unchanged=unchanged, prices_changed=prices_changed
    )


def _changed_codes(rows: Iterable[dict[str, Any]], existing: dict[str, CatalogItem]) -> list[str]:
    return [
        row["code"]
        for row in rows
        if row["code"] in existing and existing[row["code"]].unit_price != row["unit_price"]
    ]
