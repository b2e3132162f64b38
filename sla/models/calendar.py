"""The official working-day calendar (法定节假日安排), kept year by year in the database.

Each year the State Council's General Office publishes a notice (国务院办公厅关于 20XX 年部分节假日
安排的通知) listing the days off and the weekend days that become working days. ``CalendarYear`` is
one such notice; ``CalendarDay`` one dated entry of it. ``sla.calendar`` turns the rows into the
``sla.workdays.YearCalendar`` the SLA clocks count with. A year without a ``CalendarYear`` is
*missing*: clocks in it are provisional (weekends only) until the year is entered.

Only ``sla.calendar``'s services write these tables, so that every change is audited, bumps
``CalendarYear.version`` and tells every process to forget its cached copy.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FIRST_YEAR = 2000
LAST_YEAR = 2100


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    WORKDAY = "workday", _("调休上班")


class CalendarYear(models.Model):
    """One year's official schedule, with where it comes from."""

    year = models.PositiveSmallIntegerField(
        _("年度"),
        unique=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
    )
    source = models.CharField(
        _("依据"),
        max_length=200,
        help_text=_(
            "国务院办公厅通知的文号，如“国办发明电〔2025〕7号”，或“chinesecalendar 1.11.0”。"
        ),
    )
    notice_url = models.URLField(_("通知链接"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Bumped in the same transaction as every change to the year's days; other processes compare
    # it with the version their cached copy was built from (see sla.calendar).
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        verbose_name = _("法定节假日")
        verbose_name_plural = _("法定节假日")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR),
                name="calendar_year_in_range",
                violation_error_message=_("年度必须在 2000 与 2100 之间。"),
            ),
        ]

    def __str__(self) -> str:
        return _("%(year)s 年节假日安排") % {"year": self.year}


class CalendarDay(models.Model):
    """A day off or a make-up working day of one year's schedule.

    Holidays are stored as the notice lists them, weekend days of a holiday run included (国庆节
    10-01…10-07); a weekend day that is not listed is simply a day off.
    """

    # Keyed by the year number rather than the row id: the rows read naturally, the data
    # migration needs no id look-ups, and the constraint below can compare the two columns.
    calendar_year = models.ForeignKey(
        CalendarYear,
        verbose_name=_("年度"),
        to_field="year",
        on_delete=models.CASCADE,
        related_name="days",
    )
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(
        _("节日"), max_length=40, help_text=_("如“国庆节”；调休上班日填所属节日。")
    )

    class Meta:
        verbose_name = _("放假与调休日期")
        verbose_name_plural = _("放假与调休日期")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DayKind.values),
                name="calendar_day_kind_valid",
                violation_error_message=_("类型必须是放假或调休上班。"),
            ),
            models.CheckConstraint(
                condition=Q(date__year=F("calendar_year")),
                name="calendar_day_in_its_year",
                violation_error_message=_("日期必须在所属年度之内。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name} {self.get_kind_display()}"

    def clean(self) -> None:
        errors = {}
        if self.date and self.calendar_year_id and self.date.year != self.calendar_year_id:
            errors["date"] = _("日期 %(date)s 不在 %(year)s 年度之内。") % {
                "date": self.date.isoformat(),
                "year": self.calendar_year_id,
            }
        # Every notice so far moves working days onto Saturdays and Sundays only; a "make-up"
        # Monday would be a no-op in the arithmetic and is certainly a typo for a nearby date.
        elif self.date and self.kind == DayKind.WORKDAY and self.date.weekday() < 5:
            errors["date"] = _("调休上班日必须是周六或周日，%(date)s 是工作日。") % {
                "date": self.date.isoformat()
            }
        if errors:
            raise ValidationError(errors)
