"""Inventory corrections (资源清单更正, issue 12 item 6): a resource's times, quantity or item
corrected with reason and evidence, confirmed by every party the terms name, audited; the
statements of the months it changes get a new version that cites it; signed versions stay as
they were.

Amounts are derived by hand (BT-2025: price per month, days / days in the month, under 12 h of a
day = 0.5, discount 0.9999 on the subtotal; March 2026 has 31 days).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse

from billing.models import (
    CatalogItem,
    InventoryCorrection,
    InventoryCorrectionStatus,
    Resource,
    ResourceChange,
    Statement,
    StatementStatus,
)
from billing.services.corrections import (
    CorrectionInput,
    affected_months,
    correction_confirmation,
    inventory_correction_propose,
    inventory_correction_withdraw,
)
from billing.services.statements import (
    statement_dispute,
    statement_generate,
    statement_submit,
)
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_confirm, joint_object
from govcloud.models import AuditEvent, JointConfirmation, JointStatus, OutboxEmail
from tests.api_clients import person_api
from tests.billing.conftest import add_resource, password, sh, signing_passphrase
from tests.billing.test_statement_workflow import sign_all
from tests.conftest import verified_client
from tests.factories import UserFactory

APPLIED = InventoryCorrectionStatus.APPLIED


def evidence(name: str = "platform-log.txt") -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, b"2026-03-20 15:02 instance started", "text/plain")]


def propose(
    parties, resource, *, role: str = "vendor", reason: str = "平台日志显示实际上线时间", **values
):
    return inventory_correction_propose(
        actor=parties.users[role],
        resource=resource,
        reason=reason,
        evidence=values.pop("files", None) if "files" in values else evidence(),
        data=CorrectionInput(**values),
    )


def confirm_all(parties, correction, roles=("bureau", "supervisor")) -> InventoryCorrection:
    confirmation = correction_confirmation(correction)
    for role in roles:
        joint_confirm(actor=parties.users[role], confirmation=confirmation)
    correction.refresh_from_db()
    return correction


def march_vcpu(bt) -> Resource:
    """DESIGN's example: 8 vCPU online 2026-03-10 15:00 → 21.5 days → 119.85."""
    return add_resource(bt.contract, bt.department, "ecs.general.vcpu", 8, sh(2026, 3, 10, 15))


# --------------------------------------------------------------------- the pure month rule


def test_affected_months_are_where_the_billed_configuration_differs():
    a = ("item", 8)
    start, end = sh(2025, 6, 20), sh(2026, 6, 20)
    moved_start = affected_months(
        (sh(2026, 3, 10, 15), None, [(sh(2026, 3, 10, 15), a)]),
        (sh(2026, 3, 20, 15), None, [(sh(2026, 3, 20, 15), a)]),
        window_start=start,
        window_end=end,
    )
    assert moved_start == ["2026-03"]
    # released a month earlier than recorded: April and May change (to the window's end: June)
    released = affected_months(
        (sh(2026, 1, 5, 9), sh(2026, 5, 10), [(sh(2026, 1, 5, 9), a)]),
        (sh(2026, 1, 5, 9), sh(2026, 4, 10), [(sh(2026, 1, 5, 9), a)]),
        window_start=start,
        window_end=end,
    )
    assert released == ["2026-04", "2026-05"]
    # a change recorded 03-16 09:00 (effective that day) from the start of the window on
    quantity = affected_months(
        (sh(2026, 1, 5, 9), None, [(sh(2026, 1, 5, 9), ("item", 4))]),
        (
            sh(2026, 1, 5, 9),
            None,
            [(sh(2026, 1, 5, 9), ("item", 4)), (sh(2026, 3, 16, 9), ("item", 2))],
        ),
        window_start=start,
        window_end=end,
    )
    assert quantity == ["2026-03", "2026-04", "2026-05", "2026-06"]
    # a change that ends exactly at midnight of 04-01 does not touch April
    assert affected_months(
        (sh(2026, 3, 1), sh(2026, 4, 1), [(sh(2026, 3, 1), a)]),
        (sh(2026, 3, 1), sh(2026, 3, 31), [(sh(2026, 3, 1), a)]),
        window_start=start,
        window_end=end,
    ) == ["2026-03"]


# ----------------------------------------------------------------- amounts, by hand


def test_billing_start_corrected_from_the_10th_to_the_20th(bt):
    resource = march_vcpu(bt)
    vendor = bt.users["vendor"]
    before = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    assert (before.subtotal, before.total) == (Decimal("119.85"), Decimal("119.84"))

    correction = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    # no test period: the billing start was the online time and moves with it
    assert correction.new_values["resource"].keys() == {"online_at", "billing_starts_at"}
    assert correction.months == ["2026-03"]
    correction = confirm_all(bt, correction)
    assert correction.status == APPLIED

    resource.refresh_from_db()
    assert resource.online_at == resource.billing_starts_at == sh(2026, 3, 20, 15)
    delivery = resource.changes.order_by("delivered_at").first()
    assert delivery.delivered_at == sh(2026, 3, 20, 15)  # the delivery row follows
    # 03-20 has 9 h → 0.5; 03-21…03-31 = 11 → 11.5 days; 21.6 × 8 × 11.5 / 31 = 64.103… → 64.10
    before.refresh_from_db()  # a draft: recomputed in place
    assert before.status == StatementStatus.DRAFT
    line = before.lines.get()
    assert (line.service_days, line.amount) == (Decimal("11.5"), Decimal("64.10"))
    # × 0.9999 = 64.093… → 64.09
    assert before.total == Decimal("64.09")
    assert list(before.inventory_corrections.all()) == [correction]


def test_quantity_4_to_2_from_a_date(bt):
    resource = add_resource(bt.contract, bt.department, "ecs.general.vcpu", 4, sh(2026, 3, 1))
    draft = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    assert draft.total == Decimal("86.39")  # 86.40 × 0.9999 = 86.391…

    correction = propose(
        bt,
        resource,
        add_change=True,
        change_delivered_at=sh(2026, 3, 16, 9),
        change_quantity=2,
        reason="03-16 已按变更单缩容为 2 核，平台漏记",
    )
    assert correction.months == ["2026-03", "2026-04", "2026-05", "2026-06"]
    confirm_all(bt, correction)
    resource.refresh_from_db()
    assert resource.quantity == 2  # the current configuration follows the latest row
    added = ResourceChange.objects.get(corrections=correction)
    assert (added.quantity, added.delivered_at) == (2, sh(2026, 3, 16, 9))

    draft.refresh_from_db()
    lines = list(
        draft.lines.order_by("segment_start").values_list("quantity", "service_days", "amount")
    )
    # 03-01…03-15 @4: 21.6 × 4 × 15 / 31 = 41.806… → 41.81; 03-16…03-31 @2: 21.6 × 2 × 16 / 31
    # = 22.296… → 22.30
    assert lines == [(4, Decimal("15.0"), Decimal("41.81")), (2, Decimal("16.0"), Decimal("22.30"))]
    # 64.11 × 0.9999 = 64.103… → 64.10
    assert (draft.subtotal, draft.total) == (Decimal("64.11"), Decimal("64.10"))


def test_catalog_item_corrected_on_the_delivery_row(bt):
    resource = add_resource(bt.contract, bt.department, "ebs.ssd", 500, sh(2026, 1, 5, 9))
    draft = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    assert draft.subtotal == Decimal("225.00")
    sas = CatalogItem.objects.get(contract=bt.contract, code="ebs.sas")
    delivery = resource.changes.get()

    correction = propose(
        bt, resource, role="bureau", change_id=delivery.pk, change_catalog_item_id=sas.pk
    )
    # the vendor and the supervisor confirm (the bureau proposed: its confirmation is the first)
    confirm_all(bt, correction, roles=("vendor", "supervisor"))
    resource.refresh_from_db()
    assert resource.catalog_item == sas
    draft.refresh_from_db()
    # 0.27 × 500 = 135.00; × 0.9999 = 134.9865 → 134.99
    assert (draft.subtotal, draft.total) == (Decimal("135.00"), Decimal("134.99"))
    assert draft.lines.get().item_code == "ebs.sas"


# ----------------------------------------------------------------- joint confirmation


def test_not_applied_until_every_party_confirmed(bt, django_capture_on_commit_callbacks):
    resource = march_vcpu(bt)
    with django_capture_on_commit_callbacks(execute=True):
        correction = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    confirmation = correction_confirmation(correction)
    assert confirmation.required_roles == ["bureau", "vendor", "supervisor"]
    assert {e.role for e in confirmation.entries.all()} == {"vendor"}  # the proposer's

    joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
    correction.refresh_from_db()
    resource.refresh_from_db()
    assert correction.status == InventoryCorrectionStatus.PROPOSED
    assert resource.online_at == sh(2026, 3, 10, 15)  # nothing moved yet

    with django_capture_on_commit_callbacks(execute=True):
        joint_confirm(actor=bt.users["supervisor"], confirmation=confirmation)
    correction.refresh_from_db()
    resource.refresh_from_db()
    assert correction.status == APPLIED
    assert resource.online_at == sh(2026, 3, 20, 15)
    # audited with before and after (UTC: 15:00 in Shanghai is 07:00Z)
    event = AuditEvent.objects.get(action="inventory_correction.apply")
    assert "2026-03-10T07:00" in str(event.before["online_at"])
    assert "2026-03-20T07:00" in str(event.after["online_at"])
    assert event.after["correction"] == correction.pk
    # the parties were asked, and told once it took effect
    subjects = set(OutboxEmail.objects.values_list("subject", flat=True))
    assert f"【政务云】资源清单更正 {correction.number} 待会签" in subjects
    assert f"【政务云】资源清单更正 {correction.number} 已生效" in subjects


def test_an_objection_stops_it_and_the_proposer_withdraws(bt):
    resource = march_vcpu(bt)
    correction = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    confirmation = correction_confirmation(correction)
    joint_object(actor=bt.users["supervisor"], confirmation=confirmation, reason="日志不完整")
    correction.refresh_from_db()
    assert (correction.status, correction.objection) == (
        InventoryCorrectionStatus.OBJECTED,
        "日志不完整",
    )
    with pytest.raises(InvalidTransition):
        joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
    resource.refresh_from_db()
    assert resource.online_at == sh(2026, 3, 10, 15)

    with pytest.raises(ActionForbidden):  # only the proposer's party
        inventory_correction_withdraw(actor=bt.users["bureau"], correction=correction)
    inventory_correction_withdraw(
        actor=bt.users["vendor"], correction=correction, reason="补充日志后重提"
    )
    correction.refresh_from_db()
    assert correction.status == InventoryCorrectionStatus.WITHDRAWN
    # a new proposal may follow
    again = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    assert again.status == InventoryCorrectionStatus.PROPOSED


def test_inventory_changed_since_the_proposal_refuses_the_last_confirmation(bt):
    resource = march_vcpu(bt)
    correction = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    ResourceChange.objects.create(
        resource=resource,
        catalog_item=resource.catalog_item,
        quantity=16,
        delivered_at=sh(2026, 3, 25, 10),
    )
    confirmation = correction_confirmation(correction)
    joint_confirm(actor=bt.users["bureau"], confirmation=confirmation)
    with pytest.raises(InvalidTransition, match="资源清单在提出更正后已发生变化"):
        joint_confirm(actor=bt.users["supervisor"], confirmation=confirmation)
    confirmation.refresh_from_db()
    correction.refresh_from_db()
    resource.refresh_from_db()
    assert confirmation.status == JointStatus.OPEN  # the confirmation was undone with it
    assert correction.status == InventoryCorrectionStatus.PROPOSED
    assert resource.online_at == sh(2026, 3, 10, 15)


# ----------------------------------------------------------------------- statements


def test_signed_statement_stays_and_a_new_version_cites_the_correction(bt):
    resource = march_vcpu(bt)
    vendor = bt.users["vendor"]
    v1 = sign_all(bt, statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3))
    assert v1.status == StatementStatus.SIGNED
    v1_lines = list(v1.lines.values_list("service_days", "amount"))

    correction = confirm_all(bt, propose(bt, resource, online_at=sh(2026, 3, 20, 15)))

    v1.refresh_from_db()
    assert (v1.status, v1.total, v1.version) == (StatementStatus.SIGNED, Decimal("119.84"), 1)
    assert list(v1.lines.values_list("service_days", "amount")) == v1_lines
    assert not v1.inventory_corrections.exists()
    v2 = Statement.objects.get(contract=bt.contract, year=2026, month=3, version=2)
    assert (v2.status, v2.supersedes, v2.total) == (StatementStatus.DRAFT, v1, Decimal("64.09"))
    assert correction.number in v2.supersede_reason
    assert list(v2.inventory_corrections.all()) == [correction]
    # the PDF's header cites it (the same partial as reports/statement.html)
    from billing.reports.statement_pdf import statement_context

    header = render_to_string(
        "reports/partials/_statement_header.html", statement_context(v2, [], [])
    )
    assert f"{correction.number}（资源 #{resource.pk}" in header
    signed_header = render_to_string(
        "reports/partials/_statement_header.html", statement_context(v1, [], [])
    )
    assert correction.number not in signed_header

    # the correction version signed: the old one is superseded, never changed otherwise
    sign_all(bt, v2)
    v1.refresh_from_db()
    assert v1.status == StatementStatus.SUPERSEDED
    assert v1.total == Decimal("119.84")


def test_disputed_month_gets_a_new_version(bt):
    resource = march_vcpu(bt)
    vendor = bt.users["vendor"]
    v1 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    statement_submit(
        actor=vendor, statement=v1, reauth=password(), signing_passphrase=signing_passphrase(vendor)
    )
    statement_dispute(
        actor=bt.users["bureau"], statement=v1, reauth=password(), comment="上线时间有误"
    )
    correction = confirm_all(bt, propose(bt, resource, online_at=sh(2026, 3, 20, 15)))
    v1.refresh_from_db()
    assert (v1.status, v1.total) == (StatementStatus.DISPUTED, Decimal("119.84"))
    v2 = Statement.objects.get(contract=bt.contract, year=2026, month=3, version=2)
    assert (v2.status, v2.total, v2.supersedes) == (StatementStatus.DRAFT, Decimal("64.09"), None)
    assert list(v2.inventory_corrections.all()) == [correction]


def test_month_awaiting_sign_off_is_left_and_the_next_version_cites_it(bt):
    resource = march_vcpu(bt)
    vendor = bt.users["vendor"]
    v1 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    statement_submit(
        actor=vendor, statement=v1, reauth=password(), signing_passphrase=signing_passphrase(vendor)
    )
    correction = confirm_all(bt, propose(bt, resource, online_at=sh(2026, 3, 20, 15)))
    v1.refresh_from_db()
    assert (v1.status, v1.version) == (StatementStatus.SUBMITTED, 1)
    assert Statement.objects.filter(contract=bt.contract, year=2026, month=3).count() == 1
    # the bureau disputes; the vendor's new version is computed from the corrected inventory
    statement_dispute(
        actor=bt.users["bureau"], statement=v1, reauth=password(), comment="未包含清单更正"
    )
    v2 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    assert v2.total == Decimal("64.09")
    assert list(v2.inventory_corrections.all()) == [correction]
    # a later version does not cite it again
    statement_submit(
        actor=vendor, statement=v2, reauth=password(), signing_passphrase=signing_passphrase(vendor)
    )
    statement_dispute(actor=bt.users["bureau"], statement=v2, reauth=password(), comment="再核")
    v3 = statement_generate(actor=vendor, contract=bt.contract, year=2026, month=3)
    assert not v3.inventory_corrections.exists()


def test_month_without_statement_cites_it_in_version_1(bt):
    resource = march_vcpu(bt)
    correction = confirm_all(bt, propose(bt, resource, online_at=sh(2026, 3, 20, 15)))
    v1 = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    assert v1.total == Decimal("64.09")
    assert list(v1.inventory_corrections.all()) == [correction]


def test_jz_needs_bureau_and_vendor_only(jz):
    resource = add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    correction = propose(jz, resource, role="bureau", offline_at=sh(2026, 7, 21))
    assert correction_confirmation(correction).required_roles == ["bureau", "vendor"]
    confirm_all(jz, correction, roles=("vendor",))
    resource.refresh_from_db()
    assert resource.offline_at == sh(2026, 7, 21)
    assert resource.status == "released"


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"offline_at": sh(2026, 3, 9)}, "下线时间必须晚于上线时间", id="offline-before-online"
        ),
        pytest.param({"change_quantity": 0}, "数量必须为正整数", id="quantity-0"),
        pytest.param(
            {"billing_starts_at": sh(2026, 3, 1)},
            "计费开始不得早于上线时间",
            id="billing-before-online",
        ),
        pytest.param({"files": []}, "请上传至少一份证明材料", id="no-evidence"),
        pytest.param({"reason": "  "}, "请填写更正原因", id="no-reason"),
        pytest.param(
            {"online_at": sh(2026, 3, 10, 15)}, "更正内容与现有记录相同", id="nothing-changes"
        ),
        pytest.param(
            {"files": [SimpleUploadedFile("run.exe", b"MZ")], "online_at": sh(2026, 3, 20)},
            "类型不允许上传",
            id="bad-file-type",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(bt, values, message):
    resource = march_vcpu(bt)
    reason = values.pop("reason", "平台日志")
    with pytest.raises(ApplicationError, match=message):
        propose(bt, resource, reason=reason, **values)
    assert not InventoryCorrection.objects.exists()
    assert not JointConfirmation.objects.exists()
    resource.refresh_from_db()
    assert (resource.online_at, resource.offline_at, resource.quantity) == (
        sh(2026, 3, 10, 15),
        None,
        8,
    )


def test_department_and_supervisor_users_cannot_propose(bt):
    resource = march_vcpu(bt)
    department_user = UserFactory(organization=bt.department)
    for user in (department_user, bt.users["supervisor"]):
        with pytest.raises(ActionForbidden):
            inventory_correction_propose(
                actor=user,
                resource=resource,
                reason="x",
                evidence=evidence(),
                data=CorrectionInput(online_at=sh(2026, 3, 20)),
            )
    assert not InventoryCorrection.objects.exists()


def test_one_open_correction_per_resource(bt):
    resource = march_vcpu(bt)
    propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    with pytest.raises(InvalidTransition, match="已有待会签的更正"):
        propose(bt, resource, role="bureau", online_at=sh(2026, 3, 21))


# ------------------------------------------------------------------ portal and API


def _web_form(**extra):
    data = {
        "online_at": "",
        "billing_starts_at": "",
        "offline_at": "",
        "change": "",
        "change_delivered_at": "",
        "change_quantity": "",
        "change_catalog_item": "",
        "reason": "平台日志显示实际上线时间为 03-20 15:00",
    }
    data.update(extra)
    return data


def test_portal_propose_confirm_and_the_pages(bt, django_capture_on_commit_callbacks):
    resource = march_vcpu(bt)
    vendor = verified_client(bt.users["vendor"])

    # the resource page links to the form (the vendor may propose)
    page = vendor.get(reverse("resource_detail", args=[resource.pk]))
    assert reverse("inventory_correction_create", args=[resource.pk]) in page.content.decode()

    # no evidence: the form says so, nothing saved
    response = vendor.post(
        reverse("inventory_correction_create", args=[resource.pk]),
        _web_form(online_at="2026-03-20T15:00"),
    )
    assert response.status_code == 200
    assert "请上传至少一份证明材料" in response.content.decode()
    assert not InventoryCorrection.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = vendor.post(
            reverse("inventory_correction_create", args=[resource.pk]),
            {**_web_form(online_at="2026-03-20T15:00"), "evidence": evidence()},
        )
    correction = InventoryCorrection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory_correction_detail", args=[correction.pk])

    # the detail page: the diff old → new, the joint panel, the evidence
    bureau = verified_client(bt.users["bureau"])
    html = bureau.get(reverse("inventory_correction_detail", args=[correction.pk])).content.decode()
    assert "2026-03-10 15:00" in html
    assert "2026-03-20 15:00" in html
    assert "joint-panel" in html
    assert "确认无误" in html
    assert "platform-log.txt" in html
    evidence_file = correction.evidence.get()
    download = bureau.get(
        reverse("inventory_correction_evidence", args=[correction.pk, evidence_file.pk])
    )
    assert download.status_code == 200

    # the bureau and the supervisor confirm through the panel's form
    confirmation = correction_confirmation(correction)
    for role in ("bureau", "supervisor"):
        client = verified_client(bt.users[role])
        client.post(reverse("joint_decide", args=[confirmation.pk]), {"decision": "confirm"})
    correction.refresh_from_db()
    assert correction.status == APPLIED

    # the list, filtered; the statement generated afterwards cites it on its page
    listing = bureau.get(
        reverse("contract_inventory_corrections", args=[bt.contract.pk]),
        {"status": "applied", "month": "2026-03"},
    ).content.decode()
    assert correction.number in listing
    empty = bureau.get(
        reverse("contract_inventory_corrections", args=[bt.contract.pk]),
        {"month": "2026-04"},
    ).content.decode()
    assert correction.number not in empty
    v1 = statement_generate(actor=bt.users["vendor"], contract=bt.contract, year=2026, month=3)
    html = bureau.get(reverse("statement_detail", args=[v1.pk])).content.decode()
    assert correction.number in html


def test_portal_refusal_shows_the_reason_on_the_field(bt):
    resource = march_vcpu(bt)
    vendor = verified_client(bt.users["vendor"])
    response = vendor.post(
        reverse("inventory_correction_create", args=[resource.pk]),
        {**_web_form(offline_at="2026-03-09T10:00"), "evidence": evidence()},
    )
    assert response.status_code == 200
    assert "下线时间必须晚于上线时间" in response.content.decode()
    assert not InventoryCorrection.objects.exists()


def test_supervisor_reads_but_cannot_open_the_form(bt):
    resource = march_vcpu(bt)
    supervisor = verified_client(bt.users["supervisor"])
    assert (
        supervisor.get(reverse("inventory_correction_create", args=[resource.pk])).status_code
        == 403
    )
    page = supervisor.get(reverse("resource_detail", args=[resource.pk]))
    if page.status_code == 200:
        assert (
            reverse("inventory_correction_create", args=[resource.pk]) not in page.content.decode()
        )
    listing = supervisor.get(reverse("contract_inventory_corrections", args=[bt.contract.pk]))
    assert listing.status_code == 200


def test_list_is_paginated(bt):
    for day in range(1, 53):
        resource = add_resource(
            bt.contract, bt.department, "ebs.ssd", 10, sh(2026, 1, 1 + day % 28, 9)
        )
        propose(bt, resource, offline_at=sh(2026, 5, 1))
    client = verified_client(bt.users["bureau"])
    url = reverse("contract_inventory_corrections", args=[bt.contract.pk])
    first = client.get(url).content.decode()
    assert "第 1 / 2 页" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "第 2 / 2 页" in second


def test_api_create_detail_list_and_withdraw(bt):
    resource = march_vcpu(bt)
    api = person_api(bt.users["vendor"])
    url = reverse("api_contract_inventory_corrections", args=[bt.contract.pk])
    refused = api.post(
        url, {"resource": resource.pk, "reason": "", "online_at": "2026-03-20T15:00:00+08:00"}
    )
    assert refused.status_code == 400
    assert refused.json()["message"]
    assert not InventoryCorrection.objects.exists()

    created = api.post(
        url,
        {
            "resource": resource.pk,
            "reason": "平台日志",
            "online_at": "2026-03-20T15:00:00+08:00",
            "evidence": evidence(),
        },
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "proposed"
    assert body["months"] == ["2026-03"]
    assert body["joint_confirmation"]["required_roles"] == ["bureau", "vendor", "supervisor"]
    assert {row["label"] for row in body["diff"]} == {"上线时间", "计费开始"}
    assert body["available_actions"] == ["withdraw"]

    listing = person_api(bt.users["supervisor"]).get(url, {"status": "proposed"})
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [body["id"]]
    detail = person_api(bt.users["bureau"]).get(
        reverse("api_inventory_correction_detail", args=[body["id"]])
    )
    assert detail.status_code == 200
    assert detail.json()["available_actions"] == []

    withdrawn = api.post(
        reverse("api_inventory_correction_withdraw", args=[body["id"]]), {"reason": "重提"}
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"


def test_api_department_user_cannot_propose(bt):
    resource = march_vcpu(bt)
    department_user = UserFactory(organization=bt.department)
    response = person_api(department_user).post(
        reverse("api_contract_inventory_corrections", args=[bt.contract.pk]),
        {"resource": resource.pk, "reason": "x", "evidence": evidence()},
        format="multipart",
    )
    assert response.status_code in (403, 404)
    assert not InventoryCorrection.objects.exists()


def test_cross_tenant_404_for_every_new_url(bt, jz):
    resource = march_vcpu(bt)
    correction = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    evidence_file = correction.evidence.get()
    pages = [
        ("get", reverse("contract_inventory_corrections", args=[bt.contract.pk])),
        ("get", reverse("inventory_correction_create", args=[resource.pk])),
        ("post", reverse("inventory_correction_create", args=[resource.pk])),
        ("get", reverse("inventory_correction_detail", args=[correction.pk])),
        ("post", reverse("inventory_correction_withdraw", args=[correction.pk])),
        (
            "get",
            reverse("inventory_correction_evidence", args=[correction.pk, evidence_file.pk]),
        ),
    ]
    apis = [
        ("get", reverse("api_contract_inventory_corrections", args=[bt.contract.pk])),
        ("post", reverse("api_contract_inventory_corrections", args=[bt.contract.pk])),
        ("get", reverse("api_inventory_correction_detail", args=[correction.pk])),
        ("post", reverse("api_inventory_correction_withdraw", args=[correction.pk])),
    ]
    department_user = UserFactory(organization=bt.department)
    for outsider in (jz.users["vendor"], jz.users["bureau"], department_user):
        web, api = verified_client(outsider), person_api(outsider)
        for method, url in pages:
            assert getattr(web, method)(url).status_code == 404, (outsider, url)
        for method, url in apis:
            assert getattr(api, method)(url).status_code == 404, (outsider, url)
    # and a JZ resource's form for a BT vendor
    jz_resource = add_resource(jz.contract, jz.department, "ecs.4c8g", 1, sh(2026, 7, 1))
    client = verified_client(bt.users["vendor"])
    assert (
        client.get(reverse("inventory_correction_create", args=[jz_resource.pk])).status_code == 404
    )
    correction.refresh_from_db()
    assert correction.status == InventoryCorrectionStatus.PROPOSED


def test_admin_is_read_only_and_scoped(bt, jz):
    resource = march_vcpu(bt)
    correction = propose(bt, resource, online_at=sh(2026, 3, 20, 15))
    change = reverse("admin:billing_inventorycorrection_change", args=[correction.pk])
    client = verified_client(bt.users["bureau"])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"reason": "x"}).status_code == 403
    assert client.get(reverse("admin:billing_inventorycorrection_add")).status_code == 403
    # another bureau's correction does not exist for this admin
    assert verified_client(jz.users["bureau"]).get(change).status_code == 404
    correction.refresh_from_db()
    assert correction.reason == "平台日志显示实际上线时间"


# ------------------------------------------------- the tenancy matrix (tests/scoped_urls.py)


def world_correction(world) -> InventoryCorrection:
    """A proposed correction of a delivered resource of the world's contract, by its vendor
    (for ``tests/scoped_urls.py``)."""
    from datetime import timedelta

    from tests.requests_app.factories import delivered_ticket

    resource = delivered_ticket(world).lines.get().delivered_resource
    return inventory_correction_propose(
        actor=world.users["vendor"],
        resource=resource,
        reason="平台日志显示上线早一小时",
        evidence=evidence(),
        data=CorrectionInput(online_at=resource.online_at - timedelta(hours=1)),
    )


PARTIES = frozenset({"bureau", "vendor", "supervisor", "auditor"})
PROPOSERS = frozenset({"bureau", "vendor"})


def _evidence_kwargs(world):
    correction = world_correction(world)
    return {"pk": correction.pk, "file_pk": correction.evidence.get().pk}


MATRIX = {
    "contract_inventory_corrections": (lambda w: {"pk": w.contract.pk}, PARTIES, "get"),
    "inventory_correction_create": (
        lambda w: {"pk": world_correction(w).resource_id},
        PROPOSERS,
        "get",
    ),
    "inventory_correction_detail": (lambda w: {"pk": world_correction(w).pk}, PARTIES, "get"),
    "inventory_correction_withdraw": (lambda w: {"pk": world_correction(w).pk}, PARTIES, "post"),
    "inventory_correction_evidence": (_evidence_kwargs, PARTIES, "get"),
    "api_contract_inventory_corrections": (lambda w: {"pk": w.contract.pk}, PARTIES, "get"),
    "api_inventory_correction_detail": (lambda w: {"pk": world_correction(w).pk}, PARTIES, "get"),
    "api_inventory_correction_withdraw": (
        lambda w: {"pk": world_correction(w).pk},
        PARTIES,
        "post",
    ),
}
MATRIX_CASES = [(name, role) for name, (_b, roles, _m) in MATRIX.items() for role in sorted(roles)]


@pytest.mark.parametrize(("url_name", "role"), MATRIX_CASES)
def test_own_tenant_sees_it_and_the_other_tenant_gets_404(url_name, role, world, foreign):
    build, _roles, method = MATRIX[url_name]
    url = reverse(url_name, kwargs=build(world))
    own = getattr(verified_client(world.users[role]), method)(url)
    if method == "get":
        assert own.status_code == 200, (url_name, role, own.status_code)
    else:
        assert own.status_code != 404, (url_name, role, own.status_code)
    other = getattr(verified_client(foreign.users[role]), method)(url)
    assert other.status_code == 404, (url_name, role, other.status_code)
    # departments and the three administrators never see corrections
    for outsider in ("department", "security_admin", "audit_admin", "system_admin"):
        response = getattr(verified_client(world.users[outsider]), method)(url)
        assert response.status_code in (403, 404), (url_name, outsider, response.status_code)
