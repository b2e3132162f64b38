"""The living demo: seeded relative to the day it is run (here a frozen 2027-01-20, not the
day the demo was written), with a full signed year of BT-2025, an escalated dispute for the
auditor, a late and an overdue statement, JZ-2026 up to last month, one advice digest per
department, and ``seed_demo`` printing only the login table, aligned."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import time_machine
from django.core.management import call_command

from billing.models import DisputeEscalation, Statement, StatementStatus
from billing.services.statements import statement_due_date
from govcloud import home
from govcloud.demo import demo_parts
from govcloud.management.commands.seed_demo import display_width
from govcloud.models import Contract, OutboxEmail, User
from tests.conftest import verified_client
from tests.sla.factories import at

pytestmark = pytest.mark.django_db

TODAY = at(2027, 1, 20, 10)  # last month: 2026-12


@pytest.fixture
def demo(settings, statement_pdfs_fast, django_capture_on_commit_callbacks):
    settings.DEBUG = True  # the demo is seeded in development mode only
    with (
        time_machine.travel(TODAY, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for part in demo_parts():
            part.run()


def _latest(code: str) -> dict[tuple[int, int], Statement]:
    latest: dict[tuple[int, int], Statement] = {}
    for s in Statement.objects.filter(contract__code=code).order_by("version"):
        latest[(s.year, s.month)] = s
    return latest


def _action(username: str, label: str) -> home.Action:
    user = User.objects.get(username=username)
    (action,) = [a for c in home.cards_for(user) for a in c.actions if a.label == label]
    return action


def test_the_demo_lives_relative_to_the_day_it_is_run(demo):
    bt25 = _latest("BT-2025")
    months_25 = [(2025, m) for m in range(6, 13)] + [(2026, m) for m in range(1, 7)]
    assert sorted(bt25) == months_25  # 13 months, every one signed, none late
    assert {s.status for s in bt25.values()} == {StatementStatus.SIGNED}
    assert not any(s.is_late for s in bt25.values())
    assert bt25[(2026, 4)].version == 2  # April: disputed, answered, signed
    assert Contract.objects.get(code="BT-2025").get_status_display() == "已结束"

    bt26 = _latest("BT-2026")
    assert [bt26[(2026, m)].status for m in (6, 7, 8, 9)] == [StatementStatus.SIGNED] * 4
    escalated = bt26[(2026, 10)]  # L−2: disputed at the time, escalated by the job
    assert escalated.status == StatementStatus.ESCALATED
    assert DisputeEscalation.objects.filter(statement=escalated, decision="").exists()
    late = bt26[(2026, 11)]  # L−1: submitted only "today", after its due day
    assert late.status == StatementStatus.SUBMITTED
    assert late.is_late
    assert (2026, 12) not in bt26  # L: not generated, and its due day has passed
    due, _provisional = statement_due_date(escalated.contract, 2026, 12)
    assert due < date(2027, 1, 20)

    jz = _latest("JZ-2026")
    assert sorted(jz) == [(2026, m) for m in range(3, 13)]
    assert {jz[(2026, m)].status for m in range(3, 12)} == {StatementStatus.SIGNED}
    assert jz[(2026, 12)].status == StatementStatus.SUBMITTED

    with time_machine.travel(TODAY, tick=False):
        # The auditor has the escalated dispute to decide, and its list shows exactly it.
        decide = _action("bt_auditor", "待审计的争议")
        assert decide.count == 1
        page = verified_client(User.objects.get(username="bt_auditor")).get(decide.url)
        assert [s.pk for s in page.context["page"]] == [escalated.pk]
        # The bureaus have the late BT month and JZ's last month to confirm.
        assert _action("bt_bureau", "待确认").count == 1
        assert _action("jz_bureau", "待确认").count == 1
        vendor = User.objects.get(username="bt_vendor")
        labels = [a.label for c in home.cards_for(vendor) for a in c.actions]
        assert "BT-2026 2026-12 待生成" in labels

    # One right-sizing digest per department (not one e-mail per month of advice).
    for username in ("bt_edu", "bt_health", "bt_police", "bt_hrss"):
        dept = User.objects.get(username=username).organization
        keys = set(
            OutboxEmail.objects.filter(
                key__startswith=f"sla:rightsizing-digest:{dept.pk}:"
            ).values_list("key", flat=True)
        )
        assert len(keys) <= 1, username
    assert OutboxEmail.objects.filter(key__startswith="sla:rightsizing-digest:").exists()
    assert not OutboxEmail.objects.filter(key__regex=r"^sla:rightsizing:\d+:department").exists()


def _cell_offsets(line: str) -> list[int]:
    """Display columns where each cell starts (cells are two or more spaces apart)."""
    return [display_width(line[: m.start()]) for m in re.finditer(r"(?:^|(?<=\s{2}))\S", line)]


def test_seed_demo_prints_only_the_login_table_aligned(demo):
    out = io.StringIO()
    with time_machine.travel(TODAY, tick=False):
        call_command("seed_demo", stdout=out)
    lines = out.getvalue().splitlines()
    users = User.objects.filter(email__endswith="@demo.govcloud.local").count()
    assert len(lines) == users + 2  # header, rule, one row per login — nothing else
    header, rule, *rows = lines
    assert header.split()[:3] == ["用户名", "单位", "角色"]
    assert set(rule) <= {"-", " "}
    starts = _cell_offsets(header)
    assert len(starts) == 6
    for row in rows:
        assert _cell_offsets(row) == starts, row
    bureau = next(r for r in rows if r.startswith("bt_bureau "))
    assert "Demo-2026-gov" in bureau
    assert re.search(r"demo-sign-org-\d+$", bureau)
    assert next(r for r in rows if r.startswith("bt_edu ")).endswith("—")


def test_the_demo_scheduler_runs_the_beat_jobs_at_their_times(db, settings, caplog):
    import logging

    from django.core import mail

    from govcloud.management.commands.run_portal import Scheduler, entries_from
    from govcloud.models import OutboxStatus
    from govcloud.outbox import outbox_enqueue

    entries = entries_from(settings.CELERY_BEAT_SCHEDULE)
    assert [e.task for e in entries] == [
        conf["task"] for conf in settings.CELERY_BEAT_SCHEDULE.values()
    ]
    scheduler = Scheduler(entries)
    with time_machine.travel(TODAY, tick=False), caplog.at_level(logging.INFO):
        scheduler.run_all()  # at start: every job once, none fails
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len([r for r in caplog.records if "periodic job" in r.getMessage()]) == len(entries)

    # An e-mail nobody woke a worker for (no commit in a test): the flush job sends it when
    # its interval comes round, not before.
    with time_machine.travel(TODAY, tick=False):
        outbox_enqueue(key="demo:scheduler", recipients=["a@example.cn"], subject="s", body="b")
    row = OutboxEmail.objects.get(key="demo:scheduler")
    with time_machine.travel(at(2027, 1, 20, 10, 1), tick=False):
        scheduler.tick()
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    with time_machine.travel(at(2027, 1, 20, 10, 3), tick=False):
        assert scheduler.tick() <= 120
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert [m.to for m in mail.outbox] == [["a@example.cn"]]
