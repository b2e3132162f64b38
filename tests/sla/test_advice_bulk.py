"""Right-sizing advice answered in bulk (service, portal, API) and the departments' monthly
digest e-mail instead of one e-mail per report."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import AuditEvent, OutboxEmail
from requests_app.models import RequestStatus
from sla.models import AdviceDigest, AdviceStatus, RightsizingAdvice
from sla.services import rightsizing
from sla.tasks import send_advice_digests
from tests.conftest import verified_client
from tests.factories import DepartmentFactory, UserFactory
from tests.sla.factories import at, mem_item, resource, samples, vcpu_item

pytestmark = [pytest.mark.django_db]

JUNE = date(2026, 6, 1)
MAY = date(2026, 5, 1)


def _submit(world, month: date, when) -> list[RightsizingAdvice]:
    with time_machine.travel(when, tick=False):
        report = rightsizing.rightsizing_compute(contract=world.contract, month=month)
        report = rightsizing.rightsizing_submit(actor=world.users["vendor"], report=report)
    return list(report.advice.filter(status=AdviceStatus.SUBMITTED).order_by("pk"))


@pytest.fixture
def dept_resources(world):
    dept = world.orgs["department"]
    cpu = resource(world.contract, dept, vcpu_item(world.contract), 8, system_name="门户网站")
    mem = resource(world.contract, dept, mem_item(world.contract), 64, system_name="门户网站")
    disk_sys = resource(world.contract, dept, vcpu_item(world.contract), 16, system_name="审批系统")
    for res in (cpu, mem, disk_sys):
        samples(res, MAY, 31, cpu="5", mem="10")
        samples(res, JUNE, 30, cpu="5", mem="10")
    return [cpu, mem, disk_sys]


@pytest.fixture
def june_advice(world, dept_resources):
    return _submit(world, JUNE, at(2026, 7, 3, 9))


def _states(ids):
    return list(RightsizingAdvice.objects.filter(pk__in=ids).values_list("status", flat=True))


# ---------------------------------------------------------------- service


def test_bulk_decline_answers_each_with_the_one_reason_and_audits_each(world, june_advice):
    ids = [a.pk for a in june_advice]
    with time_machine.travel(at(2026, 7, 6, 10), tick=False):
        done = rightsizing.rightsizing_answer_bulk(
            actor=world.users["department"],
            advice_ids=[str(i) for i in ids],
            decision="decline",
            reason=" 年底业务高峰，暂不调整 ",
        )
    assert [a.pk for a in done] == ids
    for advice in RightsizingAdvice.objects.filter(pk__in=ids):
        assert advice.status == AdviceStatus.DECLINED
        assert advice.decline_reason == "年底业务高峰，暂不调整"
        assert advice.decided_by == world.users["department"]
    audited = AuditEvent.objects.filter(action="rightsizing.decline")
    assert sorted(int(e.object_id) for e in audited) == sorted(ids)


def test_bulk_accept_drafts_one_change_ticket_per_advice_with_the_note(world, june_advice):
    ids = [a.pk for a in june_advice]
    done = rightsizing.rightsizing_answer_bulk(
        actor=world.users["department"], advice_ids=ids, decision="accept", reason="同意缩容"
    )
    tickets = {a.change_request_id for a in done}
    assert len(tickets) == len(ids)
    assert None not in tickets
    for advice in done:
        assert advice.status == AdviceStatus.ACCEPTED
        assert advice.change_request.status == RequestStatus.DRAFT
        assert "使用单位说明：同意缩容" in advice.change_request.reason
    assert AuditEvent.objects.filter(action="rightsizing.accept").count() == len(ids)


@pytest.mark.parametrize(
    ("decision", "reason", "ids", "message"),
    [
        ("decline", "  ", None, "须填写理由"),
        ("maybe", "x", None, "请选择接受或拒绝"),
        ("accept", "", [], "请至少选择一条"),
        ("accept", "", ["1x"], "编号无效"),
        ("accept", "", list(range(1, 300)), "一次最多"),
    ],
    ids=["decline-without-reason", "unknown-decision", "nothing-chosen", "junk-id", "too-many"],
)
def test_bad_input_changes_nothing(world, june_advice, decision, reason, ids, message):
    chosen = [a.pk for a in june_advice] if ids is None else ids
    with pytest.raises(ApplicationError, match=message):
        rightsizing.rightsizing_answer_bulk(
            actor=world.users["department"], advice_ids=chosen, decision=decision, reason=reason
        )
    assert set(_states([a.pk for a in june_advice])) == {AdviceStatus.SUBMITTED}


def test_one_advice_that_cannot_be_answered_refuses_the_whole_batch(world, june_advice):
    first, second, *_rest = june_advice
    rightsizing.rightsizing_decline(actor=world.users["department"], advice=second, reason="已处理")
    with pytest.raises(ApplicationError, match=f"建议 #{second.pk}") as caught:
        rightsizing.rightsizing_answer_bulk(
            actor=world.users["department"],
            advice_ids=[first.pk, second.pk],
            decision="accept",
        )
    assert "未作任何更改" in caught.value.message
    first.refresh_from_db()
    assert first.status == AdviceStatus.SUBMITTED
    assert first.change_request is None


def test_a_resource_is_accepted_once_per_batch(world, dept_resources, june_advice):
    may_advice = _submit(world, MAY, at(2026, 7, 3, 10))
    same = [a.pk for a in may_advice if a.resource_id == june_advice[0].resource_id]
    with pytest.raises(ApplicationError, match="同一资源只能接受一条建议"):
        rightsizing.rightsizing_answer_bulk(
            actor=world.users["department"],
            advice_ids=[june_advice[0].pk, *same],
            decision="accept",
        )
    assert set(_states([june_advice[0].pk, *same])) == {AdviceStatus.SUBMITTED}


@pytest.mark.parametrize("who", ["other-department", "vendor"])
def test_a_department_answers_only_its_own(world, june_advice, who):
    ids = [a.pk for a in june_advice]
    if who == "other-department":
        actor = UserFactory(organization=DepartmentFactory(parent=world.orgs["bureau"]))
        with pytest.raises(ApplicationError, match="不存在或不属于本单位"):
            rightsizing.rightsizing_answer_bulk(
                actor=actor, advice_ids=ids, decision="decline", reason="x"
            )
    else:  # the vendor sees the advice but may not answer it
        with pytest.raises(ActionForbidden):
            rightsizing.rightsizing_answer_bulk(
                actor=world.users["vendor"], advice_ids=ids, decision="decline", reason="x"
            )
    assert set(_states(ids)) == {AdviceStatus.SUBMITTED}


# ---------------------------------------------------------------- portal


def test_the_portal_list_answers_the_checked_advice(world, june_advice):
    client = verified_client(world.users["department"])
    url = reverse("sla_advice_list") + "?status=submitted"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["page"].paginator.count == len(june_advice)
    for advice in june_advice:
        assert f'name="advice" value="{advice.pk}"'.encode() in page.content
    chosen = [june_advice[0].pk, june_advice[1].pk]
    response = client.post(
        reverse("sla_advice_bulk"),
        {
            "advice": chosen,
            "decision": "decline",
            "reason": "季度末再评估",
            "next": "?status=submitted",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url
    assert _states(chosen) == [AdviceStatus.DECLINED] * 2
    assert _states([june_advice[2].pk]) == [AdviceStatus.SUBMITTED]


def test_the_portal_shows_the_refusal_and_keeps_the_selection(world, june_advice):
    client = verified_client(world.users["department"])
    chosen = [june_advice[0].pk]
    response = client.post(reverse("sla_advice_bulk"), {"advice": chosen, "decision": "decline"})
    assert response.status_code == 200
    assert "拒绝调整建议须填写理由" in response.content.decode()
    assert f'value="{chosen[0]}" id="advice-{chosen[0]}" checked'.encode() in response.content
    assert _states(chosen) == [AdviceStatus.SUBMITTED]


def test_another_department_sees_none_and_answers_none(world, june_advice):
    outsider = UserFactory(organization=DepartmentFactory(parent=world.orgs["bureau"]))
    client = verified_client(outsider)
    assert client.get(reverse("sla_advice_list")).context["page"].paginator.count == 0
    response = client.post(
        reverse("sla_advice_bulk"),
        {"advice": [june_advice[0].pk], "decision": "decline", "reason": "x"},
    )
    assert "不存在或不属于本单位" in response.content.decode()
    assert _states([june_advice[0].pk]) == [AdviceStatus.SUBMITTED]


# ---------------------------------------------------------------- API


def test_api_bulk_needs_a_login(client, june_advice):
    response = client.post("/api/v1/sla/advice/answer/", {}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_api_bulk_answers_and_refuses_in_one_shape(world, june_advice):
    client = verified_client(world.users["department"])
    ids = [a.pk for a in june_advice]
    bad = client.post(
        "/api/v1/sla/advice/answer/",
        {"advice": ids, "decision": "decline"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "理由" in bad.json()["message"]
    assert set(_states(ids)) == {AdviceStatus.SUBMITTED}
    vendor = verified_client(world.users["vendor"]).post(
        "/api/v1/sla/advice/answer/",
        {"advice": ids, "decision": "decline", "reason": "x"},
        content_type="application/json",
    )
    assert vendor.status_code == 403
    ok = client.post(
        "/api/v1/sla/advice/answer/",
        {"advice": ids, "decision": "decline", "reason": "暂不调整"},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    assert [a["status"] for a in ok.json()["answered"]] == ["declined"] * len(ids)


def test_api_bulk_of_another_departments_advice_is_not_found(world, june_advice):
    outsider = UserFactory(organization=DepartmentFactory(parent=world.orgs["bureau"]))
    response = verified_client(outsider).post(
        "/api/v1/sla/advice/answer/",
        {"advice": [june_advice[0].pk], "decision": "decline", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "不存在或不属于本单位" in response.json()["message"]


# ---------------------------------------------------------------- the monthly digest


def _digest_mails(world):
    return OutboxEmail.objects.filter(
        key__startswith=f"sla:rightsizing-digest:{world.orgs['department'].pk}:",
        recipient=world.orgs["department"].email,
    )


def test_reports_submitted_the_same_month_make_one_digest(world, dept_resources):
    may = _submit(world, MAY, at(2026, 7, 3, 9))
    june = _submit(world, JUNE, at(2026, 7, 6, 9))
    mails = list(_digest_mails(world))
    assert len(mails) == 1  # two reports, one e-mail
    assert mails[0].key.endswith(":2026-07")
    assert "共 3 条" in mails[0].body  # the May advice announced; June's waits for August
    assert "/sla/advice/?status=submitted" in mails[0].body
    assert AdviceDigest.objects.get().advice_count == len(may)
    assert not RightsizingAdvice.objects.filter(pk__in=[a.pk for a in june], digest__isnull=False)

    # July again: nothing new is sent, however often the daily task runs.
    with time_machine.travel(at(2026, 7, 20, 9), tick=False):
        assert send_advice_digests.delay().get() == []
    # The first run in August announces June's advice, listing all six still waiting.
    with time_machine.travel(at(2026, 8, 1, 8, 45), tick=False):
        sent = send_advice_digests.delay().get()
        assert send_advice_digests.delay().get() == []
    assert len(sent) == 1
    august = _digest_mails(world).get(key__endswith=":2026-08")
    assert "共 6 条" in august.body
    assert "（本月新增 3 条）" in august.body
    assert _digest_mails(world).count() == 2


def test_no_digest_when_nothing_waits(world, june_advice):
    rightsizing.rightsizing_answer_bulk(
        actor=world.users["department"],
        advice_ids=[a.pk for a in june_advice],
        decision="decline",
        reason="暂不调整",
    )
    with time_machine.travel(at(2026, 8, 1, 8, 45), tick=False):
        assert send_advice_digests.delay().get() == []
    assert _digest_mails(world).count() == 1
