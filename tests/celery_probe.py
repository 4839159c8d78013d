"""A probe task for the real-worker tests; loaded only by a test worker (``--include``).

It keeps no state in the database: each attempt appends ``start <attempt> <pid>`` to a log
file before working and ``done <attempt> <pid>`` after, so a test can see which pool process
runs it, kill that process, and count the attempts and completions afterwards.
"""

import os
import time
from pathlib import Path

from celery import shared_task

PROBE_TASK = "tests.celery_probe.record_attempt"


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as log:
        log.write(line + "\n")  # flushed on close: visible to the test even if killed after


@shared_task(name=PROBE_TASK)
def record_attempt(log_path: str, first_attempt_sleep: float) -> int:
    """Log the attempt; the first one sleeps so a test can kill it mid-run."""
    path = Path(log_path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    attempt = sum(1 for line in lines if line.startswith("start ")) + 1
    _append(path, f"start {attempt} {os.getpid()}")
    if attempt == 1:
        time.sleep(first_attempt_sleep)
    _append(path, f"done {attempt} {os.getpid()}")
    return attempt
