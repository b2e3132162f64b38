"""The statement engine: a contract's inventory priced for one calendar month (DESIGN §4).

``compute_statement`` reads, and never writes. It turns every resource that overlaps the month
and the contract's billing window into lines — one per resource and configuration segment,
each rounded on its own, never merged — using only the pure rules of ``billing.pricing``:

* usage runs from ``billing_starts_at`` (delivery, or the end of the test period) to
  ``offline_at`` (exclusive), clipped to ``pricing.billing_window`` and to the month;
* a configuration change — quantity or catalog item, from the ``ResourceChange`` history whose
  first row is the delivery — delivered before 12:00 counts from that day, otherwise from the
  next (``pricing.config_segments``, the (item, quantity) form of ``segments_from_history``);
* the partial-day rule is the contract's (``pricing.service_days``), the divisor the item's
  price period (``pricing.divisor``); amounts are ``pricing.line_amount``, totals
  ``pricing.statement_totals`` — with the discount on the subtotal or on every line, as the
  contract's ``discount_applies_to`` term says;
* the unit price is the one in effect on each day (``CatalogPrice``: a change applies from
  00:00 of its effective date): a segment that a price change cuts inside the month becomes
  one line per price (``pricing.price_pieces``), each rounded on its own.

Performance (20,000 resources: well under two seconds on SQLite, within a small multiple of
merely reading the rows — ``benchmarks/billing_statement.py``): exactly four queries whatever
the size — the contract's successor (where its billing ends: ``govcloud.lifecycle``), the
catalog with its dated prices, the resources overlapping the month (filtered in
SQL) and all their changes in one ordered read — run through the cursor as plain tuples; no
query per resource and no loop over days. Most resources are priced without calling the pure
rules at all: a resource whose configuration was settled before the month and that covers all
of it weighs the month's full days, and amounts are memoised per (item, quantity, days, price).
Only resources that start, end or change inside the month go through ``config_segments`` and
``service_days``, and their midnight-to-midnight segments are weighed once per distinct pair;
only items whose price changes inside the month go through ``price_pieces``. A property test
checks the result against the rules applied naively to every history row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Q

from billing import pricing
from billing.models import CatalogItem, Resource, ResourceChange
from billing.money import round_half_up
from billing.pricing import DiscountScope, PartialDayRule, PricePeriod
from govcloud.dates import business_date
from govcloud.lifecycle import contract_billing_last_day
from govcloud.models import Contract

__all__ = [
    "ComputedLine",
    "ComputedStatement",
    "DepartmentSubtotal",
    "SystemSubtotal",
    "compute_statement",
    "month_billing_bounds",
]

_ONE_DAY = timedelta(days=1)


class ComputedLine(NamedTuple):
    """One priced line: a resource in one configuration for part (or all) of the month.

    A named tuple rather than a dataclass: a statement has tens of thousands of them and a
    tuple is built several times faster.
    """

    department_id: int
    department: str
    system_id: int
    system: str
    item_id: int
    item_code: str
    item_name: str
    unit: str
    quantity: int
    unit_price: Decimal
    price_period: str
    divisor: int
    service_days: Decimal
    amount: Decimal
    resource_id: int
    segment_start: datetime
    segment_end: datetime


@dataclass(frozen=True)
class SystemSubtotal:
    department_id: int
    department: str
    system_id: int
    system: str
    subtotal: Decimal
    lines: int


@dataclass(frozen=True)
class DepartmentSubtotal:
    department_id: int
    department: str
    subtotal: Decimal
    lines: int
    systems: list[SystemSubtotal] = field(default_factory=list)


@dataclass(frozen=True)
class ComputedStatement:
    """A month's statement as the engine computes it (nothing saved).

    ``discount`` is the contract's factor (e.g. 0.9999); ``vat`` the VAT included in ``total``.
    Subtotals (by department, and by department and system) are sums of rounded lines, before
    the discount (or with it, where ``discount_applies_to`` is ``line``), the way the documents
    show them.
    """

    contract: str
    year: int
    month: int
    lines: list[ComputedLine]
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    vat: Decimal
    vat_rate: Decimal
    departments: list[DepartmentSubtotal]
    discount_applies_to: str = DiscountScope.SUBTOTAL

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def systems(self) -> list[SystemSubtotal]:
        return [s for d in self.departments for s in d.systems]


def month_billing_bounds(
    contract: Contract, year: int, month: int, *, last_day: date | None = None
) -> tuple[datetime, datetime]:
    """[lower, upper) of the month clipped to the contract's billing window (may be empty).

    The window ends with the last day the contract bills (``contract_billing_last_day``: the
    service end, or earlier a termination date or the day before a successor's cutover).
    """
    window_start, window_end = pricing.billing_window(
        billing_from=contract.billing_from,
        service_end=last_day or contract_billing_last_day(contract),
    )
    first, last = pricing.month_bounds(year, month)
    lower = max(pricing.local_midnight(first), window_start)
    upper = min(pricing.local_midnight(last + _ONE_DAY), window_end)
    return lower, upper


@dataclass(frozen=True, slots=True)
class _Item:
    code: str
    name: str
    unit: str
    #: The price in effect on the month's first billed day.
    unit_price: Decimal
    period: str
    divisor: int
    #: Every dated price, when one changes inside the month (else None: one price all month).
    prices: tuple[tuple[date, Decimal], ...] | None = None


class _Clock:
    """Datetimes as the database driver returns them, compared without conversion.

    SQLite gives naive UTC datetimes (Django's converters), PostgreSQL aware ones. The loop
    compares raw values with bounds converted once to the same form, and makes a value aware
    only when it reaches ``pricing`` or a line — for most resources, never.
    """

    def __init__(self, sample: Any) -> None:
        self.naive = isinstance(sample, datetime) and sample.tzinfo is None

    def raw(self, value: datetime) -> datetime:
        return value.astimezone(UTC).replace(tzinfo=None) if self.naive else value

    def aware(self, value: Any) -> datetime:
        # A driver without datetime converters returns ISO strings.
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _rows(queryset: Any) -> list[tuple[Any, ...]]:
    """Run a ``values_list`` queryset through the cursor: one query, raw tuples (the ORM's
    per-value converters and row objects cost more than the query itself at this size)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _resources_overlapping(contract: Contract, lower: datetime, upper: datetime) -> Q:
    return Q(contract=contract, billing_starts_at__lt=upper) & (
        Q(offline_at__isnull=True) | Q(offline_at__gt=lower)
    )


def compute_statement(contract: Contract, year: int, month: int) -> ComputedStatement:
    """Price ``contract``'s inventory for ``year``-``month`` (four queries, nothing saved)."""
    rule = PartialDayRule(contract.partial_day_rule)
    scope = DiscountScope(contract.discount_applies_to or DiscountScope.SUBTOTAL)
    first, last = pricing.month_bounds(year, month)
    last_day = contract_billing_last_day(contract)
    window_start, window_end = pricing.billing_window(
        billing_from=contract.billing_from, service_end=last_day
    )
    lower, upper = month_billing_bounds(contract, year, month, last_day=last_day)
    lines: list[ComputedLine] = []
    if lower < upper:
        lines = _price_lines(
            contract,
            year=year,
            month=month,
            rule=rule,
            first=first,
            last=last,
            window=(window_start, window_end),
            bounds=(lower, upper),
            line_discount=contract.discount_factor if scope is DiscountScope.LINE else None,
        )
    # Σ of whole-fen amounts is exact in Decimal; statement_totals validates the one value
    # instead of 20,000 (the result is the same).
    totals = pricing.statement_totals(
        [sum((line.amount for line in lines), Decimal(0))],
        discount=contract.discount_factor,
        vat_rate=contract.vat_rate,
        applies_to=scope,
    )
    return ComputedStatement(
        contract=contract.code,
        year=year,
        month=month,
        lines=lines,
        subtotal=totals.subtotal,
        discount=totals.discount,
        total=totals.total,
        vat=totals.vat,
        vat_rate=contract.vat_rate,
        departments=_subtotals(lines),
        discount_applies_to=str(scope),
    )


def _catalog(
    contract: Contract, *, year: int, month: int, lower: datetime, upper: datetime
) -> dict[int, _Item]:
    """The contract's items with the price in effect on the month's first billed day, and all
    their dated prices where one changes inside [lower, upper). One query (items left-joined
    to their prices); an item without dated prices keeps its ``unit_price`` throughout."""
    rows: dict[int, list[Any]] = {}
    for pk, code, name, unit, unit_price, period, effective_from, dated in (
        CatalogItem.objects.filter(contract=contract)
        .order_by("pk", "prices__effective_from")
        .values_list(
            "pk",
            "code",
            "name",
            "unit",
            "unit_price",
            "period",
            "prices__effective_from",
            "prices__unit_price",
        )
    ):
        entry = rows.get(pk)
        if entry is None:
            entry = rows[pk] = [code, name, unit, unit_price, period, []]
        if effective_from is not None:
            entry[5].append((effective_from, dated))
    first_day = business_date(lower)
    items: dict[int, _Item] = {}
    for pk, (code, name, unit, unit_price, period, prices) in rows.items():
        start_price = pricing.price_on(prices, first_day) if prices else unit_price
        changes_inside = any(
            lower < pricing.local_midnight(day) < upper and price != start_price
            for day, price in prices
        )
        items[pk] = _Item(
            code=code,
            name=name,
            unit=unit,
            unit_price=start_price,
            period=period,
            divisor=pricing.divisor(period=PricePeriod(period), year=year, month=month),
            prices=tuple(prices) if changes_inside else None,
        )
    return items


def _price_lines(
    contract: Contract,
    *,
    year: int,
    month: int,
    rule: PartialDayRule,
    first: date,
    last: date,
    window: tuple[datetime, datetime],
    bounds: tuple[datetime, datetime],
    line_discount: Decimal | None,
) -> list[ComputedLine]:
    lower, upper = bounds
    items = _catalog(contract, year=year, month=month, lower=lower, upper=upper)

    overlapping = _resources_overlapping(contract, lower, upper)
    # Sorted here, not in SQL: code-point order of the names is the same on every database
    # (collations differ), so a statement's line order never depends on the backend.
    resources = sorted(
        _rows(
            Resource.objects.filter(overlapping)
            .order_by()
            .values_list(
                "id",
                "department_id",
                "department__name",
                "system_id",
                "system__name",
                "catalog_item_id",
                "quantity",
                "billing_starts_at",
                "offline_at",
            )
        ),
        key=_line_order,
    )
    if not resources:
        return []
    # Changes effective after the month cannot matter; those before it set the configuration
    # the month starts with, so they are all read. The order is the history's.
    # Rows are (resource id, delivered at, item id, quantity), kept as the driver returns them.
    history: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for change in _rows(
        ResourceChange.objects.filter(
            resource__in=Resource.objects.filter(overlapping).values("pk"),
            delivered_at__lt=upper,
        )
        .order_by("resource_id", "delivered_at", "id")
        .values_list("resource_id", "delivered_at", "catalog_item_id", "quantity")
    ):
        history[change[0]].append(change)

    clock = _Clock(resources[0][7])
    lower_raw, upper_raw = clock.raw(lower), clock.raw(upper)
    # A change delivered before 12:00 of the month's first billed day takes effect on or
    # before that day (``pricing.effective_change_date``): such changes only decide which
    # configuration the month starts in, they split nothing inside it.
    settled_raw = clock.raw(
        datetime.combine(
            business_date(lower),
            pricing.CHANGE_CUTOFF,
            tzinfo=pricing.BUSINESS_TZ,
        )
    )
    full_days = pricing.service_days(
        start=lower,
        end=upper,
        period_start=first,
        period_end=last,
        rule=rule,
        window_start=window[0],
        window_end=window[1],
    )
    full_days = round_half_up(full_days, places=1)

    # Usage is clipped to [lower, upper) first (``service_days`` clips to the same bounds, so
    # the result is unchanged). Segments split by changes then start and end on one of the
    # month's midnights: the same few pairs recur across thousands of resources and each is
    # weighed once.
    known_days: dict[tuple[datetime, datetime], Decimal] = {}

    def days_of(start: datetime, end: datetime | None) -> Decimal:
        start = max(start, lower)
        end = upper if end is None else min(end, upper)
        days = known_days.get((start, end))
        if days is None:
            days = known_days[(start, end)] = round_half_up(
                pricing.service_days(
                    start=start,
                    end=end,
                    period_start=first,
                    period_end=last,
                    rule=rule,
                    window_start=window[0],
                    window_end=window[1],
                ),
                places=1,
            )
        return days

    amounts: dict[tuple[int, int, Decimal, Decimal], Decimal] = {}
    lines: list[ComputedLine] = []
    add = lines.append

    def add_line(
        row: tuple[Any, ...],
        item_id: int,
        item: _Item,
        quantity: int,
        price: Decimal,
        days: Decimal,
        start: datetime,
        end: datetime,
    ) -> None:
        key = (item_id, quantity, days, price)
        amount = amounts.get(key)
        if amount is None:
            amount = amounts[key] = pricing.line_amount(
                unit_price=price,
                quantity=quantity,
                service_days=days,
                period=PricePeriod(item.period),
                year=year,
                month=month,
                discount=line_discount,
            )
        add(
            ComputedLine(
                row[1],
                row[2],
                row[3],
                row[4],
                item_id,
                item.code,
                item.name,
                item.unit,
                quantity,
                price,
                item.period,
                item.divisor,
                days,
                amount,
                row[0],
                start,
                end,
            )
        )

    priced: Sequence[tuple[int, int, datetime | None, datetime | None]]
    for row in resources:
        resource_id = row[0]
        billing_start, release = row[7], row[8]
        if release is not None and release <= billing_start:
            continue  # released during its test period: never billed
        changes = history.get(resource_id)
        if not changes:
            priced = [(row[5], row[6], None, None)]
        elif len(changes) == 1 or changes[-1][1] < settled_raw:
            # Only the delivery, or every change took effect by the month's first day.
            priced = [(changes[-1][2], changes[-1][3], None, None)]
        else:
            # Changes that took effect by the month's first day only set the configuration
            # it starts in; the splitting is left to the pure rule for the others.
            start_at = 1
            while start_at < len(changes) and changes[start_at][1] < settled_raw:
                start_at += 1
            priced = _split(
                clock.aware(billing_start),
                None if release is None else clock.aware(release),
                (changes[start_at - 1][2], changes[start_at - 1][3]),
                [(clock.aware(at), item, qty) for _id, at, item, qty in changes[start_at:]],
            )
        for item_id, quantity, seg_start, seg_end in priced:
            if seg_start is None:  # one configuration for the whole billed life
                if billing_start <= lower_raw and (release is None or release >= upper_raw):
                    days, start, end = full_days, lower, upper
                else:
                    start = clock.aware(billing_start)
                    released = None if release is None else clock.aware(release)
                    days = days_of(start, released)
                    start = max(start, lower)
                    end = upper if released is None else min(released, upper)
            else:
                if seg_start >= upper or (seg_end is not None and seg_end <= lower):
                    continue
                days = days_of(seg_start, seg_end)
                start = max(seg_start, lower)
                end = upper if seg_end is None else min(seg_end, upper)
            if not days:
                continue
            item = items[item_id]
            if item.prices is None:
                add_line(row, item_id, item, quantity, item.unit_price, days, start, end)
                continue
            # A price change inside the month: one line per price, each weighed and rounded
            # on its own (the pieces meet at local midnights, so their days add up).
            for price, piece_start, piece_end in pricing.price_pieces(
                start=start, end=end, prices=item.prices
            ):
                piece_days = days_of(piece_start, piece_end)
                if piece_days:
                    add_line(
                        row, item_id, item, quantity, price, piece_days, piece_start, piece_end
                    )
    return lines


#: Department name, system name, resource id.
_line_order = itemgetter(2, 4, 0)


def _split(
    billing_start: datetime,
    release: datetime | None,
    initial: tuple[int, int],
    changes: list[tuple[datetime, int, int]],
) -> list[tuple[int, int, datetime, datetime | None]]:
    """[(item id, quantity, start, end)] of a resource whose configuration changes in the
    month; a change of catalog item splits it exactly like a change of quantity."""
    return [
        (*config, start, end)  # type: ignore[misc]
        for config, start, end in pricing.config_segments(
            billing_start=billing_start,
            release=release,
            initial=initial,
            changes=[(at, (item_id, quantity)) for at, item_id, quantity in changes],
        )
    ]


def _subtotals(lines: list[ComputedLine]) -> list[DepartmentSubtotal]:
    """Sums by department and by (department, system), in the lines' order."""
    by_system: dict[tuple[int, int], list[Any]] = {}
    for line in lines:
        key = (line.department_id, line.system_id)
        entry = by_system.get(key)
        if entry is None:
            by_system[key] = [line, Decimal(0), 0]
            entry = by_system[key]
        entry[1] += line.amount
        entry[2] += 1
    departments: dict[int, DepartmentSubtotal] = {}
    totals: dict[int, list[Any]] = {}
    for (department_id, system_id), (line, amount, count) in by_system.items():
        if department_id not in departments:
            departments[department_id] = DepartmentSubtotal(
                department_id=department_id,
                department=line.department,
                subtotal=Decimal(0),
                lines=0,
            )
            totals[department_id] = [Decimal(0), 0]
        departments[department_id].systems.append(
            SystemSubtotal(
                department_id=department_id,
                department=line.department,
                system_id=system_id,
                system=line.system,
                subtotal=amount,
                lines=count,
            )
        )
        totals[department_id][0] += amount
        totals[department_id][1] += count
    return [
        DepartmentSubtotal(
            department_id=d.department_id,
            department=d.department,
            subtotal=totals[d.department_id][0],
            lines=totals[d.department_id][1],
            systems=d.systems,
        )
        for d in departments.values()
    ]
