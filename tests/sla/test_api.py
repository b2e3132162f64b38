"""SLA REST API: 401 / 403 / cross-tenant 404 before the happy paths, then the workflows."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from sla.models import AdviceStatus, Outage, OutageStatus
from tests.api_clients import api_for
from tests.sla import builders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("july")]


def api(user) -> APIClient:
    """Vendors through a service account's token, the other parties through their session."""
    return api_for(user)


def error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content.decode()
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert body["message"]
    return body


OUTAGE = {
    "title": "网络中断",
    "started_at": "2026-07-10T08:00:00+08:00",
    "ended_at": "2026-07-10T09:00:00+08:00",
    "cause": "光缆中断",
    "scope": "platform",
}


class TestOutageApi:
    def test_anonymous_is_401(self, world):
        response = APIClient().post("/api/v1/sla/outages/", OUTAGE, format="json")
        error(response, 401)

    def test_wrong_role_is_403_and_nothing_saved(self, world):
        response = api(world.users["bureau"]).post(
            "/api/v1/sla/outages/", {**OUTAGE, "contract": world.contract.pk}, format="json"
        )
        error(response, 403)
        assert not Outage.objects.exists()

    def test_another_tenants_contract_is_404(self, world, foreign):
        response = api(foreign.users["vendor"]).post(
            "/api/v1/sla/outages/", {**OUTAGE, "contract": world.contract.pk}, format="json"
        )
        error(response, 404)
        assert not Outage.objects.exists()

    def test_naive_times_are_refused(self, world):
        response = api(world.users["vendor"]).post(
            "/api/v1/sla/outages/",
            {**OUTAGE, "contract": world.contract.pk, "started_at": "2026-07-10T08:00:00"},
            format="json",
        )
        error(response, 400)

    def test_report_confirm_and_read(self, world, foreign):
        created = api(world.users["vendor"]).post(
            "/api/v1/sla/outages/", {**OUTAGE, "contract": world.contract.pk}, format="json"
        )
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        assert created.json()["minutes"] == "60.00"
        url = f"/api/v1/sla/outages/{pk}/confirm/"
        error(api(world.users["vendor"]).post(url, {"vendor_caused": True}, format="json"), 403)
        error(api(foreign.users["bureau"]).post(url, {"vendor_caused": True}, format="json"), 404)
        for role in ("bureau", "supervisor"):
            response = api(world.users[role]).post(url, {"vendor_caused": True}, format="json")
            assert response.status_code == 200
        assert response.json()["status"] == OutageStatus.CONFIRMED
        assert len(response.json()["signoffs"]) == 2
        error(api(world.users["bureau"]).post(url, {"vendor_caused": True}, format="json"), 409)
        listing = api(world.users["auditor"]).get(
            f"/api/v1/sla/outages/?contract={world.contract.pk}&service_year=2026"
        )
        assert [o["id"] for o in listing.json()["results"]] == [pk]
        assert api(foreign.users["auditor"]).get("/api/v1/sla/outages/").json()["results"] == []
        assert api(world.users["department"]).get("/api/v1/sla/outages/").json()["results"] == []


def test_incident_and_notice_workflows(world):
    created = api(world.users["vendor"]).post(
        "/api/v1/sla/incidents/",
        {
            "contract": world.contract.pk,
            "level": 2,
            "title": "勒索病毒",
            "description": "……",
            "occurred_at": "2026-07-02T09:00:00+08:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assess = api(world.users["supervisor"]).post(
        f"/api/v1/sla/incidents/{created.json()['id']}/assess/",
        {"fully_reported": True},
        format="json",
    )
    assert assess.json()["status"] == "assessed"

    notice = api(world.users["auditor"]).post(
        "/api/v1/sla/notices/",
        {"contract": world.contract.pk, "title": "x", "description": "y"},
        format="json",
    )
    assert notice.status_code == 201
    pk = notice.json()["id"]
    fixed = api(world.users["vendor"]).post(
        f"/api/v1/sla/notices/{pk}/fix/", {"report": "已整改"}, format="json"
    )
    assert fixed.json()["status"] == "fixed"
    error(
        api(world.users["bureau"]).post(
            f"/api/v1/sla/notices/{pk}/confirm/", {"accept": True}, format="json"
        ),
        403,
    )
    confirmed = api(world.users["auditor"]).post(
        f"/api/v1/sla/notices/{pk}/confirm/", {"accept": True}, format="json"
    )
    assert confirmed.json()["status"] == "confirmed"


def test_deliverable_upload_and_review(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    created = api(world.users["vendor"]).post(
        "/api/v1/sla/deliverables/",
        {"contract": world.contract.pk, "kind": "monthly_report", "period_month": "2026-06-01"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["due_date"] == "2026-07-07"
    pk = created.json()["id"]
    upload = api(world.users["vendor"]).post(
        f"/api/v1/sla/deliverables/{pk}/submit/",
        {"document": SimpleUploadedFile("r.pdf", b"%PDF", content_type="application/pdf")},
        format="multipart",
    )
    assert upload.status_code == 200, upload.content
    error(
        api(world.users["bureau"]).post(
            f"/api/v1/sla/deliverables/{pk}/review/", {"accept": False}, format="json"
        ),
        400,
    )
    review = api(world.users["bureau"]).post(
        f"/api/v1/sla/deliverables/{pk}/review/",
        {"accept": False, "reason": "格式不符"},
        format="json",
    )
    assert review.json()["submissions"][0]["decision"] == "rejected"


def test_penalty_acknowledge_and_survey_answer(world):
    penalty = builders.penalty(world)
    url = f"/api/v1/sla/penalties/{penalty.pk}/acknowledge/"
    error(api(world.users["supervisor"]).post(url), 403)
    assert api(world.users["vendor"]).post(url).json()["status"] == "acknowledged"
    survey = builders.survey(world)
    url = f"/api/v1/sla/surveys/{survey.pk}/respond/"
    error(api(world.users["vendor"]).post(url, {"score": 90}, format="json"), 403)
    error(api(world.users["department"]).post(url, {"score": 190}, format="json"), 400)
    assert api(world.users["department"]).post(url, {"score": 90}, format="json").status_code == 200


def test_advice_workflow_over_the_api(world, foreign):
    report, advice = builders.submitted_report(world)
    listing = api(world.users["department"]).get(f"/api/v1/sla/advice/?report={report.pk}")
    assert [a["id"] for a in listing.json()["results"]] == [advice.pk]
    assert api(foreign.users["department"]).get("/api/v1/sla/advice/").json()["results"] == []
    error(api(foreign.users["department"]).post(f"/api/v1/sla/advice/{advice.pk}/accept/"), 404)
    error(api(world.users["vendor"]).post(f"/api/v1/sla/advice/{advice.pk}/accept/"), 403)
    error(
        api(world.users["department"]).post(
            f"/api/v1/sla/advice/{advice.pk}/decline/", {"reason": ""}, format="json"
        ),
        400,
    )
    accepted = api(world.users["department"]).post(f"/api/v1/sla/advice/{advice.pk}/accept/")
    assert accepted.json()["status"] == AdviceStatus.ACCEPTED
    assert accepted.json()["change_request"]
    error(api(world.users["vendor"]).post(f"/api/v1/sla/rightsizing/{report.pk}/submit/"), 409)


def test_scorecard_api(world, foreign):
    url = f"/api/v1/sla/scorecards/{world.contract.pk}/2026/"
    body = api(world.users["bureau"]).get(url).json()
    assert body["status"] == "live"
    assert len(body["areas"]) == 10
    error(api(foreign.users["bureau"]).get(url), 404)
    error(api(world.users["bureau"]).get(f"/api/v1/sla/scorecards/{world.contract.pk}/2031/"), 404)
    error(api(world.users["department"]).get(url), 404)


def test_openapi_schema_builds(world):
    response = api(world.users["bureau"]).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/metrics/" in response.content
