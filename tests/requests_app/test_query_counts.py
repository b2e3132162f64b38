"""A change ticket's page and API cost the same number of queries for 1 line as for 10
(issue 13 item 6: no query per line, e.g. for the configuration a line started from)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Resource
from requests_app import services
from tests.api_clients import person_api
from tests.conftest import verified_client
from tests.factories import CatalogItemFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _change_ticket(world, lines: int, tag: str):
    items = [
        CatalogItemFactory(
            contract=world.contract, code=f"q.{tag}.{n}", unit="核", unit_price=Decimal("10")
        )
        for n in range(lines)
    ]
    new = services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="上云",
        system_name=f"系统{tag}",
        lines=[services.LineInput(catalog_item_id=item.pk, quantity=2) for item in items],
        submit=True,
    )
    for reviewer in ("bureau", "supervisor"):
        new = services.request_approve(actor=world.users[reviewer], ticket=new)
    services.request_deliver(
        actor=world.users["vendor"],
        ticket=new,
        items=[
            services.DeliveryInput(line_id=line.pk, vendor_ref=f"i-{line.pk}")
            for line in new.lines.all()
        ],
    )
    resources = Resource.objects.filter(system=new.system).order_by("pk")
    change = services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="change",
        reason="扩容",
        system_id=new.system_id,
        lines=[services.LineInput(resource_id=r.pk, quantity=4) for r in resources],
        submit=True,
    )
    return change


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["department", "bureau"])
def test_change_ticket_page_and_api_do_not_grow_with_lines(world, who):
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=SH), tick=False):
        one = _change_ticket(world, 1, "a")
        ten = _change_ticket(world, 10, "b")
        page, api = verified_client(world.users[who]), person_api(world.users[who])
        _queries(page, reverse("request_detail", args=[one.pk]))  # warm caches (sessions, …)
        counts = {
            "page": [_queries(page, reverse("request_detail", args=[t.pk])) for t in (one, ten)],
            "api": [_queries(api, f"/api/v1/requests/{t.pk}/") for t in (one, ten)],
        }
    assert counts["page"][0] == counts["page"][1], counts
    assert counts["api"][0] == counts["api"][1], counts
