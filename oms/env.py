"""Typed readers for settings that come from the environment.

Each helper fails loudly with ``ImproperlyConfigured`` on a value it cannot parse, so a typo in a
deployment's environment stops the process at start instead of running with a silent default.
"""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_times(name: str, default: list[str]) -> list[tuple[int, int]]:
    """A comma list of ``HH:MM`` times of day, as (hour, minute) pairs."""
    times = []
    for item in env_list(name, default):
        hour, sep, minute = item.partition(":")
        if not (sep and hour.isdigit() and minute.isdigit()):
            raise ImproperlyConfigured(f"{name}: {item!r} is not a time of day (HH:MM)")
        if not (0 <= int(hour) < 24 and 0 <= int(minute) < 60):
            raise ImproperlyConfigured(f"{name}: {item!r} is not a time of day (HH:MM)")
        times.append((int(hour), int(minute)))
    return times


def env_base_url(name: str, default: str = "") -> str:
    """An ``http(s)://host[:port]`` address without the trailing slash; empty stays empty."""
    raw = os.environ.get(name, default).strip()
    parts = urlsplit(raw)
    if raw and (parts.scheme not in ("http", "https") or not parts.hostname or parts.query):
        raise ImproperlyConfigured(f"{name}={raw!r} is not an address like https://oms.example.com")
    return raw.rstrip("/")
