"""The metrics push API and the CSV upload page: auth, tenancy, all-or-nothing, idempotence."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from sla.models import UtilizationSample
from tests.api_clients import token_client
from tests.conftest import verified_client
from tests.sla.factories import at, mem_item, resource, vcpu_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("july")]

URL = "/api/v1/metrics/"


def token_api(user) -> APIClient:
    return token_client(user)


def push(client: APIClient, rows) -> object:
    # Raw JSON so numbers stay numbers (the API parses them as Decimal).
    return client.post(URL, data=json.dumps(rows), content_type="application/json")


@pytest.fixture
def res(world):
    return resource(world.contract, world.orgs["department"], vcpu_item(world.contract), 8)


def row(res, day="2026-07-01", **kwargs):
    values = {"resource": res.pk, "day": day, "cpu_pct": 12.5, "mem_pct": 40, "disk_pct": "55.25"}
    values.update(kwargs)
    return values


def test_anonymous_gets_401_with_a_token_challenge(res):
    response = push(APIClient(), [row(res)])
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not UtilizationSample.objects.exists()


@pytest.mark.parametrize("role", ["bureau", "supervisor", "auditor", "department"])
def test_only_the_vendor_pushes(world, res, role):
    response = push(token_api(world.users[role]), [row(res)])
    assert response.status_code == 403
    assert set(response.json()) == {"message", "extra"}
    assert not UtilizationSample.objects.exists()


def test_a_resource_of_another_tenant_is_a_row_error_and_nothing_is_saved(world, foreign, res):
    theirs = resource(foreign.contract, foreign.orgs["department"], vcpu_item(foreign.contract), 4)
    response = push(token_api(world.users["vendor"]), [row(res), row(theirs)])
    assert response.status_code == 400
    body = response.json()
    assert body["extra"]["errors"] == [{"row": 2, "errors": ["资源不存在或不属于您的合同"]}]
    assert "第 2 行" in body["message"]
    assert not UtilizationSample.objects.exists()


def test_bad_rows_are_numbered_and_nothing_is_saved(world, res):
    rows = [
        row(res, day="2026-07-01"),
        row(res, day="2026-07-02", cpu_pct=101),
        row(res, day="not-a-day"),
        row(res, day="2026-07-01"),  # duplicate of row 1
        row(res, day="2026-07-20"),  # the future
        row(res, day="2026-07-03", mem_pct=None, colour="blue"),
    ]
    response = push(token_api(world.users["vendor"]), rows)
    assert response.status_code == 400
    errors = {e["row"]: e["errors"] for e in response.json()["extra"]["errors"]}
    assert sorted(errors) == [2, 3, 4, 5, 6]
    assert errors[2] == ["cpu_pct 必须是 0 到 100 之间的数"]
    assert errors[4] == ["与第 1 行的资源和日期重复"]
    assert errors[5] == ["日期不能晚于今天"]
    assert len(errors[6]) == 2
    assert not UtilizationSample.objects.exists()


def test_a_day_before_the_resource_was_online_is_refused(world):
    late = resource(
        world.contract,
        world.orgs["department"],
        vcpu_item(world.contract),
        2,
        system_name="新系统",
        online=at(2026, 7, 10, 9),
    )
    response = push(token_api(world.users["vendor"]), [row(late, day="2026-07-09")])
    assert response.status_code == 400
    assert response.json()["extra"]["errors"][0]["errors"] == ["资源在该日不在线"]


def test_push_is_idempotent_per_resource_and_day(world, res):
    api = token_api(world.users["vendor"])
    first = push(api, [row(res, day="2026-07-01"), row(res, day="2026-07-02")])
    assert first.status_code == 200
    assert first.json() == {"created": 2, "updated": 0}
    again = push(api, [row(res, day="2026-07-02", cpu_pct=33.3), row(res, day="2026-07-03")])
    assert again.json() == {"created": 1, "updated": 1}
    assert UtilizationSample.objects.count() == 3
    sample = UtilizationSample.objects.get(day=date(2026, 7, 2))
    assert sample.cpu_pct == Decimal("33.30")
    assert sample.disk_pct == Decimal("55.25")


def test_body_must_be_a_list(world):
    response = token_api(world.users["vendor"]).post(
        URL, data=json.dumps({"resource": 1}), content_type="application/json"
    )
    assert response.status_code == 400


def test_samples_are_readable_in_scope(world, foreign, res):
    push(token_api(world.users["vendor"]), [row(res)])
    mine = token_api(world.users["vendor"]).get("/api/v1/sla/utilization/").json()
    assert [s["resource"] for s in mine["results"]] == [res.pk]
    other = token_api(foreign.users["vendor"]).get("/api/v1/sla/utilization/").json()
    assert other["results"] == []


# ---------------------------------------------------------------- CSV upload page


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("metrics.csv", text.encode("utf-8"), content_type="text/csv")


def test_csv_upload_uses_the_same_rules(world, res):
    mem = resource(world.contract, world.orgs["department"], mem_item(world.contract), 16)
    url = reverse("sla_metrics_upload", args=[world.contract.pk])
    client = verified_client(world.users["vendor"])
    good = (
        "resource,day,cpu_pct,mem_pct,disk_pct,disk_used_gb\n"
        f"{res.pk},2026-07-01,10,20,30,\n"
        f"{mem.pk},2026-07-01,10,20,30,12.5\n"
    )
    response = client.post(url, {"file": _csv(good)})
    assert response.status_code == 302
    assert UtilizationSample.objects.count() == 2
    bad = (
        "resource,day,cpu_pct,mem_pct,disk_pct,disk_used_gb\n"
        f"{res.pk},2026-07-02,10,20,30,\n"
        f"{res.pk},2026-07-03,abc,20,30,\n"
    )
    response = client.post(url, {"file": _csv(bad)})
    assert response.status_code == 200
    assert "第 3 行" in response.content.decode()  # line 3 of the file (after the header)
    assert UtilizationSample.objects.count() == 2


def test_csv_upload_page_is_the_vendors(world):
    url = reverse("sla_metrics_upload", args=[world.contract.pk])
    assert verified_client(world.users["bureau"]).get(url).status_code == 403
