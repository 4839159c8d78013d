"""The beat schedule, run inside the serving process where no worker exists.

With a broker, ``celery worker -B`` runs ``CELERY_BEAT_SCHEDULE``: the SLA check, the routing
sweeper, service-step retries, webhook dispatch, housekeeping and the group-buying cut-offs. In
the embedded mode (no broker, every task eager) there is no worker, so ``runserver`` starts
Celery's own beat service in a thread of its process: the same schedule, kept by Celery's own
scheduler (intervals and crontabs alike), each due job run in that thread, one after another,
never through a broker. The jobs are safe to run twice (a worker may get a message again), so
two servers on one database do no harm.
"""

import logging
import threading
from functools import partial
from typing import Any

from celery import beat
from django.conf import settings
from django.db import close_old_connections, connections

from oms.celery import app
from oms.tasks_queue import task_named

logger = logging.getLogger(__name__)

# The longest the thread sleeps before it looks at the schedule again (and notices a stop).
TICK_SECONDS = 1

_lock = threading.Lock()
_running: "PeriodicJobs | None" = None


def embedded_mode() -> bool:
    """True where no worker runs the beat schedule: Celery runs every task eagerly, in-process."""
    return bool(app.conf.task_always_eager)


class EmbeddedScheduler(beat.Scheduler):
    """Celery beat's in-memory scheduler, running each due job itself instead of sending it.

    ``jobs`` is a beat schedule (``CELERY_BEAT_SCHEDULE`` unless given). A job runs on the
    scheduler thread's own database connection, closed around it as a request's is; a job that
    fails is logged and runs again at its next time, as under a worker.
    """

    def __init__(
        self, *args: Any, jobs: dict[str, dict[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        self.jobs = settings.CELERY_BEAT_SCHEDULE if jobs is None else jobs
        for job in self.jobs.values():
            task_named(str(job["task"]))  # a misspelt task fails the start, not each tick
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        # Only the jobs: beat's own entry (purging expired results) has no result backend here.
        self.merge_inplace(self.jobs)  # type: ignore[arg-type]  # beat takes the settings' dicts

    @property
    def producer(self) -> None:  # type: ignore[override]
        """No producer: nothing is sent, so no broker connection is opened."""
        return None

    def apply_entry(self, entry: beat.ScheduleEntry, producer: Any = None) -> None:
        logger.debug("periodic job %s (%s) starts", entry.name, entry.task)
        close_old_connections()
        try:
            task_named(str(entry.task)).apply(entry.args, entry.kwargs, throw=True)
        except Exception:
            logger.exception("periodic job %s (%s) failed", entry.name, entry.task)
        finally:
            close_old_connections()


class PeriodicJobs(threading.Thread):
    """A daemon thread running Celery's beat service with the ``EmbeddedScheduler``."""

    def __init__(
        self, *, jobs: dict[str, dict[str, Any]] | None = None, tick_seconds: int = TICK_SECONDS
    ) -> None:
        super().__init__(name="periodic-jobs", daemon=True)
        self.service = beat.Service(
            app,
            max_interval=tick_seconds,
            scheduler_cls=partial(EmbeddedScheduler, jobs=jobs),  # type: ignore[arg-type]
        )
        self.scheduler = self.service.scheduler  # built here, so a bad schedule fails the caller

    def run(self) -> None:
        app.set_current()
        try:
            self.service.start()
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        """Stop after the job running now, if any; wait for it."""
        if self.is_alive():
            self.service.stop(wait=True)
            self.join()


def periodic_jobs_start() -> PeriodicJobs | None:
    """Start running the beat schedule in this process, once; ``None`` where a worker runs it.

    Called by ``runserver`` once it serves (under the autoreloader that is in the process it
    restarts, not in the one that watches the files).
    """
    global _running
    if not embedded_mode():
        return None
    with _lock:
        if _running is None or not _running.is_alive():
            _running = PeriodicJobs()
            _running.start()
            names = ", ".join(sorted(settings.CELERY_BEAT_SCHEDULE))
            logger.debug("periodic jobs run in this process (no broker): %s", names)
        return _running
