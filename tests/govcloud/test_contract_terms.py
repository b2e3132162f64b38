"""A contract's terms: the portal page, the API, the contract page's citations, and editing
them in the admin (system admin only, every change audited with its before and after)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from govcloud.admin import CONTRACT_FIELDSETS
from govcloud.models import AuditEvent, ContractClause
from govcloud.terms import TERM_GROUPS, contract_terms_json, term_defs
from tests.api_clients import token_client
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

PARTY_ROLES = ["bureau", "vendor", "supervisor", "auditor", "department"]


@pytest.fixture
def cited(world):
    """The world's contract (the Baotou regime) with two clauses cited."""
    ContractClause.objects.create(
        contract=world.contract,
        term="delivery_working_days",
        clause="附件2 §2",
        quote="资源交付服务响应时间不超过2个工作日",
    )
    ContractClause.objects.create(
        contract=world.contract,
        term="improvement_working_days",
        clause="附件2 §9",
        quote="10个工作日内完成整改",
    )
    return world


def test_every_term_is_in_exactly_one_group():
    grouped = [key for _label, keys in TERM_GROUPS for key in keys]
    assert sorted(grouped) == sorted(t.key for t in term_defs())
    assert len(grouped) == len(set(grouped))


# ------------------------------------------------------------------------------ terms page


@pytest.mark.parametrize("role", PARTY_ROLES)
def test_the_contracts_parties_and_departments_read_its_terms(cited, role):
    url = reverse("contract_terms", args=[cited.contract.pk])
    page = verified_client(cited.users[role]).get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="term-delivery_working_days"' in body
    assert "附件2 §2" in body
    assert "资源交付服务响应时间不超过2个工作日" in body
    # A rule the contract does not set says so.
    assert "未约定通知期限" in body


@pytest.mark.parametrize("role", PARTY_ROLES)
def test_another_tenants_terms_answer_404(cited, foreign, role):
    url = reverse("contract_terms", args=[cited.contract.pk])
    assert verified_client(foreign.users[role]).get(url).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(cited, client):
    response = client.get(reverse("contract_terms", args=[cited.contract.pk]))
    assert response.status_code == 302


def test_the_terms_page_stacks_on_a_phone(cited):
    """No table that would scroll sideways at 375 px: each term is one grid row whose cells are
    full width below the md breakpoint, long words may break."""
    body = (
        verified_client(cited.users["vendor"])
        .get(reverse("contract_terms", args=[cited.contract.pk]))
        .content.decode()
    )
    assert "<table" not in body
    assert "table-responsive" not in body
    row = body.split('id="term-improvement_working_days"', 1)[1].split('id="term-', 1)[0]
    assert row.count('class="col-12 col-md-') == 4
    assert "text-break" in row


def test_the_contract_page_links_its_terms(cited):
    body = (
        verified_client(cited.users["department"])
        .get(reverse("contract_detail", args=[cited.contract.pk]))
        .content.decode()
    )
    assert reverse("contract_terms", args=[cited.contract.pk]) in body


def test_the_delivery_line_of_a_contract_with_a_clock_cites_its_clause(cited):
    body = (
        verified_client(cited.users["bureau"])
        .get(reverse("contract_detail", args=[cited.contract.pk]))
        .content.decode()
    )
    assert "批准后 2 个工作日（经批准延期 5 个工作日）" in body
    link = reverse("contract_terms", args=[cited.contract.pk]) + "#term-delivery_working_days"
    assert f'href="{link}"' in body
    assert "〔附件2 §2〕" in body


def test_the_delivery_line_of_a_contract_without_a_clock_says_so(cited):
    contract = cited.contract
    contract.delivery_working_days = contract.extended_delivery_working_days = None
    contract.save()
    ContractClause.objects.filter(contract=contract, term="delivery_working_days").update(
        clause="四.5", quote="乙方应及时按照甲方提供的资源使用需求开通资源并交付"
    )
    body = (
        verified_client(cited.users["vendor"])
        .get(reverse("contract_detail", args=[contract.pk]))
        .content.decode()
    )
    assert "批准后 None" not in body
    assert "None 个工作日" not in body
    assert "未约定时限（及时交付），不计超时" in body
    assert "〔四.5〕" in body


# ------------------------------------------------------------------------------ API


def test_the_terms_api_gives_the_command_json(cited, django_assert_max_num_queries):
    client = token_client(cited.users["vendor"])
    url = f"/api/v1/contracts/{cited.contract.pk}/terms/"
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    contract = type(cited.contract).objects.get(pk=cited.contract.pk)
    assert body == contract_terms_json(contract)
    assert body["delivery_working_days"] == 2
    assert body["maintenance_notice_hours"] is None
    assert body["clauses"]["delivery_working_days"]["clause"] == "附件2 §2"


@pytest.mark.parametrize("role", PARTY_ROLES)
def test_every_party_and_department_reads_the_terms_api(cited, role):
    response = verified_client(cited.users[role]).get(
        f"/api/v1/contracts/{cited.contract.pk}/terms/"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("role", PARTY_ROLES)
def test_the_terms_api_answers_404_across_tenants(cited, foreign, role):
    response = verified_client(foreign.users[role]).get(
        f"/api/v1/contracts/{cited.contract.pk}/terms/"
    )
    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}


def test_the_terms_api_refuses_anonymous_callers(cited, client):
    response = client.get(f"/api/v1/contracts/{cited.contract.pk}/terms/")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "extra"}


def test_the_terms_api_is_in_the_openapi_schema(world):
    schema = verified_client(world.users["bureau"]).get("/api/schema/").content.decode()
    assert "/api/v1/contracts/{id}/terms/" in schema
    assert "ContractTerms" in schema


# ------------------------------------------------------------------------------ admin


def _post_data(response) -> dict[str, object]:
    """What the browser would send back unchanged: the change form and its inlines."""
    data: dict[str, object] = {}

    def put(name, value):
        if value is None or value is False:
            return
        if value is True:
            data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if name == "joint_confirmations":
            for subject, roles in (value or {}).items():
                put(f"joint_confirmations_{subject}", roles)
        else:
            put(name, value)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{formset.prefix}-{name}"] = management[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                put(sub[name].html_name, sub[name].value())
    return data


def _change_url(contract) -> str:
    return reverse("admin:govcloud_contract_change", args=[contract.pk])


def test_every_term_is_on_the_contracts_admin_page():
    shown = {f for _name, opts in CONTRACT_FIELDSETS for f in opts["fields"]}
    missing = [t.key for t in term_defs() if t.field and t.field not in shown]
    assert not missing
    labels = [str(name) for name, _opts in CONTRACT_FIELDSETS if name]
    for group in ("计费", "工单", "统计表", "服务水平", "结算", "合同终止"):
        assert group in labels


def test_empty_terms_say_the_contract_does_not_set_them(world):
    page = verified_client(world.users["system_admin"]).get(_change_url(world.contract))
    form = page.context["adminform"].form
    assert "留空 = 合同未约定" in form.fields["delivery_working_days"].help_text
    assert "留空 = 合同未约定" in form.fields["maintenance_notice_hours"].help_text
    assert "留空 = 合同未约定" in page.content.decode()


def test_system_admin_edits_terms_and_clauses_and_both_are_audited(cited):
    client = verified_client(cited.users["system_admin"])
    url = _change_url(cited.contract)
    page = client.get(url)
    data = _post_data(page)
    assert data["maintenance_approvers"] == ["bureau", "supervisor"]
    data["improvement_working_days"] = "12"
    data["maintenance_approvers"] = ["bureau"]
    data["joint_confirmations_incident_level"] = ["bureau", "supervisor"]
    data["delivery_working_days"] = ""  # no clock: the contract says only 及时
    data["extended_delivery_working_days"] = ""
    clauses = page.context["inline_admin_formsets"][2].formset
    assert clauses.prefix == "clauses"
    row = next(f for f in clauses.forms if f.instance.term == "improvement_working_days")
    data[row["clause"].html_name] = "附件2 §9.2"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    contract = type(cited.contract).objects.get(pk=cited.contract.pk)
    assert contract.improvement_working_days == 12
    assert contract.maintenance_approvers == ["bureau"]
    assert contract.joint_confirmations == {"incident_level": ["bureau", "supervisor"]}
    assert contract.delivery_working_days is None

    change = AuditEvent.objects.get(action="contract.admin_change")
    assert change.before["improvement_working_days"] == 10
    assert change.after["improvement_working_days"] == 12
    assert change.before["maintenance_approvers"] == ["bureau", "supervisor"]
    assert change.after["maintenance_approvers"] == ["bureau"]
    assert change.actor == cited.users["system_admin"]
    clause = AuditEvent.objects.get(action="contractclause.admin_change")
    assert (clause.before["clause"], clause.after["clause"]) == ("附件2 §9", "附件2 §9.2")
    assert clause.contract_id == cited.contract.pk


def test_a_clause_added_in_the_admin_is_audited(cited):
    client = verified_client(cited.users["system_admin"])
    url = _change_url(cited.contract)
    data = _post_data(client.get(url))
    data["clauses-TOTAL_FORMS"] = "3"
    data.update(
        {
            "clauses-2-term": "scorecard",
            "clauses-2-clause": "附件2",
            "clauses-2-quote": "参照附件2《政务云服务水平协议》进行服务能力考核",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="contractclause.admin_create")
    assert event.after["term"] == "scorecard"
    assert event.before is None


def test_a_clause_for_an_unknown_term_is_refused(cited):
    client = verified_client(cited.users["system_admin"])
    url = _change_url(cited.contract)
    data = _post_data(client.get(url))
    data["clauses-TOTAL_FORMS"] = "3"
    data.update({"clauses-2-term": "happiness", "clauses-2-clause": "1"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert not ContractClause.objects.filter(term="happiness").exists()


def test_joint_confirmations_with_an_unknown_role_are_refused(cited):
    client = verified_client(cited.users["system_admin"])
    url = _change_url(cited.contract)
    data = _post_data(client.get(url))
    data["joint_confirmations_utilization_data"] = ["bureau", "mayor"]
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "mayor" in str(response.context["adminform"].form.errors["joint_confirmations"])
    assert AuditEvent.objects.count() == before


def test_an_unknown_approver_role_is_refused(cited):
    client = verified_client(cited.users["system_admin"])
    url = _change_url(cited.contract)
    data = _post_data(client.get(url))
    data["maintenance_approvers"] = ["bureau", "mayor"]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "maintenance_approvers" in response.context["adminform"].form.errors


def test_bureau_staff_read_the_terms_but_cannot_change_them(cited):
    client = verified_client(cited.users["bureau"])
    url = _change_url(cited.contract)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "甲方 → 监理" in body  # maintenance approvers, in words
    assert "附件2 §2" in body  # the clause inline, read-only
    data = {"name": "改名", "improvement_working_days": "1"}
    assert client.post(url, data).status_code == 403
    assert type(cited.contract).objects.get(pk=cited.contract.pk).improvement_working_days == 10


def test_another_bureaus_system_admin_cannot_open_the_contract(cited, foreign):
    client = verified_client(foreign.users["system_admin"])
    assert client.get(_change_url(cited.contract)).status_code == 404


def _party_forms(page):
    formset = page.context["inline_admin_formsets"][0].formset
    assert formset.prefix == "parties"
    return {f.instance.role: f for f in formset.forms}


def test_the_review_chain_can_be_reordered_in_one_save_and_is_audited(world):
    client = verified_client(world.users["system_admin"])
    url = _change_url(world.contract)
    page = client.get(url)
    data = _post_data(page)
    forms = _party_forms(page)
    data[forms["bureau"]["review_order"].html_name] = "2"
    data[forms["supervisor"]["review_order"].html_name] = "1"
    response = client.post(url, data)
    assert response.status_code == 302
    contract = type(world.contract).objects.get(pk=world.contract.pk)
    assert [p.role for p in contract.review_chain] == ["supervisor", "bureau"]
    assert [p.role for p in contract.signoff_parties] == ["bureau", "vendor", "supervisor"]
    changes = AuditEvent.objects.filter(action="contractparty.admin_change")
    assert {(e.before["review_order"], e.after["review_order"]) for e in changes} == {
        (1, 2),
        (2, 1),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"supervisor": {"signoff_order": "1"}}, "签认顺序 1 重复"),
        ({"bureau": {"review_order": ""}}, "甲方须在审核链和签认顺序中"),
        ({"vendor": {"signoff_order": ""}}, "乙方须在签认顺序中"),
    ],
    ids=["two-parties-one-place", "bureau-not-reviewing", "vendor-not-signing"],
)
def test_parties_that_break_the_workflow_are_refused(world, change, message):
    client = verified_client(world.users["system_admin"])
    url = _change_url(world.contract)
    page = client.get(url)
    data = _post_data(page)
    forms = _party_forms(page)
    for role, fields in change.items():
        for name, value in fields.items():
            data[forms[role][name].html_name] = value
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert message in str(errors)
    assert AuditEvent.objects.count() == before


def test_a_second_bureau_is_refused(world):
    client = verified_client(world.users["system_admin"])
    url = _change_url(world.contract)
    data = _post_data(client.get(url))
    extra = int(data["parties-TOTAL_FORMS"])
    data["parties-TOTAL_FORMS"] = str(extra + 1)
    data.update(
        {
            f"parties-{extra}-organization": str(world.orgs["bureau"].pk),
            f"parties-{extra}-role": "bureau",
            f"parties-{extra}-is_lead": "on",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert world.contract.parties.count() == 4
