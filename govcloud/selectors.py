"""Reads scoped to the acting user: the one place tenancy is enforced.

Every portal view and API endpoint fetches through these functions (or an app's selectors
built on them). Missing and foreign objects both give 404, so existence never leaks.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from govcloud.models import (
    ADMIN_ROLES,
    USER_ADMIN_KINDS,
    AuditEvent,
    Contract,
    ContractParty,
    Organization,
    OrganizationKind,
    PartyRole,
    Role,
    User,
)

M = TypeVar("M", bound=Model)


def get_or_404(queryset: QuerySet[M], **lookup: object) -> M:
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("对象不存在或无权访问。") from None


def contract_scope_q(user: User, prefix: str = "") -> Q:
    """A Q over contracts (reached through ``prefix``) that ``user`` may see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    if user.organization_id is None:
        return Q(pk__in=[])
    kind = user.organization.kind
    if kind == OrganizationKind.DEPARTMENT:
        bureau_id = user.organization.parent_id
        return Q(
            **{
                f"{prefix}parties__role": PartyRole.BUREAU,
                f"{prefix}parties__organization_id": bureau_id,
            }
        )
    return Q(**{f"{prefix}parties__organization_id": user.organization_id})


def contract_ids_for_user(user: User) -> QuerySet:
    return Contract.objects.filter(contract_scope_q(user)).values("pk")


def contract_list_for_user(*, user: User) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(pk__in=contract_ids_for_user(user))
        .prefetch_related("parties__organization")
        .order_by("-service_start", "code")
    )


def contract_get_for_user(*, user: User, pk: object) -> Contract:
    return get_or_404(contract_list_for_user(user=user), pk=pk)


def organizations_for_user(*, user: User) -> QuerySet[Organization]:
    """Organisations the user may see: its own, its departments, its contracts' parties."""
    if user.is_superuser:
        return Organization.objects.all()
    if user.organization_id is None:
        return Organization.objects.none()
    org = user.organization
    if org.kind == OrganizationKind.DEPARTMENT:
        return Organization.objects.filter(pk=org.pk)
    contract_ids = contract_ids_for_user(user)
    party_orgs = ContractParty.objects.filter(contract_id__in=contract_ids).values(
        "organization_id"
    )
    q = Q(pk=org.pk) | Q(pk__in=party_orgs)
    if org.kind == OrganizationKind.BUREAU:
        q |= Q(parent_id=org.pk)
    else:
        bureaus = ContractParty.objects.filter(
            contract_id__in=contract_ids, role=PartyRole.BUREAU
        ).values("organization_id")
        q |= Q(parent_id__in=bureaus)
    return Organization.objects.filter(q)


def departments_for_user(*, user: User) -> QuerySet[Organization]:
    return organizations_for_user(user=user).filter(kind=OrganizationKind.DEPARTMENT)


def audit_events_for_user(*, user: User) -> QuerySet[AuditEvent]:
    """The audit admin of a bureau reads events of its contracts, and the events without a
    contract done by people of its bureau and departments (never a party's events elsewhere)."""
    if user.is_superuser:
        return AuditEvent.objects.all()
    orgs = admin_organizations_for(user).values("pk")
    return AuditEvent.objects.filter(
        Q(contract_id__in=bureau_contract_ids(user))
        | Q(contract__isnull=True, organization_id__in=orgs)
    )


# ------------------------------------------------------------------------------ administration
#
# What an administrator may see and touch in the admin site. Narrower than the business reads
# above: a bureau administers itself, its departments and the contracts it is the bureau of —
# never the parties' organisations, which administer themselves (their user administrator).


def _admin_kind(user: User) -> str | None:
    if not user.is_authenticated or not user.is_active or user.organization_id is None:
        return None
    return user.organization.kind


def bureau_contract_ids(user: User) -> QuerySet:
    """Contracts on which the user's organisation is the bureau (甲方)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Contract.objects.values("pk")
    if _admin_kind(user) != OrganizationKind.BUREAU:
        return Contract.objects.none().values("pk")
    return ContractParty.objects.filter(
        role=PartyRole.BUREAU, organization_id=user.organization_id
    ).values("contract_id")


def admin_organizations_for(user: User) -> QuerySet[Organization]:
    """Organisations inside the user's administrative scope.

    Bureau users: their bureau and its departments. A party's user administrator: its own
    organisation. The platform operator: the party organisations (whose user administrators it
    invites) and its own.
    """
    if getattr(user, "is_superuser", False) and user.is_active:
        return Organization.objects.all()
    kind = _admin_kind(user)
    if kind == OrganizationKind.BUREAU:
        return Organization.objects.filter(
            Q(pk=user.organization_id) | Q(parent_id=user.organization_id)
        )
    if kind == OrganizationKind.PLATFORM and user.role == Role.PLATFORM_OPERATOR:
        return Organization.objects.filter(
            Q(pk=user.organization_id) | Q(kind__in=USER_ADMIN_KINDS)
        )
    if kind in USER_ADMIN_KINDS and user.role == Role.USER_ADMIN:
        return Organization.objects.filter(pk=user.organization_id)
    return Organization.objects.none()


def organizations_administered_by(user: User) -> QuerySet[Organization]:
    """Organisations whose users (and service accounts) ``user`` creates, edits, resets and
    deactivates: the bureau's security administrator its bureau and departments, a party's user
    administrator its own organisation. Nobody else administers users (the platform operator
    only invites the parties' user administrators)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Organization.objects.all()
    kind = _admin_kind(user)
    if kind == OrganizationKind.BUREAU and user.role == Role.SECURITY_ADMIN:
        return Organization.objects.filter(
            Q(pk=user.organization_id) | Q(parent_id=user.organization_id)
        )
    if kind in USER_ADMIN_KINDS and user.role == Role.USER_ADMIN:
        return Organization.objects.filter(pk=user.organization_id)
    return Organization.objects.none()


def users_administered_by(user: User) -> QuerySet[User]:
    return User.objects.filter(organization__in=organizations_administered_by(user).values("pk"))


def organizations_invitable_by(user: User) -> QuerySet[Organization]:
    """Party organisations whose user administrator ``user`` may invite: any party for the
    platform operator; the parties on the bureau's own contracts for its security administrator.
    """
    parties = Organization.objects.filter(kind__in=USER_ADMIN_KINDS, is_active=True)
    if getattr(user, "is_superuser", False) and user.is_active:
        return parties
    kind = _admin_kind(user)
    if kind == OrganizationKind.PLATFORM and user.role == Role.PLATFORM_OPERATOR:
        return parties
    if kind == OrganizationKind.BUREAU and user.role == Role.SECURITY_ADMIN:
        on_contracts = ContractParty.objects.filter(
            contract_id__in=bureau_contract_ids(user)
        ).values("organization_id")
        return parties.filter(pk__in=on_contracts)
    return Organization.objects.none()


def admin_scope_q(
    user: User,
    *,
    organization: str | None = None,
    contract: str | None = None,
    username: str | None = None,
) -> Q:
    """A Q limiting a model to the user's administrative scope, reached through one path:
    ``organization`` (a lookup to an Organization), ``contract`` (to a Contract) or ``username``
    (a field holding a username: the sign-in records of the users one administers)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return Q()
    if organization is not None:
        return Q(**{f"{organization}__in": admin_organizations_for(user).values("pk")})
    if contract is not None:
        return Q(**{f"{contract}__in": bureau_contract_ids(user)})
    if username is not None:
        names = users_administered_by(user).values("username")
        return Q(**{f"{username}__in": names})
    return Q(pk__in=[])


def is_business_reader(user: User) -> bool:
    """Who reads contract business (tickets, resources, contracts, money) in the portal: active
    staff (role 业务人员) and the platform superuser — never an administrator (三员分立), a
    party's user administrator or the platform operator."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or (user.role == Role.STAFF and user.organization_id is not None)


def require_business_reader(user: User, *, hide: bool = False) -> None:
    """Refuse administrators a business page: 403 on lists, 404 (``hide``) on object pages."""
    if is_business_reader(user):
        return
    if hide:
        raise Http404("对象不存在或无权访问。")
    raise PermissionDenied("管理员账号不办理合同业务（三员分立）。")


def roles_assignable_by(user: User, kind: str) -> frozenset[str]:
    """Roles ``user`` may give to a user of an organisation of ``kind`` (in its scope): in a
    bureau, staff and the three administrators (its security admin only); in a department,
    staff; in a party, staff and its user administrator (that party's user admin only)."""
    by_kind = {
        OrganizationKind.BUREAU: frozenset({Role.STAFF, *ADMIN_ROLES}),
        OrganizationKind.DEPARTMENT: frozenset({Role.STAFF}),
        OrganizationKind.PLATFORM: frozenset({Role.PLATFORM_OPERATOR}),
        **{k: frozenset({Role.STAFF, Role.USER_ADMIN}) for k in USER_ADMIN_KINDS},
    }
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return by_kind.get(kind, frozenset())
    own = _admin_kind(user)
    if own == OrganizationKind.BUREAU and user.role == Role.SECURITY_ADMIN:
        if kind in (OrganizationKind.BUREAU, OrganizationKind.DEPARTMENT):
            return by_kind[kind]
    if own in USER_ADMIN_KINDS and user.role == Role.USER_ADMIN and kind == own:
        return by_kind[kind]
    return frozenset()
