"""The life-cycle of a contract (issue 12 item 7): states from dates and terms, the stored
state kept in step, expiry warnings to every party, activation — on the official calendar.

Hand-derived dates (official 2026 calendar):

* BT-2025 serves 2025-06-20 … 2026-06-19 (a Friday, 端午节, a holiday). Expiring from
  2026-06-19 − 90 days = 2026-03-21; the 30-day warning is due 2026-05-20.
* Its continuation (BT 2.2: up to 30 working days after expiry) counts from the next day:
  June 22–26 (5) and 29–30 (2) = 7 working days; July 2026 has no public holiday, 23 working
  days (1–3, 6–10, 13–17, 20–24, 27–31) → the 30th working day is **2026-07-31**. It is
  closed from 2026-08-01, so on 2026-12-04 it is closed.
* JZ-2026 (2026-06-04 … 2028-06-03) sets no continuation: closed from 2028-06-04.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from billing.contracts import load_reference_contracts
from govcloud import lifecycle
from govcloud.exceptions import ActionForbidden, InvalidTransition
from govcloud.lifecycle import Facts, state_on
from govcloud.models import (
    AuditEvent,
    Contract,
    ContractExpiryWarning,
    ContractStatus,
    OutboxEmail,
)
from govcloud.tasks import contract_expiry_warnings, contract_states
from tests.api_clients import person_api
from tests.conftest import verified_client
from tests.factories import UserFactory, make_totp

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
S = ContractStatus

BT_CONTINUATION_END = date(2026, 7, 31)  # hand-derived above

BT = Facts(
    service_start=date(2025, 6, 20),
    service_end=date(2026, 6, 19),
    continuation_working_days=30,
    activated=True,
)
JZ = Facts(
    service_start=date(2026, 6, 4),
    service_end=date(2028, 6, 3),
    continuation_working_days=None,
    activated=True,
)


def replace(facts: Facts, **changes) -> Facts:
    return Facts(**{**facts.__dict__, **changes})


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# ------------------------------------------------------------------------------ pure states


@pytest.mark.parametrize(
    ("facts", "on", "state"),
    [
        pytest.param(BT, date(2025, 6, 20), S.ACTIVE, id="bt-first-day"),
        pytest.param(BT, date(2026, 3, 20), S.ACTIVE, id="bt-91-days-before"),
        pytest.param(BT, date(2026, 3, 21), S.EXPIRING, id="bt-90-days-before"),
        pytest.param(BT, date(2026, 6, 19), S.EXPIRING, id="bt-last-day"),
        pytest.param(BT, date(2026, 6, 20), S.CONTINUATION, id="bt-day-after-the-end"),
        pytest.param(BT, BT_CONTINUATION_END, S.CONTINUATION, id="bt-30th-working-day"),
        pytest.param(BT, date(2026, 8, 1), S.CLOSED, id="bt-after-continuation"),
        pytest.param(BT, date(2026, 12, 4), S.CLOSED, id="bt-2026-12-04"),
        pytest.param(JZ, date(2026, 3, 20), S.ACTIVE, id="jz-billing-before-service-start"),
        pytest.param(JZ, date(2028, 3, 5), S.EXPIRING, id="jz-90-days-before"),
        pytest.param(JZ, date(2028, 6, 3), S.EXPIRING, id="jz-last-day"),
        pytest.param(JZ, date(2028, 6, 4), S.CLOSED, id="jz-no-continuation"),
        pytest.param(replace(BT, activated=False), date(2026, 1, 5), S.DRAFT, id="draft"),
        pytest.param(replace(BT, activated=False), date(2027, 1, 5), S.DRAFT, id="draft-late"),
        pytest.param(
            replace(BT, terminates_on=date(2026, 1, 31)),
            date(2026, 1, 31),
            S.EXPIRING,
            id="termination-last-day",
        ),
        pytest.param(
            replace(BT, terminates_on=date(2026, 1, 31)),
            date(2026, 2, 1),
            S.TERMINATED,
            id="terminated",
        ),
        pytest.param(
            replace(BT, terminates_on=date(2026, 1, 31)),
            date(2026, 6, 25),
            S.TERMINATED,
            id="terminated-no-continuation",
        ),
        pytest.param(
            replace(BT, cutover_on=date(2026, 6, 20)),
            date(2026, 6, 19),
            S.EXPIRING,
            id="renewal-eve",
        ),
        pytest.param(
            replace(BT, cutover_on=date(2026, 6, 20)),
            date(2026, 6, 20),
            S.CLOSED,
            id="renewal-cutover-day",
        ),
        pytest.param(
            replace(BT, cutover_on=date(2026, 7, 10)),
            date(2026, 7, 9),
            S.CONTINUATION,
            id="handover-eve",
        ),
        pytest.param(
            replace(BT, cutover_on=date(2026, 7, 10)),
            date(2026, 7, 10),
            S.CLOSED,
            id="cutover-ends-continuation",
        ),
    ],
)
def test_state_from_dates_and_terms(facts, on, state):
    assert state_on(facts, on) == state


@pytest.mark.parametrize(
    ("facts", "on", "effective_end", "billing_last"),
    [
        pytest.param(BT, date(2026, 3, 1), date(2026, 6, 19), date(2026, 6, 19), id="in-service"),
        pytest.param(
            BT, date(2026, 7, 1), BT_CONTINUATION_END, date(2026, 6, 19), id="in-continuation"
        ),
        pytest.param(
            replace(BT, cutover_on=date(2026, 7, 10)),
            date(2026, 7, 15),
            date(2026, 7, 9),
            date(2026, 6, 19),
            id="cutover-in-continuation",
        ),
        pytest.param(
            replace(BT, cutover_on=date(2026, 4, 1)),
            date(2026, 4, 15),
            date(2026, 3, 31),
            date(2026, 3, 31),
            id="early-cutover",
        ),
        pytest.param(
            replace(BT, terminates_on=date(2026, 1, 31)),
            date(2026, 3, 1),
            date(2026, 1, 31),
            date(2026, 1, 31),
            id="terminated",
        ),
        pytest.param(JZ, date(2028, 7, 1), date(2028, 6, 3), date(2028, 6, 3), id="jz-closed"),
    ],
)
def test_effective_end_and_last_billed_day(facts, on, effective_end, billing_last):
    assert lifecycle.last_service_day(facts, on) == effective_end
    assert lifecycle.billing_last_day(facts) == billing_last


def test_continuation_deadline_on_the_official_calendar():
    deadline = lifecycle.continuation_deadline(BT)
    assert deadline == lifecycle.Deadline(BT_CONTINUATION_END, provisional=False)
    assert lifecycle.continuation_deadline(JZ) is None


def test_continuation_in_a_year_without_calendar_is_provisional():
    far = replace(BT, service_start=date(2098, 1, 1), service_end=date(2098, 12, 31))
    deadline = lifecycle.continuation_deadline(far)
    assert deadline is not None
    assert deadline.provisional
    # 30 weekdays after Wed 2098-12-31: January 1 … February 11 (6 weeks) → 2099-02-11.
    assert deadline.day == date(2099, 2, 11)
    assert state_on(far, date(2099, 2, 11)) == S.CONTINUATION


# ------------------------------------------------------------------- the reference contracts


@pytest.fixture
def reference(db) -> dict[str, Contract]:
    load_reference_contracts()
    return {c.code: c for c in Contract.objects.all()}


def test_reference_contracts_load_in_force(reference):
    for contract in reference.values():
        assert contract.activated_at is not None
        assert contract.status == S.ACTIVE


def test_bt_2025_is_closed_on_2026_12_04_and_the_daily_task_stores_it(reference):
    bt = reference["BT-2025"]
    assert lifecycle.contract_state(bt, on=date(2026, 12, 4)) == S.CLOSED
    with time_machine.travel(at(2026, 12, 4, 0, 5), tick=False):
        changed = contract_states.delay().get()
        again = contract_states.delay().get()
    assert changed == {"BT-2025": "closed"}  # JZ-2026 stays active
    assert again == {}  # idempotent
    bt.refresh_from_db()
    assert bt.status == S.CLOSED
    event = AuditEvent.objects.get(action="contract.state", object_id=str(bt.pk))
    assert (event.before, event.after) == (
        {"status": "active"},
        {"status": "closed", "on": "2026-12-04"},
    )


def test_the_stored_state_follows_each_day(reference):
    bt = reference["BT-2025"]
    seen = []
    for day in (date(2026, 3, 20), date(2026, 3, 21), date(2026, 6, 20), date(2026, 8, 1)):
        seen.append(lifecycle.contract_refresh_state(contract=bt, on=day))
    assert seen == [S.ACTIVE, S.EXPIRING, S.CONTINUATION, S.CLOSED]


# ----------------------------------------------------------------------- expiry warnings


def _party_users(contract: Contract) -> list[str]:
    emails = []
    for index, party in enumerate(contract.parties.all()):
        user = UserFactory(organization=party.organization, email=f"p{index}-{party.role}@t.test")
        emails.append(user.email)
    return emails


def test_expiry_warnings_reach_every_party_once_at_90_and_30_days(
    reference, django_capture_on_commit_callbacks
):
    bt = reference["BT-2025"]
    emails = _party_users(bt)
    with time_machine.travel(at(2026, 3, 20, 8, 15), tick=False):
        assert contract_expiry_warnings.delay().get() == []  # 91 days before: nothing yet
    with (
        time_machine.travel(at(2026, 3, 21, 8, 15), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert contract_expiry_warnings.delay().get() == ["BT-2025 −90"]
        assert contract_expiry_warnings.delay().get() == []  # once
    with time_machine.travel(at(2026, 4, 30, 8, 15), tick=False):
        assert contract_expiry_warnings.delay().get() == []
    with time_machine.travel(at(2026, 5, 20, 8, 15), tick=False):
        assert contract_expiry_warnings.delay().get() == ["BT-2025 −30"]
    with time_machine.travel(at(2026, 6, 25, 8, 15), tick=False):
        assert contract_expiry_warnings.delay().get() == []  # in continuation: none

    ninety = OutboxEmail.objects.filter(key=f"contract-expiry:{bt.pk}:90")
    assert sorted(ninety.values_list("recipient", flat=True)) == sorted(emails)
    assert OutboxEmail.objects.filter(key=f"contract-expiry:{bt.pk}:30").count() == len(emails)
    assert ContractExpiryWarning.objects.filter(contract=bt, skipped=False).count() == 2
    body = ninety.first().body
    assert "2026-06-19" in body
    assert "还有 90 天" in ninety.first().subject
    # the continuation term, its clause and the deadline on the official calendar
    assert "最多不超过 30 个工作日" in body
    assert "2026-07-31" in body
    assert "合同第 2.2 条" in body
    assert "继续提供服务最多不超过30个工作日" in body
    # the handover plan: 30 days before the end
    assert "2026-05-20" in body
    assert "交接计划" in body
    assert sorted(m.to[0] for m in mail.outbox) == sorted(emails)  # sent, once each


def test_a_contract_first_seen_within_30_days_gets_one_warning(reference):
    bt = reference["BT-2025"]
    _party_users(bt)
    with time_machine.travel(at(2026, 6, 1, 8, 15), tick=False):
        assert contract_expiry_warnings.delay().get() == ["BT-2025 −30"]
    rows = {w.days_before: w.skipped for w in ContractExpiryWarning.objects.filter(contract=bt)}
    assert rows == {90: True, 30: False}
    assert not OutboxEmail.objects.filter(key=f"contract-expiry:{bt.pk}:90").exists()


def test_jz_warning_says_it_has_no_continuation(reference):
    jz = reference["JZ-2026"]
    _party_users(jz)
    with time_machine.travel(at(2028, 3, 5, 8, 15), tick=False):
        assert "JZ-2026 −90" in contract_expiry_warnings.delay().get()
    body = OutboxEmail.objects.filter(key=f"contract-expiry:{jz.pk}:90").first().body
    assert "合同未约定期满后继续服务" in body
    assert "2028-06-04 起不再受理资源申请" in body


def test_drafts_get_no_warning(reference):
    bt = reference["BT-2025"]
    Contract.objects.filter(pk=bt.pk).update(activated_at=None)
    _party_users(bt)
    with time_machine.travel(at(2026, 5, 20, 8, 15), tick=False):
        assert contract_expiry_warnings.delay().get() == []


# ----------------------------------------------------------------------------- activation


@pytest.fixture
def draft(world):
    Contract.objects.filter(pk=world.contract.pk).update(activated_at=None, status=S.DRAFT)
    world.contract.refresh_from_db()
    return world


def test_bureau_activates_a_draft_on_the_contract_page(draft):
    bureau = draft.users["bureau"]
    url = reverse("contract_detail", args=[draft.contract.pk])
    page = verified_client(bureau).get(url).content.decode()
    assert "待生效" in page
    assert reverse("contract_activate", args=[draft.contract.pk]) in page
    response = verified_client(bureau).post(reverse("contract_activate", args=[draft.contract.pk]))
    assert response.status_code == 302
    draft.contract.refresh_from_db()
    assert draft.contract.activated_at is not None
    assert draft.contract.status != S.DRAFT
    assert AuditEvent.objects.filter(action="contract.activate", actor=bureau).exists()
    with pytest.raises(InvalidTransition):
        lifecycle.contract_activate(actor=bureau, contract=draft.contract)


@pytest.mark.parametrize("role", ["vendor", "supervisor", "department"])
def test_only_the_bureau_activates(draft, role):
    with pytest.raises(ActionForbidden):
        lifecycle.contract_activate(actor=draft.users[role], contract=draft.contract)
    response = verified_client(draft.users[role]).post(
        reverse("contract_activate", args=[draft.contract.pk]), follow=True
    )
    assert "只有本合同的甲方可以办理此操作" in response.content.decode()
    draft.contract.refresh_from_db()
    assert draft.contract.activated_at is None


def test_activation_of_a_foreign_contract_is_404(draft, foreign):
    url = reverse("contract_activate", args=[draft.contract.pk])
    assert verified_client(foreign.users["bureau"]).post(url).status_code == 404
    api_url = reverse("api_contract_activate", args=[draft.contract.pk])
    assert person_api(foreign.users["bureau"]).post(api_url).status_code == 404


def test_api_activates_and_shows_the_state(draft):
    api = person_api(draft.users["bureau"])
    detail = api.get(reverse("api_contract_detail", args=[draft.contract.pk])).json()
    assert (detail["state"], detail["status"]) == ("draft", "draft")
    response = api.post(reverse("api_contract_activate", args=[draft.contract.pk]))
    assert response.status_code == 200
    assert response.json()["state"] in ("active", "expiring")
    again = api.post(reverse("api_contract_activate", args=[draft.contract.pk]))
    assert again.status_code == 409


# ------------------------------------------------------------------------- portal and API


def test_contract_page_and_api_show_the_life_cycle_of_bt_2025(reference):
    bt = reference["BT-2025"]
    user = UserFactory(organization=bt.bureau)
    make_totp(user)
    with time_machine.travel(at(2026, 7, 1, 10), tick=False):
        page = verified_client(user).get(reverse("contract_detail", args=[bt.pk])).content
        data = person_api(user).get(reverse("api_contract_detail", args=[bt.pk])).json()
        listed = verified_client(user).get(reverse("contract_list") + "?state=continuation")
    html = page.decode()
    assert "期满继续服务" in html
    assert "最迟至 2026-07-31" in html
    assert "2026-05-20 前提交甲方审核" in html
    assert data["state"] == "continuation"
    assert data["effective_end"] == "2026-07-31"
    assert data["billing_last_day"] == "2026-06-19"
    assert data["continuation_deadline"] == "2026-07-31"
    assert data["successor"] is None
    assert "BT-2025" in listed.content.decode()
    assert "JZ-2026" not in listed.content.decode()


def test_contract_api_list_has_constant_queries(reference, django_assert_max_num_queries):
    bt = reference["BT-2025"]
    user = UserFactory(organization=bt.bureau)
    make_totp(user)
    api = person_api(user)
    with django_assert_max_num_queries(12):
        response = api.get(reverse("api_contract_list"))
    assert response.status_code == 200
    assert {c["code"]: c["state"] for c in response.json()["results"]}["BT-2025"] in (
        "active",
        "expiring",
        "continuation",
        "closed",
    )


def test_expiry_warning_threshold_dates():
    assert date(2026, 6, 19) - timedelta(days=90) == date(2026, 3, 21)
    assert date(2026, 6, 19) - timedelta(days=30) == date(2026, 5, 20)
