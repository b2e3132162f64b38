"""System check: warn when this year's or next year's official calendar is not loaded."""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register
from django.db import connections

from govcloud.calendar import missing_years
from govcloud.dates import business_today
from govcloud.models import CalendarYear


@register(Tags.database)
def check_calendar_loaded(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    """govcloud.W001, only with ``check --database …`` (and before ``migrate``): it reads the DB.

    Plain ``manage.py check`` and ``makemigrations --check`` pass no databases and stay quiet.
    """
    if not databases or "default" not in databases:
        return []
    # migrate runs database checks before it creates the tables.
    if CalendarYear._meta.db_table not in connections["default"].introspection.table_names():
        return []
    today = business_today()
    return [
        Warning(
            f"{year} 年法定节假日安排尚未载入："
            "该年度的工作日时限将按“仅周末休息”临时计算并标记为暂定。",
            hint="国务院办公厅发布通知后，请在管理后台「法定节假日」中录入该年度"
            "（或升级 chinesecalendar 后从该包载入）。",
            obj=f"CalendarYear {year}",
            id="govcloud.W001",
        )
        for year in missing_years(today)
    ]
