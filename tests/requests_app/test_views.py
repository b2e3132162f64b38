"""Portal pages of tickets: who sees what, the whole flow by POSTs, refusals, queries, CSP."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Resource
from govcloud.home import cards_for
from govcloud.models import OrganizationKind
from requests_app import services
from requests_app.home import ticket_cards
from requests_app.models import ExtensionStatus, RequestStatus, ResourceRequest
from requests_app.views import ACTION_LABELS
from tests.conftest import World, verified_client
from tests.factories import UserFactory, contract_with_parties, make_totp
from tests.requests_app.factories import (
    approved_ticket,
    delivered_ticket,
    submitted_ticket,
    vcpu_item,
)
from tests.scoped_urls import ALL_ROLES

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ADMIN_ROLES = frozenset({"security_admin", "audit_admin", "system_admin"})


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def text(response) -> str:
    return response.content.decode()


def ticket_form(contract, item, *, quantity=8, submit=True, system_name="不动产登记系统", **extra):
    data = {
        "contract": contract.pk,
        "kind": "new",
        "system_name": system_name,
        "reason": "新系统上云",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-catalog_item": item.pk,
        "lines-0-quantity": quantity,
        "lines-0-note": "",
        "submit" if submit else "save": "1",
    }
    data.update(extra)
    return data


def status_of(ticket) -> str:
    return ResourceRequest.objects.values_list("status", flat=True).get(pk=ticket.pk)


# ---------------------------------------------------------------- who may open which page

# The three administrators see nothing of tickets or resources (三员分立): 403 on the lists.
BUSINESS_ROLES = ALL_ROLES - {"security_admin", "audit_admin", "system_admin"}
PAGES = {
    "request_list": BUSINESS_ROLES,
    "resource_list": BUSINESS_ROLES,
    "request_create": frozenset({"department"}),
    "review_queue": frozenset({"bureau", "supervisor"}),
    "delivery_queue": frozenset({"vendor"}),
}
PAGE_CASES = [(name, role) for name in PAGES for role in sorted(ALL_ROLES)]


@pytest.mark.parametrize(("url_name", "role"), PAGE_CASES, ids=[f"{n}-{r}" for n, r in PAGE_CASES])
def test_each_page_opens_for_its_roles_and_is_forbidden_to_the_others(world, url_name, role):
    response = verified_client(world.users[role]).get(reverse(url_name))
    assert response.status_code == (200 if role in PAGES[url_name] else 403)


@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_lists_show_only_the_users_tenant_and_department(world, foreign):
    own = submitted_ticket(world, system_name="本租户系统")
    other = submitted_ticket(foreign, system_name="外租户系统")
    for role in ("department", "bureau", "supervisor", "auditor"):
        page = text(verified_client(world.users[role]).get(reverse("request_list")))
        assert own.number in page
        assert other.number not in page
    # The vendor sees a ticket once it has something to deliver.
    vendor = verified_client(world.users["vendor"])
    assert own.number not in text(vendor.get(reverse("request_list")))
    services.request_approve(actor=world.users["bureau"], ticket=own)
    services.request_approve(actor=world.users["supervisor"], ticket=own)
    assert own.number in text(vendor.get(reverse("request_list")))
    assert own.number in text(vendor.get(reverse("delivery_queue")))


def test_navigation_per_role(world):
    expected = {
        "department": {"资源申请", "云资源"},
        "bureau": {"资源申请", "待我审核", "云资源"},
        "supervisor": {"资源申请", "待我审核", "云资源"},
        "vendor": {"资源申请", "交付队列", "云资源"},
        "auditor": {"资源申请", "云资源"},
        "security_admin": set(),
        "audit_admin": set(),
        "system_admin": set(),
    }
    ours = {"资源申请", "待我审核", "交付队列", "云资源"}
    for role, labels in expected.items():
        page = text(verified_client(world.users[role]).get(reverse("home")))
        shown = {label for label in ours if f">{label}</a>" in page}
        assert shown == labels, role


# ---------------------------------------------------------------- the whole flow by portal POSTs


def test_full_flow_through_the_portal(world):
    item = vcpu_item(world.contract)
    department = verified_client(world.users["department"])

    form = department.get(reverse("request_create"))
    assert form.status_code == 200
    assert "ecs.general.vcpu" in text(form)
    created = department.post(reverse("request_create"), ticket_form(world.contract, item))
    ticket = ResourceRequest.objects.get()
    assert created.status_code == 302
    assert created.url == reverse("request_detail", kwargs={"pk": ticket.pk})
    assert ticket.status == RequestStatus.SUBMITTED
    assert ticket.system.name == "不动产登记系统"
    assert [(line.catalog_item, line.quantity) for line in ticket.lines.all()] == [(item, 8)]

    bureau = verified_client(world.users["bureau"])
    assert ticket.number in text(bureau.get(reverse("review_queue")))
    detail = text(bureau.get(reverse("request_detail", kwargs={"pk": ticket.pk})))
    assert reverse("request_approve", kwargs={"pk": ticket.pk}) in detail
    done = bureau.post(
        reverse("request_approve", kwargs={"pk": ticket.pk}), {"comment": "同意"}, follow=True
    )
    assert "已同意工单" in text(done)
    assert status_of(ticket) == RequestStatus.IN_REVIEW
    assert ticket.number not in text(bureau.get(reverse("review_queue")))

    supervisor = verified_client(world.users["supervisor"])
    assert ticket.number in text(supervisor.get(reverse("review_queue")))
    supervisor.post(reverse("request_approve", kwargs={"pk": ticket.pk}))
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.APPROVED
    assert ticket.due_at is not None

    vendor = verified_client(world.users["vendor"])
    queue = text(vendor.get(reverse("delivery_queue")))
    assert ticket.number in queue
    assert "剩 " in queue or "今日到期" in queue
    line = ticket.lines.get()
    delivered = vendor.post(
        reverse("request_deliver", kwargs={"pk": ticket.pk}),
        {f"vendor_ref_{line.pk}": "ecs-7f3a"},
        follow=True,
    )
    assert "已交付" in text(delivered)
    assert status_of(ticket) == RequestStatus.DELIVERED

    resources = text(department.get(reverse("resource_list")))
    resource = Resource.objects.get()
    assert "ecs-7f3a" in resources
    assert resource.system.name in resources
    page = text(department.get(reverse("resource_detail", kwargs={"pk": resource.pk})))
    assert ticket.number in page
    timeline = text(department.get(reverse("request_detail", kwargs={"pk": ticket.pk})))
    for label in (
        "创建工单",
        "提交审核",
        "审核同意（转下一审核方）",
        "审核同意，工单批准",
        "交付资源",
    ):
        assert label in timeline
    assert "交付截止：— →" in timeline


def test_saving_a_draft_then_submitting_from_the_ticket_page(world):
    item = vcpu_item(world.contract)
    department = verified_client(world.users["department"])
    department.post(reverse("request_create"), ticket_form(world.contract, item, submit=False))
    ticket = ResourceRequest.objects.get()
    assert ticket.status == RequestStatus.DRAFT
    page = text(department.get(reverse("request_detail", kwargs={"pk": ticket.pk})))
    assert reverse("request_submit", kwargs={"pk": ticket.pk}) in page
    assert reverse("request_edit", kwargs={"pk": ticket.pk}) in page
    department.post(reverse("request_submit", kwargs={"pk": ticket.pk}))
    assert status_of(ticket) == RequestStatus.SUBMITTED


def test_a_returned_ticket_is_edited_and_resubmitted(world):
    ticket = submitted_ticket(world)
    bureau = verified_client(world.users["bureau"])
    bureau.post(reverse("request_return", kwargs={"pk": ticket.pk}), {"comment": "数量偏大"})
    assert status_of(ticket) == RequestStatus.RETURNED
    department = verified_client(world.users["department"])
    edit_url = reverse("request_edit", kwargs={"pk": ticket.pk})
    page = text(department.get(edit_url))
    assert "数量偏大" in page
    line = ticket.lines.get()
    data = ticket_form(
        world.contract,
        line.catalog_item,
        quantity=4,
        system=ticket.system_id,
        **{"lines-INITIAL_FORMS": "1"},
    )
    response = department.post(edit_url, data)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == RequestStatus.SUBMITTED
    assert list(ticket.lines.values_list("quantity", flat=True)) == [4]


def test_change_ticket_form_offers_the_departments_active_resources(world):
    ticket = delivered_ticket(world)
    resource = ticket.lines.get().delivered_resource
    department = verified_client(world.users["department"])
    url = f"{reverse('request_create')}?contract={world.contract.pk}&kind=change"
    page = text(department.get(url))
    assert f'value="{resource.pk}"' in page
    data = {
        "contract": world.contract.pk,
        "kind": "change",
        "system": resource.system_id,
        "reason": "扩容",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-resource": resource.pk,
        "lines-0-catalog_item": "",
        "lines-0-quantity": 16,
        "submit": "1",
    }
    estimate = text(department.post(reverse("request_estimate"), data))
    # 8 more vCPU at 21.60 × 0.9999
    assert "172.78" in estimate
    assert department.post(reverse("request_create"), data).status_code == 302
    change = ResourceRequest.objects.get(kind="change")
    assert change.status == RequestStatus.SUBMITTED
    assert change.lines.get().resource == resource


# ---------------------------------------------------------------- the form's refusals


def test_create_without_lines_says_so_and_saves_nothing(world):
    item = vcpu_item(world.contract)
    data = ticket_form(world.contract, item, **{"lines-0-catalog_item": "", "lines-0-quantity": ""})
    response = verified_client(world.users["department"]).post(reverse("request_create"), data)
    assert response.status_code == 200
    assert "请至少填写一条申请明细" in text(response)
    assert not ResourceRequest.objects.exists()


def test_create_with_a_zero_quantity_is_refused(world):
    item = vcpu_item(world.contract)
    data = ticket_form(world.contract, item, quantity=0)
    response = verified_client(world.users["department"]).post(reverse("request_create"), data)
    assert response.status_code == 200
    assert not ResourceRequest.objects.exists()


def test_create_with_another_contracts_item_is_refused(world, foreign):
    foreign_item = vcpu_item(foreign.contract)
    vcpu_item(world.contract)
    data = ticket_form(world.contract, foreign_item)
    response = verified_client(world.users["department"]).post(reverse("request_create"), data)
    assert response.status_code == 200
    assert not ResourceRequest.objects.exists()


def test_create_on_a_foreign_contract_is_404(world, foreign):
    item = vcpu_item(foreign.contract)
    client = verified_client(world.users["department"])
    url = f"{reverse('request_create')}?contract={foreign.contract.pk}"
    assert client.get(url).status_code == 404
    assert client.post(reverse("request_create"), ticket_form(foreign.contract, item)).status_code
    assert not ResourceRequest.objects.exists()


def test_bad_attachment_type_saves_nothing(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = vcpu_item(world.contract)
    data = ticket_form(world.contract, item, attachments=[SimpleUploadedFile("run.exe", b"MZ")])
    response = verified_client(world.users["department"]).post(reverse("request_create"), data)
    assert "类型不允许上传" in text(response)
    assert not ResourceRequest.objects.exists()


def test_attachments_upload_and_download_within_scope(world, foreign, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = vcpu_item(world.contract)
    files = [
        SimpleUploadedFile("建设方案.pdf", b"%PDF-1.4 plan"),
        SimpleUploadedFile("清单.txt", "资源清单".encode()),
    ]
    department = verified_client(world.users["department"])
    department.post(reverse("request_create"), ticket_form(world.contract, item, attachments=files))
    ticket = ResourceRequest.objects.get()
    attachments = list(ticket.attachments.order_by("name"))
    assert [a.name for a in attachments] == ["建设方案.pdf", "清单.txt"]
    page = text(
        verified_client(world.users["bureau"]).get(reverse("request_detail", args=[ticket.pk]))
    )
    url = reverse("request_attachment", kwargs={"pk": ticket.pk, "att_pk": attachments[1].pk})
    assert url in page
    download = verified_client(world.users["bureau"]).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == "资源清单".encode()
    assert "attachment" in download["Content-Disposition"]
    assert verified_client(foreign.users["bureau"]).get(url).status_code == 404
    # An attachment of another ticket is not reachable through this ticket's URL.
    other = submitted_ticket(world, system_name="其他系统")
    wrong = reverse("request_attachment", kwargs={"pk": other.pk, "att_pk": attachments[0].pk})
    assert verified_client(world.users["bureau"]).get(wrong).status_code == 404


# ---------------------------------------------------------------- estimate


def test_estimate_fragment_shows_the_discounted_monthly_amount(world):
    item = vcpu_item(world.contract)
    response = verified_client(world.users["department"]).post(
        reverse("request_estimate"), ticket_form(world.contract, item), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = text(response)
    # 8 × 21.60 × 0.9999 = 172.78272
    assert "¥172.78" in body
    assert "<html" not in body
    assert not ResourceRequest.objects.exists()


def test_estimate_skips_incomplete_rows(world):
    item = vcpu_item(world.contract)
    data = ticket_form(
        world.contract,
        item,
        **{
            "lines-TOTAL_FORMS": "2",
            "lines-1-catalog_item": item.pk,
            "lines-1-quantity": "",
        },
    )
    body = text(verified_client(world.users["department"]).post(reverse("request_estimate"), data))
    assert "¥172.78" in body
    assert "1 行未填写完整" in body


@pytest.mark.parametrize("role", ["bureau", "vendor", "security_admin"])
def test_estimate_is_for_departments_only(world, role):
    item = vcpu_item(world.contract)
    response = verified_client(world.users[role]).post(
        reverse("request_estimate"), ticket_form(world.contract, item)
    )
    assert response.status_code == 403


def test_estimate_on_a_foreign_contract_is_404(world, foreign):
    item = vcpu_item(foreign.contract)
    response = verified_client(world.users["department"]).post(
        reverse("request_estimate"), ticket_form(foreign.contract, item)
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- refused actions change nothing


def _post(world, role, name, ticket, data=None, **kwargs):
    url = reverse(name, kwargs={"pk": ticket.pk, **kwargs})
    return verified_client(world.users[role]).post(url, data or {}, follow=True)


@pytest.mark.parametrize(
    ("role", "action", "message"),
    [
        ("department", "request_approve", "当前审核步骤不由您的单位办理"),
        ("supervisor", "request_approve", "当前审核步骤不由您的单位办理"),
        ("auditor", "request_reject", "当前审核步骤不由您的单位办理"),
        ("security_admin", "request_approve", "三员分立"),
        ("bureau", "request_cancel", "只有申请单位的人员"),
        ("bureau", "request_return", "必须填写意见"),
        ("department", "request_submit", "不能变更为"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.isascii() else None,
)
def test_refused_review_actions_say_why_and_change_nothing(world, role, action, message):
    ticket = submitted_ticket(world)
    response = _post(world, role, action, ticket)
    # An administrator is refused before the ticket is even looked up (三员分立): 403.
    assert response.status_code == (403 if role == "security_admin" else 200)
    assert message in text(response)
    assert "alert-danger" in text(response)
    assert status_of(ticket) == RequestStatus.SUBMITTED
    assert not ticket.reviews.exists()


def test_vendor_cannot_even_see_a_ticket_under_review(world):
    ticket = submitted_ticket(world)
    line = ticket.lines.get()
    response = verified_client(world.users["vendor"]).post(
        reverse("request_deliver", kwargs={"pk": ticket.pk}), {f"vendor_ref_{line.pk}": "x"}
    )
    assert response.status_code == 404
    assert status_of(ticket) == RequestStatus.SUBMITTED


def test_delivery_without_vendor_refs_is_refused(world):
    ticket = approved_ticket(world)
    response = _post(world, "vendor", "request_deliver", ticket)
    assert "请为每条开通明细填写乙方资源标识" in text(response)
    assert status_of(ticket) == RequestStatus.APPROVED
    assert not Resource.objects.exists()


def test_delivery_by_the_department_is_refused(world):
    ticket = approved_ticket(world)
    line = ticket.lines.get()
    response = _post(world, "department", "request_deliver", ticket, {f"vendor_ref_{line.pk}": "x"})
    assert "乙方" in text(response)
    assert status_of(ticket) == RequestStatus.APPROVED
    assert not Resource.objects.exists()


def test_cancel_after_approval_is_refused(world):
    ticket = approved_ticket(world)
    response = _post(world, "department", "request_cancel", ticket)
    assert "不能变更为「已撤销」" in text(response)
    assert status_of(ticket) == RequestStatus.APPROVED


ACTIONS = [
    "request_submit",
    "request_cancel",
    "request_approve",
    "request_return",
    "request_reject",
    "request_extension",
    "request_deliver",
    "request_exempt",
]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ["department", "bureau", "vendor", "supervisor"])
def test_the_foreign_tenant_gets_404_for_every_action(world, foreign, action, role):
    ticket = approved_ticket(world)
    url = reverse(action, kwargs={"pk": ticket.pk})
    response = verified_client(foreign.users[role]).post(url, {"comment": "x", "reason": "x"})
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert (ticket.status, ticket.extended, ticket.extensions.count()) == (
        RequestStatus.APPROVED,
        False,
        0,
    )


@pytest.mark.parametrize("action", [*ACTIONS, "request_extension_decide"])
def test_actions_refuse_get(world, action):
    ticket = approved_ticket(world)
    kwargs = {"pk": ticket.pk}
    if action == "request_extension_decide":
        kwargs["ext_pk"] = 1
    assert (
        verified_client(world.users["bureau"]).get(reverse(action, kwargs=kwargs)).status_code
        == 405
    )


def test_edit_is_for_the_department_and_only_while_editable(world):
    ticket = submitted_ticket(world)
    url = reverse("request_edit", kwargs={"pk": ticket.pk})
    assert verified_client(world.users["bureau"]).get(url).status_code == 403
    response = verified_client(world.users["department"]).get(url, follow=True)
    assert "只有草稿或被退回的工单可以修改" in text(response)


# ---------------------------------------------------------------- extension and exemption


def test_extension_requested_by_vendor_and_approved_by_bureau(world):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
        assert timezone.localtime(ticket.due_at) == at(2026, 10, 10, 0, 0)
        vendor = verified_client(world.users["vendor"])
        page = text(vendor.get(reverse("request_detail", kwargs={"pk": ticket.pk})))
        assert reverse("request_extension", kwargs={"pk": ticket.pk}) in page
        response = _post(
            world,
            "vendor",
            "request_extension",
            ticket,
            {"reason": "专线施工延迟", "expected_completion": "2026-10-12T18:00"},
        )
        assert "已为工单" in text(response)
        extension = ticket.extensions.get()
        assert extension.status == ExtensionStatus.PENDING
        assert timezone.localtime(extension.expected_completion) == at(2026, 10, 12, 18, 0)
        # A second request while one is pending is refused.
        again = _post(
            world,
            "vendor",
            "request_extension",
            ticket,
            {"reason": "再次", "expected_completion": "2026-10-12T18:00"},
        )
        assert "已有待审批的延期申请" in text(again)
        assert ticket.extensions.count() == 1

        bureau_page = text(
            verified_client(world.users["bureau"]).get(
                reverse("request_detail", kwargs={"pk": ticket.pk})
            )
        )
        decide = reverse(
            "request_extension_decide", kwargs={"pk": ticket.pk, "ext_pk": extension.pk}
        )
        assert decide in bureau_page
        assert "专线施工延迟" in bureau_page
        refused = _post(
            world,
            "bureau",
            "request_extension_decide",
            ticket,
            {"decision": "reject"},
            ext_pk=extension.pk,
        )
        assert "不批准延期时请填写意见" in text(refused)
        _post(
            world,
            "bureau",
            "request_extension_decide",
            ticket,
            {"decision": "approve"},
            ext_pk=extension.pk,
        )
    ticket.refresh_from_db()
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert ticket.extended
    assert timezone.localtime(ticket.due_at) == at(2026, 10, 14, 0, 0)
    page = text(
        verified_client(world.users["department"]).get(
            reverse("request_detail", kwargs={"pk": ticket.pk})
        )
    )
    assert "批准延期" in page
    assert "2026-10-09 24:00 → 2026-10-13 24:00" in page


def test_extension_decided_by_the_vendor_is_refused(world):
    ticket = approved_ticket(world)
    extension = services.extension_request(
        actor=world.users["vendor"],
        ticket=ticket,
        reason="延迟",
        expected_completion=timezone.now() + timedelta(hours=2),
    )
    response = _post(
        world,
        "vendor",
        "request_extension_decide",
        ticket,
        {"decision": "approve"},
        ext_pk=extension.pk,
    )
    assert "甲方" in text(response)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_breached_delivery_is_exempted_by_the_supervisor(world):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
    with time_machine.travel(at(2026, 10, 12, 9, 0), tick=False):
        vendor = verified_client(world.users["vendor"])
        queue = vendor.get(reverse("delivery_queue"))
        assert 'class="overdue table-danger"' in text(queue)
        assert "已超时" in text(queue)
        line = ticket.lines.get()
        _post(world, "vendor", "request_deliver", ticket, {f"vendor_ref_{line.pk}": "ecs-1"})
    ticket.refresh_from_db()
    assert ticket.breached
    department_try = _post(world, "department", "request_exempt", ticket, {"reason": "断电"})
    assert "监理" in text(department_try)
    url = reverse("request_exempt", kwargs={"pk": ticket.pk})
    page = text(
        verified_client(world.users["supervisor"]).get(reverse("request_detail", args=[ticket.pk]))
    )
    assert url in page
    assert url not in text(
        verified_client(world.users["bureau"]).get(reverse("request_detail", args=[ticket.pk]))
    )
    empty = _post(world, "supervisor", "request_exempt", ticket, {"reason": ""})
    assert "请填写认定理由" in text(empty)
    _post(world, "supervisor", "request_exempt", ticket, {"reason": "机房市电中断，非乙方原因"})
    ticket.refresh_from_db()
    assert ticket.exempted
    assert ticket.exemption_reason == "机房市电中断，非乙方原因"


def test_without_a_supervisor_the_bureau_rules_on_a_breach(db):
    contract, orgs = contract_with_parties(supervisor=False)
    jz = World(contract=contract, orgs=orgs)
    for key, org in orgs.items():
        jz.users[key] = UserFactory(organization=org)
        if jz.users[key].requires_two_factor:
            make_totp(jz.users[key])
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(jz)
    with time_machine.travel(at(2026, 10, 12, 9, 0), tick=False):
        ticket = services.request_deliver(
            actor=jz.users["vendor"],
            ticket=ticket,
            items=[services.DeliveryInput(line_id=ticket.lines.get().pk, vendor_ref="ecs-9")],
        )
    assert ticket.breached
    bureau = verified_client(jz.users["bureau"])
    url = reverse("request_exempt", kwargs={"pk": ticket.pk})
    assert url in text(bureau.get(reverse("request_detail", args=[ticket.pk])))
    bureau.post(url, {"reason": "甲方机房改造"})
    ticket.refresh_from_db()
    assert ticket.exempted


# ---------------------------------------------------------------- the action panel


def test_action_panel_shows_only_what_the_user_may_do_now(world):
    ticket = submitted_ticket(world)
    urls = {
        name: reverse(name, kwargs={"pk": ticket.pk})
        for name in ("request_approve", "request_cancel", "request_deliver", "request_submit")
    }

    def offered(role):
        page = text(
            verified_client(world.users[role]).get(reverse("request_detail", args=[ticket.pk]))
        )
        return {name for name, url in urls.items() if f'"{url}"' in page}

    assert offered("bureau") == {"request_approve"}
    assert offered("supervisor") == set()
    assert offered("department") == {"request_cancel"}
    assert offered("auditor") == set()
    assert offered("security_admin") == set()


# ---------------------------------------------------------------- clocks on the queues


def test_delivery_queue_counts_working_days_on_the_official_calendar(world):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
    url = reverse("delivery_queue")

    def queue(when, **params) -> str:
        # A fresh sign-in each time: sessions expire after 30 idle minutes.
        with time_machine.travel(when, tick=False):
            return text(verified_client(world.users["vendor"]).get(url, params))

    page = queue(at(2026, 10, 8, 10, 0))
    assert ticket.number in page
    assert "2026-10-09 24:00" in page
    assert "剩 1 个工作日" in page
    assert "今日到期" in queue(at(2026, 10, 9, 10, 0))
    # National Day holidays don't count: on 10-01 the two working days are 10-08 and 10-09.
    assert "剩 2 个工作日" in queue(at(2026, 10, 1, 10, 0))
    late = queue(at(2026, 10, 10, 10, 0))
    assert "已超时" in late
    assert 'class="overdue table-danger"' in late
    assert ticket.number in queue(at(2026, 10, 10, 10, 0), overdue="on")
    assert ticket.number not in queue(at(2026, 10, 8, 10, 0), overdue="on")


def test_a_clock_in_an_unloaded_year_is_marked_provisional(world):
    world.contract.service_end = date(2099, 12, 31)  # still running then, so it takes tickets
    world.contract.save(update_fields=["service_end"])
    with time_machine.travel(at(2099, 12, 30, 10, 0), tick=False):
        ticket = approved_ticket(world)
        assert ticket.due_provisional
        page = text(verified_client(world.users["vendor"]).get(reverse("delivery_queue")))
        detail = text(
            verified_client(world.users["department"]).get(
                reverse("request_detail", args=[ticket.pk])
            )
        )
    assert "暂定" in page
    assert "暂定" in detail


# ---------------------------------------------------------------- constant queries on lists


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _make(world, kind: str, n: int) -> None:
    make = {
        "submitted": submitted_ticket,
        "approved": approved_ticket,
        "delivered": delivered_ticket,
    }
    for i in range(n):
        make[kind](world, system_name=f"系统{kind}{ResourceRequest.objects.count()}-{i}")


@pytest.mark.parametrize(
    ("role", "url_name", "kind"),
    [
        ("department", "request_list", "approved"),
        ("bureau", "request_list", "approved"),
        ("bureau", "review_queue", "submitted"),
        ("vendor", "delivery_queue", "approved"),
        ("department", "resource_list", "delivered"),
        ("vendor", "resource_list", "delivered"),
    ],
)
def test_list_pages_run_a_constant_number_of_queries(world, role, url_name, kind):
    client = verified_client(world.users[role])
    url = reverse(url_name)
    _make(world, kind, 3)
    client.get(url)  # warm the per-process calendar cache and the session
    few = _queries(client, url)
    _make(world, kind, 9)
    many = _queries(client, url)
    assert many == few, (few, many)


def test_home_cards_use_at_most_two_queries_each(world):
    submitted_ticket(world)
    approved_ticket(world, system_name="第二个系统")
    for role in ("department", "bureau", "supervisor", "vendor", "auditor"):
        user = world.users[role]
        user.organization  # noqa: B018  (loaded with the user on a real request)
        with CaptureQueriesContext(connection) as ctx:
            cards = ticket_cards(user)
        assert len(ctx.captured_queries) <= 2, (role, len(ctx.captured_queries))
        assert cards, role


def test_home_cards_per_role(world):
    submitted_ticket(world)
    approved_ticket(world, system_name="第二个系统")
    titles = {role: {c.title for c in cards_for(u)} for role, u in world.users.items()}
    assert "申请云资源" in titles["department"]
    assert "待审核工单" in titles["bureau"]
    assert "待审核工单" in titles["supervisor"]
    assert "待交付工单" in titles["vendor"]
    for role in ADMIN_ROLES:
        assert not titles[role] & {"申请云资源", "待审核工单", "待交付工单", "资源申请与资源"}
    vendor_card = next(c for c in cards_for(world.users["vendor"]) if c.title == "待交付工单")
    assert [a.count for a in vendor_card.actions] == [1, 0]
    bureau_card = next(c for c in cards_for(world.users["bureau"]) if c.title == "待审核工单")
    assert bureau_card.actions[0].count == 1
    assert world.users["bureau"].kind == OrganizationKind.BUREAU


# ---------------------------------------------------------------- CSP: nothing inline

INLINE = [
    re.compile(r"\sstyle\s*=", re.IGNORECASE),
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
]


def test_pages_have_no_inline_scripts_or_styles(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    submitted = submitted_ticket(world, system_name="审核中系统")
    approved = approved_ticket(world, system_name="待交付系统")
    delivered = delivered_ticket(world, system_name="已交付系统")
    resource = delivered.lines.get().delivered_resource
    item = vcpu_item(world.contract)
    pages = [
        ("department", reverse("request_list")),
        ("department", reverse("request_create")),
        ("department", f"{reverse('request_create')}?contract={world.contract.pk}&kind=change"),
        ("department", reverse("resource_list")),
        ("department", reverse("resource_detail", args=[resource.pk])),
        ("department", reverse("request_detail", args=[submitted.pk])),
        ("bureau", reverse("review_queue")),
        ("bureau", reverse("request_detail", args=[submitted.pk])),
        ("vendor", reverse("delivery_queue")),
        ("vendor", reverse("request_detail", args=[approved.pk])),
        ("supervisor", reverse("request_detail", args=[delivered.pk])),
    ]
    for role, url in pages:
        response = verified_client(world.users[role]).get(url)
        assert response.status_code == 200, url
        body = text(response)
        for pattern in INLINE:
            assert not pattern.search(body), (url, pattern.pattern, pattern.search(body))
        assert "script-src 'self'" in response["Content-Security-Policy"]
    fragment = verified_client(world.users["department"]).post(
        reverse("request_estimate"), ticket_form(world.contract, item)
    )
    for pattern in INLINE:
        assert not pattern.search(text(fragment))


# ---------------------------------------------------------------- overdue: the model's rule


def test_the_overdue_filter_lists_open_late_and_delivered_late_tickets(world):
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        open_late = approved_ticket(world, system_name="逾期系统")
        late = approved_ticket(world, system_name="超时交付系统")
    with time_machine.travel(at(2026, 10, 12, 9, 0), tick=False):
        services.request_deliver(
            actor=world.users["vendor"],
            ticket=late,
            items=[services.DeliveryInput(line_id=late.lines.get().pk, vendor_ref="ecs-2")],
        )
        on_time = approved_ticket(world, system_name="按时系统")
        page = text(
            verified_client(world.users["bureau"]).get(
                reverse("request_list"), {"status": "overdue"}
            )
        )
    assert open_late.number in page
    assert late.number in page
    assert on_time.number not in page


def test_every_audited_ticket_action_has_a_chinese_label_in_the_history():
    """The ticket's history names each step in Chinese, never by its audit code."""
    source = Path(services.__file__).read_text(encoding="utf-8")
    audited = set(re.findall(r'"(request\.[a-z_]+)"', source))
    assert audited, "no audited actions found"
    assert audited <= set(ACTION_LABELS), sorted(audited - set(ACTION_LABELS))
