"""The test period of a new system (包头 §5.1.2: 原则上测试期为1个月，测试期间不计费).

It is a record (``SystemTestPeriod``): it starts at the first ticket delivery of a system that has
no resource yet; every resource of the system delivered by a ticket while it runs starts billing
at its end (a second resource inside the same month too). An inventory import is authoritative
and never infers one (DESIGN §4a). The bureau ends it early (cutover) or extends it, with a
reason; the billing start follows, a signed month is never changed.

The world contract (``tests.factories.ContractFactory``) is monthly priced with the half-day rule
and discount 0.9999; ``ecs.general.vcpu`` costs 21.60 元/核/月.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from billing import pricing
from billing.models import (
    Resource,
    ResourceChange,
    Statement,
    StatementStatus,
    SystemTestPeriod,
    SystemTestPeriodChange,
)
from billing.services.engine import compute_statement
from billing.services.inventory import inventory_import
from billing.services.statements import statement_generate
from billing.services.system_test_periods import (
    covered_resources,
    delivery_billing_start,
    system_test_period_available_actions,
    system_test_period_end_early,
    system_test_period_extend,
)
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import AuditEvent, BusinessSystem, OutboxEmail
from govcloud.workdays import BUSINESS_TZ
from tests.conftest import verified_client
from tests.requests_app.factories import delivered_ticket, vcpu_item

D = Decimal
SYSTEM = "不动产登记系统"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("online_at", "ends_at", "expected"),
    [
        pytest.param(sh(2026, 3, 10, 15), sh(2026, 4, 10, 15), sh(2026, 4, 10, 15), id="first"),
        pytest.param(sh(2026, 3, 20, 9), sh(2026, 4, 10, 15), sh(2026, 4, 10, 15), id="inside"),
        pytest.param(sh(2026, 4, 10, 15), sh(2026, 4, 10, 15), sh(2026, 4, 10, 15), id="at-end"),
        pytest.param(sh(2026, 4, 11), sh(2026, 4, 10, 15), sh(2026, 4, 11), id="after"),
        pytest.param(sh(2026, 3, 20), None, sh(2026, 3, 20), id="no-test-period"),
    ],
)
def test_billing_start(online_at, ends_at, expected):
    assert pricing.billing_start(online_at, test_period_ends_at=ends_at) == expected


def test_billing_start_wants_aware_times():
    with pytest.raises(ValueError, match="aware"):
        pricing.billing_start(datetime(2026, 3, 1), test_period_ends_at=None)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (sh(2026, 3, 10, 15), 1, sh(2026, 4, 10, 15)),
        (sh(2026, 1, 31, 8), 1, sh(2026, 2, 28, 8)),  # clamped to the shorter month
        (sh(2026, 3, 10, 15), 0, sh(2026, 3, 10, 15)),
    ],
)
def test_test_period_end(start, months, expected):
    assert pricing.test_period_end(start, months) == expected


# ------------------------------------------------------------------------- the scenario


@pytest.fixture
def bt_like(world):
    """The world contract with BT's test period term (1 month)."""
    world.contract.test_period_months = 1
    world.contract.save()
    return world


def deliver(world, when: datetime, **kwargs):
    with time_machine.travel(when, tick=False):
        return delivered_ticket(world, system_name=SYSTEM, **kwargs)


def resource_of(ticket) -> Resource:
    return ticket.lines.get().delivered_resource


@pytest.fixture
def scenario(bt_like):
    """Two tickets inside the test month (8 vCPU each) and two imported rows (3 and 5 vCPU)."""
    world = bt_like
    first = deliver(world, sh(2026, 3, 10, 15))
    second = deliver(world, sh(2026, 3, 20, 9))
    department = world.orgs["department"]
    inventory_import(
        actor="ops",
        contract=world.contract,
        csv_text=(
            "department,system,item,quantity,online_at,offline_at,billing_starts_at\n"
            f"{department.name},{SYSTEM},ecs.general.vcpu,3,2026-03-25 10:00,,\n"
            f"{department.name},{SYSTEM},ecs.general.vcpu,5,2026-04-12 10:00,,\n"
        ),
    )
    world.first, world.second = resource_of(first), resource_of(second)
    world.period = SystemTestPeriod.objects.get(contract=world.contract)
    return world


def starts(world) -> list[tuple[int, datetime]]:
    return sorted(
        Resource.objects.filter(contract=world.contract).values_list(
            "quantity", "billing_starts_at"
        )
    )


def test_a_second_ticket_inside_the_test_month_waits_and_imports_bill_as_their_file_says(
    scenario,
):
    world = scenario
    period = world.period
    assert (period.started_at, period.ends_at, period.contract_ends_at) == (
        sh(2026, 3, 10, 15),
        sh(2026, 4, 10, 15),
        sh(2026, 4, 10, 15),
    )
    assert world.second.system_id == world.first.system_id == period.system_id
    assert starts(world) == [
        (3, sh(2026, 3, 25, 10)),  # imported: from its own go-live, no inferred test period
        (5, sh(2026, 4, 12, 10)),  # imported
        (8, sh(2026, 4, 10, 15)),  # the first ticket waits for the end of the test month
        (8, sh(2026, 4, 10, 15)),  # and so does the second one, delivered inside it
    ]
    assert list(covered_resources(period)) == [world.first, world.second]
    assert AuditEvent.objects.filter(action="test_period.start").count() == 1


def test_the_test_month_is_free_and_april_bills_from_its_end(scenario):
    world = scenario
    march = compute_statement(world.contract, 2026, 3)
    # Only the imported 3 vCPU (online 03-25 10:00): 03-25 has 14 h → 1 day, 03-26…31 → 6.
    # 21.60 × 3 × 7 / 31 = 14.6322… → 14.63; × 0.9999 = 14.628537 → 14.63;
    # VAT 14.63 − round(14.63 / 1.06 = 13.8018…) = 14.63 − 13.80 = 0.83.
    assert [(ln.quantity, ln.service_days, ln.amount) for ln in march.lines] == [
        (3, D("7"), D("14.63"))
    ]
    assert (march.subtotal, march.total, march.vat) == (D("14.63"), D("14.63"), D("0.83"))

    april = compute_statement(world.contract, 2026, 4)
    # Tickets from 04-10 15:00: 04-10 has 9 h → 0.5, 04-11…30 → 20: 20.5 days;
    #   21.60 × 8 × 20.5 / 30 = 118.08 each.
    # Imported 3 vCPU all month: 21.60 × 3 × 30 / 30 = 64.80.
    # Imported 5 vCPU from 04-12 10:00 (14 h → 1) + 04-13…30 (18) = 19 days:
    #   21.60 × 5 × 19 / 30 = 68.40.
    # Subtotal 118.08 × 2 + 64.80 + 68.40 = 369.36; × 0.9999 = 369.323064 → 369.32;
    # VAT 369.32 − round(348.4150…) = 369.32 − 348.42 = 20.90.
    assert sorted((ln.quantity, ln.service_days, ln.amount) for ln in april.lines) == [
        (3, D("30"), D("64.80")),
        (5, D("19"), D("68.40")),
        (8, D("20.5"), D("118.08")),
        (8, D("20.5"), D("118.08")),
    ]
    assert (april.subtotal, april.total, april.vat) == (D("369.36"), D("369.32"), D("20.90"))


def test_no_test_period_without_the_term(world):
    # JZ-2026 has none (test_period_months = 0): billing starts at delivery, nothing recorded.
    ticket = deliver(world, sh(2026, 3, 10, 15))
    assert resource_of(ticket).billing_starts_at == sh(2026, 3, 10, 15)
    assert not SystemTestPeriod.objects.exists()


def test_a_system_that_already_has_resources_gets_no_test_period(bt_like):
    world = bt_like
    department = world.orgs["department"]
    vcpu_item(world.contract)
    inventory_import(
        actor="ops",
        contract=world.contract,
        csv_text=(
            "department,system,item,quantity,online_at,offline_at,billing_starts_at\n"
            f"{department.name},{SYSTEM},ecs.general.vcpu,2,2026-02-01 09:00,,\n"
        ),
    )
    ticket = deliver(world, sh(2026, 3, 10, 15))
    assert resource_of(ticket).billing_starts_at == sh(2026, 3, 10, 15)
    assert not SystemTestPeriod.objects.exists()


def test_after_the_test_period_a_delivery_bills_at_once(scenario):
    world = scenario
    third = deliver(world, sh(2026, 4, 15, 10))
    assert resource_of(third).billing_starts_at == sh(2026, 4, 15, 10)


def test_delivery_billing_start_directly(bt_like):
    world = bt_like
    system = BusinessSystem.objects.create(department=world.orgs["department"], name="新系统")
    # No resource yet: the first delivery starts the test period (and says when billing starts).
    assert delivery_billing_start(
        actor="t", contract=world.contract, system=system, delivered_at=sh(2026, 5, 6, 8)
    ) == sh(2026, 6, 6, 8)
    period = SystemTestPeriod.objects.get(system=system)
    assert period.started_at == sh(2026, 5, 6, 8)
    with pytest.raises(ApplicationError, match="时区"):
        delivery_billing_start(
            actor="t",
            contract=world.contract,
            system=system,
            delivered_at=datetime(2026, 5, 7),  # noqa: DTZ001
        )


def test_a_change_ticket_inside_the_test_period_moves_nothing(scenario):
    """A quantity change (ResourceChange) during the test period: the delivery row is kept,
    billing still starts at the period's end with the configuration then in force."""
    world = scenario
    resource = world.first
    ResourceChange.objects.create(
        resource=resource,
        catalog_item=resource.catalog_item,
        quantity=4,
        delivered_at=sh(2026, 3, 25, 9),
    )
    april = compute_statement(world.contract, 2026, 4)
    line = next(ln for ln in april.lines if ln.resource_id == resource.pk)
    # 21.60 × 4 × 20.5 / 30 = 59.04
    assert (line.quantity, line.service_days, line.amount) == (4, D("20.5"), D("59.04"))


# ------------------------------------------------------------------ the bureau's changes


def test_bureau_extends_and_billing_follows(scenario, django_capture_on_commit_callbacks):
    world = scenario
    with django_capture_on_commit_callbacks(execute=True):
        system_test_period_extend(
            actor=world.users["bureau"],
            period=world.period,
            ends_at=sh(2026, 4, 20),
            reason="联调未完成，经甲方同意延长",
        )
    period = SystemTestPeriod.objects.get(pk=world.period.pk)
    assert (period.ends_at, period.contract_ends_at, period.changed_by) == (
        sh(2026, 4, 20),
        sh(2026, 4, 10, 15),
        world.users["bureau"],
    )
    assert period.change_reason == "联调未完成，经甲方同意延长"
    assert starts(world) == [
        (3, sh(2026, 3, 25, 10)),  # imported rows never move
        (5, sh(2026, 4, 12, 10)),
        (8, sh(2026, 4, 20)),
        (8, sh(2026, 4, 20)),
    ]
    april = compute_statement(world.contract, 2026, 4)
    # Tickets from 04-20 00:00: 11 days; 21.60 × 8 × 11 / 30 = 63.36 each.
    # Subtotal 63.36 × 2 + 64.80 + 68.40 = 259.92; × 0.9999 = 259.894008 → 259.89.
    assert (april.subtotal, april.total) == (D("259.92"), D("259.89"))
    change = SystemTestPeriodChange.objects.get()
    assert (change.kind, change.old_ends_at, change.new_ends_at) == (
        "extend",
        sh(2026, 4, 10, 15),
        sh(2026, 4, 20),
    )
    assert sorted(change.resources) == sorted([world.first.pk, world.second.pk])
    event = AuditEvent.objects.get(action="test_period.extend")
    assert event.after["reason"] == "联调未完成，经甲方同意延长"
    assert event.after["months"] == ["2026-04"]
    # The vendor and the system's department hear of it, with the clause.
    mails = OutboxEmail.objects.filter(key=f"test-period:{period.pk}:{change.pk}")
    recipients = set(mails.values_list("recipient", flat=True))
    assert {world.users["vendor"].email, world.users["department"].email} <= recipients
    assert world.users["bureau"].email not in recipients
    body = mails.first().body
    assert "2026-04-20 00:00" in body
    assert "联调未完成" in body


def test_bureau_ends_it_early_at_the_cutover(scenario):
    world = scenario
    system_test_period_end_early(
        actor=world.users["bureau"],
        period=world.period,
        cutover=sh(2026, 3, 31),
        reason="系统已于3月31日零时正式切换上线",
    )
    assert starts(world)[2:] == [(8, sh(2026, 3, 31)), (8, sh(2026, 3, 31))]
    march = compute_statement(world.contract, 2026, 3)
    # Each ticket now bills 03-31 (1 day): 21.60 × 8 × 1 / 31 = 5.5741… → 5.57;
    # subtotal 5.57 × 2 + 14.63 = 25.77; × 0.9999 = 25.767423 → 25.77.
    assert (march.subtotal, march.total) == (D("25.77"), D("25.77"))
    # A cutover after the second delivery moves only the first: the second bills from delivery.
    system_test_period_end_early(
        actor=world.users["bureau"],
        period=SystemTestPeriod.objects.get(pk=world.period.pk),
        cutover=sh(2026, 3, 15),
        reason="更正：实际切换时间为3月15日",
    )
    assert starts(world)[2:] == [(8, sh(2026, 3, 15)), (8, sh(2026, 3, 20, 9))]
    assert SystemTestPeriodChange.objects.count() == 2


def test_a_signed_month_is_never_changed(scenario):
    world = scenario
    with time_machine.travel(sh(2026, 4, 2, 9), tick=False):
        march = statement_generate(
            actor=world.users["vendor"], contract=world.contract, year=2026, month=3
        )
    now = timezone.now()
    Statement.objects.filter(pk=march.pk).update(
        status=StatementStatus.SIGNED, submitted_at=now, signed_at=now
    )
    before = starts(world)
    # Ending at 03-31 would bill the tickets on 03-31: March is signed → refused, nothing changed.
    with pytest.raises(InvalidTransition, match="2026-03") as refused:
        system_test_period_end_early(
            actor=world.users["bureau"],
            period=world.period,
            cutover=sh(2026, 3, 31),
            reason="3月31日切换",
        )
    assert refused.value.extra["signed_months"] == ["2026-03"]
    assert "已签认" in refused.value.message
    assert starts(world) == before
    assert SystemTestPeriod.objects.get(pk=world.period.pk).ends_at == sh(2026, 4, 10, 15)
    assert not SystemTestPeriodChange.objects.exists()
    assert not AuditEvent.objects.filter(action="test_period.end_early").exists()
    # Extending into April only touches April, which is not signed: done.
    system_test_period_extend(
        actor=world.users["bureau"], period=world.period, ends_at=sh(2026, 4, 20), reason="延长"
    )
    assert starts(world)[2:] == [(8, sh(2026, 4, 20)), (8, sh(2026, 4, 20))]


def test_refusals_change_nothing(scenario):
    world = scenario
    bureau = world.users["bureau"]
    period = world.period
    cases = [
        (dict(cutover=sh(2026, 3, 1), reason="x"), "不早于测试期开始"),
        (dict(cutover=sh(2026, 4, 10, 15), reason="x"), "早于当前结束时间"),
        (dict(cutover=sh(2026, 3, 31), reason="  "), "原因"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ApplicationError, match=message):
            system_test_period_end_early(actor=bureau, period=period, **kwargs)
    with pytest.raises(ApplicationError, match="晚于当前结束时间"):
        system_test_period_extend(actor=bureau, period=period, ends_at=sh(2026, 4, 1), reason="x")
    with pytest.raises(ApplicationError, match="服务期结束"):
        system_test_period_extend(actor=bureau, period=period, ends_at=sh(2027, 1, 2), reason="x")
    for role in ("vendor", "supervisor", "department", "system_admin"):
        with pytest.raises(ActionForbidden):
            system_test_period_extend(
                actor=world.users[role], period=period, ends_at=sh(2026, 4, 20), reason="x"
            )
    assert system_test_period_available_actions(user=bureau, obj=period) == {"end_early", "extend"}
    assert not system_test_period_available_actions(user=world.users["vendor"], obj=period)
    assert SystemTestPeriod.objects.get(pk=period.pk).ends_at == sh(2026, 4, 10, 15)
    assert not AuditEvent.objects.filter(action__startswith="test_period.e").exists()


# ------------------------------------------------------------------- portal, API, admin


def test_portal_page_and_buttons_for_the_bureau_only(scenario, foreign):
    world = scenario
    url = reverse("contract_test_periods", kwargs={"pk": world.contract.pk})
    bureau = verified_client(world.users["bureau"])
    page = bureau.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert SYSTEM in text
    assert "2026-04-10 15:00" in text
    assert reverse("test_period_extend", kwargs={"pk": world.period.pk}) in text
    assert "#term-test_period_months" in text  # the clause is cited
    for role in ("vendor", "supervisor", "auditor", "department", "system_admin"):
        assert verified_client(world.users[role]).get(url).status_code == 404
    assert verified_client(foreign.users["bureau"]).get(url).status_code == 404

    response = bureau.post(
        reverse("test_period_extend", kwargs={"pk": world.period.pk}),
        {"ends_at": "2026-04-20T00:00", "reason": "联调未完成"},
    )
    assert response.status_code == 302
    assert SystemTestPeriod.objects.get(pk=world.period.pk).ends_at == sh(2026, 4, 20)
    response = bureau.post(
        reverse("test_period_end_early", kwargs={"pk": world.period.pk}),
        {"cutover": "2026-03-01T00:00", "reason": "早于开始"},
        follow=True,
    )
    assert "不早于测试期开始" in response.content.decode()
    foreign_post = verified_client(foreign.users["bureau"]).post(
        reverse("test_period_extend", kwargs={"pk": world.period.pk}),
        {"ends_at": "2026-04-25T00:00", "reason": "x"},
    )
    assert foreign_post.status_code == 404
    dashboard = bureau.get(reverse("contract_dashboard", kwargs={"pk": world.contract.pk}))
    assert url in dashboard.content.decode()


def test_api(scenario, foreign):
    world = scenario
    bureau = verified_client(world.users["bureau"])
    listing = bureau.get(f"/api/v1/contracts/{world.contract.pk}/test-periods/")
    assert listing.status_code == 200
    (item,) = listing.json()
    assert (item["id"], item["system_name"], item["available_actions"]) == (
        world.period.pk,
        SYSTEM,
        ["end_early", "extend"],
    )
    assert item["term"]["key"] == "test_period_months"
    assert len(item["resources"]) == 2
    assert verified_client(world.users["vendor"]).get(
        f"/api/v1/test-periods/{world.period.pk}/"
    ).status_code in (403, 404)
    assert (
        verified_client(foreign.users["bureau"])
        .get(f"/api/v1/test-periods/{world.period.pk}/")
        .status_code
        == 404
    )
    done = bureau.post(
        f"/api/v1/test-periods/{world.period.pk}/end-early/",
        {"cutover": "2026-03-31T00:00:00+08:00", "reason": "切换上线"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["ends_at"].startswith("2026-03-31T00:00:00")
    assert done.json()["changes"][0]["kind"] == "end_early"
    refused = bureau.post(
        f"/api/v1/test-periods/{world.period.pk}/extend/",
        {"ends_at": "2026-03-01T00:00:00+08:00", "reason": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "晚于当前结束时间" in refused.json()["message"]


def test_admin_lists_test_periods_read_only(scenario):
    world = scenario
    client = verified_client(world.users["bureau"])
    listing = client.get(reverse("admin:billing_systemtestperiod_changelist"))
    assert listing.status_code == 200
    assert SYSTEM in listing.content.decode()
    page = client.get(reverse("admin:billing_systemtestperiod_change", args=[world.period.pk]))
    assert page.status_code == 200
    assert client.get(reverse("admin:billing_systemtestperiod_add")).status_code == 403


# ------------------------------------------------------------------ tenancy matrix builder


def running_test_period(world) -> SystemTestPeriod:
    """A test period of the world's contract (for ``tests/scoped_urls.py``)."""
    world.contract.test_period_months = 1
    world.contract.save()
    ticket = delivered_ticket(world, system_name="测试期系统")
    return SystemTestPeriod.objects.get(system=ticket.system)
