"""The embedded mode runs the beat schedule itself: a due step retry is picked up without a worker.

Committed transactions: the scheduler closes its database connection around each job, as it
does in its own thread under runserver, and the thread test reads the rows from another thread.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.utils import timezone

from oms.celery import app as celery_app
from oms.embedded.scheduler import EmbeddedScheduler, PeriodicJobs, periodic_jobs_start
from orchestration.catalogue import catalogue_install
from orchestration.models import ServiceStep, StepStatus
from orchestration.services.steps import step_run
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def retry_due(merchant) -> ServiceStep:
    """An EV order's battery lock that failed once (factory down) and whose retry time came."""
    catalogue_install()
    battery = ProductFactory(merchant=merchant, category="ev", name="Battery pack")
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=battery, on_hand=10)
    order = make_order(merchant=merchant, lines=[(battery, 1)])
    lock = ServiceStep.objects.get(order=order, key="battery-lock")
    ServiceStep.objects.filter(pk=lock.pk).update(
        status=StepStatus.READY,
        parameters={"outage_attempts": 1},
        reference="",
        result={},
        attempts=0,
        max_attempts=3,
        plan_version=2,
    )
    assert step_run(step_id=lock.pk).state == "retry"
    lock.refresh_from_db()
    assert lock.status == StepStatus.READY and lock.next_attempt_at > timezone.now()
    ServiceStep.objects.filter(pk=lock.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    return lock


def test_the_scheduler_holds_the_beat_schedule_and_nothing_else():
    scheduler = EmbeddedScheduler(app=celery_app)
    assert {name: entry.task for name, entry in scheduler.schedule.items()} == {
        name: job["task"] for name, job in settings.CELERY_BEAT_SCHEDULE.items()
    }
    assert "orchestration.sweep_steps" in {e.task for e in scheduler.schedule.values()}
    # Every job first runs one interval after the start, as under `celery worker -B`.
    assert scheduler.tick() > 0
    assert all(e.total_run_count == 0 for e in scheduler.schedule.values())


def test_a_due_step_retry_runs_at_the_schedulers_tick(retry_due):
    lock = retry_due
    an_hour_ago = timezone.now() - timedelta(hours=1)
    jobs = {
        name: {**job, "last_run_at": an_hour_ago}
        for name, job in settings.CELERY_BEAT_SCHEDULE.items()
    }
    scheduler = EmbeddedScheduler(app=celery_app, jobs=jobs)
    ticks = 0
    while scheduler.tick() == 0:  # 0: it ran a job and another may be due
        ticks += 1
    assert ticks == len(jobs)  # every job of the schedule ran once, none failed the tick
    lock.refresh_from_db()
    assert lock.status == StepStatus.DONE and lock.attempts == 2
    assert lock.result["data"]["serials"]


def test_a_failing_job_is_logged_and_the_others_still_run(retry_due, caplog, monkeypatch):
    lock = retry_due
    long_ago = timezone.now() - timedelta(hours=1)
    jobs = {
        "broken": {"task": "orchestration.check_slas", "schedule": 60.0, "last_run_at": long_ago},
        "steps": {"task": "orchestration.sweep_steps", "schedule": 60.0, "last_run_at": long_ago},
    }

    def down(**kwargs):
        raise RuntimeError("SLA store down")

    monkeypatch.setattr("orchestration.services.sla.sla_check", down)
    scheduler = EmbeddedScheduler(app=celery_app, jobs=jobs)
    while scheduler.tick() == 0:
        pass
    assert "periodic job broken (orchestration.check_slas) failed" in caplog.text
    lock.refresh_from_db()
    assert lock.status == StepStatus.DONE


def test_a_misspelt_job_fails_the_start():
    from oms.tasks_queue import UnknownTask

    with pytest.raises(UnknownTask):
        EmbeddedScheduler(app=celery_app, jobs={"x": {"task": "orchestration.sweep_stepz"}})


def test_the_thread_runs_a_due_retry_by_itself(retry_due):
    lock = retry_due
    jobs = {"sweep-steps": {"task": "orchestration.sweep_steps", "schedule": 1.0}}
    thread = PeriodicJobs(jobs=jobs, tick_seconds=1)
    thread.start()
    try:
        # Only the thread touches the database meanwhile (SQLite's shared in-memory test
        # database locks whole tables); the run count is kept in memory.
        deadline = time.monotonic() + 20
        while thread.scheduler.schedule["sweep-steps"].total_run_count == 0:
            assert time.monotonic() < deadline, "the sweep did not run within 20 s"
            time.sleep(0.1)
    finally:
        thread.stop()  # waits for the job under way
    assert not thread.is_alive()
    lock.refresh_from_db()
    assert lock.status == StepStatus.DONE and lock.attempts == 2


def test_the_periodic_jobs_start_once_per_process():
    first = periodic_jobs_start()
    try:
        assert first is not None and first.is_alive()
        assert periodic_jobs_start() is first
    finally:
        first.stop()  # before any job is due: the first runs 30 s after the start
    assert not first.is_alive()


def test_no_periodic_jobs_where_a_worker_runs_them():
    celery_app.conf.task_always_eager = False  # a broker: `celery worker -B` runs the schedule
    try:
        assert periodic_jobs_start() is None
    finally:
        celery_app.conf.task_always_eager = True


def test_runserver_is_the_projects_with_static_files_left_to_whitenoise():
    assert get_commands()["runserver"] == "oms.embedded"
    command = load_command_class("oms.embedded", "runserver")
    options = command.create_parser("manage.py", "runserver").parse_args([])
    assert options.use_static_handler is False and options.periodic_jobs is True
    off = command.create_parser("manage.py", "runserver").parse_args(["--no-periodic-jobs"])
    assert off.periodic_jobs is False


@pytest.mark.parametrize("redis_url, every", [("", 10.0), ("redis://127.0.0.1:6379/9", 60.0)])
def test_retries_are_swept_often_where_no_message_waits_for_them(redis_url, every):
    """Eager: the sweep is what runs a retry. With a broker it only catches lost messages."""
    probe = (
        "from django.conf import settings as s; "
        "print(s.CELERY_BEAT_SCHEDULE['orchestration-sweep-steps']['schedule'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "OMS_STEP_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=Path(settings.BASE_DIR),
        env={**env, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.splitlines()[-1] == str(every), result.stderr
