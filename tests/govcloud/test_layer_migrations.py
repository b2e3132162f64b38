"""The migrations of the one-way house keep data (issue: four layers, no model cycle).

Two things moved: the official calendar (sla → govcloud, tables renamed) and the link between
a ticket and the resource history it wrote (``billing.ResourceChange.request`` → the request
line's ``resource_change``). Each is walked back to the schema before the move and forward again.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from govcloud.models import CalendarDay, CalendarYear
from requests_app.models import RequestLine
from tests.requests_app.factories import delivered_ticket

BEFORE_THE_MOVE = [
    ("govcloud", "0003_business_systems_and_outbox"),
    ("billing", "0006_statement_documents"),
    ("requests_app", "0002_line_previous_configuration"),
    ("sla", "0004_utilization_and_advice"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_calendar_and_ticket_links_survive_the_move_both_ways(world, official_calendar):
    ticket = delivered_ticket(world)
    line = ticket.lines.get()
    change_id = line.resource_change_id
    assert change_id is not None
    # What the calendar holds now (a transactional test's flush may have left only the years
    # the fixture reloads; migrating forward again loads the package's other years as well).
    years = set(CalendarYear.objects.values_list("year", "source", "version"))
    days = set(CalendarDay.objects.values_list("date", "kind", "name"))
    assert years
    assert days

    # Back to the schema before the move: sla owns the tables, billing points at the ticket.
    _migrate(BEFORE_THE_MOVE)
    tables = connection.introspection.table_names()
    assert "sla_calendaryear" in tables
    assert "govcloud_calendaryear" not in tables
    assert _scalar("SELECT COUNT(*) FROM sla_calendaryear") == len(years)
    assert _scalar("SELECT COUNT(*) FROM sla_calendarday") == len(days)
    assert (
        _scalar("SELECT request_id FROM billing_resourcechange WHERE id = %s", [change_id])
        == ticket.pk
    )

    # And forward again: nothing lost, nothing doubled.
    _migrate(_latest())
    assert years <= set(CalendarYear.objects.values_list("year", "source", "version"))
    assert days <= set(CalendarDay.objects.values_list("date", "kind", "name"))
    kept_years = {year for year, _source, _version in years}
    assert CalendarDay.objects.filter(calendar_year__in=kept_years).count() == len(days)
    assert RequestLine.objects.get(pk=line.pk).resource_change_id == change_id
