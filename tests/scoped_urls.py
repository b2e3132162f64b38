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
    "api_contract_detail": ScopedUrl(lambda w: {"pk": w.contract.pk}),
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
