"""Every to-do count on the home page is exactly the rows of the page it links to — for every
demo account (each role, both contracts), on the living demo as seeded on 2026-12-04."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import resolve

from govcloud import home
from govcloud.demo import demo_parts
from govcloud.models import User
from tests.conftest import verified_client
from tests.sla.factories import at

pytestmark = pytest.mark.django_db

TODAY = at(2026, 12, 4, 10)


@pytest.fixture
def demo(settings, statement_pdfs_fast, django_capture_on_commit_callbacks):
    settings.DEBUG = True  # the demo is seeded in development mode only
    with (
        time_machine.travel(TODAY, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for part in demo_parts():
            part.run()


def _rows(url: str, response) -> int:
    """How many rows the page lists (all its pages); the page of one object is that row."""
    if "pk" in resolve(url.split("?")[0]).kwargs:
        return 1
    return response.context["page"].paginator.count


def _counted_actions(user: User) -> list[home.Action]:
    return [a for card in home.cards_for(user) for a in card.actions if a.count is not None]


def test_each_home_count_is_the_rows_of_the_page_it_links_to(demo):
    mismatches, checked, roles = [], 0, set()
    with time_machine.travel(TODAY, tick=False):
        users = User.objects.filter(email__endswith="@demo.govcloud.local").select_related(
            "organization"
        )
        for user in users.order_by("pk"):
            client = verified_client(user)
            for action in _counted_actions(user):
                response = client.get(action.url)
                assert response.status_code == 200, (user.username, action.label, action.url)
                rows = _rows(action.url, response)
                if rows != action.count:
                    mismatches.append(
                        f"{user.username} {action.label}: 首页 {action.count}，"
                        f"{action.url}（{resolve(action.url.split('?')[0]).url_name}）{rows} 行"
                    )
                checked += 1
                roles.add((user.kind, user.role))
    assert mismatches == []
    # every business role has counted to-dos (department, bureau, vendor, supervisor, auditor)
    assert {kind for kind, _role in roles} >= {
        "department",
        "bureau",
        "vendor",
        "supervisor",
        "auditor",
    }
    assert checked > 30


def test_the_departments_advice_count_links_to_the_advice_to_answer(demo):
    with time_machine.travel(TODAY, tick=False):
        user = User.objects.get(username="bt_hrss")
        (advice,) = [a for a in _counted_actions(user) if a.label == "资源调整建议待确认"]
        assert advice.count > 1
        page = verified_client(user).get(advice.url)
    assert page.context["page"].paginator.count == advice.count
    assert page.content.decode().count('name="advice"') == min(advice.count, 50)
