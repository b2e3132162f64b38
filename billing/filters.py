"""Query-string filters of the statement, line and bill lists (after the scoped selectors)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from billing.models import DepartmentBill, Statement, StatementLine, StatementStatus


def _int_filter(label: str, field_name: str) -> django_filters.NumberFilter:
    return extend_schema_field(OpenApiTypes.INT)(
        django_filters.NumberFilter(label=label, field_name=field_name)
    )


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
