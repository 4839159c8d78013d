"""A customer's usual carrier, from the carriers of their past orders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# A customer "usually" ships with a carrier when at least this many past orders with a known
# carrier exist and more than this share of them went with it (a strict majority).
PREFERENCE_MIN_ORDERS = 3
PREFERENCE_MIN_SHARE = 0.5


def usual_carrier(past_carriers: Iterable[str]) -> str:
    """The carrier of most past orders (one entry per order) if usual enough, else ''."""
    counts = Counter(carrier for carrier in past_carriers if carrier)
    total = sum(counts.values())
    if total < PREFERENCE_MIN_ORDERS:
        return ""
    carrier, count = max(counts.items(), key=lambda item: (item[1], item[0]))
    return carrier if count / total > PREFERENCE_MIN_SHARE else ""
