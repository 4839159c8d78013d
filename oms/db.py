"""Database helpers every app shares: retrying a transaction the database chose to abort.

PostgreSQL breaks a deadlock by aborting one of the transactions involved (SQLSTATE 40P01), and
a serializable transaction can be refused the same way (40001). Nothing is wrong with the work
itself: run again, it succeeds. ``retry_on_conflict`` reruns a whole transaction a few times
with the project's one backoff (``oms.backoff``); any other error propagates at once.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

from oms.backoff import backoff_seconds

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def is_retryable_conflict(exc: BaseException) -> bool:
    """Whether the database aborted the transaction to break a deadlock or a conflict."""
    cause = exc.__cause__ if isinstance(exc, OperationalError) else exc
    return getattr(cause, "pgcode", None) in RETRYABLE_SQLSTATES


def retry_on_conflict(
    work: Callable[[], T], *, attempts: int = 4, base: float = 0.05, cap: float = 1.0
) -> T:
    """Run ``work`` (a whole transaction) again when the database aborts it as a conflict."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == attempts or not is_retryable_conflict(exc):
                raise
            wait = backoff_seconds(attempt, base=base, cap=cap)
            logger.warning("database conflict (%s), retry %d in %.2f s", exc, attempt, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises
