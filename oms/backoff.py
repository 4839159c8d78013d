"""How long to wait before retrying something that failed: the one backoff formula.

Exponential with jitter: ``base * 2^(attempt - 1)`` seconds, capped at ``cap``, times a random
factor in [0.5, 1]. Doubling eases off a struggling system, the cap bounds the wait, and the
jitter spreads out the retries of many things that failed together (an outage of the same
external system), so they do not all come back at the same instant. Used by service steps
(each atom's ``backoff_seconds``/``backoff_max_seconds``) and webhook deliveries
(``OMS_WEBHOOK_BACKOFF_*``). Pure: no Django import.
"""

import random


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first failure)."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling * random.uniform(0.5, 1.0)
