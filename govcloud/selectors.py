"""Reads scoped to the acting user: the one place tenancy is enforced.

Every portal view and API endpoint fetches through these functions (or an app's selectors
built on them). Missing and foreign objects both give 404, so existence never leaks.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from govcloud.models import (
    AuditEvent,
    Contract,
    ContractParty,
    Organization,
    OrganizationKind,
    PartyRole,
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
    """The audit admin of a bureau reads events of its contracts and its organisations."""
    if user.is_superuser:
        return AuditEvent.objects.all()
    orgs = organizations_for_user(user=user).values("pk")
    return AuditEvent.objects.filter(
        Q(contract_id__in=contract_ids_for_user(user)) | Q(organization_id__in=orgs)
    )
