"""The official calendar in the database: services that edit it and the provider that reads it.

``govcloud.workdays`` is pure and asks a *provider* for one ``YearCalendar`` per year, caching the
answer per process. :func:`install` (called from ``GovcloudConfig.ready()``) makes
:func:`db_calendar_provider` that provider; it reads ``CalendarYear``/``CalendarDay`` with one
query per year, only when a year is first needed — never at import or start-up.

Keeping every process's cache fresh
-----------------------------------
* **In the editing process** every service calls ``workdays.clear_cache(year)`` at once (so the
  rest of its transaction already counts with the new days) and again right after commit (a
  thread of the same process may have re-read the old rows in between).
* **In every other process** (gunicorn workers, Celery workers) each change bumps
  ``CalendarYear.version`` in the same transaction. The provider remembers which version each
  cached year was built from (``None`` for a year that was missing). Before a request and
  before a Celery task, :func:`refresh_if_stale` compares those versions with the database — at
  most once per :data:`REFRESH_INTERVAL` seconds per process, one query on a table of a few
  dozen rows, and not at all while nothing is cached — and forgets every year whose version
  changed, appeared or disappeared. So another process sees an edit at the latest with its first
  request or task after 60 s. The same comparison repairs a cache filled inside a transaction
  that was then rolled back. The hook does nothing inside an open transaction (a failing query
  there would break the caller's transaction, and the next request does the check anyway).

After commit the services send ``govcloud.signals.calendar_changed(sender=CalendarYear, year=…)`` so
that clocks computed provisionally (or on the old days) are recomputed.

Services are the only writers of the two tables: the admin goes through them as well.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import chinese_calendar
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.signals import request_started
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud import workdays
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_today
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import FIRST_YEAR, LAST_YEAR, CalendarDay, CalendarYear, DayKind, Role
from govcloud.signals import calendar_changed

__all__ = [
    "PACKAGE_SOURCE",
    "REFRESH_INTERVAL",
    "DaySpec",
    "calendar_day_remove",
    "calendar_day_set",
    "calendar_year_create",
    "calendar_year_delete",
    "calendar_year_load_from_package",
    "calendar_year_update",
    "db_calendar_provider",
    "install",
    "loaded_years",
    "missing_years",
    "package_covers",
    "package_days",
    "refresh_if_stale",
    "reset_cache",
]

#: Upper bound, in seconds, on how long another process may count with an outdated calendar.
REFRESH_INTERVAL = 60.0

PACKAGE_SOURCE = f"chinesecalendar {chinese_calendar.__version__}"

# chinesecalendar names holidays in English (its Holiday enum values).
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

_DAY_AUDIT_FIELDS = ("calendar_year", "date", "kind", "name")
_YEAR_HEADER_FIELDS = ("source", "notice_url", "notes")


class DaySpec(NamedTuple):
    """One entry of a notice: ``(date, kind, name)``; plain 3-tuples are accepted too."""

    date: dt.date
    kind: str
    name: str


# --- the chinesecalendar package ---------------------------------------------------------------


def package_covers(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has ``year``'s schedule."""
    return workdays.calendar_from_chinesecalendar(year) is not None


def package_days(year: int) -> list[DaySpec] | None:
    """``year``'s holidays and make-up days from ``chinesecalendar``, or None if not covered."""
    if not package_covers(year):
        return None
    specs = []
    for table, kind in (
        (chinese_calendar.holidays, DayKind.HOLIDAY),
        (chinese_calendar.workdays, DayKind.WORKDAY),
    ):
        for day in sorted(d for d in table if d.year == year):
            _is_holiday, english = chinese_calendar.get_holiday_detail(day)
            specs.append(DaySpec(day, kind, HOLIDAY_NAMES_ZH.get(english, english or "")))
    return specs


# --- reading: the provider and its freshness check ---------------------------------------------

_lock = threading.Lock()
# Year -> CalendarYear.version the cached calendar was built from (None: the year was missing).
_versions: dict[int, int | None] = {}
# time.monotonic() value before which refresh_if_stale() does not query.
_next_check = 0.0


def db_calendar_provider(year: int) -> workdays.YearCalendar | None:
    """``year``'s calendar from the database (one query), or None if the year is not loaded."""
    rows = list(
        CalendarYear.objects.filter(year=year).values_list("version", "days__date", "days__kind")
    )
    _remember(year, rows[0][0] if rows else None)
    if not rows:
        return None
    # A year without any day yields one row of Nones (outer join); it is still a loaded year.
    return workdays.YearCalendar(
        year=year,
        holidays={day for _, day, kind in rows if kind == DayKind.HOLIDAY},
        workdays={day for _, day, kind in rows if kind == DayKind.WORKDAY},
    )


def _remember(year: int, version: int | None) -> None:
    global _next_check
    with _lock:
        if not _versions:
            _next_check = time.monotonic() + REFRESH_INTERVAL
        _versions[year] = version


def _forget(year: int) -> None:
    with _lock:
        _versions.pop(year, None)
    # Outside our lock: workdays holds its own lock while calling the provider, which takes ours.
    workdays.clear_cache(year)


def refresh_if_stale(*, force: bool = False) -> list[int]:
    """Forget cached years that another process changed; return them.

    Queries at most once per :data:`REFRESH_INTERVAL` (unless ``force``), and never while nothing
    from the database is cached.
    """
    global _next_check
    with _lock:
        now = time.monotonic()
        if not _versions or (not force and now < _next_check):
            return []
        _next_check = now + REFRESH_INTERVAL
        remembered = dict(_versions)
    current = dict(CalendarYear.objects.filter(year__in=remembered).values_list("year", "version"))
    stale = sorted(year for year, version in remembered.items() if current.get(year) != version)
    for year in stale:
        _forget(year)
    return stale


def reset_cache() -> None:
    """Forget every year this process has cached, from the database or any other provider.

    For tests: a test's rolled-back transaction leaves no newer version behind to compare with,
    so a fixture calls this between tests that edit or read the calendar.
    """
    global _next_check
    with _lock:
        _versions.clear()
        _next_check = 0.0
    workdays.clear_cache()


def _refresh_before_work(**kwargs: Any) -> None:
    if transaction.get_connection().in_atomic_block:
        return
    refresh_if_stale()


def install() -> None:
    """Make the database the calendar source of this process (called from ``ready()``)."""
    workdays.set_calendar_provider(db_calendar_provider)
    request_started.connect(_refresh_before_work, dispatch_uid="govcloud.calendar.refresh")
    try:
        from celery.signals import task_prerun
    except ImportError:  # pragma: no cover - celery is a dependency; tolerate its absence
        return
    task_prerun.connect(_refresh_before_work, dispatch_uid="govcloud.calendar.refresh", weak=False)


def loaded_years() -> set[int]:
    """Years whose official schedule is in the database."""
    return set(CalendarYear.objects.values_list("year", flat=True))


def missing_years(today: dt.date | None = None) -> list[int]:
    """Which of this year and next year (in Beijing) have no schedule loaded yet."""
    today = today or business_today()
    wanted = [today.year, today.year + 1]
    present = set(CalendarYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return [year for year in wanted if year not in present]


# --- writing: services ----------------------------------------------------------------------


def require_calendar_keeper(actor: Any) -> None:
    """One official calendar serves every bureau's clocks: only the platform operator (or the
    platform superuser) edits it, never a bureau. System actors (migrations, loaders, tests)
    pass their name as a string."""
    if isinstance(actor, str):
        return
    if getattr(actor, "is_active", False) and (
        getattr(actor, "is_superuser", False)
        or getattr(actor, "role", None) == Role.PLATFORM_OPERATOR
    ):
        return
    raise ActionForbidden(_("法定节假日安排由平台运维员统一维护，各甲方不能修改。"))


@transaction.atomic
def calendar_year_create(
    *,
    actor: Any,
    year: int,
    source: str,
    days: Sequence[DaySpec | tuple[dt.date, str, str]],
    notice_url: str = "",
    notes: str = "",
) -> CalendarYear:
    """Enter a State Council notice by hand: the year, its source and all its days."""
    require_calendar_keeper(actor)
    if CalendarYear.objects.filter(year=year).exists():
        raise ApplicationError(
            _("%(year)s 年的节假日安排已存在，请修改该年度或从 chinesecalendar 重新载入。")
            % {"year": year},
            extra={"year": year},
        )
    specs = _parse_specs(year, days)
    _require_holiday(year, [spec.kind for spec in specs])
    calendar_year = CalendarYear(year=year, source=source, notice_url=notice_url, notes=notes)
    _validate(calendar_year)
    _insert_year(calendar_year)
    created = _create_days(calendar_year, specs)
    audit_log(
        actor=actor,
        action="calendar_year.create",
        obj=calendar_year,
        after=_year_audit(calendar_year, created),
    )
    _announce(year)
    return calendar_year


@transaction.atomic
def calendar_year_load_from_package(*, actor: Any, year: int) -> CalendarYear:
    """Create ``year`` from ``chinesecalendar``, or replace all its days with the package's."""
    require_calendar_keeper(actor)
    specs = package_days(year)
    if specs is None:
        raise ApplicationError(
            _(
                "已安装的 %(source)s 不包含 %(year)s 年的节假日安排。请在国务院办公厅发布通知后"
                "于「法定节假日」中手工录入，或升级 chinesecalendar 后重试。"
            )
            % {"source": PACKAGE_SOURCE, "year": year},
            extra={"year": year},
        )
    calendar_year = CalendarYear.objects.select_for_update(of=("self",)).filter(year=year).first()
    before = None
    if calendar_year is None:
        calendar_year = CalendarYear(year=year, source=PACKAGE_SOURCE)
        _validate(calendar_year)
        _insert_year(calendar_year)
    else:
        before = _year_audit(calendar_year, list(calendar_year.days.all()))
        calendar_year.days.all().delete()
        calendar_year.source = PACKAGE_SOURCE
        calendar_year.loaded_at = timezone.now()
        calendar_year.save(update_fields=["source", "loaded_at", "updated_at"])
    created = _create_days(calendar_year, specs)
    audit_log(
        actor=actor,
        action="calendar_year.load_from_package",
        obj=calendar_year,
        before=before,
        after=_year_audit(calendar_year, created),
    )
    _announce(year)
    return calendar_year


@transaction.atomic
def calendar_year_update(
    *,
    actor: Any,
    calendar_year: CalendarYear,
    source: str | None = None,
    notice_url: str | None = None,
    notes: str | None = None,
    set_days: Iterable[DaySpec | tuple[dt.date, str, str]] = (),
    remove_days: Iterable[CalendarDay] = (),
) -> CalendarYear:
    """Change a year's source and/or several of its days at once (what an admin save does).

    ``set_days`` creates or updates the day of each date; ``remove_days`` are deleted first, so
    a date may be moved by removing the old row and setting the new date.
    """
    require_calendar_keeper(actor)
    locked = _lock_year(calendar_year.year)
    specs = _parse_specs(locked.year, set_days)
    header = {
        name: value
        for name, value in (("source", source), ("notice_url", notice_url), ("notes", notes))
        if value is not None and getattr(locked, name) != value
    }
    if header:
        before = snapshot(locked, _YEAR_HEADER_FIELDS)
        for name, value in header.items():
            setattr(locked, name, value)
        _validate(locked)
        locked.save(update_fields=[*header, "updated_at"])
        audit_log(
            actor=actor,
            action="calendar_year.update",
            obj=locked,
            before=before,
            after=snapshot(locked, _YEAR_HEADER_FIELDS),
        )
    changed = False
    for day in remove_days:
        _remove_day(actor=actor, calendar_year=locked, day=day)
        changed = True
    for spec in specs:
        _day, day_changed = _set_day(actor=actor, calendar_year=locked, spec=spec)
        changed |= day_changed
    if changed:
        _require_holiday(locked.year, locked.days.values_list("kind", flat=True))
        _announce(locked.year)
    calendar_year.refresh_from_db()
    return locked


@transaction.atomic
def calendar_day_set(*, actor: Any, year: int, date: dt.date, kind: str, name: str) -> CalendarDay:
    """Declare ``date`` a holiday or a make-up working day of ``year`` (creates or updates)."""
    require_calendar_keeper(actor)
    calendar_year = _lock_year(year)
    (spec,) = _parse_specs(year, [(date, kind, name)])
    day, changed = _set_day(actor=actor, calendar_year=calendar_year, spec=spec)
    if changed:
        _require_holiday(year, calendar_year.days.values_list("kind", flat=True))
        _announce(year)
    return day


@transaction.atomic
def calendar_day_remove(*, actor: Any, day: CalendarDay) -> None:
    """Take ``day`` out of its year's schedule (it becomes an ordinary day again)."""
    require_calendar_keeper(actor)
    calendar_year = _lock_year(day.calendar_year_id)
    _remove_day(actor=actor, calendar_year=calendar_year, day=day)
    _require_holiday(calendar_year.year, calendar_year.days.values_list("kind", flat=True))
    _announce(calendar_year.year)


@transaction.atomic
def calendar_year_delete(*, actor: Any, calendar_year: CalendarYear) -> None:
    """Delete a year entered by mistake; its clocks become provisional again."""
    require_calendar_keeper(actor)
    locked = _lock_year(calendar_year.year)
    before = _year_audit(locked, list(locked.days.all()))
    audit_log(actor=actor, action="calendar_year.delete", obj=locked, before=before)
    locked.delete()
    _announce(calendar_year.year)


# --- helpers ------------------------------------------------------------------------------------


def _lock_year(year: int) -> CalendarYear:
    calendar_year = CalendarYear.objects.select_for_update(of=("self",)).filter(year=year).first()
    if calendar_year is None:
        raise ApplicationError(
            _("%(year)s 年的节假日安排尚未载入，请先录入该年度。") % {"year": year},
            extra={"year": year},
        )
    return calendar_year


def _insert_year(calendar_year: CalendarYear) -> None:
    try:
        with transaction.atomic():
            calendar_year.save()
    except IntegrityError as exc:  # entered concurrently by someone else
        raise ApplicationError(
            _("%(year)s 年的节假日安排已存在。") % {"year": calendar_year.year},
            extra={"year": calendar_year.year},
        ) from exc


def _validate(obj: CalendarYear | CalendarDay) -> None:
    try:
        if isinstance(obj, CalendarDay):
            # The year is set by the service itself; checking it would cost a query per day, and
            # uniqueness of the date is checked against the other days by the caller.
            obj.clean_fields(exclude=["calendar_year"])
            obj.clean()
        else:
            obj.full_clean()
    except ValidationError as exc:
        errors = _labelled(obj, exc)
        raise ApplicationError(
            _("节假日安排有误，未做任何修改：%(errors)s") % {"errors": "；".join(errors)},
            extra={"errors": errors},
        ) from exc


def _labelled(obj: CalendarYear | CalendarDay, exc: ValidationError) -> list[str]:
    """Messages prefixed with the field's name and the day's date ("依据：此字段不能为空。")."""
    where = f"{obj.date.isoformat()} " if isinstance(obj, CalendarDay) and obj.date else ""
    if not hasattr(exc, "error_dict"):
        return [f"{where}{message}" for message in exc.messages]
    labelled = []
    for field, messages in exc.message_dict.items():
        label = "" if field == NON_FIELD_ERRORS else f"{obj._meta.get_field(field).verbose_name}："
        labelled += [f"{where}{label}{message}" for message in messages]
    return labelled


def _parse_specs(year: int, days: Iterable[DaySpec | tuple[dt.date, str, str]]) -> list[DaySpec]:
    """Check the shape of each entry, the dates' year and duplicates; all errors at once."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ApplicationError(
            _("年度必须在 %(first)s 与 %(last)s 之间。") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    specs: list[DaySpec] = []
    errors: list[str] = []
    seen: set[dt.date] = set()
    for item in days:
        try:
            spec = DaySpec(*item)
        except TypeError:
            errors.append(_("每一天应为（日期, 类型, 名称）：%(item)r") % {"item": item})
            continue
        if isinstance(spec.date, dt.datetime) or not isinstance(spec.date, dt.date):
            errors.append(_("日期格式有误：%(value)r") % {"value": spec.date})
            continue
        label = spec.date.isoformat()
        if spec.kind not in DayKind.values:
            errors.append(_("%(date)s：类型必须是放假或调休上班。") % {"date": label})
        if not str(spec.name or "").strip():
            errors.append(_("%(date)s：请填写节日名称。") % {"date": label})
        if spec.date.year != year:
            errors.append(_("%(date)s 不在 %(year)s 年度之内。") % {"date": label, "year": year})
        elif spec.kind == DayKind.WORKDAY and spec.date.weekday() < 5:
            errors.append(_("%(date)s：调休上班日必须是周六或周日。") % {"date": label})
        if spec.date in seen:
            errors.append(_("%(date)s 重复录入。") % {"date": label})
        seen.add(spec.date)
        specs.append(DaySpec(spec.date, spec.kind, str(spec.name or "").strip()))
    if errors:
        raise ApplicationError(
            _("节假日安排有误，未做任何修改：%(errors)s") % {"errors": "；".join(errors)},
            extra={"errors": errors},
        )
    return specs


def _require_holiday(year: int, kinds: Iterable[str]) -> None:
    # Every notice has days off; a year without any would silently mean "weekends only".
    if DayKind.HOLIDAY not in set(kinds):
        raise ApplicationError(
            _("%(year)s 年的节假日安排至少要有一天放假，未做任何修改。") % {"year": year},
            extra={"year": year},
        )


def _create_days(calendar_year: CalendarYear, specs: Sequence[DaySpec]) -> list[CalendarDay]:
    days = [
        CalendarDay(calendar_year=calendar_year, date=spec.date, kind=spec.kind, name=spec.name)
        for spec in specs
    ]
    for day in days:
        _validate(day)
    return CalendarDay.objects.bulk_create(days)


def _set_day(*, actor: Any, calendar_year: CalendarYear, spec: DaySpec) -> tuple[CalendarDay, bool]:
    """Create or update the day of ``spec.date``; the day and whether anything changed."""
    day = CalendarDay.objects.filter(date=spec.date).first()
    if day is None:
        day = CalendarDay(
            calendar_year=calendar_year, date=spec.date, kind=spec.kind, name=spec.name
        )
        _validate(day)
        day.save()
        audit_log(
            actor=actor,
            action="calendar_day.create",
            obj=day,
            after=snapshot(day, _DAY_AUDIT_FIELDS),
        )
        return day, True
    if (day.kind, day.name) == (spec.kind, spec.name):
        return day, False
    before = snapshot(day, _DAY_AUDIT_FIELDS)
    day.kind, day.name = spec.kind, spec.name
    _validate(day)
    day.save(update_fields=["kind", "name"])
    audit_log(
        actor=actor,
        action="calendar_day.update",
        obj=day,
        before=before,
        after=snapshot(day, _DAY_AUDIT_FIELDS),
    )
    return day, True


def _remove_day(*, actor: Any, calendar_year: CalendarYear, day: CalendarDay) -> None:
    stored = CalendarDay.objects.filter(pk=day.pk, calendar_year=calendar_year).first()
    if stored is None:
        raise ApplicationError(
            _("%(day)s 已不在 %(year)s 年的节假日安排中。")
            % {"day": day.date.isoformat() if day.date else day.pk, "year": calendar_year.year}
        )
    audit_log(
        actor=actor,
        action="calendar_day.remove",
        obj=stored,
        before=snapshot(stored, _DAY_AUDIT_FIELDS),
    )
    stored.delete()


def _year_audit(calendar_year: CalendarYear, days: Iterable[CalendarDay]) -> dict[str, Any]:
    by_kind: dict[str, list[list[str]]] = {DayKind.HOLIDAY: [], DayKind.WORKDAY: []}
    for day in sorted(days, key=lambda d: d.date):
        by_kind[day.kind].append([day.date.isoformat(), day.name])
    return {
        "year": calendar_year.year,
        "source": calendar_year.source,
        "notice_url": calendar_year.notice_url,
        "holidays": by_kind[DayKind.HOLIDAY],
        "workdays": by_kind[DayKind.WORKDAY],
    }


def _announce(year: int) -> None:
    """Record that ``year`` changed: new version, cache cleared now and after commit, signal."""
    CalendarYear.objects.filter(year=year).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    _forget(year)

    def after_commit() -> None:
        _forget(year)
        calendar_changed.send(sender=CalendarYear, year=year)

    transaction.on_commit(after_commit)
