"""Query parameters every API view reads the same way: ISO 8601 times, as UTC instants.

A time with an offset is an instant, so it is converted to UTC before it reaches a query:
PostgreSQL refuses offsets beyond +-15:59 (Python accepts up to +-23:59), and a time that
cannot be expressed in UTC (year 1 with a positive offset) is a client error, not a 500.
"""

from datetime import UTC, datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions

ISO_TIME_MESSAGE = "Expected an ISO 8601 time, e.g. 2026-12-12T08:00:00+08:00."


def as_utc_instant(moment: datetime) -> datetime:
    """The same instant in UTC (a naive time is read in the project's time zone).

    Raises ``ValueError`` when the instant falls outside the years 1-9999 in UTC.
    """
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc


def iso_time_param(
    raw: str | None, *, name: str, default: datetime | None = None
) -> datetime | None:
    """Parse the query parameter ``name`` as an ISO 8601 time; 400 with a field message if not."""
    if raw is None or raw == "":
        return default
    try:
        moment = parse_datetime(raw)
        if moment is None:
            raise ValueError(raw)
        return as_utc_instant(moment)
    except ValueError:
        raise exceptions.ValidationError({name: [ISO_TIME_MESSAGE]}) from None


class UTCIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """django-filter's ISO field, giving the instant in UTC (any offset Python parses)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return as_utc_instant(moment)
        except ValueError:
            raise forms.ValidationError(ISO_TIME_MESSAGE, code="invalid") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField
