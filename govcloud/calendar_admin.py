"""Admin of the official calendar: one page per year with its days off and make-up days.

Every save goes through the ``govcloud.calendar`` services (one call per save), which validate,
audit, bump the year's version, clear the working-day cache and send ``calendar_changed``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from govcloud.admin_mixins import BUREAU_STAFF, PLATFORM_OPERATOR, SYSTEM, RoleAdmin, ScopedAdmin
from govcloud.calendar import (
    DaySpec,
    calendar_year_create,
    calendar_year_delete,
    calendar_year_load_from_package,
    calendar_year_update,
)
from govcloud.exceptions import ApplicationError
from govcloud.models import CalendarDay, CalendarYear, DayKind


class CalendarDayFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kinds = {
            form.cleaned_data.get("kind")
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        }
        if DayKind.HOLIDAY not in kinds:
            # An empty year would quietly mean "weekends only" for a whole year of deadlines.
            raise ValidationError(_("每个年度至少要有一天放假。"))


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    formset = CalendarDayFormSet
    fields = ["date", "kind", "name"]
    ordering = ["date"]

    # Editing a year's days is editing the year: the year's role-based permissions apply.
    def _year_admin(self) -> RoleAdmin:
        return self.admin_site.get_model_admin(CalendarYear)

    def has_view_permission(self, request, obj=None):
        return self._year_admin().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._year_admin().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._year_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._year_admin().has_change_permission(request, obj)

    def get_extra(self, request, obj=None, **kwargs):
        # A new notice has a dozen or more dates; an existing year is usually only corrected.
        return 12 if obj is None else 1


@admin.register(CalendarYear)
class CalendarYearAdmin(ScopedAdmin):
    # Kept by the platform operator for every bureau; bureaus read it (their clocks count on it).
    manage_roles = PLATFORM_OPERATOR
    view_roles = BUREAU_STAFF | SYSTEM
    # One official calendar for every bureau (kept by the platform).
    scope_platform = True
    list_display = [
        "year",
        "source",
        "holiday_count",
        "workday_count",
        "loaded_at",
        "updated_at",
    ]
    list_display_links = ["year"]
    inlines = [CalendarDayInline]
    fields = ["year", "source", "notice_url", "notes", "loaded_at", "updated_at", "version"]
    actions = ["reload_from_package"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                holiday_count=Count("days", filter=Q(days__kind=DayKind.HOLIDAY)),
                workday_count=Count("days", filter=Q(days__kind=DayKind.WORKDAY)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["loaded_at", "updated_at", "version"]
        # The days hang on the year's number; a wrong year is deleted and entered again.
        return ["year", *readonly] if obj is not None else readonly

    @admin.display(description=_("放假天数"), ordering="holiday_count")
    def holiday_count(self, obj: CalendarYear) -> int:
        return obj.holiday_count

    @admin.display(description=_("调休上班天数"), ordering="workday_count")
    def workday_count(self, obj: CalendarYear) -> int:
        return obj.workday_count

    # --- saving through the services ---------------------------------------------------------

    def save_model(self, request, obj, form, change):
        # Nothing yet: the year and its days are saved together in save_related, in one service
        # call, so that the cache is cleared and calendar_changed sent once, after everything.
        pass

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        days = next(fs for fs in formsets if fs.model is CalendarDay)
        # commit=False writes nothing; it fills new/changed/deleted_objects, which the admin's
        # change message reads too.
        days.save(commit=False)
        set_days = [DaySpec(d.date, d.kind, d.name) for d in days.new_objects]
        set_days += [DaySpec(d.date, d.kind, d.name) for d, _fields in days.changed_objects]
        if not change:
            created = calendar_year_create(
                actor=request.user,
                year=obj.year,
                source=obj.source,
                notice_url=obj.notice_url,
                notes=obj.notes,
                days=set_days,
            )
            # The admin logs the addition and redirects with this instance: make it the saved one.
            obj.pk, obj.version = created.pk, created.version
            obj.loaded_at, obj.updated_at = created.loaded_at, created.updated_at
            obj._state.adding = False
            return
        # A row whose date was edited is a move: its old date must go.
        moved = [d for d, fields in days.changed_objects if "date" in fields]
        calendar_year_update(
            actor=request.user,
            calendar_year=obj,
            source=obj.source,
            notice_url=obj.notice_url,
            notes=obj.notes,
            set_days=set_days,
            remove_days=[*days.deleted_objects, *moved],
        )

    def delete_model(self, request, obj):
        calendar_year_delete(actor=request.user, calendar_year=obj)

    # --- chinesecalendar ---------------------------------------------------------------------

    @admin.action(description=_("从 chinesecalendar 重新载入"), permissions=["change"])
    def reload_from_package(self, request, queryset):
        for calendar_year in queryset:
            self._load_from_package(request, calendar_year.year)

    def _load_from_package(self, request, year: int) -> None:
        try:
            loaded = calendar_year_load_from_package(actor=request.user, year=year)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("已从 %(source)s 载入 %(year)s 年的节假日安排。")
                % {"source": loaded.source, "year": year},
                messages.SUCCESS,
            )

    def get_urls(self):
        return [
            path(
                "load-from-package/",
                self.admin_site.admin_view(self.load_from_package_view),
                name="govcloud_calendaryear_load_from_package",
            ),
            *super().get_urls(),
        ]

    def load_from_package_view(self, request):
        """POST ``year``: load a year that is not entered yet from the installed package."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            year = int(request.POST.get("year", ""))
        except ValueError:
            self.message_user(request, gettext("年度无效。"), messages.ERROR)
        else:
            self._load_from_package(request, year)
        return redirect("admin:govcloud_calendaryear_changelist")
