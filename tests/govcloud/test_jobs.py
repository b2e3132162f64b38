"""Durable jobs (``govcloud.jobs``): recorded with the action, run once, swept when lost."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from govcloud.jobs import (
    MAX_ATTEMPTS,
    broker_reset,
    job_retry,
    job_run,
    job_schedule,
    jobs_due,
    jobs_sweep,
    run_job,
)
from govcloud.models import Job, JobStatus

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "govcloud.health_check"  # harmless, reads the database: a job that works
MISSING = "tests.no_such_task"  # not in the registry: a job that fails


def schedule(task=TASK, *args, **kwargs) -> Job:
    with transaction.atomic():
        return job_schedule(task, *args, **kwargs)


def test_a_job_commits_with_its_action_and_runs_after_commit():
    job = schedule()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)  # eager: run on commit
    assert job.finished_at is not None
    assert job_run(pk=job.pk) is False  # done once; running it again does nothing


def test_a_rolled_back_action_leaves_no_job_and_enqueues_nothing():
    def failing_action():
        with transaction.atomic():
            job_schedule(TASK)
            raise RuntimeError("the action failed")

    with mock.patch.object(run_job, "delay") as delay, pytest.raises(RuntimeError):
        failing_action()
    assert not Job.objects.exists()
    delay.assert_not_called()


def test_the_same_work_scheduled_twice_before_it_ran_is_one_job():
    with mock.patch.object(run_job, "delay"), transaction.atomic():
        first = job_schedule(TASK, key="doc:1")
        second = job_schedule(TASK, key="doc:1")
    assert first.pk == second.pk
    assert Job.objects.count() == 1


def test_a_job_scheduled_while_the_same_work_runs_is_a_new_job():
    with mock.patch.object(run_job, "delay"):
        running = schedule(key="doc:2")
        Job.objects.filter(pk=running.pk).update(
            status=JobStatus.RUNNING, claimed_at=timezone.now()
        )
        again = schedule(key="doc:2")
    assert again.pk != running.pk  # the running render may have read the state before this


def test_broker_down_the_action_commits_fast_and_the_sweeper_runs_the_job_later():
    with mock.patch.object(run_job, "delay", side_effect=OperationalError("broker down")):
        job = schedule()
        assert jobs_sweep() == []  # within the grace after commit: left alone
        with time_machine.travel(timezone.now() + timedelta(minutes=1)):
            assert jobs_sweep() == []  # still down: nothing enqueued, nothing lost
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING

    broker_reset()  # the broker is back (and this process's back-off has passed)
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert jobs_sweep() == [job.pk]  # eager: runs at once
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert jobs_sweep() == []


def test_a_failing_job_backs_off_then_fails_visibly_and_can_be_retried():
    with mock.patch.object(run_job, "delay"):
        job = schedule(MISSING)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert job_run(pk=job.pk) is False
        job.refresh_from_db()
        assert job.attempts == attempt
        assert MISSING in job.last_error
        if attempt < MAX_ATTEMPTS:
            assert job.status == JobStatus.PENDING
            assert job.run_after > timezone.now()  # backs off
            assert job.pk not in jobs_due()
            Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert job.status == JobStatus.FAILED
    assert job.pk not in jobs_due(grace=timedelta(0))

    assert job_retry(pk=job.pk) is True
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)
    assert job_retry(pk=job.pk) is False  # only failed jobs


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over_a_live_one_is_not(settings):
    settings.JOBS_STALE_CLAIM_SECONDS = 60
    with mock.patch.object(run_job, "delay"):
        job = schedule()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, claimed_at=timezone.now())
    assert job.pk not in jobs_due(grace=timedelta(0))
    assert job_run(pk=job.pk) is False  # a worker is on it

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert job.pk in jobs_due()
        assert job_run(pk=job.pk) is True
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)


def test_claiming_is_one_conditional_update_two_runners_cannot_both_run():
    with mock.patch.object(run_job, "delay"):
        job = schedule()
    ran = []
    with mock.patch("govcloud.celery.app.tasks", {TASK: lambda: ran.append(1)}):
        assert job_run(pk=job.pk) is True
        assert job_run(pk=job.pk) is False
    assert ran == [1]
    assert connection.vendor in {"sqlite", "postgresql"}


def test_after_one_refusal_the_next_enqueues_do_not_wait_for_the_broker_again():
    with (
        mock.patch.object(run_job, "delay", side_effect=OperationalError("broker down")) as delay,
        transaction.atomic(),
    ):
        for n in range(3):
            job_schedule(TASK, key=f"doc:{n}")
    assert delay.call_count == 1  # one refusal; the other two left to the sweeper at once
    assert Job.objects.filter(status=JobStatus.PENDING).count() == 3
