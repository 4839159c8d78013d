"""The one retry backoff: exponential, capped, with jitter."""

from oms.backoff import backoff_seconds


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    for attempt, ceiling in [(1, 30), (2, 60), (5, 480), (20, 3600)]:
        delays = {backoff_seconds(attempt, base=30, cap=3600) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1
