"""Query-string filters of the statement, line and bill lists (after the scoped selectors)."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from billing.models import (
    DepartmentBill,
    InventoryCorrection,
    InventoryCorrectionStatus,
    Statement,
    StatementLine,
    StatementStatus,
)
from govcloud.api_query import IntegerFilter
from govcloud.models import PartyRole


def _int_filter(label: str, field_name: str) -> django_filters.NumberFilter:
    return extend_schema_field(OpenApiTypes.INT)(IntegerFilter(label=label, field_name=field_name))


class StatementFilter(django_filters.FilterSet):
    contract = _int_filter(_("合同 ID"), "contract_id")
    contract_code = django_filters.CharFilter(label=_("合同编号"), field_name="contract__code")
    year = _int_filter(_("年度"), "year")
    month = _int_filter(_("月份"), "month")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=StatementStatus.choices)

    class Meta:
        model = Statement
        fields: list[str] = []


class StatementLineFilter(django_filters.FilterSet):
    department = _int_filter(_("使用单位 ID"), "department_id")
    system = _int_filter(_("业务系统 ID"), "system_id")
    item = django_filters.CharFilter(label=_("目录编码"), field_name="item_code")

    class Meta:
        model = StatementLine
        fields: list[str] = []


class BillFilter(django_filters.FilterSet):
    contract = _int_filter(_("合同 ID"), "statement__contract_id")
    year = _int_filter(_("年度"), "statement__year")
    month = _int_filter(_("月份"), "statement__month")
    department = _int_filter(_("使用单位 ID"), "department_id")
    statement = _int_filter(_("统计表 ID"), "statement_id")

    class Meta:
        model = DepartmentBill
        fields: list[str] = []


class InventoryCorrectionFilter(django_filters.FilterSet):
    """The corrections of a contract: by state, resource, affected month, proposing party."""

    status = django_filters.ChoiceFilter(label=_("状态"), choices=InventoryCorrectionStatus.choices)
    resource = _int_filter(_("资源 ID"), "resource_id")
    month = django_filters.CharFilter(
        label=_("影响月份（YYYY-MM）"), method="filter_month", max_length=7
    )
    proposer_role = django_filters.ChoiceFilter(
        label=_("提出方"),
        choices=[
            (PartyRole.BUREAU, PartyRole.BUREAU.label),
            (PartyRole.VENDOR, PartyRole.VENDOR.label),
        ],
    )

    class Meta:
        model = InventoryCorrection
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for form_field in self.form.fields.values():  # the portal's filter bar
            widget = form_field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", f"{css} {css}-sm")

    def filter_month(self, queryset, name, value):
        value = (value or "").strip()
        if not re.fullmatch(r"\d{4}-\d{2}", value):
            return queryset
        return queryset.filter(months__icontains=f'"{value}"')
