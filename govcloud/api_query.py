"""Query parameters of the API, read strictly: a malformed value is a 400 naming the parameter.

Lists filter by ids, years and days; a value that is not one (``?contract=abc``, ``?day_from=
2026-02-30``, ``?resource=1e400``, ``?page=0``) is refused with ``{"message": "查询参数 X …",
"extra": {"field": "X"}}`` — never silently ignored, never a 500 from the database.
Integers beyond any column are refused earlier still by ``govcloud.middleware.ApiErrorsMiddleware``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import django_filters
from django import forms
from django.core.paginator import InvalidPage
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

from govcloud.exceptions import ApplicationError

__all__ = [
    "INT64_MAX",
    "ApiPagination",
    "BusinessDateField",
    "IntegerFilter",
    "query_date",
    "query_int",
    "refuse",
]

#: The integers the database stores (BigAutoField keys): beyond them nothing can match.
INT64_MAX = 2**63 - 1
_ASCII_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def refuse(name: str, problem: str) -> ApplicationError:
    """The 400 for query parameter ``name``: ``{"message": "查询参数 name …", "extra":
    {"field": name}}``, the shape ``ApiErrorsMiddleware`` gives an integer out of range."""
    message = _("查询参数 %(name)s %(problem)s") % {"name": name, "problem": problem}
    return ApplicationError(message, extra={"field": name})


def _one(params: Any, name: str) -> str | None:
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name)]
    values = [v for v in values if v is not None]
    if not values:
        return None
    if len(values) > 1:
        raise refuse(name, _("只能给出一次。"))
    return values[0].strip()


def query_int(params: Any, name: str, *, minimum: int = -INT64_MAX) -> int | None:
    """``params[name]`` as an integer (ASCII digits, within a database column), ``None`` when
    absent or empty; a 400 naming ``name`` otherwise."""
    raw = _one(params, name)
    if not raw:
        return None
    if not _ASCII_INTEGER.match(raw):
        raise refuse(name, _("必须是整数：%(value)s") % {"value": raw[:40]})
    value = int(raw)
    if not minimum <= value <= INT64_MAX:
        raise refuse(name, _("超出范围：%(value)s") % {"value": raw[:40]})
    return value


def query_date(params: Any, name: str) -> date | None:
    """``params[name]`` as a day (``YYYY-MM-DD``), ``None`` when absent or empty; a 400 naming
    ``name`` otherwise."""
    raw = _one(params, name)
    if not raw:
        return None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None:
        raise refuse(name, _("必须是有效日期（YYYY-MM-DD）：%(value)s") % {"value": raw[:40]})
    return value


class IntegerFilter(django_filters.NumberFilter):
    """A filter on an integer column (ids, years, months): only integers a column can hold;
    anything else is a 400 naming the parameter (``NumberFilter`` takes decimals such as
    ``1e400`` and lets the database fail on them)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -INT64_MAX)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(*args, **kwargs)


class ApiPagination(PageNumberPagination):
    """DRF's page numbers, with a malformed or out-of-range ``page`` (or ``page_size``) as a 400
    naming it instead of a 404 that reads like a missing object."""

    def get_page_number(self, request: Any, paginator: Any) -> int:
        raw = _one(request.query_params, self.page_query_param)
        if not raw:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return query_int(request.query_params, self.page_query_param, minimum=1) or 1

    def get_page_size(self, request: Any) -> int | None:
        if self.page_size_query_param and self.page_size_query_param in request.query_params:
            size = query_int(request.query_params, self.page_size_query_param, minimum=1)
            if size is not None:
                return min(size, self.max_page_size) if self.max_page_size else size
        return self.page_size

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list | None:
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise refuse(
                self.page_query_param, _("超出范围：%(value)s") % {"value": page_number}
            ) from exc
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)


class BusinessDateField(serializers.DateField):
    """A day of the platform's business (2000–2099): a date far outside it is a typing
    mistake, and before 1900 the Asia/Shanghai clock is local mean time (+08:05:43), which no
    ISO 8601 reader accepts."""

    default_error_messages = {"range": _("日期须在 2000-01-01 至 2099-12-31 之间。")}

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        if not date(2000, 1, 1) <= day <= date(2099, 12, 31):
            self.fail("range")
        return day
