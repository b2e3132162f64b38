"""Utilization data through the joint confirmation (BT 附件2 7.3 "经三方确认无误的…数据").

Each pushed contract-month gets a confirmation of bureau, vendor and supervisor; the 20 % rule
reads confirmed months only, and the utilization page lists the months not confirmed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from govcloud.joint import joint_confirm
from govcloud.models import JointStatus, JointSubject
from sla.rules import utilization_low
from sla.services import metrics
from sla.services.rightsizing import contract_averages
from sla.services.utilization_months import confirmed_months, month_confirmation
from tests.conftest import verified_client
from tests.sla.factories import at, resource, vcpu_item

pytestmark = pytest.mark.django_db

SUBJECT = JointSubject.UTILIZATION_DATA
JULY, AUGUST = date(2026, 7, 1), date(2026, 8, 1)


def _push(world, res, first: date, cpu: str) -> None:
    rows = [
        {
            "resource": res.pk,
            "day": (first + timedelta(days=i)).isoformat(),
            "cpu_pct": cpu,
            "mem_pct": "60",
            "disk_pct": "60",
        }
        for i in range(31)
    ]
    metrics.metrics_push(actor=world.users["vendor"], rows=rows)


@pytest.fixture
def pushed(world):
    world.contract.joint_confirmations = {str(SUBJECT): ["bureau", "vendor", "supervisor"]}
    world.contract.save(update_fields=["joint_confirmations"])
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 4)
    with time_machine.travel(at(2026, 9, 2, 10), tick=False):
        _push(world, res, JULY, "5")
        _push(world, res, AUGUST, "50")
    return world, res


def test_the_20_percent_rule_ignores_an_unconfirmed_month(pushed):
    world, _res = pushed
    contract = world.contract
    august = month_confirmation(contract, AUGUST)
    assert august.required_roles == ["bureau", "vendor", "supervisor"]
    for who in ("bureau", "vendor", "supervisor"):
        joint_confirm(actor=world.users[who], confirmation=august)
    assert confirmed_months(contract) == {AUGUST}

    # Raw pushes: (31 × 5 + 31 × 50) / 62 = 27.5 % CPU, below 30 % → the 20 % charge.
    raw = contract_averages(contract, JULY, date(2026, 8, 31))
    assert raw.cpu_pct == Decimal("27.50")
    assert utilization_low(raw.cpu_pct, raw.mem_pct, Decimal("30")) == ["CPU"]
    # Confirmed months only: August alone, 50 % → no charge; July is named as left out.
    counted = contract_averages(contract, JULY, date(2026, 8, 31), confirmed_only=True)
    assert counted.cpu_pct == Decimal("50.00")
    assert utilization_low(counted.cpu_pct, counted.mem_pct, Decimal("30")) == []
    assert "2026-07" in counted.notes[0]


def test_new_data_restarts_a_confirmed_month(pushed):
    world, res = pushed
    august = month_confirmation(world.contract, AUGUST)
    for who in ("bureau", "vendor", "supervisor"):
        joint_confirm(actor=world.users[who], confirmation=august)
    with time_machine.travel(at(2026, 9, 3, 10), tick=False):
        _push(world, res, AUGUST, "55")
    august.refresh_from_db()
    assert (august.status, august.round) == (JointStatus.OPEN, 2)
    assert confirmed_months(world.contract) == set()


def test_without_the_term_every_month_counts(world):
    world.contract.joint_confirmations = {}
    world.contract.save(update_fields=["joint_confirmations"])
    res = resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 4)
    with time_machine.travel(at(2026, 9, 2, 10), tick=False):
        _push(world, res, JULY, "5")
    assert confirmed_months(world.contract) is None
    assert month_confirmation(world.contract, JULY) is None
    averages = contract_averages(world.contract, JULY, date(2026, 7, 31), confirmed_only=True)
    assert averages.cpu_pct == Decimal("5.00")


@pytest.mark.urls("tests.govcloud.test_joint")
def test_the_page_lists_the_months_not_confirmed(pushed):
    world, _res = pushed
    august = month_confirmation(world.contract, AUGUST)
    for who in ("bureau", "vendor", "supervisor"):
        joint_confirm(actor=world.users[who], confirmation=august)
    client = verified_client(world.users["supervisor"])
    with time_machine.travel(at(2026, 9, 2, 10), tick=False):
        page = client.get(reverse("sla_utilization", args=[world.contract.pk]) + "?month=2026-07")
    text = page.content.decode()
    assert page.status_code == 200
    assert "尚未确认的月份" in text
    assert "2026-07" in text.split("尚未确认的月份")[1].split("</p>")[0]
    assert "2026-08" not in text.split("尚未确认的月份")[1].split("</p>")[0]
    assert "确认无误" in text  # July's panel offers the supervisor its confirmation
