"""API-key authentication: ``Authorization: Bearer <key>`` (or ``Token <key>``) per merchant."""

from dataclasses import dataclass
from typing import cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from oms.localcache import LocalCache
from oms.models import ApiKey, Merchant

_PRINCIPALS: LocalCache["MerchantPrincipal | None"] = LocalCache("merchant API keys")


@dataclass
class MerchantPrincipal:
    """The caller of the merchant API: one key of one merchant."""

    merchant: Merchant
    api_key: ApiKey
    is_authenticated: bool = True
    is_active: bool = True

    @property
    def pk(self) -> int:
        return self.api_key.pk

    def __str__(self) -> str:
        return f"api:{self.merchant.code}/{self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        key_hash = ApiKey.hash(header[1].decode(errors="replace"))
        principal = _PRINCIPALS.get(key_hash, lambda: _principal_of(key_hash))
        if principal is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return principal, principal.api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def _principal_of(key_hash: str) -> MerchantPrincipal | None:
    """The live key with this hash and its active merchant (cached briefly: ``oms.localcache``)."""
    api_key = (
        ApiKey.objects.select_related("merchant")
        .filter(key_hash=key_hash, revoked_at__isnull=True, merchant__active=True)
        .first()
    )
    return (
        None if api_key is None else MerchantPrincipal(merchant=api_key.merchant, api_key=api_key)
    )


def principal_of(request: Request) -> MerchantPrincipal:
    """The caller of a merchant API view, which ``IsMerchant`` (the default permission) admitted."""
    return cast(MerchantPrincipal, request.user)


class IsMerchant(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, MerchantPrincipal)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.auth.ApiKeyAuthentication"
    name = "merchantApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A merchant API key: `Bearer oms_...`",
        }
