"""An outage is logged once per interval with a count, not once per failed request."""

import logging

from oms import outagelog

logger = logging.getLogger("tests.outagelog")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(clock: Clock, kind: str = "broker") -> bool:
    try:
        raise ConnectionError("broker unreachable")
    except ConnectionError:
        return outagelog.log_outage(logger, kind, "could not enqueue %s", "x", clock=clock)


def test_the_first_failure_logs_a_traceback_then_failures_are_counted(caplog):
    outagelog.reset()
    clock = Clock()
    with caplog.at_level(logging.ERROR, logger="tests.outagelog"):
        logged = [fail(clock) for _ in range(50)]
        clock.now += 61
        logged.append(fail(clock))
    assert logged == [True] + [False] * 49 + [True]
    records = [r for r in caplog.records if r.name == "tests.outagelog"]
    assert len(records) == 2
    assert records[0].exc_info is not None
    assert "49 more like it in the last 60 s" in records[1].getMessage()


def test_kinds_are_counted_apart(caplog):
    outagelog.reset()
    clock = Clock()
    with caplog.at_level(logging.ERROR, logger="tests.outagelog"):
        assert fail(clock, "broker") and fail(clock, "redis")
        assert not fail(clock, "broker")
