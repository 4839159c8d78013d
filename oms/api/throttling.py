"""Rate limit per merchant API key; a merchant's own rate overrides the deployment default."""

from rest_framework.throttling import SimpleRateThrottle

from oms.api.auth import MerchantPrincipal


class MerchantKeyThrottle(SimpleRateThrottle):
    scope = "merchant"

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if isinstance(principal, MerchantPrincipal) and principal.merchant.api_throttle_rate:
            self.rate = principal.merchant.api_throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        principal = request.user
        if not isinstance(principal, MerchantPrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": principal.api_key.pk}
