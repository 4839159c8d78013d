"""Log an outage once, not once per request: a traceback per interval, a count in between.

While Redis or the broker is out, every accepted order fails to enqueue its routing and every
request fails to reach the throttle. Logging a traceback for each buries the one line that says
what happened. :func:`log_outage` logs the first failure of a kind with its traceback, then at
most one line per ``every`` seconds saying how many more failed, and a line when it recovers is
the caller's business (the first success after an outage logs nothing here).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

DEFAULT_EVERY = 60.0


@dataclass
class _Window:
    started: float
    suppressed: int = 0


_windows: dict[str, _Window] = {}
_lock = threading.Lock()


def log_outage(
    logger: logging.Logger,
    kind: str,
    message: str,
    *args: object,
    every: float = DEFAULT_EVERY,
    clock=time.monotonic,
) -> bool:
    """Log ``message`` for a failure of ``kind`` from inside an ``except`` block.

    Returns True when this call logged (with the traceback), False when it was counted only.
    """
    now = clock()
    with _lock:
        window = _windows.get(kind)
        if window is not None and now - window.started < every:
            window.suppressed += 1
            return False
        suppressed = window.suppressed if window is not None else 0
        _windows[kind] = _Window(started=now)
    if suppressed:
        message = f"{message} ({suppressed} more like it in the last {every:.0f} s)"
    logger.exception(message, *args)
    return True


def reset() -> None:
    """Forget every window (tests)."""
    with _lock:
        _windows.clear()
