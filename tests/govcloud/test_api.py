"""Core API: authentication, one error shape, scoped contract data, schema."""

from __future__ import annotations

import pytest

from tests.api_clients import token_client
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_anonymous_requests_get_401_or_403_in_the_error_shape(client):
    response = client.get("/api/v1/contracts/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert body["message"]


def test_token_authentication_for_vendor_systems(world):
    response = token_client(world.users["vendor"]).get("/api/v1/contracts/")
    assert response.status_code == 200
    assert [c["code"] for c in response.json()["results"]] == [world.contract.code]


def test_not_found_has_the_error_shape(world):
    response = verified_client(world.users["bureau"]).get("/api/v1/contracts/999999/")
    assert response.status_code == 404
    assert response.json() == {"message": "对象不存在。", "extra": {}}


def test_catalog_lists_decimal_prices_as_strings(world):
    from tests.factories import CatalogItemFactory

    CatalogItemFactory(contract=world.contract, code="ebs.ssd", unit_price="0.45")
    response = verified_client(world.users["department"]).get(
        f"/api/v1/contracts/{world.contract.pk}/catalog/", {"code": "ebs.ssd"}
    )
    assert response.json()["results"][0]["unit_price"] == "0.45"


def test_me_reports_role_and_organisation(world):
    body = verified_client(world.users["supervisor"]).get("/api/v1/me/").json()
    assert body["organization_kind"] == "supervisor"


def test_openapi_schema_is_served(world):
    response = verified_client(world.users["bureau"]).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/contracts/" in response.content
