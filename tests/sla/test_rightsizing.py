"""Right-sizing advice from real samples: bands, flavours, bounds, exemptions, workflow, task."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import OutboxEmail
from requests_app.models import RequestKind, RequestStatus
from sla.models import (
    AdviceAction,
    AdviceStatus,
    EmergencyPeriod,
    ReportStatus,
    RightsizingAdvice,
    RightsizingPolicy,
    RightsizingReport,
)
from sla.services import rightsizing
from sla.tasks import compute_rightsizing_advice
from tests.factories import UserFactory
from tests.sla.factories import (
    at,
    disk_item,
    flavour,
    item,
    mem_item,
    resource,
    samples,
    vcpu_item,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("july")]

JUNE = date(2026, 6, 1)


def compute(world) -> RightsizingReport:
    return rightsizing.rightsizing_compute(contract=world.contract, month=JUNE)


def advice_for(report: RightsizingReport, res) -> RightsizingAdvice:
    return report.advice.get(resource=res)


@pytest.fixture
def flavours(world):
    c = world.contract
    return {
        "2c2g": flavour(c, 2, 2, "948"),
        "2c4g": flavour(c, 2, 4, "1140"),
        "4c8g": flavour(c, 4, 8, "2280"),
        "4c16g": flavour(c, 4, 16, "3060"),
        "8c16g": flavour(c, 8, 16, "4560"),
        "8c32g": flavour(c, 8, 32, "6120"),
    }


# ---------------------------------------------------------------- per-unit catalogs


@pytest.mark.parametrize(
    ("cpu", "advised"),
    [
        ("75", 24),
        ("70", 24),
        ("50", 16),
        ("45", None),
        ("30", None),
        ("20", 4),
        ("15", 2),
        ("5", 2),
    ],
    ids=["75-x3", "70-x3", "50-x2", "45-keep", "30-keep", "20-half", "15-quarter", "5-quarter"],
)
def test_vcpu_resource_follows_the_cpu_bands(world, cpu, advised):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 30, cpu=cpu, mem="90")  # memory is another resource's business
    advice = advice_for(compute(world), res)
    assert advice.cpu_avg == Decimal(cpu)
    assert advice.sample_days == 30
    if advised is None:
        assert advice.action == AdviceAction.KEEP
        assert advice.advised_quantity is None
    else:
        assert advice.action == AdviceAction.CHANGE
        assert (advice.advised_item, advice.advised_quantity) == (res.catalog_item, advised)


@pytest.mark.parametrize(
    ("mem", "advised"),
    [("80", 32), ("50", None), ("30", 8), ("20", 4)],
    ids=["80-x2", "50-keep", "30-half", "20-quarter"],
)
def test_memory_resource_follows_the_memory_bands(world, mem, advised):
    res = resource(world.contract, world.orgs["department"], mem_item(world.contract), 16)
    samples(res, JUNE, 30, cpu="5", mem=mem)
    advice = advice_for(compute(world), res)
    assert advice.advised_quantity == advised


def test_the_monthly_average_is_the_mean_of_daily_averages(world):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 10, cpu="10")
    samples(res, date(2026, 6, 11), 10, cpu="40")  # mean 25 → ×½
    samples(res, date(2026, 5, 1), 31, cpu="90")  # another month: not counted
    advice = advice_for(compute(world), res)
    assert advice.cpu_avg == Decimal("25.00")
    assert advice.advised_quantity == 4


def test_contract_bounds_of_per_unit_catalogs(world):
    RightsizingPolicy.objects.create(contract=world.contract, min_vcpus=4, max_vcpus=16)
    dept = world.orgs["department"]
    busy = resource(world.contract, dept, vcpu_item(world.contract), 8, system_name="忙")
    at_max = resource(world.contract, dept, vcpu_item(world.contract), 16, system_name="满")
    at_min = resource(world.contract, dept, vcpu_item(world.contract), 4, system_name="闲")
    samples(busy, JUNE, 30, cpu="80")
    samples(at_max, JUNE, 30, cpu="80")
    samples(at_min, JUNE, 30, cpu="5")
    report = compute(world)
    assert advice_for(report, busy).advised_quantity == 16  # ×3 = 24, capped
    assert "上下限" in advice_for(report, busy).explanation
    assert advice_for(report, at_max).action == AdviceAction.EXEMPT
    assert "最高" in advice_for(report, at_max).explanation
    assert advice_for(report, at_min).action == AdviceAction.EXEMPT
    assert "最低" in advice_for(report, at_min).explanation


# ---------------------------------------------------------------- flavour catalogs


@pytest.mark.parametrize(
    ("current", "cpu", "mem", "action", "target"),
    [
        ("4c8g", "10", "10", AdviceAction.CHANGE, "2c2g"),  # needs 1c2g → cheapest fitting
        ("4c8g", "60", "50", AdviceAction.CHANGE, "8c16g"),  # needs 8c8g → 8c16g
        ("4c8g", "40", "80", AdviceAction.CHANGE, "4c16g"),  # needs 4c16g
        ("4c8g", "40", "50", AdviceAction.KEEP, None),
        ("2c2g", "10", "10", AdviceAction.EXEMPT, None),  # already the smallest
        ("8c32g", "80", "80", AdviceAction.EXEMPT, None),  # already the largest
    ],
    ids=["shrink", "grow-cpu", "grow-mem", "keep", "smallest", "largest"],
)
def test_flavour_mapping(world, flavours, current, cpu, mem, action, target):
    res = resource(world.contract, world.orgs["department"], flavours[current], 1)
    samples(res, JUNE, 30, cpu=cpu, mem=mem)
    advice = advice_for(compute(world), res)
    assert advice.resource_class == "flavour"
    assert advice.action == action
    if target:
        assert advice.advised_item == flavours[target]
        assert advice.advised_quantity == 1
    if action == AdviceAction.EXEMPT:
        assert "不适用" in advice.explanation


def test_pick_flavour_falls_back_to_the_largest(flavours):
    assert rightsizing.pick_flavour(list(flavours.values()), 64, 4) == flavours["8c32g"]
    assert rightsizing.pick_flavour([], 1, 1) is None


# ---------------------------------------------------------------- disks


def test_disk_sized_so_usage_stays_above_85_percent(world):
    dept = world.orgs["department"]
    big = resource(world.contract, dept, disk_item(world.contract), 500, system_name="甲")
    full = resource(world.contract, dept, disk_item(world.contract), 500, system_name="乙")
    by_pct = resource(world.contract, dept, disk_item(world.contract), 1000, system_name="丙")
    samples(big, JUNE, 30, disk="20", used="100")
    samples(full, JUNE, 30, disk="90", used="450")
    samples(by_pct, JUNE, 30, disk="17")  # no GB pushed: 17 % of 1000 GB = 170 GB
    report = compute(world)
    assert advice_for(report, big).advised_quantity == 117  # 100/117 = 85.5 %
    assert advice_for(report, full).action == AdviceAction.KEEP
    assert advice_for(report, by_pct).advised_quantity == 199  # 170/199 = 85.4 %


def test_tb_disks_are_advised_in_whole_tb(world):
    tb = item(world.contract, "ebs.1t", unit="TB", section="存储与备份服务")
    res = resource(world.contract, world.orgs["department"], tb, 4)
    samples(res, JUNE, 30, disk="25", used="1024")  # 1 TB used of 4 TB → ceil(1204/1024) = 2
    assert advice_for(compute(world), res).advised_quantity == 2


def test_other_items_get_no_advice(world):
    gpu = item(world.contract, "gpu.server.t1", unit="台")
    res = resource(world.contract, world.orgs["department"], gpu, 1)
    samples(res, JUNE, 30, cpu="5")
    assert not compute(world).advice.filter(resource=res).exists()


# ---------------------------------------------------------------- exemptions


def test_emergency_and_security_systems_are_exempt(world):
    res = resource(
        world.contract,
        world.orgs["department"],
        vcpu_item(world.contract),
        8,
        system_name="应急指挥系统",
        is_emergency_or_security=True,
    )
    samples(res, JUNE, 30, cpu="5")
    advice = advice_for(compute(world), res)
    assert advice.action == AdviceAction.EXEMPT
    assert "应急、安全类" in advice.explanation


def test_emergency_periods_exempt_the_month(world):
    dept = world.orgs["department"]
    listed = resource(world.contract, dept, vcpu_item(world.contract), 8, system_name="考试系统")
    other = resource(world.contract, dept, vcpu_item(world.contract), 8, system_name="办公系统")
    for res in (listed, other):
        samples(res, JUNE, 30, cpu="5")
    rightsizing.emergency_period_create(
        actor=world.users["bureau"],
        contract=world.contract,
        start_date=date(2026, 6, 5),
        end_date=date(2026, 6, 10),
        reason="高考保障",
        system_ids=[listed.system_id],
    )
    report = compute(world)
    assert advice_for(report, listed).action == AdviceAction.EXEMPT
    assert "高考保障" in advice_for(report, listed).explanation
    assert advice_for(report, other).action == AdviceAction.CHANGE


def test_emergency_periods_are_the_bureaus(world):
    with pytest.raises(ActionForbidden):
        rightsizing.emergency_period_create(
            actor=world.users["vendor"],
            contract=world.contract,
            start_date=date(2026, 6, 5),
            end_date=date(2026, 6, 10),
            reason="x",
        )
    with pytest.raises(ApplicationError):
        rightsizing.emergency_period_create(
            actor=world.users["bureau"],
            contract=world.contract,
            start_date=date(2026, 6, 10),
            end_date=date(2026, 6, 5),
            reason="x",
        )
    assert not EmergencyPeriod.objects.exists()


# ---------------------------------------------------------------- contract-wide averages


def test_contract_averages_are_capacity_weighted_and_skip_emergency_systems(world):
    dept = world.orgs["department"]
    small = resource(world.contract, dept, vcpu_item(world.contract), 4, system_name="小")
    large = resource(world.contract, dept, vcpu_item(world.contract), 12, system_name="大")
    mem = resource(world.contract, dept, mem_item(world.contract), 32, system_name="小")
    secret = resource(
        world.contract,
        dept,
        vcpu_item(world.contract),
        100,
        system_name="安全系统",
        is_emergency_or_security=True,
    )
    samples(small, JUNE, 30, cpu="60", mem="0")
    samples(large, JUNE, 30, cpu="20", mem="0")
    samples(mem, JUNE, 30, cpu="0", mem="25")
    samples(secret, JUNE, 30, cpu="99", mem="99")
    report = compute(world)
    assert report.avg_cpu_pct == Decimal("30.00")  # (60×4 + 20×12) / 16
    assert report.avg_mem_pct == Decimal("25.00")


# ---------------------------------------------------------------- idempotence and workflow


def test_recomputing_a_draft_updates_in_place_and_a_submitted_report_never_changes(world):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 15, cpu="5")
    first = compute(world)
    samples(res, date(2026, 6, 16), 15, cpu="95")  # late data: the draft is recomputed
    second = compute(world)
    assert first.pk == second.pk
    assert RightsizingAdvice.objects.count() == 1
    assert advice_for(second, res).cpu_avg == Decimal("50.00")
    rightsizing.rightsizing_submit(actor=world.users["vendor"], report=second)
    samples(
        resource(
            world.contract, world.orgs["department"], vcpu_item(world.contract), 2, system_name="x"
        ),
        JUNE,
        30,
        cpu="5",
    )
    third = compute(world)
    assert third.status == ReportStatus.SUBMITTED
    assert RightsizingAdvice.objects.count() == 1
    with pytest.raises(InvalidTransition):
        rightsizing.rightsizing_recompute(actor=world.users["vendor"], report=third)


def test_the_task_computes_the_previous_month_once(world):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 30, cpu="5")
    with time_machine.travel(at(2026, 7, 1, 1, 30), tick=False):
        ids = compute_rightsizing_advice.delay().get()
        again = compute_rightsizing_advice.delay().get()
    assert ids == again
    report = RightsizingReport.objects.get(pk=ids[0])
    assert report.month == JUNE
    # July 2026: working days 1, 2, 3, 6, 7 → due by the end of 07-07.
    assert report.due_date == date(2026, 7, 7)
    assert report.due_at == at(2026, 7, 8)
    assert RightsizingReport.objects.count() == 1
    # A month outside every contract's service period creates nothing.
    assert compute_rightsizing_advice.delay("2030-01").get() == []


def test_submission_is_the_vendors_and_timed(world):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 30, cpu="5")
    report = compute(world)
    with pytest.raises(ActionForbidden):
        rightsizing.rightsizing_submit(actor=world.users["bureau"], report=report)
    report = rightsizing.rightsizing_submit(actor=world.users["vendor"], report=report)
    assert report.is_late()  # 07-15 is after the 5th working day (07-07)
    assert advice_for(report, res).status == AdviceStatus.SUBMITTED
    dept_mail = world.orgs["department"].email
    # the department's digest of the month (one e-mail per department and month)
    assert OutboxEmail.objects.filter(
        key=f"sla:rightsizing-digest:{world.orgs['department'].pk}:2026-07", recipient=dept_mail
    ).exists()
    with pytest.raises(InvalidTransition):
        rightsizing.rightsizing_submit(actor=world.users["vendor"], report=report)


def test_keep_and_exempt_advice_need_no_decision(world):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 30, cpu="40")
    with time_machine.travel(at(2026, 7, 3, 9), tick=False):
        report = rightsizing.rightsizing_submit(actor=world.users["vendor"], report=compute(world))
    assert not report.is_late()
    assert advice_for(report, res).status == AdviceStatus.NOTED


@pytest.fixture
def submitted(world):
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)
    samples(res, JUNE, 30, cpu="5")
    report = rightsizing.rightsizing_submit(actor=world.users["vendor"], report=compute(world))
    return advice_for(report, res)


def test_accepting_drafts_a_prefilled_change_ticket(world, submitted):
    advice = rightsizing.rightsizing_accept(actor=world.users["department"], advice=submitted)
    assert advice.status == AdviceStatus.ACCEPTED
    ticket = advice.change_request
    assert ticket.kind == RequestKind.CHANGE
    assert ticket.status == RequestStatus.DRAFT  # the department reviews and submits it
    assert ticket.created_by == world.users["department"]
    line = ticket.lines.get()
    assert (line.resource_id, line.catalog_item_id, line.quantity) == (
        submitted.resource_id,
        submitted.current_item_id,
        2,
    )
    with pytest.raises(InvalidTransition):
        rightsizing.rightsizing_decline(actor=world.users["department"], advice=advice, reason="x")


def test_declining_needs_a_reason(world, submitted):
    with pytest.raises(ApplicationError):
        rightsizing.rightsizing_decline(
            actor=world.users["department"], advice=submitted, reason=" "
        )
    submitted.refresh_from_db()
    assert submitted.status == AdviceStatus.SUBMITTED
    advice = rightsizing.rightsizing_decline(
        actor=world.users["department"], advice=submitted, reason="年底业务高峰"
    )
    assert advice.status == AdviceStatus.DECLINED
    assert advice.change_request is None


@pytest.mark.parametrize("who", ["vendor", "bureau", "other-department"])
def test_only_the_resources_department_decides(world, submitted, who):
    if who == "other-department":
        from tests.factories import DepartmentFactory

        actor = UserFactory(organization=DepartmentFactory(parent=world.orgs["bureau"]))
    else:
        actor = world.users[who]
    with pytest.raises(ActionForbidden):
        rightsizing.rightsizing_accept(actor=actor, advice=submitted)
    submitted.refresh_from_db()
    assert submitted.status == AdviceStatus.SUBMITTED


def test_stale_advice_is_refused_and_nothing_is_saved(world, submitted):
    from billing.models import Resource

    Resource.objects.filter(pk=submitted.resource_id).update(quantity=6)
    with pytest.raises(ApplicationError):
        rightsizing.rightsizing_accept(actor=world.users["department"], advice=submitted)
    submitted.refresh_from_db()
    assert submitted.status == AdviceStatus.SUBMITTED
    assert submitted.change_request is None


def test_marking_a_month_wrong(world, submitted):
    report = submitted.report
    with pytest.raises(ActionForbidden):
        rightsizing.rightsizing_mark_wrong(actor=world.users["vendor"], report=report, reason="x")
    report = rightsizing.rightsizing_mark_wrong(
        actor=world.users["supervisor"], report=report, reason="内存使用率取数错误"
    )
    assert report.marked_wrong
