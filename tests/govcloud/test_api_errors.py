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


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/sla/utilization/?resource=abc", "resource"),
        ("/api/v1/sla/utilization/?resource=%C2%B2", "resource"),
        ("/api/v1/sla/utilization/?day_from=2026-02-30", "day_from"),
        ("/api/v1/sla/utilization/?day_to=yesterday", "day_to"),
        ("/api/v1/sla/outages/?contract=1.5", "contract"),
        ("/api/v1/sla/outages/?service_year=%D9%A2", "service_year"),
        ("/api/v1/sla/advice/?report=x", "report"),
        ("/api/v1/sla/exit/records/?system=-", "system"),
        ("/api/v1/sla/exit/staff/?contract=1e3", "contract"),
        ("/api/v1/resources/?contract=1e400", "contract"),
        ("/api/v1/bills/?statement=abc", "statement"),
        ("/api/v1/requests/?department=" + "9" * 5000, "department"),
        ("/api/v1/contracts/?page=0", "page"),
        ("/api/v1/contracts/?page=abc", "page"),
        ("/api/v1/contracts/?page=2", "page"),
        ("/api/v1/resources/?contract=1&contract=2", "contract"),
        ("/api/v1/requests/?ordering=due_at&ordering=created_at", "ordering"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 60 else "long",
)
def test_a_malformed_query_parameter_is_a_400_naming_it(world, url, name):
    """Malformed ids, dates, pages and repeated parameters: a 400 that names the parameter,
    never an empty list that hides the mistake, never a 500."""
    response = person_api(world.users["bureau"]).get(url)
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert name in body["message"]
    assert name in (body["extra"].get("field"), *body["extra"].get("fields", {}))


def test_well_formed_parameters_still_filter(world):
    api = person_api(world.users["bureau"])
    for url in (
        "/api/v1/sla/utilization/?day_from=2026-01-01&day_to=2026-12-31",
        f"/api/v1/sla/outages/?contract={world.contract.pk}&service_year=2026",
        "/api/v1/contracts/?page=1",
        "/api/v1/contracts/?page=last",
        "/api/v1/requests/?ordering=due_at,-created_at",
    ):
        assert api.get(url).status_code == 200, url
    listed = api.get(f"/api/v1/sla/outages/?contract={world.contract.pk + 1000}").json()
    assert listed["results"] == []


def test_every_operation_documents_its_errors_in_the_one_shape(client):
    """The published schema: 401/403/429 everywhere a caller is needed, 400 where parameters
    or a body are read, 404 where a path names an object, 409 where a workflow step writes."""
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["message", "extra"]
    operations = [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) > 100
    for method, path, operation in operations:
        codes = set(operation["responses"])
        expected = {"401", "403", "429"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("400")
        if "{" in path:
            expected.add("404")
        if method in ("post", "put", "patch", "delete"):
            expected.add("409")
        assert expected <= codes, (method, path, sorted(codes))
        for code in expected:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, code)
