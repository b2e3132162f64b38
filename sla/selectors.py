"""Scoped reads of the SLA records: the one place the ``sla`` app enforces tenancy.

* bureau / vendor / supervisor / auditor staff see every record of the contracts their
  organisation is a party to;
* department users see only what concerns them: their contracts' satisfaction surveys, the
  right-sizing advice and utilization of their own resources;
* the three administrators (三员分立) and anyone else see nothing.

Missing and foreign objects both give 404 (``govcloud.selectors.get_or_404``).
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from billing.models import Resource
from govcloud.models import Contract, OrganizationKind, User
from govcloud.selectors import (
    contract_ids_for_user,
    contract_list_for_user,
    get_or_404,
    is_business_reader,
)
from sla.models import (
    Deliverable,
    EmergencyPeriod,
    ImprovementNotice,
    MaintenanceNoticeShortfall,
    Outage,
    Penalty,
    RightsizingAdvice,
    RightsizingReport,
    SatisfactionSurvey,
    Scorecard,
    SecurityIncident,
    SecurityMechanismItem,
    TrainingPlan,
    TrainingSession,
    UtilizationSample,
)

M = TypeVar("M", bound=Model)

PARTY_KINDS = frozenset(
    {
        OrganizationKind.BUREAU,
        OrganizationKind.VENDOR,
        OrganizationKind.SUPERVISOR,
        OrganizationKind.AUDITOR,
    }
)


def is_party_user(user: User) -> bool:
    """Staff of a contract party (or the platform superuser): sees the SLA records."""
    return is_business_reader(user) and (user.is_superuser or user.kind in PARTY_KINDS)


def is_department_user(user: User) -> bool:
    return (
        is_business_reader(user)
        and not user.is_superuser
        and user.kind == OrganizationKind.DEPARTMENT
    )


def sla_contracts_for_user(*, user: User) -> QuerySet[Contract]:
    """Contracts whose SLA pages the user may open (parties and departments)."""
    if not is_business_reader(user):
        return Contract.objects.none()
    return contract_list_for_user(user=user)


def sla_contract_get(*, user: User, pk: object) -> Contract:
    return get_or_404(sla_contracts_for_user(user=user), pk=pk)


def party_contract_get(*, user: User, pk: object) -> Contract:
    """A contract for a page only parties may open (404 for departments)."""
    if not is_party_user(user):
        return get_or_404(Contract.objects.none(), pk=pk)
    return sla_contract_get(user=user, pk=pk)


def _party_scoped(user: User, queryset: QuerySet[M]) -> QuerySet[M]:
    if not is_party_user(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(contract_id__in=contract_ids_for_user(user))


def outage_list_for_user(*, user: User) -> QuerySet[Outage]:
    return _party_scoped(user, Outage.objects.select_related("contract", "reported_by"))


def shortfall_list_for_user(*, user: User) -> QuerySet[MaintenanceNoticeShortfall]:
    """Maintenance notice-duty records: every party of the contract sees them."""
    return _party_scoped(
        user,
        MaintenanceNoticeShortfall.objects.select_related("contract", "outage", "noted_by"),
    )


def incident_list_for_user(*, user: User) -> QuerySet[SecurityIncident]:
    return _party_scoped(user, SecurityIncident.objects.select_related("contract", "reported_by"))


def security_item_list_for_user(*, user: User) -> QuerySet[SecurityMechanismItem]:
    return _party_scoped(user, SecurityMechanismItem.objects.select_related("contract"))


def training_plan_list_for_user(*, user: User) -> QuerySet[TrainingPlan]:
    return _party_scoped(user, TrainingPlan.objects.select_related("contract"))


def training_session_list_for_user(*, user: User) -> QuerySet[TrainingSession]:
    return _party_scoped(user, TrainingSession.objects.select_related("contract", "recorded_by"))


def deliverable_list_for_user(*, user: User) -> QuerySet[Deliverable]:
    return _party_scoped(user, Deliverable.objects.select_related("contract"))


def notice_list_for_user(*, user: User) -> QuerySet[ImprovementNotice]:
    return _party_scoped(user, ImprovementNotice.objects.select_related("contract", "issued_by"))


def penalty_list_for_user(*, user: User) -> QuerySet[Penalty]:
    return _party_scoped(user, Penalty.objects.select_related("contract", "recorded_by"))


def emergency_list_for_user(*, user: User) -> QuerySet[EmergencyPeriod]:
    return _party_scoped(user, EmergencyPeriod.objects.select_related("contract", "created_by"))


def scorecard_list_for_user(*, user: User) -> QuerySet[Scorecard]:
    return _party_scoped(user, Scorecard.objects.select_related("contract"))


def survey_list_for_user(*, user: User) -> QuerySet[SatisfactionSurvey]:
    """Parties see their contracts' surveys; departments those of their bureau's contracts."""
    qs = SatisfactionSurvey.objects.select_related("contract")
    if not is_business_reader(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(contract_id__in=contract_ids_for_user(user))


def report_list_for_user(*, user: User) -> QuerySet[RightsizingReport]:
    """Parties: every report of their contracts; departments: reports with their advice."""
    qs = RightsizingReport.objects.select_related("contract")
    if is_party_user(user):
        return _party_scoped(user, qs)
    if is_department_user(user):
        reports = RightsizingAdvice.objects.filter(department_id=user.organization_id).values(
            "report_id"
        )
        return qs.filter(pk__in=reports).exclude(status="draft")
    return qs.none()


def advice_list_for_user(*, user: User) -> QuerySet[RightsizingAdvice]:
    """Parties: all advice of their contracts; departments: submitted advice on their resources."""
    qs = RightsizingAdvice.objects.select_related(
        "report__contract",
        "resource",
        "department",
        "system",
        "current_item",
        "advised_item",
        "change_request",
    )
    if is_party_user(user):
        if user.is_superuser:
            return qs
        return qs.filter(report__contract_id__in=contract_ids_for_user(user))
    if is_department_user(user):
        return qs.filter(department_id=user.organization_id).exclude(status="draft")
    return qs.none()


def resources_for_user(*, user: User) -> QuerySet[Resource]:
    """Resources whose utilization the user may see (departments: their own)."""
    qs = Resource.objects.select_related("department", "system", "catalog_item", "contract")
    if is_party_user(user):
        return qs if user.is_superuser else qs.filter(contract_id__in=contract_ids_for_user(user))
    if is_department_user(user):
        return qs.filter(department_id=user.organization_id)
    return qs.none()


def sample_list_for_user(*, user: User) -> QuerySet[UtilizationSample]:
    return UtilizationSample.objects.filter(
        resource_id__in=resources_for_user(user=user).values("pk")
    ).select_related("resource")


def get_for_user(queryset: QuerySet[M], pk: object) -> M:
    return get_or_404(queryset, pk=pk)
