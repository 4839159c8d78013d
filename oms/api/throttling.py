"""Rate limit per merchant API key; a merchant's own rate overrides the deployment default.

A fixed-window counter: one atomic increment in the shared cache per request, so concurrent
workers count every request (DRF's default keeps a list of timestamps that is read, trimmed
and rewritten on every call, costlier and lossy under concurrency). On Redis the counter is
created with its expiry and incremented in one pipelined round trip (Django's ``cache.incr``
would ask ``EXISTS`` first); other cache backends use ``add`` + ``incr``.
"""

import time
from functools import cache as once

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

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
        return _count(key, ttl=duration + 1) <= num_requests

    def wait(self) -> float:
        return max(self._window_ends - time.time(), 0.0)


def _count(key: str, *, ttl: int) -> int:
    """Add one to the window's counter and return it."""
    client = _redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        full_key = cache.make_and_validate_key(key)
        pipe.set(full_key, 0, ex=ttl, nx=True)
        pipe.incr(full_key)
        return pipe.execute()[1]
    try:
        return cache.incr(key)
    except ValueError:  # first request of the window
        return 1 if cache.add(key, 1, timeout=ttl) else cache.incr(key)


@once
def _redis_client():
    """The default cache's own pooled (thread-safe) Redis client, or ``None`` on other backends."""
    backend = caches["default"]
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None
