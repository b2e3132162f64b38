"""Template tag for the admin index: which official calendar years are still missing."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin
from django.urls import reverse

from govcloud.calendar import missing_years, package_covers
from govcloud.models import CalendarYear

register = template.Library()


@register.simple_tag(takes_context=True)
def missing_calendar_years(context: dict[str, Any]) -> list[dict[str, Any]]:
    """This year and next year (Beijing) if not loaded, with what the viewer may do about it."""
    request = context.get("request")
    model_admin = admin.site.get_model_admin(CalendarYear)
    can_add = request is not None and model_admin.has_add_permission(request)
    return [
        {
            "year": year,
            "add_url": f"{reverse('admin:govcloud_calendaryear_add')}?year={year}"
            if can_add
            else "",
            "load_url": (
                reverse("admin:govcloud_calendaryear_load_from_package")
                if can_add and package_covers(year)
                else ""
            ),
        }
        for year in missing_years()
    ]
