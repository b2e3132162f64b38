"""The statement engine on persisted inventory: DESIGN §4's worked examples and rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.services.engine import compute_statement
from tests.billing.conftest import add_resource, sh

D = Decimal


def amounts(statement) -> list[tuple[str, int, Decimal, Decimal]]:
    return [
        (line.item_code, line.quantity, line.service_days, line.amount) for line in statement.lines
    ]


def test_baotou_worked_example(bt):
    # Given DESIGN §4's two resources on BT-2025 in March 2026 (31 days)
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    # When
    statement = compute_statement(bt.contract, 2026, 3)
    # Then: 03-10 has 9 h → 0.5 day, 21.5 days in all; the SSD is billed all month
    assert amounts(statement) == [
        ("ecs.general.vcpu", 8, D("21.5"), D("119.85")),
        ("ebs.ssd", 500, D("31.0"), D("225.00")),
    ]
    assert (statement.subtotal, statement.discount, statement.total) == (
        D("344.85"),
        D("0.9999"),
        D("344.82"),
    )
    assert statement.vat == D("344.82") - D("325.30")
    assert statement.period == "2026-03"


def test_jiaozuo_worked_example(jz):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    statement = compute_statement(jz.contract, 2026, 7)
    assert amounts(statement) == [("ecs.4c8g", 1, D("31.0"), D("193.64"))]
    assert (statement.subtotal, statement.total) == (D("193.64"), D("193.50"))


def test_four_queries_whatever_the_inventory(bt, django_assert_num_queries):
    for day in range(1, 21):
        add_resource(
            bt.contract,
            bt.department,
            "ecs.general.vcpu",
            2,
            sh(2026, 2, day, 10),
            system=f"系统{day % 3}",
            changes=[(sh(2026, 3, day, 9), 4), (sh(2026, 3, day + 5, 13), 6)],
        )
    # the successor (where the contract's billing ends), catalog, resources, changes
    with django_assert_num_queries(4):
        statement = compute_statement(bt.contract, 2026, 3)
    assert len(statement.lines) > 20


@pytest.mark.parametrize(
    ("delivered", "expected"),
    [
        # before 12:00 the new quantity holds the day: 9 days × 4, 22 days × 8
        pytest.param((10, 11, 59), [(4, "9.0", "25.08"), (8, "22.0", "122.63")], id="11:59"),
        # at 12:00 the day stays with the old quantity: 10 days × 4, 21 days × 8
        pytest.param((10, 12, 0), [(4, "10.0", "27.87"), (8, "21.0", "117.06")], id="12:00"),
    ],
)
def test_quantity_change_noon_rule_on_persisted_history(bt, delivered, expected):
    day, hour, minute = delivered
    add_resource(
        bt.contract,
        bt.department,
        "ecs.general.vcpu",
        4,
        sh(2026, 2, 1),
        changes=[(sh(2026, 3, day, hour, minute), 8)],
    )
    statement = compute_statement(bt.contract, 2026, 3)
    assert [
        (line.quantity, str(line.service_days), str(line.amount)) for line in statement.lines
    ] == expected
    # one line per segment, each on its own dates
    first, second = statement.lines
    assert first.segment_end == second.segment_start
    assert first.segment_start == sh(2026, 3, 1)
    assert second.segment_end == sh(2026, 4, 1)


def test_item_change_splits_like_a_quantity_change(jz):
    # ecs.4c8g → ecs.8c16g delivered 07-10 14:00 (after noon): new flavour from 07-11
    add_resource(
        jz.contract,
        jz.department,
        "ecs.4c8g",
        1,
        sh(2026, 6, 10),
        changes=[(sh(2026, 7, 10, 14), 1, "ecs.8c16g")],
    )
    statement = compute_statement(jz.contract, 2026, 7)
    assert amounts(statement) == [
        ("ecs.4c8g", 1, D("10.0"), D("62.47")),  # 2280 × 10 / 365
        ("ecs.8c16g", 1, D("21.0"), D("262.36")),  # 4560 × 21 / 365
    ]


def test_item_and_quantity_back_and_forth(bt):
    # 4 → 8 → back to 4 the next morning: three segments, never merged across the change
    add_resource(
        bt.contract,
        bt.department,
        "ecs.general.vcpu",
        4,
        sh(2026, 2, 1),
        changes=[(sh(2026, 3, 10, 9), 8), (sh(2026, 3, 20, 9), 4)],
    )
    statement = compute_statement(bt.contract, 2026, 3)
    assert [(line.quantity, line.service_days) for line in statement.lines] == [
        (4, D("9.0")),
        (8, D("10.0")),
        (4, D("12.0")),
    ]


def test_identical_resources_are_separate_lines(bt):
    for _ in range(2):
        add_resource(bt.contract, bt.department, "ebs.ssd", 1, sh(2026, 3, 2, 10))
    statement = compute_statement(bt.contract, 2026, 3)
    assert len(statement.lines) == 2
    assert statement.subtotal == 2 * statement.lines[0].amount


def test_test_period_bills_from_its_end(bt):
    # delivered 02-20 10:00, billing starts after the 1-month test period: 03-20 10:00
    add_resource(
        bt.contract,
        bt.department,
        "ecs.general.vcpu",
        2,
        sh(2026, 2, 20, 10),
        billing_starts_at=sh(2026, 3, 20, 10),
    )
    assert compute_statement(bt.contract, 2026, 2).lines == []
    statement = compute_statement(bt.contract, 2026, 3)
    # 03-20 has 14 h → 1 day, then 11 days: 21.6 × 2 × 12 / 31
    assert amounts(statement) == [("ecs.general.vcpu", 2, D("12.0"), D("16.72"))]


def test_released_during_test_period_is_never_billed(bt):
    add_resource(
        bt.contract,
        bt.department,
        "ecs.general.vcpu",
        2,
        sh(2026, 2, 20, 10),
        billing_starts_at=sh(2026, 3, 20, 10),
        offline_at=sh(2026, 3, 5, 10),
    )
    assert compute_statement(bt.contract, 2026, 3).lines == []


def test_release_mid_month_half_day_rule(bt):
    # offline 03-15 08:00: 14 whole days + 8 h → 0.5
    add_resource(
        bt.contract, bt.department, "ebs.ssd", 100, sh(2026, 1, 1), offline_at=sh(2026, 3, 15, 8)
    )
    statement = compute_statement(bt.contract, 2026, 3)
    assert amounts(statement) == [("ebs.ssd", 100, D("14.5"), D("21.05"))]
    assert compute_statement(bt.contract, 2026, 4).lines == []


def test_release_mid_month_whole_day_rule(jz):
    # 焦作: the offline day counts whole — 07-01 … 07-15 = 15 days
    add_resource(
        jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1), offline_at=sh(2026, 7, 15, 8)
    )
    statement = compute_statement(jz.contract, 2026, 7)
    assert amounts(statement) == [("ecs.4c8g", 1, D("15.0"), D("93.70"))]


def test_release_at_midnight_does_not_touch_the_next_day(bt):
    add_resource(
        bt.contract, bt.department, "ebs.ssd", 100, sh(2026, 1, 1), offline_at=sh(2026, 3, 16)
    )
    statement = compute_statement(bt.contract, 2026, 3)
    assert statement.lines[0].service_days == D("15.0")


def test_yearly_item_in_monthly_contract_divides_by_365(bt):
    add_resource(bt.contract, bt.department, "line.1g", 1, sh(2026, 1, 1))
    statement = compute_statement(bt.contract, 2026, 3)
    line = statement.lines[0]
    assert (line.divisor, line.amount) == (365, D("10.19"))  # 120 × 31 / 365


def test_usage_before_billing_from_is_clipped(jz):
    # 焦作 三、1: usage from 2026-03-20 on is settled under the contract
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 3, 1))
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 3, 25, 15), system="其他")
    assert compute_statement(jz.contract, 2026, 2).lines == []
    statement = compute_statement(jz.contract, 2026, 3)
    assert [(line.system, line.service_days, line.amount) for line in statement.lines] == [
        ("其他", D("7.0"), D("43.73")),  # 03-25 … 03-31, the online day whole: 2280 × 7 / 365
        ("政务服务平台", D("12.0"), D("74.96")),  # 03-20 … 03-31: 2280 × 12 / 365
    ]


def test_usage_after_service_end_is_clipped(bt):
    # BT-2025's service period ends 2026-06-19 (billed through its 24:00)
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 1))
    add_resource(bt.contract, bt.department, "ebs.ssd", 10, sh(2026, 6, 19, 15), system="其他")
    statement = compute_statement(bt.contract, 2026, 6)
    assert [(line.quantity, line.service_days, line.amount) for line in statement.lines] == [
        (10, D("0.5"), D("0.08")),  # 0.45 × 10 × 0.5 / 30 = 0.075
        (500, D("19.0"), D("142.50")),  # 0.45 × 500 × 19 / 30
    ]
    july = compute_statement(bt.contract, 2026, 7)
    assert (july.lines, july.total) == ([], D("0.00"))


def test_subtotals_by_department_and_system(bt, reference):
    other = bt.department.__class__.objects.create(
        name="包头市 另一局", kind="department", parent=bt.contract.bureau
    )
    add_resource(bt.contract, bt.department, "ebs.ssd", 100, sh(2026, 1, 1), system="甲")
    add_resource(bt.contract, bt.department, "ebs.ssd", 100, sh(2026, 1, 1), system="乙")
    add_resource(bt.contract, other, "ebs.ssd", 200, sh(2026, 1, 1), system="甲")
    statement = compute_statement(bt.contract, 2026, 3)
    by_department = {d.department: (d.subtotal, d.lines) for d in statement.departments}
    assert by_department == {"BT-2025 测试局": (D("90.00"), 2), "包头市 另一局": (D("90.00"), 1)}
    assert [(s.department, s.system, s.subtotal) for s in statement.systems] == [
        ("BT-2025 测试局", "乙", D("45.00")),
        ("BT-2025 测试局", "甲", D("45.00")),
        ("包头市 另一局", "甲", D("90.00")),
    ]
    assert sum(d.subtotal for d in statement.departments) == statement.subtotal


def test_other_contracts_resources_are_ignored(bt, jz):
    add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 1, 1))
    assert compute_statement(bt.contract, 2026, 3).lines == []


def reference_lines(contract, year: int, month: int) -> list[tuple]:
    """The rules applied naively: every resource, every history row, no shortcuts."""
    from billing import pricing
    from billing.models import Resource

    window = pricing.billing_window(
        billing_from=contract.billing_from, service_end=contract.service_end
    )
    first, last = pricing.month_bounds(year, month)
    result = []
    for resource in Resource.objects.filter(contract=contract).prefetch_related(
        "changes__catalog_item"
    ):
        history = sorted(resource.changes.all(), key=lambda c: (c.delivered_at, c.pk))
        initial = (history[0].catalog_item, history[0].quantity)
        segments = pricing.config_segments(
            billing_start=resource.billing_starts_at,
            release=resource.offline_at,
            initial=initial,
            changes=[(c.delivered_at, (c.catalog_item, c.quantity)) for c in history[1:]],
        )
        for (item, quantity), start, end in segments:
            days = pricing.service_days(
                start=start,
                end=end,
                period_start=first,
                period_end=last,
                rule=contract.partial_day_rule,
                window_start=window[0],
                window_end=window[1],
            )
            if days:
                amount = pricing.line_amount(
                    unit_price=item.unit_price,
                    quantity=quantity,
                    service_days=days,
                    period=item.period,
                    year=year,
                    month=month,
                )
                result.append((resource.pk, item.code, quantity, days, amount))
    return sorted(result)


@pytest.mark.parametrize("seed", range(6))
def test_engine_agrees_with_the_naive_rules(bt, jz, seed):
    # Random histories around the month's edges, the 12:00 cutoff of its first day, test
    # periods, releases and item changes: the engine's shortcuts must change nothing.
    import random
    from datetime import timedelta

    rng = random.Random(seed)
    cases = (
        (bt, ["ecs.general.vcpu", "ecs.domestic.vcpu", "line.1g"], (2026, 6)),
        (jz, ["ecs.4c8g", "ecs.8c16g"], (2026, 7)),
    )
    for parties, codes, (year, month) in cases:
        month_start = sh(year, month, 1)
        for n in range(40):
            online = month_start + timedelta(minutes=rng.randrange(-60 * 24 * 45, 60 * 24 * 25))
            billing = online + timedelta(days=rng.choice([0, 0, 0, 30]))
            offline = None
            if rng.random() < 0.4:
                offline = online + timedelta(minutes=rng.randrange(60, 60 * 24 * 60))
            # around 12:00 of the month's first day, where the engine takes its shortcut
            edge = month_start + timedelta(hours=12, minutes=rng.choice([-1, 0, 1, -600, 600]))
            changes = []
            for _ in range(rng.randint(0, 3)):
                at = rng.choice([edge, online + timedelta(minutes=rng.randrange(1, 60 * 24 * 50))])
                changes.append((at, rng.randint(1, 8), rng.choice(codes)))
            add_resource(
                parties.contract,
                parties.department,
                rng.choice(codes),
                rng.randint(1, 8),
                online,
                system=f"系统{n % 4}",
                billing_starts_at=billing,
                offline_at=offline,
                changes=sorted(changes, key=lambda c: c[0]),
            )
        for period in ((year, month - 1), (year, month)):
            statement = compute_statement(parties.contract, *period)
            engine = sorted(
                (line.resource_id, line.item_code, line.quantity, line.service_days, line.amount)
                for line in statement.lines
            )
            assert engine
            assert engine == reference_lines(parties.contract, *period)
