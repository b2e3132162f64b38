"""Durable jobs: every document render or signature task has a row before it has a message.

A service calls :func:`job_schedule` inside its transaction. The row commits (or rolls back)
with the action; after commit the job is enqueued (``govcloud.run_job``), which fails within
seconds when the broker is down (settings: short broker timeouts, no result backend wait) and is
then only logged. Whatever was lost between commit, broker and worker — a broker outage, a
worker killed mid-task — the periodic :func:`jobs_sweep` finds it still *pending* (or *running*
with a stale claim) and enqueues it again.

Running a job: claim (one conditional UPDATE: pending → running, or a stale running claim taken
over), commit, run the named Celery task's body in this process, mark *done* — or back to
*pending* with a back-off and the error, *failed* after ``MAX_ATTEMPTS``. The tasks behind jobs
are idempotent (a render that exists is kept, an e-mail is one outbox row per key and
recipient), so a job run twice after a takeover does its work once.

``govcloud`` is the lowest layer: a job names its task by the Celery task name, and the task is
looked up in the Celery registry when the job runs, never imported from an upper app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from govcloud.models import Contract, Job, JobStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
#: Before this, a pending job is left to the enqueue that follows its commit.
SWEEP_GRACE = timedelta(seconds=30)


def stale_claim() -> timedelta:
    """A job running longer than this was abandoned by its worker (longer than any task's
    hard time limit, so a slow render is never run twice at once)."""
    limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", 15 * 60) or 15 * 60
    return timedelta(seconds=getattr(settings, "JOBS_STALE_CLAIM_SECONDS", limit + 60))


def job_schedule(
    task: str,
    *args: Any,
    key: str | None = None,
    contract: Contract | None = None,
    **kwargs: Any,
) -> Job:
    """Record a job (inside the caller's transaction) and enqueue it once that commits.

    ``key`` (default: the task and its arguments) makes the record once-only while it waits: a
    second schedule of the same work before it started returns the waiting job; once it runs, a
    new schedule is a new job (the running one may have read the state before this change).
    """
    key = (key or _default_key(task, args, kwargs))[:200]
    waiting = Job.objects.filter(key=key, status=JobStatus.PENDING)
    job = waiting.first()
    if job is None:
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    task=task, args=list(args), kwargs=kwargs, key=key, contract=contract
                )
        except IntegrityError:  # scheduled concurrently: that one stands
            job = waiting.get()
    # Enqueued (again) after this commit: a waiting job whose message was lost runs now; one
    # that runs twice is claimed once.
    pk = job.pk
    transaction.on_commit(lambda: job_enqueue(pk))
    return job


def _default_key(task: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    parts = [task, *map(str, args), *(f"{k}={v}" for k, v in sorted(kwargs.items()))]
    return ":".join(parts)


#: After a refused enqueue, this process leaves the broker alone for a while: one request that
#: schedules several jobs and e-mails waits for one refusal, not one per message.
BROKER_BACKOFF_SECONDS = 30.0
_broker_refused_at: float | None = None


def broker_send(send: Callable[[], Any], what: str) -> bool:
    """Publish through ``send``; False (logged) when the broker refuses or refused just now.

    The row behind the message stays pending for the sweeper (jobs) or the flush (e-mails).
    """
    global _broker_refused_at
    if _broker_refused_at is not None:
        if time.monotonic() - _broker_refused_at < BROKER_BACKOFF_SECONDS:
            logger.warning("broker refused recently: %s left to the sweeper", what)
            return False
        _broker_refused_at = None
    try:
        send()
    except Exception:
        _broker_refused_at = time.monotonic()
        logger.warning("could not enqueue %s; the sweeper sends it once the broker is back", what)
        return False
    return True


def broker_reset() -> None:
    """Forget a recent refusal (the broker is known to be back; tests)."""
    global _broker_refused_at
    _broker_refused_at = None


def job_enqueue(pk: int) -> bool:
    """Hand the job to the broker; False when the broker cannot take it now."""
    return broker_send(lambda: run_job.delay(pk), f"job {pk}")


def _claim(pk: int) -> Job | None:
    now = timezone.now()
    claimable = Q(status=JobStatus.PENDING) | Q(
        status=JobStatus.RUNNING, claimed_at__lte=now - stale_claim()
    )
    with transaction.atomic():
        claimed = Job.objects.filter(Q(pk=pk) & claimable).update(
            status=JobStatus.RUNNING, claimed_at=now
        )
        if not claimed:
            return None
        job = Job.objects.get(pk=pk)
        job.attempts += 1
        job.save(update_fields=["attempts"])
        return job


def job_run(*, pk: int) -> bool:
    """Run one job if it is still to run; True when this call completed it."""
    from govcloud.celery import app  # on use, as govcloud.health: the broker client is heavy

    job = _claim(pk)
    if job is None:
        return False
    try:
        if job.task not in app.tasks:
            app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery)
        task = app.tasks[job.task]
        task(*job.args, **job.kwargs)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        failed = job.attempts >= MAX_ATTEMPTS
        Job.objects.filter(pk=pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED if failed else JobStatus.PENDING,
            last_error=error,
            run_after=timezone.now() + timedelta(seconds=30 * 2 ** (job.attempts - 1)),
            finished_at=timezone.now() if failed else None,
        )
        logger.exception("job %s (%s) failed, attempt %s", pk, job.task, job.attempts)
        return False
    Job.objects.filter(pk=pk, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE, finished_at=timezone.now(), last_error=""
    )
    return True


def jobs_due(*, grace: timedelta = SWEEP_GRACE) -> list[int]:
    """Jobs the sweeper should enqueue: pending past their back-off (and past the grace of the
    enqueue after commit), or running under a claim nobody will finish."""
    now = timezone.now()
    return list(
        Job.objects.filter(
            Q(status=JobStatus.PENDING, run_after__lte=now, created_at__lte=now - grace)
            | Q(status=JobStatus.RUNNING, claimed_at__lte=now - stale_claim())
        )
        .order_by("run_after", "id")
        .values_list("pk", flat=True)[:500]
    )


def job_retry(*, pk: int) -> bool:
    """Put a failed job back in the queue (admin action); False when it is not failed."""
    return bool(
        Job.objects.filter(pk=pk, status=JobStatus.FAILED).update(
            status=JobStatus.PENDING, attempts=0, run_after=timezone.now(), finished_at=None
        )
    )


@shared_task(name="govcloud.run_job")
def run_job(pk: int) -> bool:
    return job_run(pk=pk)


@shared_task(name="govcloud.jobs_sweep")
def jobs_sweep(grace_seconds: float = SWEEP_GRACE.total_seconds()) -> list[int]:
    """Periodic: enqueue every job still due; stops at the first refusal (broker still down)."""
    enqueued = []
    for pk in jobs_due(grace=timedelta(seconds=grace_seconds)):
        if not job_enqueue(pk):
            break
        enqueued.append(pk)
    return enqueued
