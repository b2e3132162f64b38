"""Load every year the installed ``chinesecalendar`` package covers (2004–2026 with 1.11.0).

Stored per year: every official day off as the State Council notice lists it, weekend days inside
a holiday run included (国庆节 10-01…10-07 is seven rows), plus the make-up working days. Storing
the weekend holidays costs a few rows and keeps each run complete for whoever edits it in the
admin; the arithmetic treats them exactly like ordinary weekends.

Years already present (entered by hand, or loaded by ``sla.0002`` before the calendar moved
to the core) are left alone. Years the package gains later are loaded in the admin ("从 chinesecalendar
载入"), not by re-running this.
"""

from django.db import migrations

# Frozen copy of govcloud.calendar.HOLIDAY_NAMES_ZH: migrations must not import app code.
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
SOURCE_PREFIX = "chinesecalendar"


def load(apps, schema_editor):
    import chinese_calendar

    CalendarYear = apps.get_model("govcloud", "CalendarYear")
    CalendarDay = apps.get_model("govcloud", "CalendarDay")
    db = schema_editor.connection.alias

    # The package has no list of covered years; a year is covered when it has holidays.
    covered = sorted({day.year for day in chinese_calendar.holidays})
    present = set(
        CalendarYear.objects.using(db).filter(year__in=covered).values_list("year", flat=True)
    )
    years = [year for year in covered if year not in present]
    source = f"{SOURCE_PREFIX} {chinese_calendar.__version__}"
    CalendarYear.objects.using(db).bulk_create(
        CalendarYear(year=year, source=source, notes="由数据库迁移从 chinesecalendar 载入。")
        for year in years
    )
    wanted = set(years)
    days = []
    for table, kind in ((chinese_calendar.holidays, "holiday"), (chinese_calendar.workdays, "workday")):
        for day in sorted(d for d in table if d.year in wanted):
            _is_holiday, english = chinese_calendar.get_holiday_detail(day)
            days.append(
                CalendarDay(
                    calendar_year_id=day.year,  # the foreign key points at CalendarYear.year
                    date=day,
                    kind=kind,
                    name=HOLIDAY_NAMES_ZH.get(english, english or ""),
                )
            )
    CalendarDay.objects.using(db).bulk_create(days, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("govcloud", "0004_official_calendar")]

    # Nothing to undo: the rows go back to sla's tables with them (govcloud.0004's reverse), and
    # a database that got them from sla.0002 must not lose them on the way.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
