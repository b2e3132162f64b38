"""The admin site as a matrix: every registered model × each admin role × own/foreign object.

Who sees which model is the separation of duties (三员分立, DESIGN §1) written out below; what
they see of it is their own bureau (its departments and contracts), or their own party — never
another's: a foreign object answers 404 on its change page, as a missing one does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from govcloud.admin_mixins import ScopedAdmin
from govcloud.invitations import invitation_create
from govcloud.models import (
    AuditEvent,
    CalendarYear,
    OrganizationKind,
    OutboxEmail,
    Role,
    User,
)
from tests.conftest import World, verified_client
from tests.factories import OrganizationFactory, UserFactory, make_totp
from tests.requests_app.factories import delivered_ticket, vcpu_item

pytestmark = pytest.mark.django_db

USERS = "govcloud.user"
LOCKOUTS = {"axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}
CONTRACT_DATA = {
    "govcloud.organization",
    "govcloud.contract",
    "billing.catalogitem",
    "govcloud.businesssystem",
    "govcloud.calendaryear",
    "sla.rightsizingpolicy",
}
BUSINESS_RECORDS = {
    "govcloud.outboxemail",
    "govcloud.job",
    "billing.statement",
    "billing.statementline",
    "billing.resource",
    "billing.deduction",
    "billing.inventorycorrection",
    "billing.payment",
    "billing.statementdocument",
    "requests_app.resourcerequest",
    "sla.outage",
    "sla.securityincident",
    "sla.securitymechanismitem",
    "sla.trainingplan",
    "sla.trainingsession",
    "sla.deliverable",
    "sla.satisfactionsurvey",
    "sla.improvementnotice",
    "sla.penalty",
    "sla.emergencyperiod",
    "sla.rightsizingreport",
    "sla.utilizationsample",
    "sla.scorecard",
    "sla.exitrecord",
    "sla.staffaccessentry",
    "sla.maintenancenoticeshortfall",
    "billing.systemtestperiod",
    "govcloud.jointconfirmation",
    "billing.invoice",
    "billing.fundsarrival",
}

# role -> (models it sees, models it may add). Anything else: no module, 403.
DUTIES: dict[str, tuple[set[str], set[str]]] = {
    "security_admin": (
        {USERS, "govcloud.invitation", "govcloud.apitoken", *LOCKOUTS},
        {USERS, "govcloud.invitation", "govcloud.apitoken"},
    ),
    "audit_admin": ({"govcloud.auditevent"}, set()),
    "system_admin": (
        set(CONTRACT_DATA),
        {
            "govcloud.organization",
            "govcloud.contract",
            "billing.catalogitem",
            "govcloud.businesssystem",
            "sla.rightsizingpolicy",
        },
    ),
    "user_admin": ({USERS, "govcloud.apitoken", *LOCKOUTS}, {USERS, "govcloud.apitoken"}),
    # The shared official calendar is the platform operator's alone (bureaus read it).
    "platform_operator": (
        {"govcloud.organization", "govcloud.invitation", "govcloud.calendaryear"},
        {"govcloud.organization", "govcloud.invitation", "govcloud.calendaryear"},
    ),
    "bureau": (CONTRACT_DATA | BUSINESS_RECORDS, set()),
}
ROLES = sorted(DUTIES)

# Admin classes owned by other work that scope themselves without the mixin (see the report):
# the audit trail (audit_events_for_user) and API tokens (administered_users).
SCOPED_OTHERWISE = {"govcloud.auditevent", "govcloud.apitoken"}


def test_every_admin_is_scoped():
    unscoped = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, ScopedAdmin)
        and model._meta.label_lower not in SCOPED_OTHERWISE
    ]
    assert not unscoped, f"admin classes without ScopedAdmin: {unscoped}"


@dataclass
class Tenant:
    world: World
    objects: dict[str, object]


def _sign_in_records(username: str) -> dict[str, object]:
    common = {"username": username, "ip_address": "10.1.2.3", "user_agent": "t", "http_accept": ""}
    return {
        "axes.accessattempt": AccessAttempt.objects.create(
            **common,
            path_info="/accounts/login/",
            get_data="",
            post_data="",
            failures_since_start=5,
        ),
        "axes.accesslog": AccessLog.objects.create(**common, path_info="/accounts/login/"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            **common, path_info="/accounts/login/"
        ),
    }


def _objects(world: World) -> dict[str, object]:
    """One object of (nearly) every admin model, belonging to ``world``'s bureau."""
    from sla.models import RightsizingPolicy

    ticket = delivered_ticket(world)
    department_user = world.users["department"]
    return {
        "govcloud.organization": world.orgs["department"],
        USERS: department_user,
        "govcloud.contract": world.contract,
        "govcloud.businesssystem": ticket.system,
        "govcloud.outboxemail": OutboxEmail.objects.create(
            key=f"t:{world.contract.pk}",
            recipient="x@example.test",
            subject="s",
            body="b",
            contract=world.contract,
        ),
        "govcloud.auditevent": AuditEvent.objects.create(
            action="x.test", actor_repr="t", contract=world.contract
        ),
        "billing.catalogitem": vcpu_item(world.contract),
        "billing.resource": ticket.lines.get().delivered_resource,
        "requests_app.resourcerequest": ticket,
        "sla.rightsizingpolicy": RightsizingPolicy.objects.get_or_create(contract=world.contract)[
            0
        ],
        "otp_totp.totpdevice": world.users["bureau"].totpdevice_set.get(),
        **_sign_in_records(department_user.username),
    }


def _party_users(world: World) -> dict[str, User]:
    user_admin = UserFactory(organization=world.orgs["vendor"], role=Role.USER_ADMIN)
    platform = OrganizationFactory(kind=OrganizationKind.PLATFORM)
    operator = UserFactory(organization=platform, role=Role.PLATFORM_OPERATOR)
    for user in (user_admin, operator):
        make_totp(user)
    return {"user_admin": user_admin, "platform_operator": operator}


def _own_objects(role: str, world: World, base: dict[str, object], users) -> dict[str, object]:
    """What is "own" depends on whose administrator one is."""
    objects = dict(base)
    if role == "user_admin":
        vendor_staff = world.users["vendor"]
        objects[USERS] = vendor_staff
        objects.update(_sign_in_records(vendor_staff.username))
    if role == "platform_operator":
        objects["govcloud.organization"] = world.orgs["supervisor"]
    return objects


@pytest.fixture
def tenants(world, foreign):
    return Tenant(world, _objects(world)), Tenant(foreign, _objects(foreign))


def _url(model, name: str, *args) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)
    except NoReverseMatch:
        return None


@pytest.mark.parametrize("role", ROLES)
def test_admin_matrix(role, tenants):
    own_tenant, foreign_tenant = tenants
    world = own_tenant.world
    users = _party_users(world)
    user = users.get(role) or world.users[role]
    sees, adds = DUTIES[role]
    own = _own_objects(role, world, own_tenant.objects, users)
    if role == "security_admin" or role == "platform_operator":
        own["govcloud.invitation"], _token = invitation_create(
            actor=user,
            organization=world.orgs["supervisor"],
            username=f"inv-{role}",
            email="inv@example.test",
        )
    foreign_security = foreign_tenant.world.users["security_admin"]
    foreign_objects = dict(foreign_tenant.objects)
    foreign_objects["govcloud.invitation"], _token = invitation_create(
        actor=foreign_security,
        organization=foreign_tenant.world.orgs["supervisor"],
        username=f"inv-foreign-{role}",
        email="inv2@example.test",
    )
    if role == "platform_operator":
        # Every party organisation is the operator's; a bureau's department never is.
        foreign_objects["govcloud.organization"] = foreign_tenant.world.orgs["department"]
    client = verified_client(user)
    request = RequestFactory().get("/admin/")
    request.user = user

    problems = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        sees_it = label in sees
        changelist = client.get(_url(model, "changelist"))
        if changelist.status_code != (200 if sees_it else 403):
            problems.append(f"{label}: changelist {changelist.status_code}")
        if model_admin.has_add_permission(request) != (label in adds):
            problems.append(f"{label}: add permission, expected {label in adds}")
        if sees_it and changelist.status_code == 200:
            page = changelist.content.decode()
            if label in foreign_objects and label != "govcloud.calendaryear":
                change = _url(model, "change", foreign_objects[label].pk)
                if change and f'href="{change}"' in page:
                    problems.append(f"{label}: foreign object listed")
        for whose, objects in (("own", own), ("foreign", foreign_objects)):
            obj = objects.get(label)
            if obj is None:
                continue
            url = _url(model, "change", obj.pk)
            if url is None:
                continue
            status = client.get(url).status_code
            if sees_it:
                expected = {200} if whose == "own" else {404}
            else:
                expected = {403, 404}
            if status not in expected:
                problems.append(f"{label}: {whose} change page {status}, expected {expected}")
    assert not problems, "\n".join(problems)


def test_the_shared_calendar_is_the_same_for_every_bureau(world, foreign):
    year = CalendarYear.objects.order_by("year").first()
    for tenant in (world, foreign):
        client = verified_client(tenant.users["bureau"])
        url = reverse("admin:govcloud_calendaryear_change", args=[year.pk])
        assert client.get(url).status_code == 200


def test_admin_index_lists_only_the_roles_models(world):
    page = verified_client(world.users["audit_admin"]).get(reverse("admin:index"))
    body = page.content.decode()
    assert reverse("admin:govcloud_auditevent_changelist") in body
    for name in ("govcloud_user", "billing_statement", "billing_payment", "govcloud_contract"):
        assert reverse(f"admin:{name}_changelist") not in body
