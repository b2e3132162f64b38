"""Query-string filters of the ticket and resource lists (applied after the scoped selectors)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from billing.models import Resource, ResourceStatus
from govcloud.api_query import IntegerFilter
from requests_app.models import (
    DeliveryClaimStatus,
    ReceiptStatus,
    RequestKind,
    RequestStatus,
    ResourceRequest,
)


def _id_filter(label: str, field_name: str) -> django_filters.NumberFilter:
    return extend_schema_field(OpenApiTypes.INT)(IntegerFilter(label=label, field_name=field_name))


class RequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RequestStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=RequestKind.choices)
    contract = _id_filter(_("合同 ID"), "contract_id")
    contract_code = django_filters.CharFilter(label=_("合同编号"), field_name="contract__code")
    department = _id_filter(_("使用单位 ID"), "department_id")
    system = _id_filter(_("业务系统 ID"), "system_id")
    due_before = django_filters.IsoDateTimeFilter(
        label=_("交付截止早于"), field_name="due_at", lookup_expr="lt"
    )
    due_after = django_filters.IsoDateTimeFilter(
        label=_("交付截止不早于"), field_name="due_at", lookup_expr="gte"
    )
    overdue = extend_schema_field(OpenApiTypes.BOOL)(
        django_filters.BooleanFilter(label=_("已超时"), method="filter_overdue")
    )
    breached = django_filters.BooleanFilter(label=_("超时交付"))
    receipt_status = django_filters.ChoiceFilter(
        label=_("签收状态"), choices=[c for c in ReceiptStatus.choices if c[0]]
    )
    awaiting_receipt = extend_schema_field(OpenApiTypes.BOOL)(
        django_filters.BooleanFilter(
            label=_("待签收（含有问题）"), method="filter_awaiting_receipt"
        )
    )
    delivery_claim_status = django_filters.ChoiceFilter(
        label=_("交付时间申报状态"), choices=[c for c in DeliveryClaimStatus.choices if c[0]]
    )
    ordering = django_filters.OrderingFilter(
        label=_("排序"), fields=(("created_at", "created_at"), ("due_at", "due_at"))
    )

    class Meta:
        model = ResourceRequest
        fields: list[str] = []

    def filter_awaiting_receipt(
        self, queryset: QuerySet[ResourceRequest], name: str, value: bool | None
    ) -> QuerySet[ResourceRequest]:
        if value is None:
            return queryset
        q = Q(
            status=RequestStatus.DELIVERED,
            receipt_status__in=[ReceiptStatus.PENDING, ReceiptStatus.PROBLEM],
        )
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_overdue(
        self, queryset: QuerySet[ResourceRequest], name: str, value: bool | None
    ) -> QuerySet[ResourceRequest]:
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.overdue(now) if value else queryset.not_overdue(now)


class ResourceFilter(django_filters.FilterSet):
    contract = _id_filter(_("合同 ID"), "contract_id")
    department = _id_filter(_("使用单位 ID"), "department_id")
    system = _id_filter(_("业务系统 ID"), "system_id")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=ResourceStatus.choices)
    item = django_filters.CharFilter(label=_("目录编码"), field_name="catalog_item__code")

    class Meta:
        model = Resource
        fields: list[str] = []
