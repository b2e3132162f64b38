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

Performance (``benchmarks/billing_statement.py``: 20,000 resources within 3× merely reading
the rows on SQLite; ``benchmarks/statement_province.py``: 200,000 resources and 600,000 changes
on PostgreSQL, lines saved and department bills included). Exactly four queries whatever the
size — the contract's successor (where its billing ends: ``govcloud.lifecycle``), the catalog
with its dated prices, the resources overlapping the month (filtered in SQL) and their changes
— the last two read as two streams merged on the resource, in chunks (server-side cursors on
PostgreSQL), as plain tuples (SQLite's datetimes as their stored text, compared as such).
``StatementStream`` yields the lines in the statement's order (the database sorts by name in
code-point order) and keeps only running subtotals, so ``statement_generate`` writes 200,000
lines in bounded memory; ``compute_statement``, which returns them all anyway, reads in
resource order (no sort in the database) and orders the lines itself. No query per resource
and no loop over days. Most resources are priced without calling the pure rules at all: a
resource whose configuration was settled before the month and that covers all of it gets the
line memoised for its (item, quantity), amounts are memoised per (item, quantity, days, price).
Only resources that start, end or change inside the month go through ``config_segments`` and
``service_days``, and their midnight-to-midnight segments are weighed once per distinct pair;
only items whose price changes inside the month go through ``price_pieces``. A property test
checks the result against the rules applied naively to every history row.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple, cast

from django.db import connection
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast, Collate
from django.utils.translation import gettext as _

from billing import pricing
from billing.models import CatalogItem, Resource, ResourceChange
from billing.money import round_half_up
from billing.pricing import DiscountScope, PartialDayRule, PricePeriod
from govcloud.dates import business_date
from govcloud.exceptions import ApplicationError
from govcloud.lifecycle import contract_billing_last_day
from govcloud.models import Contract

__all__ = [
    "ComputedLine",
    "ComputedStatement",
    "DepartmentSubtotal",
    "InventoryChanged",
    "StatementStream",
    "StatementSummary",
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
    price_period: PricePeriod
    #: Every dated price, when one changes inside the month (else None: one price all month).
    prices: tuple[tuple[date, Decimal], ...] | None = None


#: ((item id, quantity), start, end) of a resource's configurations (``config_segments``).
_Segments = Sequence[tuple[tuple[int, int], datetime | None, datetime | None]]


class _Clock:
    """Datetimes as the database returns them, compared without conversion.

    PostgreSQL gives aware datetimes. SQLite stores naive UTC text (``str()`` of the datetime,
    as Django writes it) and the engine reads that text as it is (``_moment``): in that one
    fixed format text order is time order, and parsing 50,000 values the loop mostly only
    compares would cost more than the read. The loop compares raw values with bounds converted
    once to the same form, and makes a value aware only when it reaches ``pricing`` or a line
    — for most resources, never.
    """

    def __init__(self, sample: Any) -> None:
        self.text = isinstance(sample, str)
        self.naive = self.text or (isinstance(sample, datetime) and sample.tzinfo is None)

    def raw(self, value: datetime) -> Any:
        if not self.naive:
            return value
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return str(naive) if self.text else naive

    def aware(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _moment(name: str) -> Any:
    """A datetime column as ``_Clock`` reads it: SQLite's stored text (no per-value parsing
    by the driver's converter), else the column."""
    if connection.vendor == "sqlite":
        return Cast(name, output_field=TextField())
    return F(name)


def _stream(queryset: Any, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """Run a ``values_list`` queryset through the cursor and yield raw tuples, ``chunk_size``
    rows at a time: a server-side cursor on PostgreSQL (the client holds one chunk, not the
    result), SQLite's own stepping cursor elsewhere. One query; the ORM's per-value converters
    and row objects cost more than the query itself at this size, so they are skipped."""
    sql, params = queryset.query.sql_with_params()
    server_side = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    cursor = connection.chunked_cursor() if server_side else connection.cursor()
    with cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def _resources_overlapping(
    contract: Contract, lower: datetime, upper: datetime, prefix: str = ""
) -> Q:
    return Q(**{f"{prefix}contract": contract, f"{prefix}billing_starts_at__lt": upper}) & (
        Q(**{f"{prefix}offline_at__isnull": True}) | Q(**{f"{prefix}offline_at__gt": lower})
    )


#: Collations that compare text by code point (UTF-8 byte order), as Python compares ``str``.
_CODE_POINT_ORDER = {"postgresql": "C", "sqlite": "BINARY"}


def _name_order(prefix: str = "") -> list[Collate] | None:
    """ORDER BY department name, system name in code-point order — the statement's line order
    on every backend (collations differ, Python's ``str`` order does not) — or None where no
    such collation is known (the rows are then sorted in Python)."""
    collation = _CODE_POINT_ORDER.get(connection.vendor)
    if collation is None:
        return None
    return [
        Collate(F(f"{prefix}department__name"), collation),
        Collate(F(f"{prefix}system__name"), collation),
    ]


def _inventory(
    contract: Contract, lower: datetime, upper: datetime, chunk_size: int, *, by_name: bool
) -> tuple[Iterator[tuple[Any, ...]], Iterator[tuple[Any, ...]]]:
    """Two streams in the statement's order (department name, system name, resource id) — or,
    without ``by_name``, in resource id order, which the indexes give without sorting:

    * the resources overlapping [lower, upper): ``(id, department id, department name,
      system id, system name, item id, quantity, billing starts at, offline at)``;
    * their changes effective before ``upper`` — those before the month set the configuration
      it starts with, so all are read — in history order within a resource: ``(resource id,
      delivered at, item id, quantity)``.

    Values are as the driver returns them. Two queries, read lazily and in chunks.
    """
    resources = Resource.objects.filter(_resources_overlapping(contract, lower, upper)).values_list(
        "id",
        "department_id",
        "department__name",
        "system_id",
        "system__name",
        "catalog_item_id",
        "quantity",
        _moment("billing_starts_at"),
        _moment("offline_at"),
    )
    changes = ResourceChange.objects.filter(
        _resources_overlapping(contract, lower, upper, prefix="resource__"),
        delivered_at__lt=upper,
    ).values_list("resource_id", _moment("delivered_at"), "catalog_item_id", "quantity")
    if not by_name:
        return (
            _stream(resources.order_by("id"), chunk_size),
            _stream(changes.order_by("resource_id", "delivered_at", "id"), chunk_size),
        )
    names = _name_order()
    if names is not None:
        return (
            _stream(resources.order_by(*names, "id"), chunk_size),
            _stream(
                changes.order_by(
                    *(_name_order("resource__") or ()), "resource_id", "delivered_at", "id"
                ),
                chunk_size,
            ),
        )
    # An unknown backend: read everything, sort in Python (stable: history order is kept).
    ordered = sorted(_stream(resources.order_by(), chunk_size), key=_line_order)
    rank = {row[0]: index for index, row in enumerate(ordered)}
    history = [
        change
        for change in _stream(changes.order_by("resource_id", "delivered_at", "id"), chunk_size)
        if change[0] in rank
    ]
    history.sort(key=lambda change: rank[change[0]])
    return iter(ordered), iter(history)


class InventoryChanged(ApplicationError):
    """The resources and their changes, read one after the other, no longer matched: the
    inventory was edited meanwhile. Nothing was saved; generating again reads it anew."""

    status_code = 409


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
            price_period=PricePeriod(period),
            prices=tuple(prices) if changes_inside else None,
        )
    return items


#: Rows a streamed read holds at a time (and the size of each FETCH on PostgreSQL).
CHUNK_SIZE = 5000


@dataclass(frozen=True)
class StatementSummary:
    """A month's figures without its lines: what a streamed generation keeps in memory."""

    contract: str
    year: int
    month: int
    lines_count: int
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    vat: Decimal
    vat_rate: Decimal
    departments: list[DepartmentSubtotal]
    discount_applies_to: str = DiscountScope.SUBTOTAL


class StatementStream:
    """A contract's month priced lazily: iterate once for the lines, in statement order, then
    ask ``summary()`` for the totals and the subtotals by department and system.

    Memory stays bounded whatever the inventory: the resources and their changes are read in
    chunks (two ordered streams merged on the resource), each line is yielded as soon as it is
    priced, and only one running subtotal per (department, system) is kept. The figures are
    exactly ``compute_statement``'s, which is ``list()`` of this stream plus its summary.
    """

    def __init__(
        self,
        contract: Contract,
        year: int,
        month: int,
        *,
        in_statement_order: bool = True,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.contract = contract
        #: Lines in the statement's order; else resource by resource in id order (cheaper to
        #: read, for a caller that sorts them itself: ``compute_statement``).
        self.in_statement_order = in_statement_order
        self.year = year
        self.month = month
        self.chunk_size = chunk_size
        self.rule = PartialDayRule(contract.partial_day_rule)
        self.scope = DiscountScope(contract.discount_applies_to or DiscountScope.SUBTOTAL)
        self.first, self.last = pricing.month_bounds(year, month)
        last_day = contract_billing_last_day(contract)
        self.window = pricing.billing_window(
            billing_from=contract.billing_from, service_end=last_day
        )
        self.lower, self.upper = month_billing_bounds(contract, year, month, last_day=last_day)
        # (department id, system id) → [department, system, subtotal, lines, first resource].
        self._tally: dict[tuple[int, int], list[Any]] = {}
        self._started = False
        self._finished = False

    def __iter__(self) -> Iterator[ComputedLine]:
        if self._started:
            raise RuntimeError("a statement stream can be read only once")
        self._started = True
        if self.lower < self.upper:
            yield from self._lines()
        self._finished = True

    def summary(self) -> StatementSummary:
        """Totals (``pricing.statement_totals``) and subtotals, once every line was read."""
        if not self._finished:
            raise RuntimeError("read every line of the statement stream first")
        subtotal = Decimal(0)
        count = 0
        departments: dict[int, list[Any]] = {}
        # In the statement's order: by the first line of each (department, system).
        tally = sorted(self._tally.items(), key=lambda item: _tally_order(item[1]))
        for (department_id, system_id), (department, system, amount, lines, _first) in tally:
            subtotal += amount
            count += lines
            entry = departments.get(department_id)
            if entry is None:
                entry = departments[department_id] = [department, Decimal(0), 0, []]
            entry[1] += amount
            entry[2] += lines
            entry[3].append(
                SystemSubtotal(
                    department_id=department_id,
                    department=department,
                    system_id=system_id,
                    system=system,
                    subtotal=amount,
                    lines=lines,
                )
            )
        # Σ of whole-fen amounts is exact in Decimal; statement_totals validates the one value
        # instead of 200,000 (the result is the same).
        totals = pricing.statement_totals(
            [subtotal],
            discount=self.contract.discount_factor,
            vat_rate=self.contract.vat_rate,
            applies_to=self.scope,
        )
        return StatementSummary(
            contract=self.contract.code,
            year=self.year,
            month=self.month,
            lines_count=count,
            subtotal=totals.subtotal,
            discount=totals.discount,
            total=totals.total,
            vat=totals.vat,
            vat_rate=self.contract.vat_rate,
            departments=[
                DepartmentSubtotal(
                    department_id=department_id,
                    department=department,
                    subtotal=amount,
                    lines=lines,
                    systems=systems,
                )
                for department_id, (department, amount, lines, systems) in departments.items()
            ],
            discount_applies_to=str(self.scope),
        )

    def _lines(self) -> Iterator[ComputedLine]:
        year, month, rule = self.year, self.month, self.rule
        first, last = self.first, self.last
        lower, upper = self.lower, self.upper
        line_discount = self.contract.discount_factor if self.scope is DiscountScope.LINE else None
        items = _catalog(self.contract, year=year, month=month, lower=lower, upper=upper)
        by_name = self.in_statement_order
        resources, changes_stream = _inventory(
            self.contract, lower, upper, self.chunk_size, by_name=by_name
        )
        pending = next(changes_stream, None)
        tally = self._tally

        # Usage is clipped to [lower, upper) first (``service_days`` clips to the same bounds,
        # so the result is unchanged). Segments split by changes then start and end on one of
        # the month's midnights: the same few pairs recur across thousands of resources and
        # each is weighed once.
        known_days: dict[tuple[datetime, datetime], Decimal] = {}

        def days_of(start: datetime, end: datetime | None) -> Decimal:
            start = max(start, lower)
            end = upper if end is None else min(end, upper)
            days = known_days.get((start, end))
            if days is None:
                # [start, end) lies inside [lower, upper), itself inside the contract's
                # billing window: clipping to the window again would change nothing.
                days = known_days[(start, end)] = round_half_up(
                    pricing.service_days(
                        start=start, end=end, period_start=first, period_end=last, rule=rule
                    ),
                    places=1,
                )
            return days

        full_days = days_of(lower, upper)
        amounts: dict[tuple[int, int, Decimal, Decimal], Decimal] = {}

        def amount_of(
            item_id: int, item: _Item, quantity: int, price: Decimal, days: Decimal
        ) -> Decimal:
            key = (item_id, quantity, days, price)
            amount = amounts.get(key)
            if amount is None:
                amount = amounts[key] = pricing.line_amount(
                    unit_price=price,
                    quantity=quantity,
                    service_days=days,
                    period=item.price_period,
                    year=year,
                    month=month,
                    discount=line_discount,
                )
            return amount

        new_line = partial(tuple.__new__, ComputedLine)

        def whole_month_line(item_id: int, quantity: int) -> tuple[Any, ...]:
            """(amount, the line's values from item to amount) of (item, quantity) all month at
            one price; () when the month has none (nothing billed, or a price change)."""
            item = items[item_id]
            if not full_days or item.prices is not None:
                return ()
            amount = amount_of(item_id, item, quantity, item.unit_price, full_days)
            values = (item_id, item.code, item.name, item.unit, quantity, item.unit_price)
            return amount, (*values, item.period, item.divisor, full_days, amount)

        # By (item id, quantity): see whole_month_line.
        whole_month: dict[tuple[int, int], tuple[Any, ...]] = {}
        clock: _Clock | None = None
        lower_raw = upper_raw = settled_raw = lower
        tally_department = tally_system = None
        tally_entry: list[Any] | None = None
        priced: _Segments
        for row in resources:
            resource_id = row[0]
            # This resource's changes: the next rows of the change stream, which follows the
            # same order (a resource without any is simply not there).
            changes: list[tuple[Any, ...]] | None = None
            if not by_name:
                # Changes of a resource the first read did not return (the inventory changed
                # between the two reads) come before the next one read: passed over.
                while pending is not None and pending[0] < resource_id:
                    pending = next(changes_stream, None)
            if pending is not None and pending[0] == resource_id:
                changes = [pending]
                for pending in changes_stream:
                    if pending[0] != resource_id:
                        break
                    changes.append(pending)
                else:
                    pending = None
            if clock is None:
                clock = _Clock(row[7])
                lower_raw, upper_raw = clock.raw(lower), clock.raw(upper)
                # A change delivered before 12:00 of the month's first billed day takes effect
                # on or before that day (``pricing.effective_change_date``): such changes only
                # decide which configuration the month starts in, they split nothing inside it.
                settled_raw = clock.raw(
                    datetime.combine(
                        business_date(lower), pricing.CHANGE_CUTOFF, tzinfo=pricing.BUSINESS_TZ
                    )
                )
            billing_start, release = row[7], row[8]
            if release is not None and release <= billing_start:
                continue  # released during its test period: never billed
            if row[3] != tally_system or row[1] != tally_department:
                tally_department, tally_system, tally_entry = row[1], row[3], None
            if not changes:
                config = row[5:7]  # (item id, quantity)
            elif len(changes) == 1 or changes[-1][1] < settled_raw:
                # Only the delivery, or every change took effect by the month's first day.
                config = changes[-1][2:]
            else:
                config = None
            if (
                config is not None
                and billing_start <= lower_raw
                and (release is None or release >= upper_raw)
            ):
                # Most resources: one configuration all month. At one price, that is one line
                # whose every value but the resource's is the same for its (item, quantity).
                whole = whole_month.get(config)
                if whole is None:
                    whole = whole_month[config] = whole_month_line(*config)
                if whole:
                    if tally_entry is None:  # the (department, system)'s first line here
                        tally_entry = tally.get(row[1:5:2]) or tally.setdefault(
                            row[1:5:2], [row[2], row[4], Decimal(0), 0, resource_id]
                        )
                    tally_entry[2] += whole[0]
                    tally_entry[3] += 1
                    yield new_line(row[1:5] + whole[1] + (resource_id, lower, upper))
                    continue
            if config is not None:
                priced = ((config, None, None),)
            else:
                # Changes that took effect by the month's first day only set the configuration
                # it starts in; the splitting is left to the pure rule for the others.
                history = changes or []
                start_at = 1
                while start_at < len(history) and history[start_at][1] < settled_raw:
                    start_at += 1
                # A change of catalog item splits the month exactly like a change of quantity.
                aware = clock.aware
                priced = cast(
                    _Segments,
                    pricing.config_segments(
                        billing_start=aware(billing_start),
                        release=None if release is None else aware(release),
                        initial=(history[start_at - 1][2], history[start_at - 1][3]),
                        changes=[(aware(c[1]), (c[2], c[3])) for c in history[start_at:]],
                    ),
                )
            for (item_id, quantity), seg_start, seg_end in priced:
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
                    pieces: Sequence[tuple[Decimal, datetime, datetime]] = (
                        (item.unit_price, start, end),
                    )
                else:
                    # A price change inside the month: one line per price, each weighed and
                    # rounded on its own (the pieces meet at local midnights, so their days
                    # add up).
                    pieces = pricing.price_pieces(start=start, end=end, prices=item.prices)
                for price, piece_start, piece_end in pieces:
                    if item.prices is not None:
                        days = days_of(piece_start, piece_end)
                        if not days:
                            continue
                    amount = amount_of(item_id, item, quantity, price, days)
                    if tally_entry is None:
                        tally_entry = tally.get(row[1:5:2]) or tally.setdefault(
                            row[1:5:2], [row[2], row[4], Decimal(0), 0, resource_id]
                        )
                    tally_entry[2] += amount
                    tally_entry[3] += 1
                    yield new_line(
                        (
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
                            resource_id,
                            piece_start,
                            piece_end,
                        )
                    )
        if by_name and pending is not None:
            # A change of a resource the first read did not return: the inventory changed
            # between the two reads, and the lines after that point may lack their changes.
            raise InventoryChanged(_("云资源清单在统计期间发生了变化，请重新生成统计表。"))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a whole statement is gathered in memory.

    Tens of thousands of lines (tuples of plain values, no reference cycles) would otherwise
    trigger collections that walk every object the process holds, again and again, for
    nothing: a tenth of ``compute_statement``'s time. Reference counting still frees
    everything; the collector is restored (if it was on) when the list is complete.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compute_statement(contract: Contract, year: int, month: int) -> ComputedStatement:
    """Price ``contract``'s inventory for ``year``-``month`` (four queries, nothing saved):
    the successor (where billing ends), the catalog, the resources and their changes."""
    stream = StatementStream(contract, year, month, in_statement_order=False)
    # Read in resource order (no sorting in the database), gathered by department and system
    # name, then put in the statement's order group by group: within a group, resource order
    # is the statement's.
    groups: dict[tuple[str, str], list[ComputedLine]] = {}
    key: tuple[str, str] | None = None
    group: list[ComputedLine] = []
    with _collector_paused():
        for line in stream:
            name = (line[1], line[3])
            if name != key:
                key = name
                group = groups.setdefault(name, [])
            group.append(line)
        lines = [line for name in sorted(groups) for line in groups[name]]
    summary = stream.summary()
    return ComputedStatement(
        contract=summary.contract,
        year=year,
        month=month,
        lines=lines,
        subtotal=summary.subtotal,
        discount=summary.discount,
        total=summary.total,
        vat=summary.vat,
        vat_rate=summary.vat_rate,
        departments=summary.departments,
        discount_applies_to=summary.discount_applies_to,
    )


#: Department name, system name, resource id.
_line_order = itemgetter(2, 4, 0)
#: The same for a tally entry (department, system, subtotal, lines, first resource id).
_tally_order = itemgetter(0, 1, 4)
