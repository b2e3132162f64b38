"""SLA list APIs cost the same number of queries for 1 record as for 10 (issue 13 item 6)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.services import outages
from tests.api_clients import person_api
from tests.sla import builders

pytestmark = pytest.mark.django_db


def _outages(world, n: int) -> None:
    for index in range(n):
        outage = builders.outage(world, title=f"中断 {index}")
        outages.outage_confirm(
            actor=world.users["bureau"], outage=outage, vendor_caused=True, comment="属实"
        )


def _deliverables(world, n: int) -> None:
    for _ in range(n):
        builders.deliverable(world)


def _count(api, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url", "make"),
    [("/api/v1/sla/outages/", _outages), ("/api/v1/sla/deliverables/", _deliverables)],
)
def test_list_apis_do_not_grow_with_rows(world, url, make):
    api = person_api(world.users["bureau"])
    make(world, 1)
    _count(api, url)  # warm the session
    one = _count(api, url)
    make(world, 9)
    ten = _count(api, url)
    assert one == ten, {"1 row": one, "10 rows": ten}
