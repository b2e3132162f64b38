"""Edge-by-edge tests of the pure SLA rules (sla.rules) against the Baotou 服务水平协议."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from sla.rules import (
    AREAS,
    AVAILABILITY_ALLOWANCE_MINUTES,
    CPU_BANDS,
    MEM_BANDS,
    SECURITY_MECHANISM_ITEMS,
    AreaScore,
    Band,
    Deduction,
    Grade,
    IncidentInput,
    MoneyDeduction,
    OutageInput,
    Scorecard,
    availability_allowance,
    availability_deduction,
    availability_excess,
    build_scorecard,
    deduction_ratio,
    grade,
    rightsize,
    rightsize_disk,
    score_availability,
    score_deliverables,
    score_delivery,
    score_disaster_recovery,
    score_improvement,
    score_satisfaction,
    score_security_mechanism,
    score_security_responsibility,
    score_training,
    score_utilization,
    utilization_low,
)

D = Decimal
# BT-2025's utilization terms (附件2 7.3): below 30 % costs 20 % of the annual fee.
BT = {"threshold_pct": D("30"), "charge_pct": D("20")}


def perfect_areas() -> list[AreaScore]:
    """Every area with nothing to deduct."""
    return [
        score_availability([]),
        score_delivery([]),
        score_security_mechanism([]),
        score_security_responsibility([]),
        score_training(True, ["t1", "t2"]),
        score_disaster_recovery([]),
        score_utilization([], avg_cpu_pct=D("55"), avg_mem_pct=D("60"), annual_fee=D("1000"), **BT),
        score_satisfaction(D("90"), D("98")),
        score_improvement([], working_days=10),
        score_deliverables([], []),
    ]


# ---------------------------------------------------------------------------------------------
# Areas table
# ---------------------------------------------------------------------------------------------


def test_areas_sum_to_100_in_contract_order() -> None:
    assert sum(points for _, points in AREAS.values()) == D("100")
    assert list(AREAS) == [
        "availability",
        "delivery",
        "security_mechanism",
        "security_responsibility",
        "training",
        "disaster_recovery",
        "utilization",
        "satisfaction",
        "improvement",
        "deliverables",
    ]


def test_areas_is_read_only() -> None:
    with pytest.raises(TypeError):
        AREAS["availability"] = ("x", D("1"))  # type: ignore[index]


# ---------------------------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("excess", "points"),
    [
        pytest.param("0", 0, id="0-none"),
        pytest.param("0.01", 1, id="0.01-first-band"),
        pytest.param("30", 1, id="30-top-of-first-band"),
        pytest.param("30.01", 2, id="30.01"),
        pytest.param("60", 2, id="60"),
        pytest.param("60.01", 3, id="60.01"),
        pytest.param("120", 3, id="120"),
        pytest.param("120.01", 5, id="120.01-jumps-to-5"),
        pytest.param("150", 5, id="150-still-5"),
        pytest.param("150.0001", 6, id="150.0001-started-step"),
        pytest.param("150.01", 6, id="150.01"),
        pytest.param("151", 6, id="151"),
        pytest.param("180", 6, id="180-full-step"),
        pytest.param("180.01", 7, id="180.01"),
        pytest.param("180.5", 7, id="180.5"),
        pytest.param("210", 7, id="210"),
        pytest.param("240", 8, id="240"),
        pytest.param("270", 9, id="270"),
        pytest.param("270.01", 10, id="270.01-reaches-cap"),
        pytest.param("300", 10, id="300-cap"),
        pytest.param("400", 10, id="400-capped"),
        pytest.param("100000", 10, id="huge-capped"),
    ],
)
def test_availability_deduction_bands(excess: str, points: int) -> None:
    assert availability_deduction(D(excess)) == D(points)


def test_availability_deduction_accepts_int() -> None:
    assert availability_deduction(0) == D("0")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [pytest.param(D("-0.01"), id="negative"), pytest.param(D("NaN"), id="nan")],
)
def test_availability_deduction_rejects_bad_values(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="excess_minutes"):
        availability_deduction(bad)


def test_availability_deduction_rejects_float() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        availability_deduction(1.5)  # type: ignore[arg-type]


def test_allowance_is_0_05_percent_of_365_days() -> None:
    assert D("365") * 1440 * D("0.0005") == AVAILABILITY_ALLOWANCE_MINUTES == D("262.8")


@pytest.mark.parametrize(
    ("outage", "excess"),
    [
        pytest.param("0", "0", id="no-outage"),
        pytest.param("262.8", "0", id="exactly-allowance"),
        pytest.param("262.79", "0", id="just-under"),
        pytest.param("262.81", "0.01", id="just-over"),
        pytest.param("300", "37.2", id="300"),
    ],
)
def test_availability_excess(outage: str, excess: str) -> None:
    assert availability_excess(D(outage)) == D(excess)


def test_availability_excess_year_days_is_the_contracts_nominal_year() -> None:
    # BT-2025 counts the year as 365 days ("按365天计算"); the parameter is there for a
    # contract that defines it otherwise.
    assert availability_excess(D("300"), year_days=365) == D("37.2")
    assert availability_excess(D("300"), year_days=366) == D("300") - D("263.52")


@pytest.mark.parametrize("days", [pytest.param(0, id="zero"), pytest.param(-365, id="negative")])
def test_availability_excess_rejects_non_positive_year(days: int) -> None:
    with pytest.raises(ValueError, match="year_days"):
        availability_excess(D("1"), year_days=days)


def test_availability_excess_rejects_negative_minutes() -> None:
    with pytest.raises(ValueError, match="outage_minutes"):
        availability_excess(D("-1"))


@pytest.mark.parametrize(
    ("minutes", "points"),
    [
        pytest.param(["100", "162.8"], 10, id="exactly-allowance-over-two-outages"),
        pytest.param(["262.81"], 9, id="0.01-over"),
        pytest.param(["200", "92.8"], 9, id="30-over"),
        pytest.param(["292.81"], 8, id="30.01-over"),
        pytest.param(["412.8"], 5, id="150-over"),
        pytest.param(["413.8"], 4, id="151-over"),
        pytest.param(["1000"], 0, id="floors-at-0"),
    ],
)
def test_score_availability(minutes: list[str], points: int) -> None:
    outages = [OutageInput(D(m), f"o{i}") for i, m in enumerate(minutes)]
    score = score_availability(outages)
    assert score.area == "availability"
    assert score.max_points == D("10")
    assert score.points == D(points)


def test_score_availability_explains_totals() -> None:
    score = score_availability([OutageInput(D("300"), "o1"), OutageInput(D("13"), "o2")])
    (deduction,) = score.deductions
    assert deduction.points == D("2")
    assert deduction.ref is None  # the deduction is for the year, not one outage
    for fragment in ("2次", "313分钟", "262.8分钟", "50.2分钟", "扣2分"):
        assert fragment in deduction.reason


def test_score_availability_within_allowance_has_no_deduction() -> None:
    assert score_availability([OutageInput(D("262.8"), "o1")]).deductions == ()


def test_outage_input_rejects_negative_minutes() -> None:
    with pytest.raises(ValueError, match="minutes"):
        OutageInput(D("-1"), "o1")


# ---------------------------------------------------------------------------------------------
# Right-sizing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "vcpus", "expected"),
    [
        pytest.param("100", 4, 12, id="100-x3"),
        pytest.param("70", 4, 12, id="70-x3"),
        pytest.param("69.99", 4, 8, id="69.99-x2"),
        pytest.param("50", 4, 8, id="50-x2"),
        pytest.param("49.99", 4, 4, id="49.99-keep"),
        pytest.param("30", 4, 4, id="30-keep"),
        pytest.param("29.99", 4, 2, id="29.99-half"),
        pytest.param("15.01", 4, 2, id="15.01-half"),
        pytest.param("15", 4, 1, id="15-quarter"),
        pytest.param("0", 4, 1, id="0-quarter"),
        pytest.param("0", 8, 2, id="0-quarter-of-8"),
        pytest.param("20", 3, 2, id="odd-3-half-rounds-up"),
        pytest.param("20", 5, 3, id="odd-5-half-rounds-up"),
        pytest.param("10", 6, 2, id="6-quarter-rounds-up"),
        pytest.param("10", 1, 1, id="1-quarter-never-below-1"),
        pytest.param("20", 1, 1, id="1-half-never-below-1"),
        pytest.param("75", 1, 3, id="1-x3"),
    ],
)
def test_rightsize_cpu_bands(cpu: str, vcpus: int, expected: int) -> None:
    new_cpus, new_mem = rightsize(D(cpu), D("50"), vcpus, 8)
    assert new_cpus == expected
    assert new_mem == 8  # memory 50% keeps


@pytest.mark.parametrize(
    ("mem", "mem_gb", "expected"),
    [
        pytest.param("100", 8, 16, id="100-x2"),
        pytest.param("70", 8, 16, id="70-x2"),
        pytest.param("69.99", 8, 8, id="69.99-keep"),
        pytest.param("40", 8, 8, id="40-keep"),
        pytest.param("39.99", 8, 4, id="39.99-half"),
        pytest.param("20.01", 8, 4, id="20.01-half"),
        pytest.param("20", 8, 2, id="20-quarter"),
        pytest.param("0", 8, 2, id="0-quarter"),
        pytest.param("30", 7, 4, id="odd-7-half-rounds-up"),
        pytest.param("10", 6, 2, id="6-quarter-rounds-up"),
        pytest.param("10", 2, 1, id="2-quarter-never-below-1"),
        pytest.param("30", 1, 1, id="1-half-never-below-1"),
    ],
)
def test_rightsize_memory_bands(mem: str, mem_gb: int, expected: int) -> None:
    new_cpus, new_mem = rightsize(D("40"), D(mem), 4, mem_gb)
    assert new_cpus == 4  # CPU 40% keeps
    assert new_mem == expected


def test_rightsize_cpu_and_memory_independently() -> None:
    assert rightsize(D("80"), D("10"), 2, 16) == (6, 4)


def test_rightsize_returns_ints() -> None:
    cpus, mem = rightsize(D("20"), D("30"), 3, 5)
    assert type(cpus) is int
    assert type(mem) is int


@pytest.mark.parametrize(
    ("cpu", "mem", "match"),
    [
        pytest.param("-0.01", "50", "cpu_pct", id="cpu-negative"),
        pytest.param("100.01", "50", "cpu_pct", id="cpu-over-100"),
        pytest.param("50", "-1", "mem_pct", id="mem-negative"),
        pytest.param("50", "101", "mem_pct", id="mem-over-100"),
    ],
)
def test_rightsize_rejects_percentages_out_of_range(cpu: str, mem: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rightsize(D(cpu), D(mem), 4, 8)


@pytest.mark.parametrize(
    ("vcpus", "mem_gb", "match"),
    [
        pytest.param(0, 8, "vcpus", id="zero-vcpus"),
        pytest.param(-2, 8, "vcpus", id="negative-vcpus"),
        pytest.param(4, 0, "mem_gb", id="zero-memory"),
        pytest.param(4, -8, "mem_gb", id="negative-memory"),
    ],
)
def test_rightsize_rejects_non_positive_sizes(vcpus: int, mem_gb: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rightsize(D("50"), D("50"), vcpus, mem_gb)


def test_rightsize_rejects_float_percentages() -> None:
    with pytest.raises(TypeError):
        rightsize(50.0, D("50"), 4, 8)  # type: ignore[arg-type]


def test_band_tables_are_data() -> None:
    assert CPU_BANDS[0] == (D("70"), True, D("3"))
    assert MEM_BANDS[-1] == Band(lower=D("0"), lower_inclusive=True, factor=D("0.25"))


def test_rightsize_accepts_overridden_bands() -> None:
    # A contract whose table keeps everything between 20% and 80%, doubles above.
    cpu_bands = ((D("80"), True, D("2")), (D("20"), True, D("1")), (D("0"), True, D("0.5")))
    assert rightsize(D("80"), D("50"), 4, 8, cpu_bands=cpu_bands) == (8, 8)
    assert rightsize(D("79.99"), D("50"), 4, 8, cpu_bands=cpu_bands) == (4, 8)
    assert rightsize(D("19.99"), D("50"), 4, 8, cpu_bands=cpu_bands) == (2, 8)
    mem_bands = (Band(D("50"), False, D("3")), Band(D("0"), True, D("1")))
    assert rightsize(D("40"), D("50"), 4, 8, mem_bands=mem_bands) == (4, 8)
    assert rightsize(D("40"), D("50.01"), 4, 8, mem_bands=mem_bands) == (4, 24)


@pytest.mark.parametrize(
    ("bands", "match"),
    [
        pytest.param(((D("10"), True, D("1")),), "no band covers", id="gap-at-bottom"),
        pytest.param(
            ((D("0"), True, D("1")), (D("50"), True, D("2"))),
            "decreasing",
            id="wrong-order",
        ),
        pytest.param(((D("0"), True, D("0")),), "positive", id="zero-factor"),
    ],
)
def test_rightsize_rejects_malformed_bands(
    bands: tuple[tuple[Decimal, bool, Decimal], ...], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        rightsize(D("5"), D("50"), 4, 8, cpu_bands=bands)


@pytest.mark.parametrize(
    ("used", "size", "expected"),
    [
        pytest.param("85", 200, 99, id="85-used-99-not-100"),
        pytest.param("10", 50, 11, id="10-used-11"),
        pytest.param("17", 40, 19, id="used-over-0.85-integral"),
        pytest.param("95", 100, 111, id="over-full-grows"),
        pytest.param("100", 100, 117, id="full-grows"),
        pytest.param("2.5", 10, 3, id="small-no-size-above-85pct-holds-data"),
        pytest.param("0.5", 10, 1, id="tiny-at-least-1"),
        pytest.param("0", 10, 1, id="empty-at-least-1"),
        pytest.param("1", 10, 1, id="1gb"),
        pytest.param("400", 1000, 470, id="400-used"),
    ],
)
def test_rightsize_disk(used: str, size: int, expected: int) -> None:
    assert rightsize_disk(D(used), size) == expected


@pytest.mark.parametrize(
    "used",
    ["6", "10", "17", "42.5", "85", "99.99", "400", "1234.56"],
)
def test_rightsize_disk_keeps_usage_above_85_percent(used: str) -> None:
    size = rightsize_disk(D(used), 2000)
    assert D(used) / size > D("0.85")
    # …and it is the largest such size: one more GB would drop to 85% or below.
    assert D(used) / (size + 1) <= D("0.85")


@pytest.mark.parametrize(
    ("used", "size", "error"),
    [
        pytest.param("-1", 10, ValueError, id="negative-used"),
        pytest.param("5", 0, ValueError, id="zero-size"),
        pytest.param("5", -10, ValueError, id="negative-size"),
        pytest.param("10.01", 10, ValueError, id="used-exceeds-size"),
    ],
)
def test_rightsize_disk_rejects(used: str, size: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        rightsize_disk(D(used), size)


# ---------------------------------------------------------------------------------------------
# Area scores
# ---------------------------------------------------------------------------------------------


def test_area_points_floor_at_zero() -> None:
    area = AreaScore(
        area="delivery",
        max_points=D("5"),
        deductions=tuple(Deduction(D("2"), "x", str(i)) for i in range(4)),
    )
    assert area.deducted_points == D("8")
    assert area.points == D("0")


def test_deduction_and_money_reject_negative_values() -> None:
    with pytest.raises(ValueError, match="points"):
        Deduction(D("-1"), "x")
    with pytest.raises(ValueError, match="amount"):
        MoneyDeduction(D("-0.01"), "x")


def test_value_objects_are_frozen() -> None:
    deduction = Deduction(D("1"), "x", "r")
    with pytest.raises(dataclasses.FrozenInstanceError):
        deduction.points = D("2")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("count", "points"),
    [
        pytest.param(0, 5, id="none"),
        pytest.param(1, 4, id="one"),
        pytest.param(4, 1, id="four"),
        pytest.param(5, 0, id="five-empties"),
        pytest.param(7, 0, id="seven-floors"),
    ],
)
def test_score_delivery(count: int, points: int) -> None:
    refs = [f"ticket-{i}" for i in range(count)]
    score = score_delivery(refs)
    assert score.points == D(points)
    assert [d.ref for d in score.deductions] == refs
    assert all(d.points == D("1") for d in score.deductions)


def test_refs_must_be_unique() -> None:
    with pytest.raises(ValueError, match="more than once"):
        score_delivery(["t1", "t1"])


def test_refs_must_not_be_a_bare_string() -> None:
    with pytest.raises(TypeError, match="single string"):
        score_improvement("abc", working_days=10)


@pytest.mark.parametrize(
    ("missing", "points"),
    [
        pytest.param([], 10, id="none"),
        pytest.param(["drill"], 8, id="drill"),
        pytest.param(["mlps3", "crypto"], 6, id="two"),
        pytest.param(list(SECURITY_MECHANISM_ITEMS), 0, id="all-five"),
    ],
)
def test_score_security_mechanism(missing: list[str], points: int) -> None:
    score = score_security_mechanism(missing)
    assert score.points == D(points)
    assert {d.ref for d in score.deductions} == set(missing)
    assert all(d.points == D("2") for d in score.deductions)


def test_security_mechanism_items() -> None:
    assert SECURITY_MECHANISM_ITEMS == {
        "emergency_plan": "应急预案",
        "drill": "应急演练",
        "mlps3": "等保三级测评",
        "crypto": "密码应用安全性评估",
        "cac_review": "云计算服务安全评估",
    }


def test_security_mechanism_deductions_follow_contract_order() -> None:
    score = score_security_mechanism(["cac_review", "emergency_plan"])
    assert [d.ref for d in score.deductions] == ["emergency_plan", "cac_review"]
    assert "专项应急响应预案" in score.deductions[0].reason


def test_security_mechanism_rejects_unknown_item() -> None:
    with pytest.raises(ValueError, match="unknown"):
        score_security_mechanism(["firewall"])


@pytest.mark.parametrize(
    ("level", "money"),
    [
        pytest.param(1, D("100000.00"), id="level-I"),
        pytest.param(2, D("50000.00"), id="level-II"),
        pytest.param(3, D("10000.00"), id="level-III"),
        pytest.param(4, None, id="level-IV-no-money"),
    ],
)
def test_security_responsibility_money_by_level(level: int, money: Decimal | None) -> None:
    score = score_security_responsibility([IncidentInput(level, True, "inc-1")])
    assert score.points == D("20")  # money, not points
    assert score.deductions == ()
    if money is None:
        assert score.money == ()
    else:
        (penalty,) = score.money
        assert penalty.amount == money
        assert penalty.ref == "inc-1"
        assert score.money_total == money


def test_security_responsibility_unreported_costs_10_points_each_and_floors() -> None:
    one = score_security_responsibility([IncidentInput(4, False, "a")])
    assert one.points == D("10")
    assert one.deductions[0].ref == "a"
    three = score_security_responsibility(
        [IncidentInput(1, False, "a"), IncidentInput(2, False, "b"), IncidentInput(3, False, "c")]
    )
    assert three.points == D("0")
    assert three.money_total == D("160000.00")


@pytest.mark.parametrize(
    "level",
    [pytest.param(0, id="zero"), pytest.param(5, id="five"), pytest.param(-1, id="negative")],
)
def test_incident_level_must_be_1_to_4(level: int) -> None:
    with pytest.raises(ValueError, match="level"):
        IncidentInput(level, True, "x")


@pytest.mark.parametrize(
    ("plan", "sessions", "required", "points"),
    [
        pytest.param(True, 2, 2, 5, id="plan-and-two"),
        pytest.param(True, 3, 2, 5, id="extra-session-no-bonus"),
        pytest.param(True, 1, 2, 4, id="one-short"),
        pytest.param(True, 0, 2, 3, id="two-short"),
        pytest.param(False, 2, 2, 2, id="no-plan"),
        pytest.param(False, 1, 2, 1, id="no-plan-one-short"),
        pytest.param(False, 0, 2, 0, id="no-plan-none-held"),
        pytest.param(False, 0, 4, 0, id="floors-at-0"),
        pytest.param(True, 0, 0, 5, id="nothing-required"),
    ],
)
def test_score_training(plan: bool, sessions: int, required: int, points: int) -> None:
    score = score_training(plan, [f"s{i}" for i in range(sessions)], required_sessions=required)
    assert score.points == D(points)


def test_score_training_rejects_negative_requirement() -> None:
    with pytest.raises(ValueError, match="required_sessions"):
        score_training(True, [], required_sessions=-1)


@pytest.mark.parametrize(
    ("minutes", "points"),
    [
        pytest.param([], 5, id="none"),
        pytest.param(["120"], 5, id="exactly-2h-not-counted"),
        pytest.param(["120.01"], D("2.5"), id="just-over-2h"),
        pytest.param(["121", "300"], 0, id="two"),
        pytest.param(["121", "300", "999"], 0, id="three-floors"),
        pytest.param(["60", "121"], D("2.5"), id="short-one-ignored"),
    ],
)
def test_score_disaster_recovery(minutes: list[str], points: Decimal | int) -> None:
    outages = [OutageInput(D(m), f"dr{i}") for i, m in enumerate(minutes)]
    score = score_disaster_recovery(outages)
    assert score.points == D(points)
    assert all(d.points == D("2.5") for d in score.deductions)
    assert score.money == ()


def test_disaster_recovery_deduction_links_the_outage() -> None:
    score = score_disaster_recovery([OutageInput(D("60"), "a"), OutageInput(D("150"), "b")])
    assert [d.ref for d in score.deductions] == ["b"]


@pytest.mark.parametrize(
    ("months", "points"),
    [
        pytest.param(0, 20, id="none"),
        pytest.param(1, 18, id="one"),
        pytest.param(9, 2, id="nine"),
        pytest.param(10, 0, id="ten-empties"),
        pytest.param(12, 0, id="twelve-floors"),
    ],
)
def test_score_utilization_points(months: int, points: int) -> None:
    score = score_utilization(
        [f"2025-{m:02d}" for m in range(1, months + 1)],
        avg_cpu_pct=D("50"),
        avg_mem_pct=D("50"),
        annual_fee=D("1000000"),
        **BT,
    )
    assert score.points == D(points)
    assert score.money == ()


@pytest.mark.parametrize(
    ("cpu", "mem", "penalised"),
    [
        pytest.param("30", "30", False, id="both-30-ok"),
        pytest.param("29.99", "30", True, id="cpu-29.99"),
        pytest.param("30", "29.99", True, id="mem-29.99"),
        pytest.param("10", "10", True, id="both-low-once"),
        pytest.param("100", "100", False, id="both-100"),
        pytest.param(None, "50", False, id="cpu-unknown"),
        pytest.param(None, "20", True, id="cpu-unknown-mem-low"),
        pytest.param(None, None, False, id="both-unknown"),
    ],
)
def test_score_utilization_money(cpu: str | None, mem: str | None, penalised: bool) -> None:
    score = score_utilization(
        [],
        avg_cpu_pct=None if cpu is None else D(cpu),
        avg_mem_pct=None if mem is None else D(mem),
        annual_fee=D("8700000.05"),
        metrics_ref="metrics-2025",
        **BT,
    )
    assert score.points == D("20")
    if penalised:
        (penalty,) = score.money
        assert penalty.amount == D("1740000.01")  # 20% rounded half-up to the fen
        assert penalty.ref == "metrics-2025"
        assert "20%" in penalty.reason
    else:
        assert score.money == ()
    assert bool(score.notes) == (cpu is None or mem is None)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"avg_cpu_pct": D("101")}, "avg_cpu_pct", id="cpu-over-100"),
        pytest.param({"avg_mem_pct": D("-1")}, "avg_mem_pct", id="mem-negative"),
        pytest.param({"annual_fee": D("-1")}, "annual_fee", id="negative-fee"),
    ],
)
def test_score_utilization_rejects(kwargs: dict[str, Decimal], match: str) -> None:
    args: dict[str, Decimal | None] = {
        "avg_cpu_pct": D("50"),
        "avg_mem_pct": D("50"),
        "annual_fee": D("1"),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        score_utilization([], **args, **BT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cpu", "mem", "amount"),
    [
        pytest.param("39.99", "50", D("100000.00"), id="cpu-below-40"),
        pytest.param("40", "40", None, id="both-at-40-ok"),
        pytest.param("35", "39", D("100000.00"), id="both-low-once"),
    ],
)
def test_score_utilization_uses_the_contracts_threshold_and_charge(
    cpu: str, mem: str, amount: Decimal | None
) -> None:
    # A contract whose terms say: below 40 % costs 10 % of the annual fee.
    score = score_utilization(
        [],
        avg_cpu_pct=D(cpu),
        avg_mem_pct=D(mem),
        annual_fee=D("1000000"),
        threshold_pct=D("40"),
        charge_pct=D("10"),
    )
    if amount is None:
        assert score.money == ()
    else:
        (money,) = score.money
        assert money.amount == amount
        assert "低于40%" in money.reason
        assert "10%" in money.reason


@pytest.mark.parametrize(
    "terms",
    [
        pytest.param({"threshold_pct": None, "charge_pct": D("20")}, id="no-threshold"),
        pytest.param({"threshold_pct": D("30"), "charge_pct": None}, id="no-charge"),
    ],
)
def test_score_utilization_without_a_rule_charges_nothing(terms: dict[str, Decimal | None]) -> None:
    score = score_utilization(
        ["2025-07"], avg_cpu_pct=D("5"), avg_mem_pct=D("5"), annual_fee=D("1000000"), **terms
    )
    assert score.money == ()
    assert score.points == D("18")  # the late month still costs its 2 points
    assert any("未约定" in n for n in score.notes)


def test_utilization_low_reads_the_threshold() -> None:
    assert utilization_low(D("29"), D("45"), D("30")) == ["CPU"]
    assert utilization_low(D("29"), D("45"), D("50")) == ["CPU", "内存"]
    assert utilization_low(D("1"), D("1"), None) == []
    assert utilization_low(None, D("1"), D("30")) == ["内存"]


def test_score_improvement_words_the_contracts_fix_period() -> None:
    (deduction,) = score_improvement(["n1"], working_days=15).deductions
    assert "15个工作日" in deduction.reason


@pytest.mark.parametrize(
    ("mean", "points"),
    [
        pytest.param("100", 5, id="100"),
        pytest.param("85", 5, id="85-no-deduction"),
        pytest.param("84.99", 2, id="84.99-minus-3"),
        pytest.param("80", 2, id="80"),
        pytest.param("75.01", 2, id="75.01-minus-3"),
        pytest.param("75", 0, id="75-minus-5"),
        pytest.param("0", 0, id="0"),
    ],
)
def test_score_satisfaction(mean: str, points: int) -> None:
    score = score_satisfaction(D(mean), D("95"))
    assert score.points == D(points)
    assert score.notes == ()


@pytest.mark.parametrize(
    ("coverage", "valid"),
    [
        pytest.param("100", True, id="100"),
        pytest.param("95", True, id="95-valid"),
        pytest.param("94.99", False, id="94.99-invalid"),
        pytest.param("0", False, id="0-invalid"),
    ],
)
def test_satisfaction_coverage_below_95_voids_the_survey(coverage: str, valid: bool) -> None:
    score = score_satisfaction(D("60"), D(coverage))
    if valid:
        assert score.points == D("0")
    else:
        assert score.points == D("5")
        assert score.deductions == ()
        assert "95%" in score.notes[0]


def test_satisfaction_without_survey_is_not_held_against_vendor() -> None:
    score = score_satisfaction(None, None)
    assert score.points == D("5")
    assert score.notes


def test_satisfaction_unknown_coverage_scores_mean_with_note() -> None:
    score = score_satisfaction(D("80"), None)
    assert score.points == D("2")
    assert score.notes


@pytest.mark.parametrize(
    ("mean", "coverage"),
    [
        pytest.param(D("100.01"), D("100"), id="mean-over-100"),
        pytest.param(D("-1"), D("100"), id="mean-negative"),
        pytest.param(D("90"), D("101"), id="coverage-over-100"),
    ],
)
def test_satisfaction_rejects_out_of_range(mean: Decimal, coverage: Decimal) -> None:
    with pytest.raises(ValueError, match="percentage"):
        score_satisfaction(mean, coverage)


@pytest.mark.parametrize(
    ("count", "points"),
    [
        pytest.param(0, 10, id="none"),
        pytest.param(1, 8, id="one"),
        pytest.param(4, 2, id="four"),
        pytest.param(5, 0, id="five-empties"),
        pytest.param(6, 0, id="six-floors"),
    ],
)
def test_score_improvement(count: int, points: int) -> None:
    score = score_improvement([f"issue-{i}" for i in range(count)], working_days=10)
    assert score.points == D(points)


@pytest.mark.parametrize(
    ("late", "rejected", "points"),
    [
        pytest.param(0, 0, 10, id="none"),
        pytest.param(1, 0, 9, id="one-late"),
        pytest.param(0, 1, 9, id="one-rejected"),
        pytest.param(3, 4, 3, id="mixed"),
        pytest.param(5, 5, 0, id="ten-empties"),
        pytest.param(8, 7, 0, id="floors"),
    ],
)
def test_score_deliverables(late: int, rejected: int, points: int) -> None:
    score = score_deliverables([f"l{i}" for i in range(late)], [f"r{i}" for i in range(rejected)])
    assert score.points == D(points)


def test_deliverable_both_late_and_rejected_costs_two() -> None:
    score = score_deliverables(["report-1"], ["report-1"])
    assert score.points == D("8")
    assert [d.ref for d in score.deductions] == ["report-1", "report-1"]


# ---------------------------------------------------------------------------------------------
# Grade and scorecard
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "expected", "label", "ratio"),
    [
        pytest.param("100", Grade.EXCELLENT, "优秀", "0", id="100"),
        pytest.param("85", Grade.EXCELLENT, "优秀", "0", id="85-excellent"),
        pytest.param("84.99", Grade.GOOD, "良好", "0.05", id="84.99-good"),
        pytest.param("70", Grade.GOOD, "良好", "0.05", id="70-good"),
        pytest.param("69.99", Grade.PASS, "及格", "0.10", id="69.99-pass"),
        pytest.param("60", Grade.PASS, "及格", "0.10", id="60-pass"),
        pytest.param("59.99", Grade.FAIL, "不及格", "0.10", id="59.99-fail"),
        pytest.param("59.5", Grade.FAIL, "不及格", "0.10", id="59.5-fail"),
        pytest.param("0", Grade.FAIL, "不及格", "0.10", id="0-fail"),
    ],
)
def test_grade_and_deduction_ratio(total: str, expected: Grade, label: str, ratio: str) -> None:
    result = grade(D(total))
    assert result is expected
    assert result.label == label
    assert deduction_ratio(D(total)) == D(ratio)


@pytest.mark.parametrize(
    "total", [pytest.param(D("-0.01"), id="negative"), pytest.param(D("100.01"), id="over-100")]
)
def test_grade_rejects_out_of_range(total: Decimal) -> None:
    with pytest.raises(ValueError, match="total_points"):
        grade(total)


def test_grade_codes() -> None:
    assert [g.value for g in Grade] == ["excellent", "good", "pass", "fail"]


def test_perfect_scorecard() -> None:
    card = build_scorecard(perfect_areas())
    assert isinstance(card, Scorecard)
    assert card.total_points == D("100")
    assert card.grade is Grade.EXCELLENT
    assert card.deduction_ratio == D("0")
    assert card.money_total == D("0")
    assert not card.termination_right
    assert not card.requires_rectification


def test_scorecard_sums_floored_areas_and_money() -> None:
    areas = perfect_areas()
    areas[0] = score_availability([OutageInput(D("1000"), "big")])  # −10 (capped)
    areas[1] = score_delivery([f"t{i}" for i in range(9)])  # −5 (floored, not −9)
    areas[3] = score_security_responsibility(
        [IncidentInput(2, True, "i1"), IncidentInput(3, True, "i2")]
    )
    areas[6] = score_utilization(
        ["2025-07"], avg_cpu_pct=D("25"), avg_mem_pct=D("25"), annual_fee=D("1000000"), **BT
    )
    card = build_scorecard(list(reversed(areas)))
    assert [a.area for a in card.areas] == list(AREAS)  # back in contract order
    assert card.total_points == D("83")
    assert card.grade is Grade.GOOD
    assert card.deduction_ratio == D("0.05")
    assert card.money_total == D("50000.00") + D("10000.00") + D("200000.00")
    assert [m.ref for m in card.money] == ["i1", "i2", None]


@pytest.mark.parametrize(
    ("total", "termination"),
    [
        pytest.param("59", False, id="59-fail-but-no-termination"),
        pytest.param("58.5", True, id="58.5-termination"),
    ],
)
def test_termination_right_only_below_59(total: str, termination: bool) -> None:
    areas = perfect_areas()
    # Take 100 − total off the 20-point security area and the rest from others.
    lost = D("100") - D(total)
    areas[3] = AreaScore("security_responsibility", D("20"), (Deduction(D("20"), "x", "a"),))
    areas[6] = AreaScore("utilization", D("20"), (Deduction(D("20"), "x", "b"),))
    rest = lost - D("40")
    areas[8] = AreaScore("improvement", D("10"), (Deduction(rest, "x", "c"),))
    card = build_scorecard(areas)
    assert card.total_points == D(total)
    assert card.grade is Grade.FAIL
    assert card.requires_rectification
    assert card.termination_right is termination


def test_scorecard_rejects_missing_area() -> None:
    with pytest.raises(ValueError, match="missing"):
        build_scorecard(perfect_areas()[1:])


def test_scorecard_rejects_duplicate_area() -> None:
    areas = perfect_areas()
    with pytest.raises(ValueError, match="more than once"):
        build_scorecard([*areas, areas[0]])


def test_scorecard_rejects_unknown_area() -> None:
    with pytest.raises(ValueError, match="unknown"):
        build_scorecard([*perfect_areas(), AreaScore("bonus", D("5"))])


def test_scorecard_rejects_wrong_max_points() -> None:
    areas = perfect_areas()
    areas[0] = AreaScore("availability", D("20"))
    with pytest.raises(ValueError, match="max_points"):
        build_scorecard(areas)


@pytest.mark.parametrize(
    ("days", "allowance"),
    [pytest.param(365, "262.8", id="365-contract"), pytest.param(366, "263.52", id="366")],
)
def test_availability_allowance(days: int, allowance: str) -> None:
    assert availability_allowance(year_days=days) == D(allowance)
    assert availability_allowance() == AVAILABILITY_ALLOWANCE_MINUTES
