"""Enqueue a Celery task by its name: the one place services hand work to the workers.

Services name the task (``"orchestration.run_step"``) instead of importing a ``tasks`` module,
so tasks may import the services they call and no cycle forms. By default the task is sent once
the caller's transaction commits (``transaction.on_commit``; at once outside a transaction), so
a worker never looks for rows that are not committed and a rolled-back change sends nothing.

The task is taken from the Celery app's registry and sent with ``apply_async``, which honours
``CELERY_TASK_ALWAYS_EAGER`` (``send_task`` would publish to the broker even in eager mode).
A web process imports the apps' ``tasks`` modules the first time a name is missing, as a
worker does at start. A failed send (broker down, or the task itself raising in eager mode) is
logged, not raised: every task enqueued here has a periodic sweeper that finds the rows it
should have handled (``orchestration.sweep_steps``, ``orchestration.dispatch_webhooks``).
"""

import logging
from functools import partial

from celery import Task
from django.db import transaction

from oms.celery import app
from oms.outagelog import log_outage

logger = logging.getLogger(__name__)


class UnknownTask(LookupError):
    """No Celery task is registered under this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no Celery task is registered as {name!r}")
        self.name = name


def task_named(name: str) -> Task:
    """The registered task called ``name``; ``UnknownTask`` when no app defines it."""
    if name not in app.tasks:
        app.autodiscover_tasks(force=True)
    try:
        return app.tasks[name]
    except KeyError:
        raise UnknownTask(name) from None


def enqueue(
    task_name: str, *args: object, countdown: float | None = None, on_commit: bool = True
) -> None:
    """Run the task ``task_name`` with ``args`` in a worker, after the commit by default.

    The name is checked at once, so a misspelt task fails in the caller, not in a log line.
    """
    task = task_named(task_name)
    send = partial(_send, task, args, countdown)
    if on_commit:
        transaction.on_commit(send)
    else:
        send()


def _send(task: Task, args: tuple, countdown: float | None) -> None:
    try:
        if countdown is None:
            task.apply_async(args)
        else:
            task.apply_async(args, countdown=countdown)
    except Exception:  # the task's sweeper picks the work up again
        log_outage(
            logger,
            f"enqueue:{task.name}",
            "could not enqueue %s%r; its sweeper will retry",
            task.name,
            args,
        )
