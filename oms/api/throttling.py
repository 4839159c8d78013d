"""Rate limit per merchant API key; a merchant's own rate overrides the deployment default.

A fixed-window counter: one atomic increment in the shared cache per request, so concurrent
workers count every request (DRF's default keeps a list of timestamps that is read, trimmed
and rewritten on every call, costlier and lossy under concurrency), with the cache's ``incr``
and ``add``. With ``OMS_API_FAST_PATHS`` on and Redis as the cache, the counter is created with
its expiry and incremented in one pipelined round trip instead (``oms.fastpaths``).

The throttle fails open: when the cache is down or hung (each call bounded by the Redis
socket timeouts in settings) the request goes through unthrottled, and the process leaves the
cache alone for ``FAIL_OPEN_SECONDS`` so that the requests after it pay no timeout, with one
warning per such period. Refusing orders because the rate counter is unreachable would turn a
cache outage into a sales outage.
"""

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from oms import fastpaths
from oms.api.auth import MerchantPrincipal


class MerchantKeyThrottle(SimpleRateThrottle):
    scope = "merchant"

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, MerchantPrincipal):
            return True
        rate = principal.merchant.api_throttle_rate or self.rate
        if not rate:
            return True
        num_requests, duration = self.parse_rate(rate)
        assert num_requests is not None and duration is not None  # parsed from a non-empty rate
        self.num_requests, self.duration = num_requests, duration
        now = time.time()
        window = int(now // duration)
        self._window_ends = (window + 1) * duration
        key = f"throttle:{self.scope}:{principal.api_key.pk}:{duration}:{window}"
        count = _count_or_none(key, ttl=duration + 1)
        return count is None or count <= num_requests

    def wait(self) -> float:
        return max(self._window_ends - time.time(), 0.0)


logger = logging.getLogger(__name__)

FAIL_OPEN_SECONDS = 5.0
_cache_skipped_until = 0.0  # time.monotonic() before which this process does not count


def _count_or_none(key: str, *, ttl: int) -> int | None:
    """The window's count, or ``None`` while the cache is unreachable (fail open)."""
    global _cache_skipped_until
    if time.monotonic() < _cache_skipped_until:
        return None
    try:
        return _count(key, ttl=ttl)
    except (RedisError, OSError) as exc:
        _cache_skipped_until = time.monotonic() + FAIL_OPEN_SECONDS
        logger.warning(
            "API throttle: the cache is unreachable (%s: %s); requests pass unthrottled for %.0f s",
            type(exc).__name__,
            exc,
            FAIL_OPEN_SECONDS,
        )
        return None


def _count(key: str, *, ttl: int) -> int:
    """Add one to the window's counter and return it."""
    if fastpaths.enabled():
        count = fastpaths.count_in_window(key, ttl=ttl)
        if count is not None:
            return count
    try:
        return cache.incr(key)
    except ValueError:  # first request of the window
        return 1 if cache.add(key, 1, timeout=ttl) else cache.incr(key)
