"""Under /api/ every error is JSON in the one shape (issue 13 item 1): unknown URLs, wrong
methods, and integers no column can hold are answered, never with HTML or a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api_clients import person_api

pytestmark = pytest.mark.django_db


def test_an_unknown_api_url_is_a_json_404(world):
    for client in (Client(), person_api(world.users["bureau"])):
        response = client.get("/api/v1/no-such-thing/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"message": "接口或对象不存在。", "extra": {}}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/resources/?contract=99999999999999999999999",
        "/api/v1/bills/?statement=-99999999999999999999",
        "/api/v1/sla/utilization/?resource=9223372036854775808",
    ],
)
def test_an_integer_beyond_any_column_is_a_400_naming_the_parameter(world, url):
    response = person_api(world.users["bureau"]).get(url)
    assert response.status_code == 400
    body = response.json()
    name = url.split("?")[1].split("=")[0]
    assert body["extra"] == {"field": name}
    assert body["message"].startswith(f"查询参数 {name} 超出范围")


def test_the_largest_integer_still_reaches_the_view(world):
    response = person_api(world.users["bureau"]).get(
        "/api/v1/resources/?contract=9223372036854775807"
    )
    assert response.status_code in (200, 400)
    assert response["Content-Type"].startswith("application/json")


def test_portal_pages_keep_their_html_404(world):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
