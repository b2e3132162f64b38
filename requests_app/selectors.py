"""Scoped reads of tickets and resources; every view and endpoint goes through these."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from billing.models import Resource
from govcloud.models import AuditEvent, OrganizationKind, PartyRole, User
from govcloud.selectors import contract_ids_for_user, get_or_404
from requests_app.models import OPEN_REVIEW_STATES, RequestStatus, ResourceRequest

VENDOR_VISIBLE = (RequestStatus.APPROVED, RequestStatus.DELIVERED)


def _base() -> QuerySet[ResourceRequest]:
    return ResourceRequest.objects.select_related("contract", "department", "system", "created_by")


def request_list_for_user(*, user: User) -> QuerySet[ResourceRequest]:
    """Departments see their own tickets; parties see their contracts' tickets once submitted
    (the vendor only what it has to deliver or has delivered)."""
    qs = _base()
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs.all()
    if user.organization_id is None:
        return qs.none()
    if user.organization.kind == OrganizationKind.DEPARTMENT:
        return qs.filter(department_id=user.organization_id)
    qs = qs.filter(contract_id__in=contract_ids_for_user(user)).exclude(status=RequestStatus.DRAFT)
    if user.organization.kind == OrganizationKind.VENDOR:
        qs = qs.filter(status__in=VENDOR_VISIBLE)
    return qs


def request_get_for_user(*, user: User, pk: object) -> ResourceRequest:
    return get_or_404(request_list_for_user(user=user), pk=pk)


def review_queue_for_user(*, user: User) -> QuerySet[ResourceRequest]:
    """Tickets whose current review step belongs to the user's organisation."""
    if not user.is_authenticated or user.organization_id is None:
        return ResourceRequest.objects.none()
    return (
        request_list_for_user(user=user)
        .filter(
            status__in=OPEN_REVIEW_STATES,
            contract__parties__organization_id=user.organization_id,
            contract__parties__review_order=F("review_step") + 1,
        )
        .order_by("submitted_at", "id")
    )


def delivery_queue_for_user(*, user: User) -> QuerySet[ResourceRequest]:
    """Approved tickets the vendor must deliver, most urgent first.

    Tickets with a deadline by deadline; then those of contracts without a clock (及时), the
    longest waiting first.
    """
    if not user.is_authenticated or user.organization_id is None:
        return ResourceRequest.objects.none()
    return (
        request_list_for_user(user=user)
        .filter(
            status=RequestStatus.APPROVED,
            contract__parties__organization_id=user.organization_id,
            contract__parties__role=PartyRole.VENDOR,
        )
        .order_by(F("due_at").asc(nulls_last=True), "approved_at", "id")
    )


def resource_list_for_user(*, user: User) -> QuerySet[Resource]:
    qs = Resource.objects.select_related("contract", "department", "system", "catalog_item")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs.all()
    if user.organization_id is None:
        return qs.none()
    if user.organization.kind == OrganizationKind.DEPARTMENT:
        return qs.filter(department_id=user.organization_id)
    return qs.filter(contract_id__in=contract_ids_for_user(user))


def resource_get_for_user(*, user: User, pk: object) -> Resource:
    return get_or_404(resource_list_for_user(user=user), pk=pk)


def timeline_for(ticket: ResourceRequest) -> QuerySet[AuditEvent]:
    """Who did what, when — straight from the audit trail of this ticket."""
    return (
        AuditEvent.objects.filter(
            object_type="requests_app.resourcerequest", object_id=str(ticket.pk)
        )
        .select_related("organization")
        .order_by("at", "id")
    )


def open_tickets_q() -> Q:
    return Q(status__in=[*OPEN_REVIEW_STATES, RequestStatus.APPROVED])
