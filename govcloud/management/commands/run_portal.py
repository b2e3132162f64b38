"""The portal with its periodic jobs, for the embedded default (``make demo``): Django's
development server, and in a thread beside it a beat-equivalent scheduler that runs the
``CELERY_BEAT_SCHEDULE`` tasks in this process at their intervals and crontab times.

Production runs ``celery -A govcloud beat`` and workers instead (README, "Running it"); this
command refuses to start when a broker is configured, so a deployment never runs the jobs
twice. At start every job runs once, so the demo's clocks, due dates, escalations and
reminders are current from the first page.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import BaseSchedule, schedule
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from govcloud.celery import app

logger = logging.getLogger(__name__)
#: The longest the scheduler sleeps between checks (a crontab job is at most this late).
MAX_SLEEP = 30.0


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] | None = None
    last_run_at: datetime | None = None


def entries_from(beat: dict[str, dict[str, Any]]) -> list[Entry]:
    """The beat schedule as entries (seconds and timedeltas become Celery schedules)."""
    result = []
    for name, conf in beat.items():
        every = conf["schedule"]
        if isinstance(every, int | float):
            every = schedule(timedelta(seconds=every), app=app)
        elif isinstance(every, timedelta):
            every = schedule(every, app=app)
        result.append(
            Entry(
                name=name,
                task=conf["task"],
                schedule=every,
                args=tuple(conf.get("args", ())),
                kwargs=dict(conf.get("kwargs", {})),
            )
        )
    return result


class Scheduler:
    """Runs due entries in this process, as Celery beat would send them to a worker."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        # As a worker does at start: import every app's ``tasks`` module so that names resolve.
        app.autodiscover_tasks([config.name for config in apps.get_app_configs()], force=True)

    def run(self, entry: Entry) -> None:
        entry.last_run_at = entry.schedule.now()
        task = app.tasks.get(entry.task)
        if task is None:
            logger.error("periodic job %s: no task %s", entry.name, entry.task)
            return
        try:
            result = task.apply(args=entry.args, kwargs=entry.kwargs or {})
            if result.failed():
                logger.error("periodic job %s failed: %s", entry.name, result.result)
            else:
                logger.info("periodic job %s done: %s", entry.name, result.result)
        except Exception:
            logger.exception("periodic job %s failed", entry.name)

    def run_all(self) -> None:
        for entry in self.entries:
            self.run(entry)

    def tick(self) -> float:
        """Run the entries that are due; seconds until the next check."""
        wait = MAX_SLEEP
        for entry in self.entries:
            last = entry.last_run_at or entry.schedule.now()
            due, next_check = entry.schedule.is_due(last)
            if due:
                self.run(entry)
            wait = min(wait, max(float(next_check), 1.0))
        return wait

    def forever(self, stop: threading.Event) -> None:
        self._step(self.run_all)
        while not stop.wait(self._step(self.tick) or MAX_SLEEP):
            pass

    @staticmethod
    def _step(step: Any) -> Any:
        """The thread's database connection is renewed around each step, as a worker does
        around a task (only here: a caller's own connection is left alone)."""
        close_old_connections()
        try:
            return step()
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = (
        "启动门户（开发服务器），并在同一进程中按 CELERY_BEAT_SCHEDULE 运行定时任务"
        "（嵌入式默认配置，用于演示）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-jobs", action="store_true", help="只启动门户，不运行定时任务。")

    def handle(self, *args, **options):
        if settings.CELERY_BROKER_URL:
            raise CommandError(
                "已配置 CELERY_BROKER_URL：定时任务由 Celery beat 与 worker 运行，"
                "请用 runserver/gunicorn 启动门户。"
            )
        stop = threading.Event()
        if not options["no_jobs"]:
            scheduler = Scheduler(entries_from(settings.CELERY_BEAT_SCHEDULE))
            thread = threading.Thread(
                target=scheduler.forever, args=(stop,), name="periodic-jobs", daemon=True
            )
            thread.start()
            self.stdout.write(f"定时任务：{len(scheduler.entries)} 项，已在后台运行。")
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            stop.set()
