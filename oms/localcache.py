"""Process-local read-through caches for rows the merchant API reads on every request.

An API key and a sales channel are read by every order create but change a few times a year.
Each process keeps what it read for ``OMS_API_LOCAL_CACHE_SECONDS`` (default 30 s; 0 turns
caching off). A save or delete of a cached model clears the cache of the process that made the
change at once; other processes see the change within the TTL. So revoking a key, deactivating
a merchant or a channel takes effect everywhere within that many seconds. A dict read is atomic
under the GIL and a lost update only costs a reload, so no lock is needed.
"""

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

Value = TypeVar("Value")
_ALL: list["LocalCache"] = []


class LocalCache(Generic[Value]):
    def __init__(self, name: str, *, max_entries: int = 10_000) -> None:
        self.name = name
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Value]] = {}
        _ALL.append(self)

    def get(self, key: Hashable, load: Callable[[], Value], *, keep_none: bool = True) -> Value:
        """The cached value of ``key``, or what ``load()`` returns (cached; ``None`` only with
        ``keep_none``, so a row created elsewhere is found at once rather than after the TTL)."""
        ttl = settings.OMS_API_LOCAL_CACHE_SECONDS
        if ttl <= 0:
            return load()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        if value is None and not keep_none:
            return value
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (now + ttl, value)
        return value

    def clear(self) -> None:
        self._entries.clear()


def clear_all(**_signal_kwargs) -> None:
    """Drop every local cache (connected to the saves and deletes of the cached models)."""
    for cache in _ALL:
        cache.clear()
