"""Rate limit per merchant API key; a merchant's own rate overrides the deployment default.

A fixed-window counter: one atomic ``incr`` in the shared cache per request, so concurrent
workers count every request (DRF's default keeps a list of timestamps that is read, trimmed
and rewritten on every call, costlier and lossy under concurrency).
"""

import time

from django.core.cache import cache
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
        self.num_requests, self.duration = self.parse_rate(rate)
        now = time.time()
        window = int(now // self.duration)
        self._window_ends = (window + 1) * self.duration
        key = f"throttle:{self.scope}:{principal.api_key.pk}:{self.duration}:{window}"
        try:
            count = cache.incr(key)
        except ValueError:  # first request of the window
            count = 1 if cache.add(key, 1, timeout=self.duration + 1) else cache.incr(key)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self._window_ends - time.time(), 0.0)
