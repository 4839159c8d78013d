"""Real Celery workers for the worker tests: started as subprocesses, stopped with bounded waits.

A worker runs ``celery -A oms worker`` against the pytest-django test database (PostgreSQL) and
the Redis broker, with the production Celery settings (late acks, reject on worker lost,
prefetch 1), in a process group of its own so a test can SIGKILL all of it, as the OOM killer
or a lost host would.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
WAIT = 30.0  # seconds a worker gets to do what a test waits for


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_until(self, predicate: Callable[[], object], what: str, timeout: float = WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail(
                    f"worker exited ({self.process.returncode}) before {what}\n{self.log()}"
                )
            time.sleep(0.1)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log()}")


def worker_database_url() -> str:
    """DATABASE_URL with its database name replaced by the pytest-django test database."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def purge_queue(queue: str) -> None:
    """Drop the queue and the binding keys kombu keeps for it (its exchange has its name)."""
    client = redis_client()
    client.delete(queue, *client.scan_iter(match=f"_kombu.binding*.{queue}"))
    client.zrem("_kombu.binding_deadlines", queue)


def start_worker(
    queue: str,
    log_path: Path,
    *,
    concurrency: int = 1,
    beat_schedule: Path | None = None,
    include: Sequence[str] = ("tests.celery_probe",),
    **env_overrides: str,
) -> Worker:
    """Start a prefork worker on ``queue`` (a comma list for several) and wait until it is ready.

    ``beat_schedule``: run beat in the worker (``-B``), keeping its schedule in that file.
    """
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "CELERY_TRACE_LOG_LEVEL": "INFO",  # log each task's outcome and run time
        **env_overrides,
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "oms",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--queues={queue}",
        f"--hostname={log_path.stem}-{queue.replace(',', '-')}@%h",
        *(f"--include={module}" for module in include),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    if beat_schedule is not None:
        command += ["--beat", f"--schedule={beat_schedule}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    handle = Worker(process=process, queue=queue, log_path=log_path)
    try:
        handle.wait_until(lambda: " ready." in handle.log(), f"{log_path.stem} to start")
    except BaseException:
        stop_worker(process)
        print(handle.log())
        raise
    return handle


def stop_worker(process: subprocess.Popen) -> None:
    """Warm shutdown, then cold, then SIGKILL to the worker's process group; bounded waits."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
