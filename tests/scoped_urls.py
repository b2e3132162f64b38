"""Every URL that names an object, with how to build it and who may see it.

``tests/govcloud/test_scoping.py`` walks the URLconf: a route with a path parameter that is
missing here fails the suite, so no view can be added without its cross-tenant matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ALL_ROLES = frozenset(
    {
        "bureau",
        "vendor",
        "supervisor",
        "auditor",
        "department",
        "security_admin",
        "audit_admin",
        "system_admin",
    }
)


@dataclass(frozen=True)
class ScopedUrl:
    build: Callable[[object], dict[str, object]]  # world -> URL kwargs
    visible_to: frozenset[str] = ALL_ROLES
    method: str = "get"


SCOPED_URLS: dict[str, ScopedUrl] = {
    "contract_detail": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    "contract_terms": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    "api_contract_detail": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    "api_contract_terms": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    "api_contract_catalog": ScopedUrl(lambda w: {"pk": w.contract.pk}),
    # A delivered ticket is visible to every role of its tenant (the vendor only sees approved
    # and delivered ones).
    "api_request_detail": ScopedUrl(lambda w: {"pk": _delivered_ticket(w).pk}),
    "api_resource_detail": ScopedUrl(
        lambda w: {"pk": _delivered_ticket(w).lines.get().delivered_resource_id}
    ),
}


# Portal pages of tickets. Admin-role users (security/audit/system admin) belong to the bureau
# and the selectors let them read what the bureau reads, so they get 200 like the API; they get
# no menu entries, home cards or actions, and every service refuses them (三员分立).
SCOPED_URLS.update(
    {
        # An approved ticket is visible to every role of its tenant, the vendor included.
        "request_detail": ScopedUrl(lambda w: {"pk": _approved_ticket(w).pk}),
        # Drafts are the department's own: the parties of its tenant don't see them either.
        "request_edit": ScopedUrl(
            lambda w: {"pk": _draft_ticket(w).pk}, visible_to=frozenset({"department"})
        ),
        "request_attachment": ScopedUrl(lambda w: _attachment_kwargs(w)),
        "resource_detail": ScopedUrl(
            lambda w: {"pk": _delivered_ticket(w).lines.get().delivered_resource_id}
        ),
        # Actions are POST only: in the own tenant they answer (a redirect with the service's
        # refusal or success), never 404; the foreign tenant gets 404.
        "request_extension_decide": ScopedUrl(lambda w: _extension_kwargs(w), method="post"),
        "request_receipt": ScopedUrl(lambda w: {"pk": _delivered_ticket(w).pk}, method="post"),
        "request_receipt_problem": ScopedUrl(
            lambda w: {"pk": _delivered_ticket(w).pk}, method="post"
        ),
        "request_delivery_claim_revise": ScopedUrl(
            lambda w: {"pk": _delivered_ticket(w).pk}, method="post"
        ),
        **{
            f"request_{action}": ScopedUrl(lambda w: {"pk": _approved_ticket(w).pk}, method="post")
            for action in (
                "submit",
                "cancel",
                "approve",
                "return",
                "reject",
                "extension",
                "deliver",
                "exempt",
            )
        },
    }
)

# SLA pages (sla/urls.py, sla/api_urls.py). Records are the contract parties' business: the
# department sees only surveys, its own advice and utilization; the three administrators see
# nothing of the SLA (三员分立), so they are not in these entries.
SLA_PARTIES = frozenset({"bureau", "vendor", "supervisor", "auditor"})
SLA_BUSINESS = SLA_PARTIES | {"department"}


def _sla(name: str):
    """A builder from tests/sla/builders.py, imported when the matrix runs."""

    def build(world):
        from tests.sla import builders

        return getattr(builders, name)(world)

    return build


def _contract_kwargs(world):
    return {"contract_pk": world.contract.pk}


def _pk(builder: str, attr: str | None = None):
    def build(world):
        obj = _sla(builder)(world)
        return {"pk": getattr(obj, attr).pk if attr else obj.pk}

    return build


def _report_kwargs(index: int):
    return lambda w: {"pk": _sla("submitted_report")(w)[index].pk}


SCOPED_URLS.update(
    {
        "sla_contract": ScopedUrl(_contract_kwargs, visible_to=SLA_BUSINESS),
        "sla_scorecard": ScopedUrl(
            lambda w: {"contract_pk": w.contract.pk, "year": w.contract.service_start.year},
            visible_to=SLA_PARTIES,
        ),
        "sla_scorecard_pdf": ScopedUrl(
            lambda w: {
                "contract_pk": w.contract.pk,
                "year": _sla("scorecard_with_pdf")(w).service_year,
            },
            visible_to=SLA_PARTIES,
        ),
        **{
            f"sla_{name}_list": ScopedUrl(_contract_kwargs, visible_to=SLA_PARTIES)
            for name in (
                "outage",
                "incident",
                "security",
                "training",
                "deliverable",
                "notice",
                "penalty",
                "emergency",
            )
        },
        "sla_survey_list": ScopedUrl(_contract_kwargs, visible_to=SLA_BUSINESS),
        "sla_utilization": ScopedUrl(_contract_kwargs, visible_to=SLA_BUSINESS),
        "sla_report_list": ScopedUrl(_contract_kwargs, visible_to=SLA_BUSINESS),
        "sla_outage_create": ScopedUrl(_contract_kwargs, visible_to=frozenset({"vendor"})),
        "sla_metrics_upload": ScopedUrl(_contract_kwargs, visible_to=frozenset({"vendor"})),
        "sla_incident_create": ScopedUrl(
            _contract_kwargs, visible_to=frozenset({"vendor", "bureau", "supervisor"})
        ),
        "sla_deliverable_create": ScopedUrl(
            _contract_kwargs, visible_to=frozenset({"vendor", "bureau"})
        ),
        "sla_survey_create": ScopedUrl(
            _contract_kwargs, visible_to=frozenset({"bureau", "auditor"})
        ),
        "sla_notice_create": ScopedUrl(
            _contract_kwargs, visible_to=frozenset({"bureau", "supervisor", "auditor"})
        ),
        "sla_penalty_create": ScopedUrl(_contract_kwargs, visible_to=frozenset({"supervisor"})),
        "sla_outage_detail": ScopedUrl(_pk("outage"), visible_to=SLA_PARTIES),
        "sla_outage_edit": ScopedUrl(_pk("outage"), visible_to=frozenset({"vendor"})),
        "sla_incident_detail": ScopedUrl(_pk("incident"), visible_to=SLA_PARTIES),
        "sla_incident_evidence": ScopedUrl(_pk("incident"), visible_to=SLA_PARTIES),
        "sla_security_evidence": ScopedUrl(_pk("security_item"), visible_to=SLA_PARTIES),
        "sla_training_plan_file": ScopedUrl(_pk("training_plan"), visible_to=SLA_PARTIES),
        "sla_training_session_file": ScopedUrl(_pk("training_session"), visible_to=SLA_PARTIES),
        "sla_deliverable_detail": ScopedUrl(_pk("deliverable"), visible_to=SLA_PARTIES),
        "sla_deliverable_file": ScopedUrl(
            lambda w: {"pk": _sla("deliverable")(w).submissions.get().pk},
            visible_to=SLA_PARTIES,
        ),
        "sla_survey_detail": ScopedUrl(_pk("survey"), visible_to=SLA_BUSINESS),
        "sla_notice_detail": ScopedUrl(_pk("notice"), visible_to=SLA_PARTIES),
        "sla_notice_file": ScopedUrl(_pk("notice"), visible_to=SLA_PARTIES),
        "sla_penalty_detail": ScopedUrl(_pk("penalty"), visible_to=SLA_PARTIES),
        "sla_report_detail": ScopedUrl(_report_kwargs(0), visible_to=SLA_BUSINESS),
        "sla_report_pdf": ScopedUrl(_report_kwargs(0), visible_to=SLA_PARTIES),
        "sla_advice_detail": ScopedUrl(_report_kwargs(1), visible_to=SLA_BUSINESS),
        "api_sla_outage_detail": ScopedUrl(_pk("outage"), visible_to=SLA_PARTIES),
        "api_sla_incident_detail": ScopedUrl(_pk("incident"), visible_to=SLA_PARTIES),
        "api_sla_security_detail": ScopedUrl(_pk("security_item"), visible_to=SLA_PARTIES),
        "api_sla_training_detail": ScopedUrl(_pk("training_session"), visible_to=SLA_PARTIES),
        "api_sla_deliverable_detail": ScopedUrl(_pk("deliverable"), visible_to=SLA_PARTIES),
        "api_sla_notice_detail": ScopedUrl(_pk("notice"), visible_to=SLA_PARTIES),
        "api_sla_penalty_detail": ScopedUrl(_pk("penalty"), visible_to=SLA_PARTIES),
        "api_sla_survey_detail": ScopedUrl(_pk("survey"), visible_to=SLA_BUSINESS),
        "api_sla_report_detail": ScopedUrl(_report_kwargs(0), visible_to=SLA_BUSINESS),
        "api_sla_advice_detail": ScopedUrl(_report_kwargs(1), visible_to=SLA_BUSINESS),
        "api_sla_scorecard": ScopedUrl(
            lambda w: {"contract_pk": w.contract.pk, "year": w.contract.service_start.year},
            visible_to=SLA_PARTIES,
        ),
    }
)

# Billing (billing/urls.py, billing/api_urls.py). Statements are the contract parties'; a
# department sees only its own bills; the three administrators see nothing of billing
# (三员分立: 404), so they are not in these entries (tests/billing/test_views.py covers them).
BILLING_PARTIES = frozenset({"bureau", "vendor", "supervisor", "auditor"})
BILL_READERS = BILLING_PARTIES | {"department"}


def _billing(builder: str):
    """A builder from tests/billing/test_views.py, imported when the matrix runs."""

    def build(world):
        from tests.billing import test_views

        return {"pk": getattr(test_views, builder)(world).pk}

    return build


def _contract_pk(world):
    return {"pk": world.contract.pk}


def _statement_diff_kwargs(world):
    from tests.billing.test_views import two_versions

    v1, v2 = two_versions(world)
    return {"pk": v1.pk, "other_pk": v2.pk}


def _own_bill(with_pdf: bool = False):
    def build(world):
        from tests.billing import test_views

        bill = test_views.bill_with_pdf(world) if with_pdf else test_views.own_bill(world)
        return {"pk": bill.pk}

    return build


SCOPED_URLS.update(
    {
        "statement_detail": ScopedUrl(_billing("signed_statement"), visible_to=BILLING_PARTIES),
        "statement_pdf": ScopedUrl(_billing("statement_with_pdf"), visible_to=BILLING_PARTIES),
        "statement_diff": ScopedUrl(_statement_diff_kwargs, visible_to=BILLING_PARTIES),
        # Actions are POST only: in the own tenant they answer (a redirect with the service's
        # refusal or success), never 404; the foreign tenant gets 404.
        **{
            f"statement_{action}": ScopedUrl(
                _billing("submitted_statement"), visible_to=BILLING_PARTIES, method="post"
            )
            for action in (
                "submit",
                "confirm",
                "dispute",
                "comment",
                "decide",
                "regenerate",
                "supersede",
            )
        },
        "bill_detail": ScopedUrl(_own_bill(), visible_to=BILL_READERS),
        "bill_pdf": ScopedUrl(_own_bill(with_pdf=True), visible_to=BILL_READERS),
        "contract_dashboard": ScopedUrl(_contract_pk, visible_to=BILLING_PARTIES),
        "contract_deduction_create": ScopedUrl(
            _contract_pk, visible_to=BILLING_PARTIES, method="post"
        ),
        "contract_payment_record": ScopedUrl(
            _contract_pk, visible_to=BILLING_PARTIES, method="post"
        ),
        "api_statement_detail": ScopedUrl(_billing("signed_statement"), visible_to=BILLING_PARTIES),
        "api_statement_lines": ScopedUrl(_billing("signed_statement"), visible_to=BILLING_PARTIES),
        **{
            f"api_statement_{action}": ScopedUrl(
                _billing("submitted_statement"), visible_to=BILLING_PARTIES, method="post"
            )
            for action in ("submit", "confirm", "dispute", "comment", "decide", "supersede")
        },
        "api_bill_detail": ScopedUrl(_own_bill(), visible_to=BILL_READERS),
        "api_bill_lines": ScopedUrl(_own_bill(), visible_to=BILL_READERS),
    }
)


# Routes with parameters that are not tenant objects (admin has its own matrix test).
EXEMPT_PREFIXES = ("admin:", "i18n")


def _delivered_ticket(world):
    from tests.requests_app.factories import delivered_ticket

    return delivered_ticket(world)


def _approved_ticket(world):
    from tests.requests_app.factories import approved_ticket

    return approved_ticket(world)


def _draft_ticket(world):
    from requests_app import services
    from tests.requests_app.factories import vcpu_item

    return services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="草稿",
        system_name="草稿系统",
        lines=[services.LineInput(catalog_item_id=vcpu_item(world.contract).pk, quantity=2)],
    )


def _attachment_kwargs(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app import services
    from tests.requests_app.factories import vcpu_item

    ticket = services.request_create(
        actor=world.users["department"],
        contract=world.contract,
        kind="new",
        reason="附件",
        system_name="附件系统",
        lines=[services.LineInput(catalog_item_id=vcpu_item(world.contract).pk, quantity=2)],
        attachments=[SimpleUploadedFile("方案.txt", "建设方案".encode())],
        submit=True,
    )
    for role in ("bureau", "supervisor"):
        ticket = services.request_approve(actor=world.users[role], ticket=ticket)
    return {"pk": ticket.pk, "att_pk": ticket.attachments.get().pk}


def _extension_kwargs(world):
    from datetime import timedelta

    from django.utils import timezone

    from requests_app import services

    ticket = _approved_ticket(world)
    extension = services.extension_request(
        actor=world.users["vendor"],
        ticket=ticket,
        reason="设备到货延迟",
        expected_completion=timezone.now() + timedelta(hours=1),
    )
    return {"pk": ticket.pk, "ext_pk": extension.pk}


# The SLA's one-URL-per-action POSTs. Imported last, not with the imports above: the entries
# are built from this module's helpers (SLA_PARTIES, _pk, …), which must exist first.
from tests.sla.scoped_actions import SLA_ACTION_URLS  # noqa: E402

SCOPED_URLS.update(SLA_ACTION_URLS)


# Separation of duties (三员分立): the security, audit and system administrators see nothing of
# contracts, tickets or resources in the portal. Their object pages answer 404 (as if missing)
# and the actions 403 (refused before any look-up), in their own tenant as in another:
# tests/govcloud/test_scoping.py::test_administrators_see_no_business.
PORTAL_ADMIN_ROLES = frozenset({"security_admin", "audit_admin", "system_admin"})


def _test_period(world):
    from tests.billing.test_test_period import running_test_period

    return {"pk": running_test_period(world).pk}


BUREAU_ONLY = frozenset({"bureau"})
SCOPED_URLS.update(
    {
        "contract_test_periods": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY),
        "test_period_end_early": ScopedUrl(_test_period, visible_to=BUREAU_ONLY, method="post"),
        "test_period_extend": ScopedUrl(_test_period, visible_to=BUREAU_ONLY, method="post"),
        "api_contract_test_periods": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY),
        "api_test_period_detail": ScopedUrl(_test_period, visible_to=BUREAU_ONLY),
        "api_test_period_end_early": ScopedUrl(_test_period, visible_to=BUREAU_ONLY, method="post"),
        "api_test_period_extend": ScopedUrl(_test_period, visible_to=BUREAU_ONLY, method="post"),
    }
)


def _joint(w):
    from govcloud.joint import joint_open

    w.contract.joint_confirmations = {"improvement_report": ["bureau", "supervisor", "auditor"]}
    w.contract.save(update_fields=["joint_confirmations"])
    confirmation = joint_open(
        actor=w.users["bureau"],
        contract=w.contract,
        subject="improvement_report",
        obj=w.orgs["department"],
        title="t",
    )
    return {"pk": confirmation.pk}


JOINT_PARTIES = frozenset({"bureau", "vendor", "supervisor", "auditor"})
SCOPED_URLS.update(
    {
        "joint_detail": ScopedUrl(_joint, visible_to=JOINT_PARTIES),
        "joint_decide": ScopedUrl(_joint, visible_to=JOINT_PARTIES, method="post"),
        "api_joint_detail": ScopedUrl(_joint, visible_to=JOINT_PARTIES),
        "api_joint_confirm": ScopedUrl(_joint, visible_to=JOINT_PARTIES, method="post"),
        "api_joint_object": ScopedUrl(_joint, visible_to=JOINT_PARTIES, method="post"),
    }
)


SCOPED_URLS.update(
    {
        "deduction_notice_pdf": ScopedUrl(
            _billing("pending_deduction"), visible_to=BILLING_PARTIES
        ),
        "deduction_action": ScopedUrl(
            lambda w: {**_billing("pending_deduction")(w), "action": "acknowledge"},
            visible_to=BILLING_PARTIES,
            method="post",
        ),
        "invoice_action": ScopedUrl(
            lambda w: {**_billing("registered_invoice")(w), "action": "confirm"},
            visible_to=BILLING_PARTIES,
            method="post",
        ),
        "contract_invoice_register": ScopedUrl(
            _contract_pk, visible_to=BILLING_PARTIES, method="post"
        ),
        "contract_funds_arrival": ScopedUrl(
            _contract_pk, visible_to=BILLING_PARTIES, method="post"
        ),
        "api_contract_settlement": ScopedUrl(_contract_pk, visible_to=BILLING_PARTIES),
        **{
            f"api_contract_{name}": ScopedUrl(
                _contract_pk, visible_to=BILLING_PARTIES, method="post"
            )
            for name in ("payments", "deductions", "invoices", "funds_arrivals")
        },
        "api_deduction_action": ScopedUrl(
            lambda w: {**_billing("pending_deduction")(w), "action": "object"},
            visible_to=BILLING_PARTIES,
            method="post",
        ),
        "api_invoice_action": ScopedUrl(
            lambda w: {**_billing("registered_invoice")(w), "action": "confirm"},
            visible_to=BILLING_PARTIES,
            method="post",
        ),
    }
)


# The contract's exit (issue 12 item 7): register of staff with access, handover plan, data
# return and deletion records (tests/sla/exit_builders.py builds them through the services).
from tests.sla import exit_builders  # noqa: E402


def _exit_pk(builder: str) -> Callable[[object], dict[str, object]]:
    def build(world):
        exit_builders.bt_terms(world)
        return {"pk": getattr(exit_builders, builder)(world).pk}

    return build


def _exit_contract(world):
    exit_builders.bt_terms(world)
    return {"contract_pk": world.contract.pk}


VENDOR_ONLY = frozenset({"vendor"})
SCOPED_URLS.update(
    {
        "sla_exit": ScopedUrl(_exit_contract, visible_to=SLA_PARTIES),
        "sla_exit_handover_plan": ScopedUrl(_exit_contract, visible_to=SLA_PARTIES, method="post"),
        "sla_exit_staff_list": ScopedUrl(_exit_contract, visible_to=SLA_PARTIES),
        "sla_exit_staff_create": ScopedUrl(_exit_contract, visible_to=VENDOR_ONLY),
        "sla_exit_staff_submit": ScopedUrl(_exit_contract, visible_to=SLA_PARTIES, method="post"),
        "sla_exit_staff_edit": ScopedUrl(_exit_pk("staff_entry"), visible_to=VENDOR_ONLY),
        "sla_exit_staff_end": ScopedUrl(
            _exit_pk("staff_entry"), visible_to=SLA_PARTIES, method="post"
        ),
        "sla_exit_staff_file": ScopedUrl(_exit_pk("staff_entry"), visible_to=SLA_PARTIES),
        "sla_exit_record_create": ScopedUrl(_exit_contract, visible_to=VENDOR_ONLY),
        "sla_exit_record_detail": ScopedUrl(_exit_pk("signed_record"), visible_to=SLA_BUSINESS),
        "sla_exit_record_edit": ScopedUrl(_exit_pk("draft_record"), visible_to=VENDOR_ONLY),
        "sla_exit_record_sign": ScopedUrl(
            _exit_pk("draft_record"), visible_to=SLA_PARTIES, method="post"
        ),
        "sla_exit_record_confirm": ScopedUrl(
            _exit_pk("signed_record"), visible_to=SLA_PARTIES, method="post"
        ),
        "sla_exit_record_object": ScopedUrl(
            _exit_pk("signed_record"), visible_to=SLA_PARTIES, method="post"
        ),
        "sla_exit_record_certificate": ScopedUrl(
            _exit_pk("signed_record"), visible_to=SLA_BUSINESS
        ),
        "api_sla_exit_staff_detail": ScopedUrl(_exit_pk("staff_entry"), visible_to=SLA_PARTIES),
        "api_sla_exit_record_detail": ScopedUrl(_exit_pk("signed_record"), visible_to=SLA_BUSINESS),
    }
)


# Inventory corrections (issue 12 item 6): the contract's parties; bureau and vendor propose.
from tests.billing.test_inventory_corrections import world_correction  # noqa: E402


def _correction_evidence(world):
    correction = world_correction(world)
    return {"pk": correction.pk, "file_pk": correction.evidence.get().pk}


CORRECTION_PARTIES = frozenset({"bureau", "vendor", "supervisor", "auditor"})
SCOPED_URLS.update(
    {
        "contract_inventory_corrections": ScopedUrl(_contract_pk, visible_to=CORRECTION_PARTIES),
        "inventory_correction_create": ScopedUrl(
            lambda w: {"pk": world_correction(w).resource_id},
            visible_to=frozenset({"bureau", "vendor"}),
        ),
        "inventory_correction_detail": ScopedUrl(
            lambda w: {"pk": world_correction(w).pk}, visible_to=CORRECTION_PARTIES
        ),
        "inventory_correction_withdraw": ScopedUrl(
            lambda w: {"pk": world_correction(w).pk}, visible_to=CORRECTION_PARTIES, method="post"
        ),
        "inventory_correction_evidence": ScopedUrl(
            _correction_evidence, visible_to=CORRECTION_PARTIES
        ),
        "api_contract_inventory_corrections": ScopedUrl(
            _contract_pk, visible_to=CORRECTION_PARTIES
        ),
        "api_inventory_correction_detail": ScopedUrl(
            lambda w: {"pk": world_correction(w).pk}, visible_to=CORRECTION_PARTIES
        ),
        "api_inventory_correction_withdraw": ScopedUrl(
            lambda w: {"pk": world_correction(w).pk}, visible_to=CORRECTION_PARTIES, method="post"
        ),
    }
)


# The contract's life-cycle (issue 12 item 7): the bureau activates, cuts over, terminates.
SCOPED_URLS.update(
    {
        "contract_activate": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY, method="post"),
        "contract_cutover": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY),
        "contract_terminate": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY),
        "api_contract_activate": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY, method="post"),
        "api_contract_cutover": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY, method="post"),
        "api_contract_terminate": ScopedUrl(_contract_pk, visible_to=BUREAU_ONLY, method="post"),
    }
)


ADMIN_REFUSED: dict[str, int] = {}
for _name in (
    "contract_detail",
    "contract_terms",
    "contract_activate",
    "contract_cutover",
    "contract_terminate",
    "joint_detail",
    "joint_decide",
    "request_detail",
    "request_attachment",
    "resource_detail",
    "request_extension_decide",
    "request_receipt",
    "request_receipt_problem",
    "request_delivery_claim_revise",
    *(
        f"request_{action}"
        for action in (
            "submit",
            "cancel",
            "approve",
            "return",
            "reject",
            "extension",
            "deliver",
            "exempt",
        )
    ),
):
    _spec = SCOPED_URLS[_name]
    SCOPED_URLS[_name] = ScopedUrl(
        _spec.build, visible_to=_spec.visible_to - PORTAL_ADMIN_ROLES, method=_spec.method
    )
    ADMIN_REFUSED[_name] = 404 if _spec.method == "get" else 403

# The API is contract business too: administrators are refused (403) before any look-up
# (``govcloud.api_auth.BusinessReaderPermission``), in their own tenant as in another.
for _name, _spec in list(SCOPED_URLS.items()):
    if _name.startswith("api_") and _spec.visible_to & PORTAL_ADMIN_ROLES:
        SCOPED_URLS[_name] = ScopedUrl(
            _spec.build, visible_to=_spec.visible_to - PORTAL_ADMIN_ROLES, method=_spec.method
        )
        ADMIN_REFUSED[_name] = 403

# The invitation link's parameter is a one-time secret, not a tenant object
# (tests/govcloud/test_invitations.py covers it).
EXEMPT_PREFIXES = (*EXEMPT_PREFIXES, "invitation_accept")
