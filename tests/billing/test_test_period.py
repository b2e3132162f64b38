"""The one test-period rule (包头 §5.1.2: 测试期为1个月，测试期间不计费), for tickets and imports.

A business system's test period starts at the first go-live of any of its resources and lasts
``contract.test_period_months``; every resource going online inside it starts billing at its
end, however it came in (a ticket's delivery or an inventory import).
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from billing import pricing
from billing.models import Resource
from billing.services.inventory import inventory_import
from govcloud.workdays import BUSINESS_TZ
from tests.requests_app.factories import delivered_ticket


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


@pytest.mark.parametrize(
    ("online_at", "test_started_at", "months", "expected"),
    [
        pytest.param(sh(2026, 3, 10, 15), sh(2026, 3, 10, 15), 1, sh(2026, 4, 10, 15), id="first"),
        pytest.param(sh(2026, 3, 20, 9), sh(2026, 3, 10, 15), 1, sh(2026, 4, 10, 15), id="inside"),
        pytest.param(sh(2026, 4, 10, 15), sh(2026, 3, 10, 15), 1, sh(2026, 4, 10, 15), id="at-end"),
        pytest.param(sh(2026, 4, 11), sh(2026, 3, 10, 15), 1, sh(2026, 4, 11), id="after"),
        pytest.param(sh(2026, 3, 20), sh(2026, 3, 10), 0, sh(2026, 3, 20), id="no-test-period"),
        pytest.param(sh(2026, 3, 20), None, 1, sh(2026, 3, 20), id="no-start-known"),
        pytest.param(sh(2026, 1, 31, 8), sh(2026, 1, 31, 8), 1, sh(2026, 2, 28, 8), id="clamped"),
    ],
)
def test_billing_start(online_at, test_started_at, months, expected):
    assert (
        pricing.billing_start(online_at, test_started_at=test_started_at, test_period_months=months)
        == expected
    )


def test_billing_start_wants_aware_times():
    with pytest.raises(ValueError, match="aware"):
        pricing.billing_start(datetime(2026, 3, 1), test_started_at=None, test_period_months=1)  # noqa: DTZ001


def test_a_second_ticket_inside_the_test_month_waits_like_an_imported_row(world):
    world.contract.test_period_months = 1
    world.contract.save()
    with time_machine.travel(sh(2026, 3, 10, 15), tick=False):
        first = delivered_ticket(world, system_name="不动产登记系统")
    with time_machine.travel(sh(2026, 3, 20, 9), tick=False):
        second = delivered_ticket(world, system_name="不动产登记系统")
    assert second.system_id == first.system_id
    department = world.orgs["department"]
    text = (
        "department,system,item,quantity,online_at,offline_at,billing_starts_at\n"
        f"{department.name},不动产登记系统,ecs.general.vcpu,3,2026-03-25 10:00,,\n"
        f"{department.name},不动产登记系统,ecs.general.vcpu,5,2026-04-12 10:00,,\n"
    )
    inventory_import(actor="ops", contract=world.contract, csv_text=text)

    starts = sorted(
        Resource.objects.filter(system_id=first.system_id).values_list(
            "quantity", "billing_starts_at"
        )
    )
    assert starts == [
        (3, sh(2026, 4, 10, 15)),  # the imported row inside the test month waits for its end
        (5, sh(2026, 4, 12, 10)),  # after it: from its own go-live
        (8, sh(2026, 4, 10, 15)),  # the first ticket (8 vCPU) waits for the end of the month
        (8, sh(2026, 4, 10, 15)),  # and so does the second one, delivered inside it
    ]
