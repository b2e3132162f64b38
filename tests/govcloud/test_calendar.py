"""The official calendar kept in the database: data migration, provider, services, admin, check.

``govcloud.workdays`` answers from the tables that migration 0002 filled from ``chinesecalendar``;
the services keep every answer current in this process at once and in other processes within
``REFRESH_INTERVAL``; the admin goes through the services and warns while a year is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from govcloud import calendar, workdays
from govcloud.calendar import (
    calendar_day_remove,
    calendar_day_set,
    calendar_year_create,
    calendar_year_delete,
    calendar_year_load_from_package,
    db_calendar_provider,
    loaded_years,
    missing_years,
    refresh_if_stale,
)
from govcloud.checks import check_calendar_loaded
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import AuditEvent, CalendarDay, CalendarYear, DayKind, OrganizationKind, Role
from govcloud.signals import calendar_changed
from govcloud.workdays import BUSINESS_TZ, CalendarYearMissing, deadline, is_working_day
from tests.conftest import verified_client
from tests.factories import OrganizationFactory, UserFactory, make_totp

HOLIDAY, WORKDAY = DayKind.HOLIDAY, DayKind.WORKDAY
TODAY = datetime(2026, 11, 21, 10, 0, tzinfo=BUSINESS_TZ)  # the demo's "today"

# 国务院办公厅关于2027年部分节假日安排的通知 is not out yet: an invented notice for the tests.
DAYS_2027 = [
    (date(2027, 1, 1), HOLIDAY, "元旦"),
    (date(2027, 1, 2), HOLIDAY, "元旦"),
    (date(2027, 1, 3), HOLIDAY, "元旦"),
    (date(2027, 2, 6), HOLIDAY, "春节"),
    (date(2027, 2, 7), HOLIDAY, "春节"),
    (date(2027, 2, 8), HOLIDAY, "春节"),
    (date(2027, 2, 20), WORKDAY, "春节"),
]


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=BUSINESS_TZ)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # Each test's transaction is rolled back, which no version number can reveal afterwards.
    calendar.reset_cache()
    yield
    calendar.reset_cache()


@pytest.fixture
def changes() -> Iterator[list[int]]:
    """Years announced by ``calendar_changed``, in order."""
    years: list[int] = []

    def receiver(sender: Any, year: int, **kwargs: Any) -> None:
        assert sender is CalendarYear
        years.append(year)

    calendar_changed.connect(receiver, weak=False, dispatch_uid="test_calendar")
    yield years
    calendar_changed.disconnect(dispatch_uid="test_calendar")


@pytest.fixture
def operator(db):
    """The platform operator: the only one who edits the shared official calendar."""
    user = UserFactory(
        organization=OrganizationFactory(kind=OrganizationKind.PLATFORM),
        role=Role.PLATFORM_OPERATOR,
    )
    make_totp(user)
    return user


def _table_state() -> tuple[list, list, int]:
    return (
        list(CalendarYear.objects.values_list("year", "source", "version").order_by("year")),
        list(CalendarDay.objects.values_list("date", "kind", "name").order_by("date")),
        AuditEvent.objects.count(),
    )


# --- loaded on migrate ----------------------------------------------------------------------


@pytest.mark.django_db
def test_migration_loaded_every_year_chinesecalendar_covers():
    assert loaded_years() >= set(range(2004, 2027))
    sources = set(CalendarYear.objects.values_list("source", flat=True))
    assert sources == {calendar.PACKAGE_SOURCE}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "kind", "name"),
    [
        (date(2026, 10, 1), HOLIDAY, "国庆节"),
        (date(2026, 10, 3), HOLIDAY, "国庆节"),  # a Saturday inside the run is stored too
        (date(2026, 9, 20), WORKDAY, "国庆节"),
        (date(2026, 10, 10), WORKDAY, "国庆节"),
        (date(2026, 2, 17), HOLIDAY, "春节"),
        (date(2015, 9, 3), HOLIDAY, "抗战胜利70周年纪念日"),
        (date(2015, 9, 6), WORKDAY, "抗战胜利70周年纪念日"),
    ],
    ids=lambda v: v.isoformat() if isinstance(v, date) else str(v),
)
def test_migration_stored_days_with_chinese_names(day, kind, name):
    stored = CalendarDay.objects.get(date=day)
    assert (stored.calendar_year_id, stored.kind, stored.name) == (day.year, kind, name)


@pytest.mark.django_db
def test_ordinary_days_are_not_stored():
    assert not CalendarDay.objects.filter(date__in=[date(2026, 11, 21), date(2026, 10, 9)]).exists()


# --- govcloud.workdays answers from the database --------------------------------------------------


@pytest.mark.django_db
def test_the_database_provider_is_installed():
    assert workdays.get_calendar_provider() is db_calendar_provider


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(sh(2026, 9, 30, 10), 2, sh(2026, 10, 10), id="national-day-2-days"),
        pytest.param(sh(2026, 9, 30, 10), 5, sh(2026, 10, 14), id="national-day-5-days"),
        pytest.param(sh(2026, 9, 19, 16), 2, sh(2026, 9, 22), id="make-up-sunday-counts"),
    ],
)
def test_design_examples_from_the_database(start, n, expected):
    assert deadline(start, n) == expected


@pytest.mark.django_db
def test_provider_reads_a_year_with_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        cal = db_calendar_provider(2026)
    assert date(2026, 10, 1) in cal.holidays
    assert date(2026, 9, 20) in cal.workdays
    assert cal == workdays.calendar_from_chinesecalendar(2026)


@pytest.mark.django_db
def test_a_year_not_in_the_database_is_missing_not_weekends_only():
    with pytest.raises(CalendarYearMissing) as excinfo:
        deadline(sh(2026, 12, 30, 10), 2)  # day 2 would be in 2027
    assert excinfo.value.year == 2027
    # The clock service's fallback is still available, explicitly.
    assert deadline(sh(2026, 12, 30, 10), 2, provisional=True) == sh(2027, 1, 2)


# --- services -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_entering_2027_by_hand_makes_it_answer_and_announces_it(
    operator, changes, django_capture_on_commit_callbacks
):
    with pytest.raises(CalendarYearMissing):
        is_working_day(date(2027, 1, 4))  # cached as missing from here on

    with django_capture_on_commit_callbacks(execute=True):
        created = calendar_year_create(
            actor=operator,
            year=2027,
            source="国办发明电〔2026〕9号",
            notice_url="https://www.gov.cn/zhengce/content/2026-11/notice.htm",
            days=DAYS_2027,
        )

    assert created.days.count() == len(DAYS_2027)
    assert deadline(sh(2026, 12, 30, 10), 2) == sh(2027, 1, 5)  # 12-31, (1-1…1-3 off), 1-4
    assert is_working_day(date(2027, 2, 20))  # make-up Saturday
    assert not is_working_day(date(2027, 2, 8))  # Monday off
    assert changes == [2027]
    event = AuditEvent.objects.get(action="calendar_year.create")
    assert (event.actor, event.object_repr) == (operator, str(created))
    assert event.after["holidays"][0] == ["2027-01-01", "元旦"]
    assert missing_years(date(2026, 11, 21)) == []


@pytest.mark.django_db
def test_declaring_a_day_off_changes_the_answer_at_once(
    operator, changes, django_capture_on_commit_callbacks
):
    assert deadline(sh(2026, 9, 30, 10), 2) == sh(2026, 10, 10)  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        day = calendar_day_set(
            actor=operator, year=2026, date=date(2026, 10, 9), kind=HOLIDAY, name="国庆节"
        )

    assert (day.kind, day.name) == (HOLIDAY, "国庆节")
    # 10-09 is off now: day 1 = 10-08, day 2 = 10-10 (make-up Saturday).
    assert deadline(sh(2026, 9, 30, 10), 2) == sh(2026, 10, 11)
    assert changes == [2026]
    event = AuditEvent.objects.get(action="calendar_day.create")
    assert event.after == {
        "calendar_year": 2026,
        "date": "2026-10-09",
        "kind": "holiday",
        "name": "国庆节",
    }


@pytest.mark.django_db
def test_changing_and_removing_days(operator, changes, django_capture_on_commit_callbacks):
    makeup = CalendarDay.objects.get(date=date(2026, 10, 10))
    assert is_working_day(makeup.date)

    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_remove(actor=operator, day=makeup)
    assert not is_working_day(date(2026, 10, 10))  # an ordinary Saturday again

    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_set(
            actor=operator, year=2026, date=date(2026, 10, 4), kind=WORKDAY, name="国庆节"
        )
    assert is_working_day(date(2026, 10, 4))  # the Sunday inside the run now a make-up day
    assert changes == [2026, 2026]
    update = AuditEvent.objects.get(action="calendar_day.update")
    assert (update.before["kind"], update.after["kind"]) == ("holiday", "workday")
    assert AuditEvent.objects.filter(action="calendar_day.remove").count() == 1


@pytest.mark.django_db
def test_setting_a_day_to_what_it_is_changes_nothing(operator, changes):
    version = CalendarYear.objects.get(year=2026).version
    calendar_day_set(actor=operator, year=2026, date=date(2026, 10, 1), kind=HOLIDAY, name="国庆节")
    assert CalendarYear.objects.get(year=2026).version == version
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_reloading_from_the_package_restores_the_official_days(
    operator, changes, django_capture_on_commit_callbacks
):
    calendar_day_remove(actor=operator, day=CalendarDay.objects.get(date=date(2026, 9, 20)))
    calendar_day_set(actor=operator, year=2026, date=date(2026, 11, 20), kind=HOLIDAY, name="误录")
    assert not is_working_day(date(2026, 11, 20))

    with django_capture_on_commit_callbacks(execute=True):
        reloaded = calendar_year_load_from_package(actor=operator, year=2026)

    assert is_working_day(date(2026, 9, 20))
    assert is_working_day(date(2026, 11, 20))
    assert reloaded.source == calendar.PACKAGE_SOURCE
    assert db_calendar_provider(2026) == workdays.calendar_from_chinesecalendar(2026)
    event = AuditEvent.objects.get(action="calendar_year.load_from_package")
    assert ["2026-11-20", "误录"] in event.before["holidays"]
    assert ["2026-11-20", "误录"] not in event.after["holidays"]
    assert changes[-1] == 2026


@pytest.mark.django_db
def test_deleting_a_year_makes_it_missing_again(
    operator, changes, django_capture_on_commit_callbacks
):
    assert is_working_day(date(2025, 9, 28))  # make-up Sunday, now cached
    with django_capture_on_commit_callbacks(execute=True):
        calendar_year_delete(actor=operator, calendar_year=CalendarYear.objects.get(year=2025))

    with pytest.raises(CalendarYearMissing):
        is_working_day(date(2025, 9, 28))
    assert not CalendarDay.objects.filter(date__year=2025).exists()
    assert changes == [2025]
    assert AuditEvent.objects.get(action="calendar_year.delete").before["year"] == 2025


@pytest.mark.django_db
def test_nothing_is_announced_when_the_transaction_rolls_back(
    operator, changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        calendar_year_create(actor=operator, year=2027, source="x", days=DAYS_2027)
        transaction.set_rollback(True)
    assert changes == []
    assert 2027 not in loaded_years()


GOOD_DAY = (date(2027, 1, 1), HOLIDAY, "元旦")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days", "message"),
    [
        pytest.param([], "至少要有一天放假", id="no-days"),
        pytest.param(
            [(date(2027, 2, 20), WORKDAY, "春节")], "至少要有一天放假", id="only-make-up-days"
        ),
        pytest.param([GOOD_DAY, GOOD_DAY], "2027-01-01 重复录入", id="duplicate-date"),
        pytest.param(
            [GOOD_DAY, (date(2027, 2, 8), WORKDAY, "春节")],
            "2027-02-08：调休上班日必须是周六或周日",
            id="make-up-day-on-a-monday",
        ),
        pytest.param(
            [GOOD_DAY, (date(2026, 12, 31), HOLIDAY, "元旦")],
            "2026-12-31 不在 2027 年度之内",
            id="date-of-another-year",
        ),
        pytest.param(
            [(date(2027, 1, 1), "vacation", "元旦")], "类型必须是放假或调休上班", id="kind"
        ),
        pytest.param([(date(2027, 1, 1), HOLIDAY, "  ")], "请填写节日名称", id="blank-name"),
        pytest.param(
            [(datetime(2027, 1, 1, tzinfo=BUSINESS_TZ), HOLIDAY, "元旦")],
            "日期格式有误",
            id="datetime-not-date",
        ),
        pytest.param([(date(2027, 1, 1), HOLIDAY)], "每一天应为（日期, 类型, 名称）", id="shape"),
    ],
)
def test_creating_a_year_rejects_bad_days_and_changes_nothing(operator, days, message):
    before = _table_state()
    with pytest.raises(ApplicationError) as excinfo:
        calendar_year_create(actor=operator, year=2027, source="国办发明电", days=days)
    assert message in excinfo.value.message
    assert _table_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda actor: calendar_year_create(
                actor=actor, year=2026, source="国办发明电〔2025〕7号", days=DAYS_2027
            ),
            "2026 年的节假日安排已存在",
            id="create-existing-year",
        ),
        pytest.param(
            lambda actor: calendar_year_create(actor=actor, year=2027, source="", days=DAYS_2027),
            "依据",
            id="create-without-source",
        ),
        pytest.param(
            lambda actor: calendar_year_create(
                actor=actor, year=1999, source="x", days=[(date(1999, 1, 1), HOLIDAY, "元旦")]
            ),
            "年度必须在 2000 与 2100 之间",
            id="create-year-out-of-range",
        ),
        pytest.param(
            lambda actor: calendar_year_load_from_package(actor=actor, year=2027),
            "不包含 2027 年的节假日安排",
            id="package-lacks-year",
        ),
        pytest.param(
            lambda actor: calendar_day_set(
                actor=actor, year=2027, date=date(2027, 1, 1), kind=HOLIDAY, name="元旦"
            ),
            "2027 年的节假日安排尚未载入",
            id="set-day-of-missing-year",
        ),
        pytest.param(
            lambda actor: calendar_day_set(
                actor=actor, year=2026, date=date(2026, 11, 23), kind=WORKDAY, name="国庆节"
            ),
            "调休上班日必须是周六或周日",
            id="set-make-up-day-on-a-monday",
        ),
        pytest.param(
            lambda actor: calendar_day_set(
                actor=actor, year=2026, date=date(2025, 12, 31), kind=HOLIDAY, name="元旦"
            ),
            "不在 2026 年度之内",
            id="set-day-of-another-year",
        ),
        pytest.param(
            lambda actor: calendar_day_set(
                actor=actor, year=2026, date=date(2026, 10, 1), kind=HOLIDAY, name="国" * 41
            ),
            "40",
            id="name-too-long",
        ),
    ],
)
def test_services_reject_bad_input_and_change_nothing(operator, call, message):
    before = _table_state()
    with pytest.raises(ApplicationError) as excinfo:
        call(operator)
    assert message in excinfo.value.message
    assert _table_state() == before


@pytest.mark.django_db
def test_removing_the_last_holiday_of_a_year_is_refused(operator):
    calendar_year_create(
        actor=operator,
        year=2027,
        source="x",
        days=[(date(2027, 1, 1), HOLIDAY, "元旦"), (date(2027, 2, 20), WORKDAY, "春节")],
    )
    before = _table_state()
    with pytest.raises(ApplicationError, match="至少要有一天放假"):
        calendar_day_remove(actor=operator, day=CalendarDay.objects.get(date=date(2027, 1, 1)))
    assert _table_state() == before


@pytest.mark.django_db
def test_the_database_refuses_a_day_outside_its_year():
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarDay.objects.create(
            calendar_year_id=2026, date=date(2025, 12, 31), kind=HOLIDAY, name="元旦"
        )


@pytest.mark.django_db
def test_missing_years_looks_at_this_year_and_next():
    assert missing_years(date(2026, 11, 21)) == [2027]
    assert missing_years(date(2025, 6, 1)) == []
    assert missing_years(date(2031, 1, 1)) == [2031, 2032]
    with time_machine.travel(TODAY, tick=False):
        assert missing_years() == [2027]


# --- other processes --------------------------------------------------------------------------


def _edit_as_another_process() -> None:
    """What a service in another worker does: change a day and bump the year's version."""
    CalendarDay.objects.filter(date=date(2026, 10, 10)).delete()
    CalendarYear.objects.filter(year=2026).update(version=F("version") + 1)


@pytest.mark.django_db
def test_another_process_edit_is_seen_at_the_next_check(monkeypatch):
    monkeypatch.setattr(calendar, "REFRESH_INTERVAL", 0.0)
    assert is_working_day(date(2026, 10, 10))
    _edit_as_another_process()
    assert is_working_day(date(2026, 10, 10))  # this process still counts with its copy

    assert refresh_if_stale() == [2026]
    assert not is_working_day(date(2026, 10, 10))


@pytest.mark.django_db
def test_staleness_is_checked_at_most_once_per_interval(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert refresh_if_stale() == []  # nothing cached, nothing to check
    assert is_working_day(date(2026, 10, 10))
    _edit_as_another_process()
    with django_assert_num_queries(0):
        assert refresh_if_stale() == []  # loaded just now: within REFRESH_INTERVAL
    with django_assert_num_queries(1):
        assert refresh_if_stale(force=True) == [2026]
    assert not is_working_day(date(2026, 10, 10))


@pytest.mark.django_db
def test_a_year_entered_elsewhere_replaces_a_cached_miss():
    with pytest.raises(CalendarYearMissing):
        is_working_day(date(2027, 1, 4))
    # Another worker enters 2027 (its service clears only its own process's cache).
    CalendarYear.objects.create(year=2027, source="国办发明电〔2026〕9号")
    CalendarDay.objects.create(
        calendar_year_id=2027, date=date(2027, 1, 1), kind=HOLIDAY, name="元旦"
    )
    with pytest.raises(CalendarYearMissing):
        is_working_day(date(2027, 1, 4))

    assert refresh_if_stale(force=True) == [2027]
    assert is_working_day(date(2027, 1, 4))
    assert not is_working_day(date(2027, 1, 1))


# --- system check -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_system_check_warns_only_when_asked_to_look_at_the_database(django_assert_num_queries):
    with time_machine.travel(TODAY, tick=False):
        with django_assert_num_queries(0):
            assert check_calendar_loaded(databases=None) == []
        warnings = check_calendar_loaded(databases=["default"])
    assert [w.id for w in warnings] == ["govcloud.W001"]
    assert "2027 年法定节假日安排尚未载入" in warnings[0].msg


# --- admin ------------------------------------------------------------------------------------

CHANGELIST = "admin:govcloud_calendaryear_changelist"


def _staff(role: str):
    user = UserFactory(organization=OrganizationFactory(kind=OrganizationKind.BUREAU), role=role)
    make_totp(user)
    return user


@pytest.mark.django_db
def test_system_admin_opens_list_add_and_change_pages(operator):
    client = verified_client(operator)
    year_2026 = CalendarYear.objects.get(year=2026)

    changelist = client.get(reverse(CHANGELIST))
    add = client.get(reverse("admin:govcloud_calendaryear_add"))
    change = client.get(reverse("admin:govcloud_calendaryear_change", args=[year_2026.pk]))

    assert (changelist.status_code, add.status_code, change.status_code) == (200, 200, 200)
    row = next(r for r in changelist.context["cl"].result_list if r.year == 2026)
    assert (row.holiday_count, row.workday_count) == (33, 6)
    assert "国庆节" in change.content.decode()


@pytest.mark.django_db
def test_bureau_staff_may_look_but_not_edit():
    client = verified_client(_staff(Role.STAFF))
    year_2026 = CalendarYear.objects.get(year=2026)
    change = client.get(reverse("admin:govcloud_calendaryear_change", args=[year_2026.pk]))

    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert change.status_code == 200
    assert "国庆节" in change.content.decode()
    assert not change.context["has_change_permission"]
    assert client.get(reverse("admin:govcloud_calendaryear_add")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["department", "vendor"])
def test_department_and_vendor_users_cannot_open_the_admin(world, who):
    client = verified_client(world.users[who])
    for url in (reverse(CHANGELIST), reverse("admin:govcloud_calendaryear_add")):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert "法定节假日" not in response.content.decode()


@pytest.mark.django_db
def test_admin_index_warns_that_2027_is_missing(operator):
    client = verified_client(operator)
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("admin:index")).content.decode()
    assert "2027 年法定节假日安排尚未载入" in page
    assert "临时计算并标记为暂定" in page
    assert f'href="{reverse("admin:govcloud_calendaryear_add")}?year=2027"' in page
    assert "从 chinesecalendar 载入 2027 年" not in page  # the package doesn't have it
    assert 'id="content-main"' in page  # the regular index is still there


@pytest.mark.django_db
def test_admin_index_is_quiet_when_both_years_are_loaded(operator):
    calendar_year_create(actor=operator, year=2027, source="x", days=DAYS_2027)
    client = verified_client(operator)
    with time_machine.travel(TODAY, tick=False):
        page = client.get(reverse("admin:index")).content.decode()
    assert "尚未载入" not in page


@pytest.mark.django_db
def test_admin_index_offers_the_package_when_it_covers_the_missing_year(operator):
    calendar_year_delete(actor=operator, calendar_year=CalendarYear.objects.get(year=2026))
    client = verified_client(operator)
    with time_machine.travel(datetime(2025, 12, 1, tzinfo=BUSINESS_TZ), tick=False):
        page = client.get(reverse("admin:index")).content.decode()
        assert "2026 年法定节假日安排尚未载入" in page
        assert "从 chinesecalendar 载入 2026 年" in page

        response = client.post(
            reverse("admin:govcloud_calendaryear_load_from_package"), {"year": "2026"}, follow=True
        )

    assert response.status_code == 200
    assert "已从 chinesecalendar" in response.content.decode()
    assert is_working_day(date(2026, 10, 10))


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.STAFF, Role.SYSTEM_ADMIN])
def test_only_the_operator_may_load_from_the_package(role):
    client = verified_client(_staff(role))
    response = client.post(
        reverse("admin:govcloud_calendaryear_load_from_package"), {"year": "2026"}
    )
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.STAFF])
def test_no_bureau_edits_the_shared_calendar(role):
    bureau_user = _staff(role)
    before = _table_state()
    with pytest.raises(ActionForbidden, match="平台运维员"):
        calendar_day_set(
            actor=bureau_user, year=2026, date=date(2026, 10, 9), kind=HOLIDAY, name="国庆节"
        )
    with pytest.raises(ActionForbidden):
        calendar_year_delete(actor=bureau_user, calendar_year=CalendarYear.objects.get(year=2026))
    assert _table_state() == before
    client = verified_client(bureau_user)
    year = CalendarYear.objects.get(year=2026)
    page = client.get(reverse("admin:govcloud_calendaryear_change", args=[year.pk]))
    if role == Role.SECURITY_ADMIN:
        assert page.status_code == 403  # not the security admin's duty at all
    else:
        assert page.status_code == 200  # they read the calendar their clocks count on
        assert not page.context["has_change_permission"]


def _formset_post(response, **header: str) -> dict[str, str]:
    """The change form's data as the browser would send it back unchanged."""
    adminform = response.context["adminform"].form
    data = {name: header.get(name, adminform.initial.get(name) or "") for name in adminform.fields}
    data.update({k: v for k, v in header.items() if k not in data})
    formset = response.context["inline_admin_formsets"][0].formset
    prefix = formset.prefix
    data[f"{prefix}-TOTAL_FORMS"] = str(len(formset.initial_forms))
    data[f"{prefix}-INITIAL_FORMS"] = str(len(formset.initial_forms))
    data[f"{prefix}-MIN_NUM_FORMS"] = "0"
    data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
    for i, form in enumerate(formset.initial_forms):
        day = form.instance
        data[f"{prefix}-{i}-id"] = str(day.pk)
        data[f"{prefix}-{i}-calendar_year"] = str(day.calendar_year_id)
        data[f"{prefix}-{i}-date"] = day.date.isoformat()
        data[f"{prefix}-{i}-kind"] = day.kind
        data[f"{prefix}-{i}-name"] = day.name
    return data


@pytest.mark.django_db
def test_admin_add_page_enters_a_year_through_the_service(
    operator, changes, django_capture_on_commit_callbacks
):
    client = verified_client(operator)
    data = {
        "year": "2027",
        "source": "国办发明电〔2026〕9号",
        "notice_url": "",
        "notes": "",
        "days-TOTAL_FORMS": str(len(DAYS_2027)),
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
    }
    for i, (day, kind, name) in enumerate(DAYS_2027):
        data.update(
            {f"days-{i}-date": day.isoformat(), f"days-{i}-kind": kind, f"days-{i}-name": name}
        )
    with pytest.raises(CalendarYearMissing):
        is_working_day(date(2027, 2, 20))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:govcloud_calendaryear_add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    created = CalendarYear.objects.get(year=2027)
    assert created.source == "国办发明电〔2026〕9号"
    assert created.days.count() == len(DAYS_2027)
    assert is_working_day(date(2027, 2, 20))
    assert changes == [2027]
    assert AuditEvent.objects.filter(action="calendar_year.create", actor=operator).exists()


@pytest.mark.django_db
def test_admin_add_page_refuses_a_year_without_days_off(operator):
    client = verified_client(operator)
    data = {
        "year": "2027",
        "source": "国办发明电〔2026〕9号",
        "days-TOTAL_FORMS": "1",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2027-02-20",
        "days-0-kind": WORKDAY,
        "days-0-name": "春节",
    }
    response = client.post(reverse("admin:govcloud_calendaryear_add"), data)
    assert response.status_code == 200
    assert "每个年度至少要有一天放假" in response.content.decode()
    assert 2027 not in loaded_years()


@pytest.mark.django_db
def test_admin_inline_edits_clear_the_cache_and_announce(
    operator, changes, django_capture_on_commit_callbacks
):
    client = verified_client(operator)
    year_2026 = CalendarYear.objects.get(year=2026)
    url = reverse("admin:govcloud_calendaryear_change", args=[year_2026.pk])
    data = _formset_post(client.get(url), source="国办发明电〔2025〕7号")
    index = {v: k.split("-")[1] for k, v in data.items() if k.endswith("-date")}
    data[f"days-{index['2026-10-10']}-DELETE"] = "on"  # the make-up Saturday goes
    data[f"days-{index['2026-09-20']}-date"] = "2026-09-19"  # the make-up Sunday moves
    assert is_working_day(date(2026, 10, 10))
    assert not is_working_day(date(2026, 9, 19))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert not is_working_day(date(2026, 10, 10))
    assert is_working_day(date(2026, 9, 19))
    assert not is_working_day(date(2026, 9, 20))
    year_2026.refresh_from_db()
    assert year_2026.source == "国办发明电〔2025〕7号"
    assert changes == [2026]
    actions = list(
        AuditEvent.objects.filter(actor=operator)
        .exclude(action__startswith="auth.")
        .values_list("action", flat=True)
    )
    assert sorted(actions) == sorted(
        [
            "calendar_year.update",
            "calendar_day.remove",
            "calendar_day.remove",
            "calendar_day.create",
        ]
    )


@pytest.mark.django_db
def test_admin_action_reloads_selected_years_from_the_package(
    operator, changes, django_capture_on_commit_callbacks
):
    calendar_day_remove(actor=operator, day=CalendarDay.objects.get(date=date(2026, 10, 10)))
    client = verified_client(operator)
    year_2026 = CalendarYear.objects.get(year=2026)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST),
            {"action": "reload_from_package", "_selected_action": [str(year_2026.pk)]},
            follow=True,
        )

    assert response.status_code == 200
    assert "已从 chinesecalendar" in response.content.decode()
    assert is_working_day(date(2026, 10, 10))
    assert changes[-1] == 2026


@pytest.mark.django_db
def test_admin_delete_goes_through_the_service(operator, django_capture_on_commit_callbacks):
    client = verified_client(operator)
    year_2025 = CalendarYear.objects.get(year=2025)
    url = reverse("admin:govcloud_calendaryear_delete", args=[year_2025.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert 2025 not in loaded_years()
    assert AuditEvent.objects.filter(action="calendar_year.delete").exists()
