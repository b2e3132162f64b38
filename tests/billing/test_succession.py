"""The end of a contract that touches billing (issue 12 item 7): a successor takes the
inventory over at a cutover instant — no day billed twice, none lost (a property test over
random cutovers, resources and partial-day rules) — and an early termination bills to the
termination date with the notice the terms require.

Hand-derived (BT-2025 → BT-2026, same price table; June 2026 has 30 days): 8 vCPU
``ecs.general.vcpu`` (¥21.60 per core per month) online all of June. Cutover 2026-06-20:
BT-2025 bills June 1–19 = 19 days → 21.6 × 8 × 19 / 30 = **109.44**; BT-2026 bills June 20–30
= 11 days → 21.6 × 8 × 11 / 30 = **63.36**; together **172.80** = one whole month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import pricing
from billing.contracts import load_example_contract
from billing.models import Resource, ResourceStatus, Statement, StatementStatus
from billing.pricing import BUSINESS_TZ, PartialDayRule, local_midnight
from billing.services import settlement, succession, termination
from billing.services.engine import compute_statement
from govcloud import lifecycle
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import (
    AuditEvent,
    Contract,
    ContractClause,
    ContractStatus,
    OutboxEmail,
    PartialDay,
    PartyRole,
)
from tests.api_clients import person_api
from tests.billing.conftest import add_resource, sh
from tests.conftest import verified_client
from tests.factories import CatalogItemFactory, ContractFactory, UserFactory, add_party

pytestmark = pytest.mark.django_db

CUTOVER = date(2026, 6, 20)
TODAY = datetime(2026, 12, 4, 10, 0, tzinfo=BUSINESS_TZ)


@pytest.fixture
def bt26(bt):
    """BT-2025 (with its parties' users) and the example successor BT-2026 (same bureau)."""
    load_example_contract("bt-2026")
    successor = Contract.objects.get(code="BT-2026")
    return bt, successor


def cutover(bt, successor, on=CUTOVER, **kwargs):
    with time_machine.travel(TODAY, tick=False):
        return succession.contract_cutover(
            actor=bt.users["bureau"], predecessor=bt.contract, successor=successor, cutover_on=on
        )


def days_of(contract, resource, year, month) -> Decimal:
    statement = compute_statement(contract, year, month)
    return sum(
        (line.service_days for line in statement.lines if line.resource_id == resource.pk),
        Decimal(0),
    )


def amount_of(contract, resource, year, month) -> Decimal:
    statement = compute_statement(contract, year, month)
    return sum(
        (line.amount for line in statement.lines if line.resource_id == resource.pk), Decimal(0)
    )


# ------------------------------------------------------------------------- the cutover


def test_cutover_carries_every_active_resource_at_midnight(bt26):
    bt, successor = bt26
    vm = add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    disk = add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 3, 10, 15))
    gone = add_resource(
        bt.contract,
        bt.department,
        "ebs.ssd",
        100,
        sh(2026, 3, 1),
        offline_at=sh(2026, 5, 1, 9),
    )
    created = cutover(bt, successor)

    assert len(created) == 2
    at = local_midnight(CUTOVER)
    for old in (vm, disk):
        old.refresh_from_db()
        new = Resource.objects.get(carried_from=old)
        assert (old.offline_at, old.status) == (at, ResourceStatus.RELEASED)
        assert new.contract == successor
        assert (new.online_at, new.billing_starts_at, new.offline_at) == (at, at, None)
        assert new.catalog_item.contract == successor
        assert new.catalog_item.code == old.catalog_item.code
        assert (new.quantity, new.department_id, new.system_id) == (
            old.quantity,
            old.department_id,
            old.system_id,
        )
        assert new.changes.get().delivered_at == at
    assert not Resource.objects.filter(carried_from=gone).exists()

    # June 2026: 19 days on BT-2025, 11 on BT-2026 — one whole month together.
    assert amount_of(bt.contract, vm, 2026, 6) == Decimal("109.44")
    new_vm = Resource.objects.get(carried_from=vm)
    assert amount_of(successor, new_vm, 2026, 6) == Decimal("63.36")
    assert Decimal("109.44") + Decimal("63.36") == Decimal("21.6") * 8

    successor.refresh_from_db()
    bt.contract.refresh_from_db()
    assert (successor.predecessor, successor.cutover_on) == (bt.contract, CUTOVER)
    with time_machine.travel(TODAY, tick=False):
        assert lifecycle.contract_state(bt.contract) == ContractStatus.CLOSED
        assert lifecycle.contract_state(successor) == ContractStatus.ACTIVE
    assert bt.contract.status == ContractStatus.CLOSED
    assert successor.status == ContractStatus.ACTIVE
    event = AuditEvent.objects.get(action="contract.cutover")
    assert event.after["carried"] == 2
    assert len(event.after["resources"]) == 2
    assert AuditEvent.objects.filter(action="contract.handed_over", contract=bt.contract).exists()
    assert OutboxEmail.objects.filter(key=f"contract-cutover:{successor.pk}").exists()


def test_a_second_cutover_is_refused_and_changes_nothing(bt26):
    bt, successor = bt26
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    cutover(bt, successor)
    count = Resource.objects.count()
    with pytest.raises(InvalidTransition, match="已于 2026-06-20 由后续合同 BT-2026 承接"):
        cutover(bt, successor)
    assert Resource.objects.count() == count


def test_missing_codes_are_listed_and_nothing_changes(bt26):
    bt, successor = bt26
    vm = add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 3, 10, 15))
    successor.catalog_items.filter(code__in=["ecs.general.vcpu", "ebs.ssd"]).delete()
    with pytest.raises(ApplicationError) as refused:
        cutover(bt, successor)
    assert refused.value.extra["missing_codes"] == ["ebs.ssd", "ecs.general.vcpu"]
    assert "ebs.ssd、ecs.general.vcpu" in refused.value.message
    vm.refresh_from_db()
    assert vm.offline_at is None
    successor.refresh_from_db()
    assert successor.predecessor is None


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        pytest.param(date(2026, 12, 5), "尚未到", id="future"),
        pytest.param(date(2026, 6, 19), "早于后续合同 BT-2026 的计费起始日", id="before-billing"),
        pytest.param(date(2026, 8, 1), "切换日不得晚于 2026-08-01", id="after-continuation"),
    ],
)
def test_cutover_dates_outside_both_windows_are_refused(bt26, on, expected):
    bt, successor = bt26
    if on == date(2026, 8, 1):
        on = date(2026, 8, 2)  # continuation ends 2026-07-31: 08-01 is the latest cutover
        Contract.objects.filter(pk=successor.pk).update(billing_from=date(2026, 6, 1))
        successor.refresh_from_db()
    with (
        time_machine.travel(TODAY - timedelta(days=1), tick=False),
        pytest.raises(ApplicationError, match=expected),
    ):
        succession.contract_cutover(
            actor=bt.users["bureau"], predecessor=bt.contract, successor=successor, cutover_on=on
        )


def test_a_signed_month_the_cutover_would_change_is_refused(bt26):
    bt, successor = bt26
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    Statement.objects.create(
        contract=bt.contract,
        year=2026,
        month=6,
        status=StatementStatus.SIGNED,
        discount=Decimal("0.9999"),
        vat_rate=Decimal("0.06"),
        subtotal=Decimal(0),
        total=Decimal(0),
        vat=Decimal(0),
        generated_at=TODAY,
        submitted_at=TODAY,
        signed_at=TODAY,
    )
    # A cutover inside BT-2025's billing window would change June's signed figures: refused.
    with pytest.raises(ApplicationError, match="已签认的 2026-06"):
        cutover(bt, successor, on=date(2026, 6, 15))
    # At 00:00 after the service end June bills through 06-19 either way: allowed, and the
    # signed June statement's figures are what a recomputation still gives.
    before = compute_statement(bt.contract, 2026, 6).total
    cutover(bt, successor)
    assert compute_statement(bt.contract, 2026, 6).total == before


def test_test_period_runs_on_and_a_late_change_is_the_new_configuration(bt26):
    bt, successor = bt26
    # Delivered 06-01 with a test period to 07-01: billing starts 07-01 on the successor.
    testing = add_resource(
        bt.contract,
        bt.department,
        "ecs.general.vcpu",
        4,
        sh(2026, 6, 1, 10),
        billing_starts_at=sh(2026, 7, 1, 10),
    )
    # 8 → 16 cores delivered 06-19 14:00: billed from 06-20, the cutover day.
    changed = add_resource(
        bt.contract,
        bt.department,
        "ecs.general.vcpu",
        8,
        sh(2026, 3, 10, 15),
        changes=[(sh(2026, 6, 19, 14), 16)],
    )
    cutover(bt, successor)
    assert Resource.objects.get(carried_from=testing).billing_starts_at == sh(2026, 7, 1, 10)
    assert Resource.objects.get(carried_from=changed).quantity == 16
    old_lines = [
        line
        for line in compute_statement(bt.contract, 2026, 6).lines
        if line.resource_id == changed.pk
    ]
    assert [(line.quantity, line.service_days) for line in old_lines] == [(8, Decimal(19))]


def test_only_the_bureau_of_both_contracts_runs_it(bt26, foreign):
    bt, successor = bt26
    with pytest.raises(ActionForbidden):
        succession.contract_cutover(
            actor=bt.users["vendor"],
            predecessor=bt.contract,
            successor=successor,
            cutover_on=CUTOVER,
        )
    url = reverse("contract_cutover", args=[bt.contract.pk])
    assert verified_client(foreign.users["bureau"]).get(url).status_code == 404
    api_url = reverse("api_contract_cutover", args=[bt.contract.pk])
    assert person_api(foreign.users["bureau"]).post(api_url, {}).status_code == 404
    assert verified_client(bt.users["vendor"]).get(url).status_code == 403


def test_portal_preview_then_confirmation(bt26):
    bt, successor = bt26
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 3, 10, 15))
    client = verified_client(bt.users["bureau"])
    url = reverse("contract_cutover", args=[bt.contract.pk])
    detail = client.get(reverse("contract_detail", args=[bt.contract.pk])).content.decode()
    assert url in detail
    with time_machine.travel(TODAY, tick=False):
        preview = client.get(url, {"successor": successor.pk, "cutover_on": "2026-06-20"})
        html = preview.content.decode()
        assert "将有 <strong>2</strong> 项在用资源自 2026-06-20 00:00 起转由 BT-2026 计费" in html
        assert "确认由 BT-2026 承接" in html
        assert not Resource.objects.filter(contract=successor).exists()  # GET changes nothing
        done = client.post(url, {"successor": successor.pk, "cutover_on": "2026-06-20"})
        page = client.get(done.url)
    assert done.status_code == 302
    assert done.url == reverse("contract_detail", args=[successor.pk])
    assert Resource.objects.filter(contract=successor).count() == 2
    assert page.status_code == 200, page
    html = page.content.decode()
    assert "前序合同" in html
    assert "BT-2025" in html


def test_api_preview_and_cutover(bt26):
    bt, successor = bt26
    add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))
    api = person_api(bt.users["bureau"])
    url = reverse("api_contract_cutover", args=[bt.contract.pk])
    with time_machine.travel(TODAY, tick=False):
        preview = api.get(url, {"successor": successor.pk, "cutover_on": "2026-06-20"}).json()
        assert (preview["carried"], preview["ok"], preview["problems"]) == (1, True, [])
        done = api.post(url, {"successor": successor.pk, "cutover_on": "2026-06-20"}, "json")
        again = api.post(url, {"successor": successor.pk, "cutover_on": "2026-06-20"}, "json")
    assert done.status_code == 200
    assert (done.json()["code"], done.json()["predecessor"]) == ("BT-2026", "BT-2025")
    assert again.status_code == 409


# ---------------------------------------------------------- property: no day twice, none lost

DAY_MINUTES = 24 * 60
PRED_START = date(2026, 1, 1)
PRED_END = date(2026, 6, 30)
SUCC_END = date(2026, 12, 31)
RULES = [PartialDay.WHOLE_DAY, PartialDay.HALF_DAY_UNDER_12H]


@st.composite
def scenarios(draw):
    cutover_on = draw(st.dates(min_value=date(2026, 1, 2), max_value=PRED_END + timedelta(days=1)))
    succ_billing_from = draw(st.dates(min_value=date(2026, 1, 2), max_value=cutover_on))
    rule = draw(st.sampled_from(RULES))
    before_cutover = (cutover_on - PRED_START).days * DAY_MINUTES
    resources = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=before_cutover - 1),  # online (minutes)
                st.integers(min_value=0, max_value=40 * DAY_MINUTES),  # test period
                st.one_of(st.none(), st.integers(min_value=1, max_value=400 * DAY_MINUTES)),
                st.integers(min_value=1, max_value=64),  # quantity
            ),
            min_size=1,
            max_size=4,
        )
    )
    return cutover_on, succ_billing_from, rule, resources


def _months(first: date, last: date) -> list[tuple[int, int]]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _one_contract_days(resource: Resource, rule: str) -> Decimal:
    """Days one contract spanning both windows would bill (the pure rule, month by month)."""
    window = (local_midnight(PRED_START), local_midnight(SUCC_END + timedelta(days=1)))
    total = Decimal(0)
    if resource.offline_at is not None and resource.offline_at <= resource.billing_starts_at:
        return total  # released during its test period: never billed
    for year, month in _months(PRED_START, SUCC_END):
        first, last = pricing.month_bounds(year, month)
        total += pricing.service_days(
            start=resource.billing_starts_at,
            end=resource.offline_at,
            period_start=first,
            period_end=last,
            rule=PartialDayRule(rule),
            window_start=window[0],
            window_end=window[1],
        )
    return total


def _lines(contract: Contract, resource_id: int) -> list:
    return [
        line
        for year, month in _months(contract.billing_from, contract.service_end)
        for line in compute_statement(contract, year, month).lines
        if line.resource_id == resource_id
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_cutover_bills_no_day_twice_and_loses_none(world, scenario):
    cutover_on, succ_billing_from, rule, specs = scenario
    bureau = world.users["bureau"]
    with transaction.atomic():
        pred = world.contract
        Contract.objects.filter(pk=pred.pk).update(
            service_start=PRED_START,
            service_end=PRED_END,
            billing_from=PRED_START,
            partial_day_rule=rule,
        )
        pred.refresh_from_db()
        succ = ContractFactory(
            service_start=succ_billing_from,
            service_end=SUCC_END,
            billing_from=succ_billing_from,
            partial_day_rule=rule,
        )
        add_party(succ, world.orgs["bureau"], PartyRole.BUREAU, review_order=1, signoff_order=1)
        item = CatalogItemFactory(contract=pred, code="ecs.general.vcpu")
        CatalogItemFactory(contract=succ, code="ecs.general.vcpu")
        base = local_midnight(PRED_START)
        originals = []
        for online, test_minutes, duration, quantity in specs:
            online_at = base + timedelta(minutes=online)
            resource = add_resource(
                pred,
                world.orgs["department"],
                item.code,
                quantity,
                online_at,
                billing_starts_at=online_at + timedelta(minutes=test_minutes),
                offline_at=online_at + timedelta(minutes=duration) if duration else None,
            )
            originals.append((resource, _one_contract_days(resource, rule)))

        with time_machine.travel(datetime(2027, 1, 15, 10, tzinfo=BUSINESS_TZ), tick=False):
            succession.contract_cutover(
                actor=bureau, predecessor=pred, successor=succ, cutover_on=cutover_on
            )
        at = local_midnight(cutover_on)
        for resource, expected in originals:
            old_lines = _lines(pred, resource.pk)
            new = Resource.objects.filter(carried_from=resource).first()
            new_lines = _lines(succ, new.pk) if new else []
            # none twice: the old stops at the cutover instant, the new starts there
            assert all(line.segment_end <= at for line in old_lines)
            assert all(line.segment_start >= at for line in new_lines)
            # none lost: old + new = one uninterrupted resource under one contract
            billed = sum((line.service_days for line in old_lines + new_lines), Decimal(0))
            assert billed == expected, (resource.pk, cutover_on, rule)
            assert all(line.quantity == resource.quantity for line in old_lines + new_lines)
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------ termination


@pytest.fixture
def terminable(world):
    """The shared world's contract with a 60-day notice term (BT 15.4.3) and its clause."""
    Contract.objects.filter(pk=world.contract.pk).update(termination_notice_days=60)
    ContractClause.objects.create(
        contract=world.contract,
        term="termination_notice_days",
        clause="15.4.3",
        quote="一方应在终止合同前60天向另一方发出书面通知",
    )
    world.contract.refresh_from_db()
    for key in ("vendor", "supervisor", "auditor", "bureau"):
        UserFactory(organization=world.orgs[key], email=f"{key}@t.test")
    item = CatalogItemFactory(contract=world.contract, code="ecs.general.vcpu")
    world.vm = add_resource(
        world.contract, world.orgs["department"], item.code, 8, sh(2026, 2, 10, 15)
    )
    return world


def terminate(
    world, notice, last, reason="政策调整", when=datetime(2026, 6, 10, 9, tzinfo=BUSINESS_TZ)
):
    with time_machine.travel(when, tick=False):
        return termination.contract_terminate(
            actor=world.users["bureau"],
            contract=world.contract,
            notice_given_on=notice,
            terminates_on=last,
            reason=reason,
        )


def test_termination_needs_the_notice_period_and_cites_the_clause(terminable):
    # notice 2026-03-02 + 60 days = 2026-05-01: 04-30 is one day short.
    with pytest.raises(
        ApplicationError, match=r"不足 60 日（合同第 15\.4\.3 条）：最早可于 2026-05-01"
    ):
        terminate(terminable, date(2026, 3, 2), date(2026, 4, 30))
    terminable.vm.refresh_from_db()
    assert terminable.vm.offline_at is None
    assert terminable.contract.terminates_on is None


def test_termination_bills_to_the_termination_date(terminable, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        terminate(terminable, date(2026, 3, 2), date(2026, 5, 1))
    contract = Contract.objects.get(pk=terminable.contract.pk)
    vm = Resource.objects.get(pk=terminable.vm.pk)
    assert vm.offline_at == local_midnight(date(2026, 5, 2))  # the last day billed to 24:00
    assert vm.status == ResourceStatus.RELEASED
    assert contract.status == ContractStatus.TERMINATED
    assert (contract.termination_notice_on, contract.terminates_on) == (
        date(2026, 3, 2),
        date(2026, 5, 1),
    )
    assert days_of(contract, vm, 2026, 5) == Decimal(1)
    assert days_of(contract, vm, 2026, 6) == Decimal(0)
    assert lifecycle.contract_billing_last_day(contract) == date(2026, 5, 1)
    event = AuditEvent.objects.get(action="contract.terminate")
    assert event.after["resources_closed"][0]["resource"] == vm.pk
    notices = set(
        OutboxEmail.objects.filter(key=f"contract-terminate:{contract.pk}").values_list(
            "recipient", flat=True
        )
    )
    assert {"vendor@t.test", "supervisor@t.test", "auditor@t.test"} <= notices
    assert "bureau@t.test" not in notices
    body = OutboxEmail.objects.filter(key=f"contract-terminate:{contract.pk}").first().body
    assert "15.4.3" in body
    assert "2026-05-01" in body
    with pytest.raises(InvalidTransition, match="提前终止"):
        terminate(terminable, date(2026, 3, 2), date(2026, 5, 1))


@pytest.mark.parametrize(
    ("notice", "last", "expected"),
    [
        pytest.param(date(2026, 3, 2), date(2026, 6, 10), "尚未过去", id="not-yet-effective"),
        pytest.param(date(2026, 3, 2), date(2026, 12, 31), "须早于服务期结束日", id="not-early"),
        pytest.param(date(2026, 6, 11), date(2026, 9, 1), "不得晚于今天", id="future-notice"),
    ],
)
def test_termination_refusals(terminable, notice, last, expected):
    with pytest.raises(ApplicationError, match=expected):
        terminate(terminable, notice, last)


def test_termination_page_preview_and_foreign_404(terminable, foreign):
    url = reverse("contract_terminate", args=[terminable.contract.pk])
    client = verified_client(terminable.users["bureau"])
    with time_machine.travel(datetime(2026, 6, 10, 9, tzinfo=BUSINESS_TZ), tick=False):
        preview = client.get(
            url, {"notice_given_on": "2026-03-02", "terminates_on": "2026-05-01", "reason": "x"}
        ).content.decode()
        assert "将在 2026-05-01 24:00 关闭" in preview
        assert "确认登记提前终止" in preview
        done = client.post(
            url, {"notice_given_on": "2026-03-02", "terminates_on": "2026-05-01", "reason": "x"}
        )
    assert done.status_code == 302
    assert verified_client(foreign.users["bureau"]).get(url).status_code == 404
    api_url = reverse("api_contract_terminate", args=[terminable.contract.pk])
    assert person_api(foreign.users["bureau"]).post(api_url, {}).status_code == 404


# ---------------------------------------------------------------------------- the forecast


def test_forecast_runs_to_the_effective_end(world):
    """3,100 signed for January (31 days, ¥100 a day): to 2026-12-31 the forecast is
    100 × 365 = 36,500; terminated on 2026-03-31 it is 100 × (31 + 28 + 31) = 9,000."""
    contract = world.contract
    window = [(2026, m) for m in range(1, 13)]
    signed = {(2026, 1): None}
    assert settlement._forecast(contract, window, signed, Decimal("3100")) == Decimal("36500.00")
    Contract.objects.filter(pk=contract.pk).update(
        termination_notice_on=date(2026, 1, 20), terminates_on=date(2026, 3, 31)
    )
    contract.refresh_from_db()
    assert settlement._forecast(contract, window, signed, Decimal("3100")) == Decimal("9000.00")
