"""Appointment slots offered to customers: the same list books a step and validates a choice.

Slots are fixed windows in local time (Asia/Shanghai) on the next ``days_ahead`` days, starting no
earlier than ``lead_hours`` from now. A customer's choice is valid only if it is one of them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime

    @property
    def value(self) -> str:
        return self.start.isoformat()


DEFAULTS = {"slot_hours": 3, "first_hour": 9, "last_hour": 21, "days_ahead": 7, "lead_hours": 4}


def slot_settings(params: dict) -> dict:
    return {key: int(params.get(key, default)) for key, default in DEFAULTS.items()}


def available_slots(*, params: dict, now: datetime | None = None) -> list[Slot]:
    """Every slot a step with these parameters may be booked into, earliest first."""
    cfg = slot_settings(params)
    now = timezone.localtime(now or timezone.now())
    earliest = now + timedelta(hours=cfg["lead_hours"])
    slots: list[Slot] = []
    for day in range(cfg["days_ahead"] + 1):
        date = (now + timedelta(days=day)).date()
        hour = cfg["first_hour"]
        while hour + cfg["slot_hours"] <= cfg["last_hour"]:
            start = timezone.make_aware(datetime(date.year, date.month, date.day, hour))
            if start >= earliest:
                slots.append(Slot(start, start + timedelta(hours=cfg["slot_hours"])))
            hour += cfg["slot_hours"]
    return slots


def slot_from_value(*, params: dict, value: str, now: datetime | None = None) -> Slot | None:
    """The offered slot starting at ``value`` (ISO 8601), or None if it is not offered."""
    start = parse_datetime(value or "")
    if start is None:
        return None
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    for slot in available_slots(params=params, now=now):
        if slot.start == start:
            return slot
    return None
