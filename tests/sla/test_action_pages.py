"""One URL per action on the right-sizing, advice and scorecard pages, and the "new" links.

Each page offers exactly what ``<entity>_available_actions`` allows, each action posts to its
own URL, and a refusal keeps the page with the service's reason and saves nothing.
"""

from __future__ import annotations

import time_machine
from django.urls import reverse

from sla.models import AdviceStatus, ReportStatus, Scorecard, ScorecardStatus
from sla.services.actions import contract_sla_actions
from tests.conftest import verified_client
from tests.sla import builders
from tests.sla.factories import at


def _post(user, name, args, data=None):
    return verified_client(user).post(reverse(name, args=args), data or {})


def _html(user, name, args) -> str:
    response = verified_client(user).get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_a_draft_report_is_submitted_and_marked_wrong_through_its_own_urls(world):
    report, _advice = builders.submitted_report(world)
    report.status = ReportStatus.DRAFT
    report.save(update_fields=["status"])
    vendor, bureau = world.users["vendor"], world.users["bureau"]

    html = _html(vendor, "sla_report_detail", [report.pk])
    assert reverse("sla_report_submit", args=[report.pk]) in html
    assert reverse("sla_report_recompute", args=[report.pk]) in html
    assert reverse("sla_report_mark_wrong", args=[report.pk]) not in html
    assert reverse("sla_report_submit", args=[report.pk]) not in _html(
        bureau, "sla_report_detail", [report.pk]
    )

    refused = _post(bureau, "sla_report_submit", [report.pk])
    assert refused.status_code == 200
    assert "只有本合同的乙方可以执行此操作" in refused.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT

    assert _post(vendor, "sla_report_recompute", [report.pk]).status_code == 302
    assert _post(vendor, "sla_report_submit", [report.pk]).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED

    html = _html(bureau, "sla_report_detail", [report.pk])
    assert reverse("sla_report_mark_wrong", args=[report.pk]) in html
    refused = _post(vendor, "sla_report_mark_wrong", [report.pk], {"reason": "自查有误"})
    assert refused.status_code == 200
    assert "只有本合同的甲方、监理可以执行此操作" in refused.content.decode()
    blank = _post(bureau, "sla_report_mark_wrong", [report.pk], {"reason": ""})
    assert blank.status_code == 200
    report.refresh_from_db()
    assert not report.marked_wrong
    response = _post(bureau, "sla_report_mark_wrong", [report.pk], {"reason": "单价取错"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.marked_wrong
    assert report.wrong_reason == "单价取错"


def test_the_report_pdf_is_rendered_by_the_parties_that_may(world):
    report, _advice = builders.submitted_report(world)
    refused = _post(world.users["supervisor"], "sla_report_render", [report.pk])
    assert refused.status_code == 200
    assert "只有本合同的" in refused.content.decode()
    before = report.pdf.name
    assert _post(world.users["vendor"], "sla_report_render", [report.pk]).status_code == 302
    report.refresh_from_db()
    assert report.pdf.name != before
    assert report.pdf_rendered_at is not None


def test_advice_is_declined_with_a_reason_by_its_department_only(world):
    _report, advice = builders.submitted_report(world)
    department, bureau = world.users["department"], world.users["bureau"]
    html = _html(department, "sla_advice_detail", [advice.pk])
    assert reverse("sla_advice_decline", args=[advice.pk]) in html
    assert reverse("sla_advice_accept", args=[advice.pk]) not in _html(
        bureau, "sla_advice_detail", [advice.pk]
    )

    for name, data in (("sla_advice_accept", {}), ("sla_advice_decline", {"reason": "不需要"})):
        refused = _post(bureau, name, [advice.pk], data)
        assert refused.status_code == 200
        assert "只有资源所属的使用单位可以确认调整建议" in refused.content.decode()
    assert _post(department, "sla_advice_decline", [advice.pk], {"reason": ""}).status_code == 200
    advice.refresh_from_db()
    assert advice.status == AdviceStatus.SUBMITTED

    response = _post(department, "sla_advice_decline", [advice.pk], {"reason": "业务高峰将至"})
    assert response.status_code == 302
    advice.refresh_from_db()
    assert advice.status == AdviceStatus.DECLINED
    assert advice.decline_reason == "业务高峰将至"


def test_the_scorecard_page_answers_get_only_and_refuses_the_wrong_party(world):
    args = [world.contract.pk, 2026]
    bureau = world.users["bureau"]
    assert verified_client(bureau).post(reverse("sla_scorecard", args=args)).status_code == 405
    html = _html(bureau, "sla_scorecard", args)
    assert "服务年度期满后方可定稿" in html  # the year is still running
    assert reverse("sla_scorecard_finalise", args=args) not in html
    assert "服务年度期满后方可定稿" not in _html(world.users["supervisor"], "sla_scorecard", args)

    with time_machine.travel(at(2027, 1, 5, 9), tick=False):
        refused = _post(world.users["supervisor"], "sla_scorecard_finalise", args)
        assert refused.status_code == 200
        assert "只有本合同的甲方可以执行此操作" in refused.content.decode()
        refused = _post(world.users["vendor"], "sla_scorecard_render", args)
        assert refused.status_code == 200
    assert Scorecard.objects.get().status == ScorecardStatus.LIVE
    assert not Scorecard.objects.get().pdf


def test_the_supervisor_renders_the_live_scorecard_pdf(world):
    args = [world.contract.pk, 2026]
    html = _html(world.users["supervisor"], "sla_scorecard", args)
    assert reverse("sla_scorecard_render", args=args) in html
    response = _post(world.users["supervisor"], "sla_scorecard_render", args)
    assert response.status_code == 302
    assert response["Location"] == reverse("sla_scorecard", args=args)
    assert Scorecard.objects.get().pdf


def test_what_each_party_may_create_on_a_contract(world):
    created = {
        role: contract_sla_actions(user=world.users[role], contract=world.contract)
        for role in ("bureau", "vendor", "supervisor", "auditor", "department", "security_admin")
    }
    assert created["vendor"] == {
        "outage_create",
        "incident_create",
        "deliverable_create",
        "training_session_record",
        "metrics_upload",
    }
    assert created["bureau"] == {
        "incident_create",
        "deliverable_create",
        "notice_create",
        "survey_create",
        "emergency_create",
    }
    assert created["supervisor"] == {"incident_create", "notice_create", "penalty_create"}
    assert created["auditor"] == {"notice_create", "survey_create"}
    assert created["department"] == frozenset()
    assert created["security_admin"] == frozenset()  # 三员分立


def test_the_upload_link_and_page_are_the_vendors(world):
    url_args = [world.contract.pk]
    upload = reverse("sla_metrics_upload", args=url_args)
    assert upload in _html(world.users["vendor"], "sla_utilization", url_args)
    assert upload not in _html(world.users["bureau"], "sla_utilization", url_args)
    assert verified_client(world.users["bureau"]).get(upload).status_code == 403


def test_recomputing_a_submitted_report_is_refused_by_the_service(world):
    report, _advice = builders.submitted_report(world)
    response = _post(world.users["vendor"], "sla_report_recompute", [report.pk])
    assert response.status_code == 200
    assert "已提交的调整建议不能重新计算" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
