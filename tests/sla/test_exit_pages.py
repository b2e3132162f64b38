"""Pages and API of the exit: who sees what (cross-tenant 404 on every URL, departments only
their own systems' signed records), and the portal / API flows through the services."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from govcloud.joint import joint_for
from govcloud.models import BusinessSystem, JointSubject, Role
from sla.models import ExitRecord, ExitStatus, StaffAccessEntry
from sla.services import exit as services
from tests.api_clients import api_for
from tests.conftest import verified_client
from tests.sla import exit_builders
from tests.sla.exit_builders import (
    bt_terms,
    deletion_data,
    draft_record,
    exit_system,
    jz_terms,
    signed_record,
    staff_entry,
    vendor_passphrase,
)
from tests.sla.factories import at, pdf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_signing_keys", "december")]

PARTIES = ("bureau", "vendor", "supervisor", "auditor")
RECORD_BODY = {
    "kind": "deletion",
    "method": "overwrite",
    "performed_on": "2026-12-01",
    "scope_data": True,
    "scope_backups": True,
    "scope_note": "业务库及全部备份",
    "authorisation_ref": "包数管函〔2026〕12号",
}
EVERYONE = (*PARTIES, "department")


@pytest.fixture
def december():
    with time_machine.travel(at(2026, 12, 20, 10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def bt(world):
    return bt_terms(world)


def _objects(world) -> dict[str, object]:
    """One of everything the exit URLs name, in ``world``."""
    bt_terms(world)
    return {
        "contract": world.contract,
        "entry": staff_entry(world),
        "record": signed_record(world),
    }


def _portal_urls(objs) -> list[tuple[str, str]]:
    c, e, r = objs["contract"].pk, objs["entry"].pk, objs["record"].pk
    return [
        ("get", reverse("sla_exit", args=[c])),
        ("post", reverse("sla_exit_handover_plan", args=[c])),
        ("get", reverse("sla_exit_staff_list", args=[c])),
        ("get", reverse("sla_exit_staff_create", args=[c])),
        ("post", reverse("sla_exit_staff_submit", args=[c])),
        ("get", reverse("sla_exit_staff_edit", args=[e])),
        ("post", reverse("sla_exit_staff_end", args=[e])),
        ("get", reverse("sla_exit_staff_file", args=[e])),
        ("get", reverse("sla_exit_record_create", args=[c])),
        ("get", reverse("sla_exit_record_detail", args=[r])),
        ("get", reverse("sla_exit_record_edit", args=[r])),
        ("post", reverse("sla_exit_record_sign", args=[r])),
        ("post", reverse("sla_exit_record_confirm", args=[r])),
        ("post", reverse("sla_exit_record_object", args=[r])),
        ("get", reverse("sla_exit_record_certificate", args=[r])),
    ]


def _api_urls(objs) -> list[tuple[str, str, dict]]:
    c, e, r = objs["contract"].pk, objs["entry"].pk, objs["record"].pk
    return [
        ("get", reverse("api_sla_exit_staff_detail", args=[e]), {}),
        ("put", reverse("api_sla_exit_staff_detail", args=[e]), {}),
        ("post", f"/api/v1/sla/exit/staff/{e}/end/", {"ended_on": "2026-12-19"}),
        ("post", "/api/v1/sla/exit/staff/submit/", {"contract": c}),
        ("post", "/api/v1/sla/exit/handover-plan/", {"contract": c}),
        ("get", reverse("api_sla_exit_record_detail", args=[r]), {}),
        ("put", reverse("api_sla_exit_record_detail", args=[r]), {}),
        ("post", f"/api/v1/sla/exit/records/{r}/sign/", {"signing_passphrase": "x"}),
        ("post", f"/api/v1/sla/exit/records/{r}/confirm/", {}),
        ("post", f"/api/v1/sla/exit/records/{r}/object/", {"reason": "x"}),
        ("post", "/api/v1/sla/exit/records/", {**RECORD_BODY, "contract": c, "system": 1}),
    ]


class TestTenancy:
    @pytest.mark.parametrize("role", EVERYONE)
    def test_every_portal_url_is_404_for_another_tenant(self, world, foreign, role):
        objs = _objects(world)
        client = verified_client(foreign.users[role])
        for method, url in _portal_urls(objs):
            response = getattr(client, method)(url)
            assert response.status_code == 404, (role, method, url)

    @pytest.mark.parametrize("role", EVERYONE)
    def test_every_api_url_is_404_for_another_tenant(self, world, foreign, role):
        objs = _objects(world)
        client = api_for(foreign.users[role])
        for method, url, body in _api_urls(objs):
            response = getattr(client, method)(url, body, format="json")
            assert response.status_code == 404, (role, method, url, response.content)
        for url in ("/api/v1/sla/exit/staff/", "/api/v1/sla/exit/records/"):
            assert client.get(url).json()["count"] == 0

    def test_anonymous_api_is_401(self, world):
        for url in ("/api/v1/sla/exit/staff/", "/api/v1/sla/exit/records/"):
            assert APIClient().get(url).status_code == 401

    @pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN])
    def test_the_three_administrators_see_nothing(self, world, role):
        objs = _objects(world)
        client = verified_client(world.users[role])
        for method, url in _portal_urls(objs):
            assert getattr(client, method)(url).status_code == 404, (role, url)

    @pytest.mark.parametrize("role", PARTIES)
    def test_parties_read_the_exit_pages(self, world, role):
        objs = _objects(world)
        client = verified_client(world.users[role])
        for name, pk in (
            ("sla_exit", objs["contract"].pk),
            ("sla_exit_staff_list", objs["contract"].pk),
            ("sla_exit_record_detail", objs["record"].pk),
            ("sla_exit_record_certificate", objs["record"].pk),
            ("sla_exit_staff_file", objs["entry"].pk),
        ):
            assert client.get(reverse(name, args=[pk])).status_code == 200, (role, name)


class TestDepartments:
    """A department reads the signed records of its own systems, and nothing else of the exit."""

    def test_own_signed_record_only(self, bt):
        signed = signed_record(bt)
        draft = draft_record(bt)
        other_department = bt.orgs["department"].__class__.objects.create(
            name="其他使用单位", kind="department", parent=bt.orgs["bureau"]
        )
        other_system = BusinessSystem.objects.create(department=other_department, name="另一系统")
        foreign_record = services.exit_record_create(
            actor=bt.users["vendor"],
            contract=bt.contract,
            system=other_system,
            data=deletion_data(),
        )
        services.exit_record_sign(
            actor=bt.users["vendor"],
            record=foreign_record,
            signing_passphrase=vendor_passphrase(bt),
        )
        client = verified_client(bt.users["department"])
        assert client.get(reverse("sla_exit_record_detail", args=[signed.pk])).status_code == 200
        assert (
            client.get(reverse("sla_exit_record_certificate", args=[signed.pk])).status_code == 200
        )
        for pk in (draft.pk, foreign_record.pk):
            assert client.get(reverse("sla_exit_record_detail", args=[pk])).status_code == 404
        entry = staff_entry(bt)
        for url in (
            reverse("sla_exit", args=[bt.contract.pk]),
            reverse("sla_exit_staff_list", args=[bt.contract.pk]),
            reverse("sla_exit_staff_file", args=[entry.pk]),
        ):
            assert client.get(url).status_code == 404, url
        api = api_for(bt.users["department"])
        listed = api.get("/api/v1/sla/exit/records/").json()["results"]
        assert [r["id"] for r in listed] == [signed.pk]
        assert api.get("/api/v1/sla/exit/staff/").json()["count"] == 0
        # no actions for a department on its record
        page = client.get(reverse("sla_exit_record_detail", args=[signed.pk]))
        assert "您可以办理" not in page.content.decode()


class TestPortal:
    def test_exit_page_shows_the_plan_due_and_the_systems(self, bt):
        record = signed_record(bt)
        client = verified_client(bt.users["bureau"])
        page = client.get(reverse("sla_exit", args=[bt.contract.pk])).content.decode()
        assert "2026-12-01" in page  # 2026-12-31 − 30 days, not yet registered
        assert exit_system(bt).name in page
        assert reverse("sla_exit_record_detail", args=[record.pk]) in page
        response = client.post(reverse("sla_exit_handover_plan", args=[bt.contract.pk]))
        assert response.status_code == 302
        page = client.get(reverse("sla_exit", args=[bt.contract.pk])).content.decode()
        assert "逾期未交" in page

    def test_vendor_records_signs_and_the_jz_bureau_confirms(self, world):
        jz_terms(world)
        system = exit_system(world)
        vendor = verified_client(world.users["vendor"])
        form = {
            "system": system.pk,
            "kind": "deletion",
            "method": "overwrite",
            "performed_on": "2026-12-01",
            "scope_data": "on",
            "scope_backups": "on",
            "scope_note": "业务库及全部备份",
            "authorisation_ref": "焦数函〔2026〕8号",
            "witnesses": "监理方 李四\n甲方：张三",
        }
        response = vendor.post(reverse("sla_exit_record_create", args=[world.contract.pk]), form)
        assert response.status_code == 302, response.content.decode()
        record = ExitRecord.objects.get()
        assert [(w.party, w.name) for w in record.witnesses.all()] == [
            ("supervisor", "李四"),
            ("bureau", "张三"),
        ]
        sign_url = reverse("sla_exit_record_sign", args=[record.pk])
        vendor_passphrase(world)
        refused = vendor.post(sign_url, {"signing_passphrase": "wrong"})
        assert refused.status_code == 200
        assert "口令错误" in refused.content.decode()
        assert (
            vendor.post(sign_url, {"signing_passphrase": vendor_passphrase(world)}).status_code
            == 302
        )
        record.refresh_from_db()
        assert record.status == ExitStatus.SUBMITTED

        bureau = verified_client(world.users["bureau"])
        detail = bureau.get(reverse("sla_exit_record_detail", args=[record.pk])).content.decode()
        assert "确认记录" in detail
        bureau.post(reverse("sla_exit_record_confirm", args=[record.pk]))
        record.refresh_from_db()
        assert record.status == ExitStatus.CONFIRMED

    def test_joint_page_links_back_to_the_record(self, bt):
        record = signed_record(bt)
        confirmation = joint_for(record, JointSubject.DATA_DELETION)
        page = verified_client(bt.users["supervisor"]).get(
            reverse("joint_detail", args=[confirmation.pk])
        )
        assert page.status_code == 200
        assert reverse("sla_exit_record_detail", args=[record.pk]) in page.content.decode()
        detail = verified_client(bt.users["supervisor"]).get(
            reverse("sla_exit_record_detail", args=[record.pk])
        )
        assert reverse("joint_decide", args=[confirmation.pk]) in detail.content.decode()

    def test_form_shows_every_error(self, world):
        jz_terms(world)
        vendor = verified_client(world.users["vendor"])
        response = vendor.post(
            reverse("sla_exit_record_create", args=[world.contract.pk]),
            {"witnesses": "路人 甲"},
        )
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert {"system", "kind", "method", "performed_on", "scope_note", "witnesses"} <= set(
            errors
        )

    def test_bureau_cannot_open_the_vendors_forms(self, bt):
        client = verified_client(bt.users["bureau"])
        assert client.get(reverse("sla_exit_staff_create", args=[bt.contract.pk])).status_code == (
            403
        )
        assert client.get(reverse("sla_exit_record_create", args=[bt.contract.pk])).status_code == (
            403
        )

    def test_staff_register_pages(self, bt):
        vendor = verified_client(bt.users["vendor"])
        response = vendor.post(
            reverse("sla_exit_staff_create", args=[bt.contract.pk]),
            {
                "person_name": "王五",
                "employer": "中国电信包头分公司",
                "duty": "operations",
                "access_scope": "堡垒机运维",
                "access_from": "2026-02-01",
                "undertaking_signed_on": "2026-01-20",
                "undertaking_file": pdf("undertaking.pdf"),
            },
        )
        assert response.status_code == 302, response.content.decode()
        entry = StaffAccessEntry.objects.get()
        assert vendor.post(reverse("sla_exit_staff_submit", args=[bt.contract.pk])).status_code == (
            302
        )
        auditor = verified_client(bt.users["auditor"])
        page = auditor.get(reverse("sla_exit_staff_list", args=[bt.contract.pk])).content.decode()
        assert "王五" in page
        assert "待甲方备案" in page
        assert "登记人员" not in page
        bureau = verified_client(bt.users["bureau"])
        bureau.post(
            reverse("sla_exit_staff_end", args=[entry.pk]),
            {"ended_on": "2026-12-19", "reason": "调离"},
        )
        entry.refresh_from_db()
        assert entry.access_to == date(2026, 12, 19)

    def test_jz_has_no_register(self, world):
        jz_terms(world)
        vendor = verified_client(world.users["vendor"])
        assert (
            vendor.get(reverse("sla_exit_staff_create", args=[world.contract.pk])).status_code
            == 403
        )


class TestApi:
    def test_vendor_records_and_signs_through_the_api(self, bt):
        system = exit_system(bt)
        api = api_for(bt.users["vendor"])
        created = api.post(
            "/api/v1/sla/exit/records/",
            {
                "contract": bt.contract.pk,
                "system": system.pk,
                "kind": "deletion",
                "method": "overwrite",
                "performed_on": "2026-12-01",
                "scope_data": True,
                "scope_backups": True,
                "scope_media": True,
                "media_method": "destroy",
                "scope_note": "数据盘 3 块",
                "authorisation_ref": "包数管函〔2026〕12号",
                "witnesses": [{"party": "supervisor", "name": "李四"}],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        vendor_passphrase(bt)  # the vendor's key is installed
        wrong = api.post(
            f"/api/v1/sla/exit/records/{pk}/sign/", {"signing_passphrase": "no"}, format="json"
        )
        assert wrong.status_code == 403
        assert set(wrong.json()) == {"message", "extra"}
        signed = api.post(
            f"/api/v1/sla/exit/records/{pk}/sign/",
            {"signing_passphrase": vendor_passphrase(bt)},
            format="json",
        )
        assert signed.status_code == 200, signed.content
        body = signed.json()
        assert body["status"] == "submitted"
        assert body["confirming_roles"] == ["bureau", "supervisor"]
        assert body["joint_confirmation"]
        assert body["certificate_url"] == reverse("sla_exit_record_certificate", args=[pk])

        bureau = api_for(bt.users["bureau"])
        refused = bureau.post(f"/api/v1/sla/exit/records/{pk}/confirm/", {}, format="json")
        assert refused.status_code == 403  # BT: through the joint confirmation only

    def test_missing_scope_is_400_with_the_field(self, world):
        jz_terms(world)
        response = api_for(world.users["vendor"]).post(
            "/api/v1/sla/exit/records/",
            {
                "contract": world.contract.pk,
                "system": exit_system(world).pk,
                "kind": "deletion",
                "method": "overwrite",
                "performed_on": "2026-12-01",
                "scope_note": "x",
                "authorisation_ref": "y",
            },
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["extra"]["field"] == "scope_data"

    def test_staff_register_through_the_api(self, bt):
        api = api_for(bt.users["vendor"])
        created = api.post(
            "/api/v1/sla/exit/staff/",
            {
                "contract": bt.contract.pk,
                "person_name": "赵六",
                "employer": "某服务器厂商",
                "duty": "supply_chain",
                "access_scope": "备件更换",
                "access_from": "2026-03-01",
                "undertaking_signed_on": "2026-02-27",
                "undertaking_file": pdf("u.pdf"),
            },
            format="multipart",
        )
        assert created.status_code == 201, created.content
        assert created.json()["filing"] == "pending"
        submitted = api.post(
            "/api/v1/sla/exit/staff/submit/", {"contract": bt.contract.pk}, format="json"
        )
        assert submitted.status_code == 201, submitted.content
        assert submitted.json()["kind"] == "staff_register"
        listed = api_for(bt.users["auditor"]).get(
            "/api/v1/sla/exit/staff/", {"contract": bt.contract.pk}
        )
        assert [e["filing"] for e in listed.json()["results"]] == ["submitted"]

    def test_schema_documents_the_exit_endpoints(self, world):
        schema = verified_client(world.users["bureau"]).get("/api/schema/")
        assert schema.status_code == 200
        text = schema.content.decode()
        for path in (
            "/api/v1/sla/exit/records/{id}/sign/",
            "/api/v1/sla/exit/staff/",
            "/api/v1/sla/exit/handover-plan/",
        ):
            assert path in text, path


# ---------------------------------------------------------------- the tenancy matrix entries
# The entries proposed for tests/scoped_urls.py (a shared registry this change does not edit),
# run here the way tests/govcloud/test_scoping.py runs them, so the proposal is known to hold.

SLA_PARTIES = frozenset(PARTIES)
SLA_BUSINESS = SLA_PARTIES | {"department"}


def _exit(name: str):
    return lambda world: getattr(exit_builders, name)(world)


def _exit_pk(builder: str):
    def build(world):
        bt_terms(world)
        return {"pk": _exit(builder)(world).pk}

    return build


def _exit_contract(world):
    bt_terms(world)
    return {"contract_pk": world.contract.pk}


EXIT_MATRIX = {
    "sla_exit": (_exit_contract, SLA_PARTIES, "get"),
    "sla_exit_handover_plan": (_exit_contract, SLA_PARTIES, "post"),
    "sla_exit_staff_list": (_exit_contract, SLA_PARTIES, "get"),
    "sla_exit_staff_create": (_exit_contract, frozenset({"vendor"}), "get"),
    "sla_exit_staff_submit": (_exit_contract, SLA_PARTIES, "post"),
    "sla_exit_staff_edit": (_exit_pk("staff_entry"), frozenset({"vendor"}), "get"),
    "sla_exit_staff_end": (_exit_pk("staff_entry"), SLA_PARTIES, "post"),
    "sla_exit_staff_file": (_exit_pk("staff_entry"), SLA_PARTIES, "get"),
    "sla_exit_record_create": (_exit_contract, frozenset({"vendor"}), "get"),
    "sla_exit_record_detail": (_exit_pk("signed_record"), SLA_BUSINESS, "get"),
    "sla_exit_record_edit": (_exit_pk("draft_record"), frozenset({"vendor"}), "get"),
    "sla_exit_record_sign": (_exit_pk("draft_record"), SLA_PARTIES, "post"),
    "sla_exit_record_confirm": (_exit_pk("signed_record"), SLA_PARTIES, "post"),
    "sla_exit_record_object": (_exit_pk("signed_record"), SLA_PARTIES, "post"),
    "sla_exit_record_certificate": (_exit_pk("signed_record"), SLA_BUSINESS, "get"),
    "api_sla_exit_staff_detail": (_exit_pk("staff_entry"), SLA_PARTIES, "get"),
    "api_sla_exit_record_detail": (_exit_pk("signed_record"), SLA_BUSINESS, "get"),
}
MATRIX_CASES = [
    (name, role) for name, (_b, roles, _m) in EXIT_MATRIX.items() for role in sorted(roles)
]


@pytest.mark.parametrize(
    ("url_name", "role"), MATRIX_CASES, ids=[f"{n}-{r}" for n, r in MATRIX_CASES]
)
def test_matrix_entry(url_name, role, world, foreign):
    build, _roles, method = EXIT_MATRIX[url_name]
    url = reverse(url_name, kwargs=build(world))
    own = getattr(verified_client(world.users[role]), method)(url)
    if method == "get":
        assert own.status_code == 200, (url_name, role, own.status_code)
    else:
        assert own.status_code != 404, (url_name, role, own.status_code)
    other = getattr(verified_client(foreign.users[role]), method)(url)
    assert other.status_code == 404, (url_name, role, other.status_code)
    assert APIClient().get(url).status_code in (302, 401, 403)


def test_every_exit_url_is_in_the_matrix():
    names = {
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.startswith(("sla_exit", "api_sla_exit"))
    }
    with_params = {
        n for n in names if n not in {"api_sla_exit_staff_list", "api_sla_exit_record_list"}
    }
    assert with_params == set(EXIT_MATRIX)


def test_admin_lists_the_records_read_only(world, foreign):
    objs = _objects(world)
    _objects(foreign)
    client = verified_client(world.users["bureau"])
    for model, obj in (("exitrecord", objs["record"]), ("staffaccessentry", objs["entry"])):
        changelist = client.get(reverse(f"admin:sla_{model}_changelist"))
        assert changelist.status_code == 200, model
        assert client.get(reverse(f"admin:sla_{model}_change", args=[obj.pk])).status_code == 200
        assert client.get(reverse(f"admin:sla_{model}_add")).status_code == 403
    foreign_record = ExitRecord.objects.exclude(contract=world.contract).get()
    assert (
        client.get(reverse("admin:sla_exitrecord_change", args=[foreign_record.pk])).status_code
        == 404
    )
