"""Tasks are enqueued by name: after the commit, in-process in eager mode, never lost silently."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from oms import outagelog
from oms.celery import app
from oms.tasks_queue import UnknownTask, enqueue, task_named

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
RAN: list[tuple] = []


@app.task(name="tests.tasks_queue.record")
def record(*args):
    RAN.append(args)
    return len(RAN)


@pytest.fixture(autouse=True)
def _empty_log():
    RAN.clear()
    yield
    RAN.clear()


def test_a_task_enqueued_in_a_transaction_runs_only_after_the_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue("tests.tasks_queue.record", 7, "x")
        assert RAN == []
    assert RAN == [(7, "x")]


def test_a_rolled_back_transaction_enqueues_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue("tests.tasks_queue.record", 1)
        raise RuntimeError("the change is rolled back")
    assert RAN == []


def test_eager_mode_runs_the_task_in_process_at_once():
    enqueue("tests.tasks_queue.record", 3, on_commit=False, countdown=60)
    assert RAN == [(3,)]


def test_a_countdown_is_passed_on_to_the_broker(monkeypatch):
    sent = []
    monkeypatch.setattr(
        task_named("tests.tasks_queue.record"),
        "apply_async",
        lambda args, **options: sent.append((args, options)),
    )
    enqueue("tests.tasks_queue.record", 4, countdown=30, on_commit=False)
    enqueue("tests.tasks_queue.record", 5, on_commit=False)
    assert sent == [((4,), {"countdown": 30}), ((5,), {})]


def test_a_misspelt_task_name_fails_in_the_caller():
    with pytest.raises(UnknownTask, match=r"'orchestration\.no_such_task'"):
        enqueue("orchestration.no_such_task", 1)


def test_a_failed_send_is_logged_for_the_sweeper_not_raised(monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(task_named("tests.tasks_queue.record"), "apply_async", broker_down)
    outagelog.reset()
    with caplog.at_level(logging.ERROR, logger="oms.tasks_queue"):
        enqueue("tests.tasks_queue.record", 5, on_commit=False)
    assert RAN == [] and "could not enqueue tests.tasks_queue.record(5,)" in caplog.text


def test_a_task_whose_module_nobody_imported_yet_is_found():
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "assert 'orchestration.tasks' not in sys.modules\n"
        "from oms.tasks_queue import task_named\n"
        "print(task_named('orchestration.deliver_webhook').name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oms.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "orchestration.deliver_webhook"
