"""Portal pages of the SLA: what each role sees and can do, constant query counts, strict CSP."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govcloud.models import Role
from requests_app.models import RequestStatus
from sla.models import (
    AdviceStatus,
    Deliverable,
    Outage,
    OutageStatus,
    Scorecard,
    ScorecardStatus,
    SurveyResponse,
)
from sla.services import outages, surveys
from tests.conftest import verified_client
from tests.sla import builders
from tests.sla.factories import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("july")]

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=", re.IGNORECASE)


def get(user, url):
    response = verified_client(user).get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    assert not INLINE.search(html), f"inline script or style on {url}"
    return html


def test_every_contract_page_renders_without_inline_code(world):
    builders.outage(world)
    builders.incident(world)
    builders.deliverable(world)
    builders.notice(world)
    builders.penalty(world)
    builders.training_plan(world)
    builders.security_item(world)
    report, _advice = builders.submitted_report(world)
    pk = world.contract.pk
    names = [
        "sla_contract",
        "sla_outage_list",
        "sla_incident_list",
        "sla_security_list",
        "sla_training_list",
        "sla_deliverable_list",
        "sla_survey_list",
        "sla_notice_list",
        "sla_penalty_list",
        "sla_emergency_list",
        "sla_utilization",
        "sla_report_list",
    ]
    for role in ("bureau", "vendor", "supervisor", "auditor"):
        for name in names:
            get(world.users[role], reverse(name, args=[pk]) + "?year=2026")
        get(world.users[role], reverse("sla_report_detail", args=[report.pk]))
        get(world.users[role], reverse("sla_scorecard", args=[pk, 2026]))
    get(world.users["bureau"], reverse("sla_index"))


def test_the_department_sees_surveys_advice_and_its_utilization_only(world):
    report, advice = builders.submitted_report(world)
    builders.survey(world)
    dept = world.users["department"]
    html = get(dept, reverse("sla_contract", args=[world.contract.pk]))
    assert "满意度调查" in html
    assert "服务中断" not in html
    html = get(dept, reverse("sla_report_detail", args=[report.pk]))
    assert f"#{advice.resource_id}" in html
    assert "整体平均使用率" not in html  # the contract-wide figures are the parties'
    for name in ("sla_outage_list", "sla_penalty_list"):
        assert verified_client(dept).get(reverse(name, args=[world.contract.pk])).status_code == 404
    assert verified_client(dept).get(reverse("sla_report_pdf", args=[report.pk])).status_code == 403


def test_the_red_utilization_warning(world):
    report, _advice = builders.submitted_report(world)  # CPU at 10 %
    html = get(world.users["bureau"], reverse("sla_report_detail", args=[report.pk]))
    assert "低于30%，将扣除乙方年度服务费的20%" in html
    month = report.month.strftime("%Y-%m")
    html = get(
        world.users["bureau"],
        reverse("sla_utilization", args=[world.contract.pk]) + f"?month={month}",
    )
    assert "低于30%，将扣除乙方年度服务费的20%" in html
    with time_machine.travel(at(2026, 4, 2, 9), tick=False):  # the dashboard shows last month
        html = get(world.users["bureau"], reverse("sla_contract", args=[world.contract.pk]))
    assert "alert-danger" in html
    assert "CPU" in html


# ---------------------------------------------------------------- actions through the portal


def test_vendor_reports_and_bureau_confirms_through_the_forms(world):
    vendor = verified_client(world.users["vendor"])
    response = vendor.post(
        reverse("sla_outage_create", args=[world.contract.pk]),
        {
            "title": "网络中断",
            "started_at": "2026-07-10T08:00",
            "ended_at": "2026-07-10T09:30",
            "scope": "platform",
            "cause": "光缆中断",
        },
    )
    outage = Outage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sla_outage_detail", args=[outage.pk])
    assert outage.minutes == 90
    url = reverse("sla_outage_detail", args=[outage.pk])
    for role in ("bureau", "supervisor"):
        html = get(world.users[role], url)
        assert "确认中断记录" in html
        response = verified_client(world.users[role]).post(
            reverse("sla_outage_confirm", args=[outage.pk]),
            {"attribution": "vendor", "comment": ""},
        )
        assert response.status_code == 302
    outage.refresh_from_db()
    assert outage.status == OutageStatus.CONFIRMED


def test_a_refused_action_keeps_the_page_with_the_reason_and_saves_nothing(world):
    outage = builders.outage(world)
    response = verified_client(world.users["bureau"]).post(
        reverse("sla_outage_confirm", args=[outage.pk]),
        {"attribution": "other", "comment": ""},
    )
    assert response.status_code == 200
    assert "认定为非乙方原因时须说明理由" in response.content.decode()
    assert not outage.signoffs.exists()
    response = verified_client(world.users["vendor"]).post(
        reverse("sla_outage_create", args=[world.contract.pk]),
        {
            "title": "x",
            "started_at": "2026-07-10T10:00",
            "ended_at": "2026-07-10T09:00",
            "scope": "platform",
            "cause": "x",
        },
    )
    assert response.status_code == 200
    assert "恢复时间必须晚于中断开始时间" in response.content.decode()
    assert Outage.objects.count() == 1


def test_wrong_role_gets_403_on_a_create_page(world):
    url = reverse("sla_outage_create", args=[world.contract.pk])
    assert verified_client(world.users["bureau"]).get(url).status_code == 403


def test_vendor_uploads_and_bureau_rejects_a_deliverable(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = verified_client(world.users["vendor"]).post(
        reverse("sla_deliverable_create", args=[world.contract.pk]),
        {
            "kind": "monthly_report",
            "period_month": "2026-06",
            "document": SimpleUploadedFile("月报.pdf", b"%PDF-1.4", content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    item = Deliverable.objects.get()
    assert item.due_date == date(2026, 7, 7)
    assert item.is_late()
    url = reverse("sla_deliverable_detail", args=[item.pk])
    verified_client(world.users["bureau"]).post(
        reverse("sla_deliverable_review", args=[item.pk]),
        {"decision": "reject", "comment": "缺少容量分析"},
    )
    item.refresh_from_db()
    assert item.status == "rejected"
    html = get(world.users["vendor"], url)
    assert "缺少容量分析" in html
    file_url = reverse("sla_deliverable_file", args=[item.submissions.get().pk])
    assert verified_client(world.users["auditor"]).get(file_url).status_code == 200


def test_department_answers_the_survey_once(world):
    survey = builders.survey(world)
    url = reverse("sla_survey_detail", args=[survey.pk])
    dept = verified_client(world.users["department"])
    respond = reverse("sla_survey_respond", args=[survey.pk])
    assert "填写答卷" in get(world.users["department"], url)
    assert dept.post(respond, {"score": "88", "comment": "响应及时"}).status_code == 302
    html = get(world.users["department"], url)
    assert "您已于" in html
    assert "填写答卷" not in html
    response = dept.post(respond, {"score": "10"})
    assert response.status_code == 200
    assert SurveyResponse.objects.get().score == 88
    html = get(world.users["bureau"], url)
    assert "响应及时" in html
    assert "响应及时" not in get(world.users["vendor"], url)  # answers are not the vendor's


def test_department_accepts_advice_into_a_draft_change_ticket(world):
    _report, advice = builders.submitted_report(world)
    url = reverse("sla_advice_detail", args=[advice.pk])
    assert "接受并生成变更工单草稿" in get(world.users["department"], url)
    assert "接受并生成变更工单草稿" not in get(world.users["bureau"], url)
    response = verified_client(world.users["department"]).post(
        reverse("sla_advice_accept", args=[advice.pk])
    )
    assert response.status_code == 302
    advice.refresh_from_db()
    assert advice.status == AdviceStatus.ACCEPTED
    assert advice.change_request.status == RequestStatus.DRAFT
    html = get(world.users["department"], url)
    assert reverse("request_detail", args=[advice.change_request.pk]) in html


def test_bureau_finalises_from_the_scorecard_page(world):
    from tests.sla.builders import sign_year

    sign_year(world)
    url = reverse("sla_scorecard", args=[world.contract.pk, 2026])
    assert "定稿考核表" not in get(world.users["bureau"], url)  # the year has not ended
    with time_machine.travel(at(2027, 1, 5, 9), tick=False):
        assert "定稿考核表" in get(world.users["bureau"], url)
        assert "定稿考核表" not in get(world.users["supervisor"], url)
        response = verified_client(world.users["bureau"]).post(
            reverse("sla_scorecard_finalise", args=[world.contract.pk, 2026]), {"ratio_pct": ""}
        )
    assert response.status_code == 302
    assert Scorecard.objects.get().status == ScorecardStatus.FINALISED


# ---------------------------------------------------------------- query counts


def _queries(user, url) -> int:
    client = verified_client(user)
    client.get(url)  # warm caches (calendar, sessions)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("name", "builder", "role"),
    [
        ("sla_outage_list", "outage", "bureau"),
        ("sla_incident_list", "incident", "supervisor"),
        ("sla_deliverable_list", "deliverable", "vendor"),
        ("sla_notice_list", "notice", "auditor"),
        ("sla_penalty_list", "penalty", "vendor"),
        ("sla_training_list", "training_session", "bureau"),
    ],
)
def test_list_pages_query_count_does_not_grow_with_rows(world, name, builder, role):
    url = reverse(name, args=[world.contract.pk]) + "?year=2026"
    getattr(builders, builder)(world)
    one = _queries(world.users[role], url)
    for _ in range(4):
        getattr(builders, builder)(world)
    assert _queries(world.users[role], url) == one


def test_advice_and_utilization_pages_query_count_does_not_grow(world):
    from sla.services import rightsizing
    from tests.sla.factories import resource, samples, vcpu_item

    report, _advice = builders.submitted_report(world)
    url = reverse("sla_report_detail", args=[report.pk])
    util = reverse("sla_utilization", args=[world.contract.pk]) + "?month=2026-03"
    before = (_queries(world.users["bureau"], url), _queries(world.users["bureau"], util))
    for index in range(4):
        res = resource(
            world.contract,
            world.orgs["department"],
            vcpu_item(world.contract),
            4,
            system_name=f"系统{index}",
        )
        samples(res, report.month, 20, cpu="10")
    report.status = "draft"
    report.save(update_fields=["status"])
    rightsizing.rightsizing_compute(contract=world.contract, month=report.month)
    assert report.advice.count() == 5
    after = (_queries(world.users["bureau"], url), _queries(world.users["bureau"], util))
    assert after == before


def test_home_cards_and_menu(world):
    builders.submitted_report(world)  # March 2026, CPU at 10 %
    builders.survey(world)
    with time_machine.travel(at(2026, 4, 2, 9), tick=False):
        html = get(world.users["bureau"], reverse("home"))
    assert "服务水平考核" in html
    assert "低于30%" in html
    assert reverse("sla_index") in html
    html = get(world.users["department"], reverse("home"))
    assert "服务评价与资源调整" in html
    html = get(world.users[Role.SECURITY_ADMIN], reverse("home"))
    assert reverse("sla_index") not in html


def test_loading_a_missing_calendar_year_moves_provisional_sla_deadlines(
    world, django_capture_on_commit_callbacks
):
    from govcloud.calendar import calendar_year_load_from_package, reset_cache
    from govcloud.models import CalendarYear
    from sla.services import notices

    CalendarYear.objects.filter(year=2026).delete()
    reset_cache()
    notice = notices.notice_issue(
        actor=world.users["bureau"], contract=world.contract, title="x", description="y"
    )
    assert notice.due_provisional
    with django_capture_on_commit_callbacks(execute=True):
        calendar_year_load_from_package(actor="tests", year=2026)
    notice.refresh_from_db()
    assert not notice.due_provisional
    assert notice.due_at == at(2026, 7, 30)


# ---------------------------------------------------------------- pages read the action rules


def test_the_outage_edit_page_follows_the_edit_rule(world):
    outage = builders.outage(world)
    url = reverse("sla_outage_edit", args=[outage.pk])
    assert verified_client(world.users["vendor"]).get(url).status_code == 200
    assert verified_client(world.users["bureau"]).get(url).status_code == 403
    outages.outage_confirm(actor=world.users["bureau"], outage=outage, vendor_caused=True)
    # Once a party confirmed it the service refuses the change: the page is not offered either.
    assert verified_client(world.users["vendor"]).get(url).status_code == 403


def test_the_training_review_column_shows_when_a_session_may_be_reviewed(world):
    url = reverse("sla_training_list", args=[world.contract.pk]) + "?year=2026"
    column = "<th>确认</th>"
    assert column not in get(world.users["bureau"], url)  # nothing to review yet
    builders.training_session(world)
    assert column in get(world.users["bureau"], url)
    assert column not in get(world.users["vendor"], url)


def test_the_survey_list_offers_answering_while_the_survey_takes_answers(world):
    survey = surveys.survey_open(
        actor=world.users["bureau"],
        contract=world.contract,
        year=world.contract.service_start.year,
        closes_on=date(2026, 7, 20),
    )
    assert survey.status == "open"
    url = reverse("sla_survey_list", args=[world.contract.pk])
    assert "去填写" in get(world.users["department"], url)
    with time_machine.travel(at(2026, 7, 21, 9), tick=False):
        # Still open, but past its closing date: the service refuses answers, so no link.
        assert "去填写" not in get(world.users["department"], url)


def test_the_deliverable_form_offers_the_document_to_who_may_submit(world):
    url = reverse("sla_deliverable_create", args=[world.contract.pk])
    assert 'name="document"' in get(world.users["vendor"], url)
    assert 'name="document"' not in get(world.users["bureau"], url)
