"""Arrival windows on the merchant's clock: from an expected transit to [earliest, latest].

A parcel arrives no earlier than its expected transit after dispatch; real transit times spread
beyond it (the engine models the delay as exponential with mean ``spread_hours``), and the
order is placed and routed some minutes after the promise (``allowance_hours``). So the window
runs from ``now + transit`` (rounded down to the hour) to ``now + transit + allowance + spread``
(rounded up to the hour), and is cut to at most ``SAME_DAY_MAX_HOURS`` when it ends today and
``MAX_WIDTH_HOURS`` otherwise: a promise narrow enough to plan a day around.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

MAX_WIDTH_HOURS = 24.0
SAME_DAY_MAX_HOURS = 4.0


@dataclass(frozen=True)
class Window:
    """Earliest and latest arrival, aware datetimes in the merchant's time zone."""

    earliest: datetime
    latest: datetime
    now: datetime

    @property
    def hours_wide(self) -> float:
        return (self.latest - self.earliest).total_seconds() / 3600

    @property
    def latest_hours(self) -> float:
        """Hours from ``now`` to the end of the window: the promise an order would carry."""
        return (self.latest - self.now).total_seconds() / 3600

    @property
    def last_day(self):
        """The local date of the last moment inside the window (a window ending 00:00 ends the
        day before)."""
        return (self.latest - timedelta(microseconds=1)).date()

    @property
    def same_day(self) -> bool:
        return self.last_day == self.now.date()

    @property
    def speed(self) -> str:
        """``same_day``, ``next_day`` or ``standard``: what the window means to a buyer."""
        days = (self.last_day - self.now.date()).days
        return "same_day" if days <= 0 else "next_day" if days == 1 else "standard"

    def contains(self, moment: datetime) -> bool:
        return self.earliest <= moment <= self.latest


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floored = _floor_hour(moment)
    return floored if floored == moment else floored + timedelta(hours=1)


def arrival_window(
    *,
    now: datetime,
    tz: tzinfo,
    transit_hours: float,
    spread_hours: float,
    allowance_hours: float,
) -> Window:
    """The window for a plan whose slowest parcel is expected ``transit_hours`` after ``now``.

    Rounding is done on the local clock (``tz``), so windows start and end on the hour there.
    """
    local_now = now.astimezone(tz)
    # Arithmetic on absolute time, then back to the local clock (DST-safe).
    earliest = _floor_hour((now + timedelta(hours=transit_hours)).astimezone(tz))
    latest = _ceil_hour(
        (now + timedelta(hours=transit_hours + allowance_hours + spread_hours)).astimezone(tz)
    )
    window = Window(earliest=earliest, latest=latest, now=local_now)
    cap = SAME_DAY_MAX_HOURS if window.same_day else MAX_WIDTH_HOURS
    if window.hours_wide > cap:
        window = Window(earliest=earliest, latest=earliest + timedelta(hours=cap), now=local_now)
    return window
