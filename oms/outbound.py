"""The one HTTP client for calls the OMS makes to addresses a merchant chose (webhooks).

Such a URL must not reach the OMS's own network: loopback, private, link-local (the cloud
metadata service at 169.254.169.254), shared, multicast and reserved addresses are refused. The
check runs twice: when the URL is saved (``validate_outbound_url``, a 400 at the field) and
again before every request (``outbound_post``), because a name can resolve elsewhere later.
At send time the hardened session (requests-hardened) resolves the name once more, refuses a
non-public answer and connects to the very address it checked, so a name that changes between
check and connect (DNS rebinding) cannot slip through; redirects are never followed, proxies
and credentials from the environment are not used.

``OMS_OUTBOUND_ALLOW_ADDRESSES`` lists loopback addresses (or networks) that may be called
anyway: a receiver on the developer's machine, the demo and the tests. It is empty in
production. Failures come back as ``OutboundFailed`` with a plain reason that is safe to show
to the merchant: never a socket error, which would tell which internal ports are open.
"""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EXCERPT_BYTES = 300

REFUSED = "refused: address not allowed"
NOT_FOUND = "host not found"
CONNECTION_FAILED = "connection failed"
TIMED_OUT = "timed out"


class OutboundFailed(Exception):
    """A request that got no HTTP answer; ``reason`` is one of the plain reasons above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    excerpt: str  # the first bytes of the body, decoded leniently


def allowed_networks() -> list[Network]:
    """The allow-list setting, parsed; anything but loopback in it is a configuration error.

    Only loopback can be allowed because the connect-time filter admits loopback or nothing
    (a private network in the list would pass the first check and fail at every send).
    """
    networks = []
    for entry in settings.OMS_OUTBOUND_ALLOW_ADDRESSES:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"OMS_OUTBOUND_ALLOW_ADDRESSES: {entry!r} is not an IP address or network"
            ) from None
        if not network.is_loopback:
            raise ImproperlyConfigured(
                f"OMS_OUTBOUND_ALLOW_ADDRESSES: {entry!r} is not a loopback address; "
                "public addresses need no allowing and private ones are never called"
            )
        networks.append(network)
    return networks


def _plain(address: Address) -> Address:
    """An IPv4 address written as IPv6 (``::ffff:10.0.0.1``) is judged as the IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: Address, *, allow: list[Network]) -> bool:
    address = _plain(address)
    if any(address in network for network in allow if network.version == address.version):
        return True
    if not address.is_global or address.is_multicast:
        return False
    return not any(address in net for net in EXTRA_BLOCKED_NET_RANGES)


def _resolve(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # An IPv6 link-local answer may carry its zone ("fe80::1%eth0"); the address is before it.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.hostname or "", parts.port or default


def url_refusal(url: str) -> str | None:
    """Why ``url`` may not be called (every address its host resolves to must be allowed)."""
    try:
        host, port = _host_and_port(url)
    except ValueError:
        return REFUSED
    if not host:
        return REFUSED
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError):
        return NOT_FOUND
    allow = allowed_networks()
    if not addresses or not all(address_allowed(a, allow=allow) for a in addresses):
        logger.warning("outbound call to %s refused: it resolves to %s", host, addresses)
        return REFUSED
    return None


def validate_outbound_url(url: str) -> None:
    """Refuse, as a form or serializer error, a URL the OMS would not call."""
    try:
        parts = urlsplit(url)
        _host_and_port(url)  # raises ValueError on a port out of range
    except ValueError:
        raise ValidationError(_("Enter a valid URL."), code="invalid") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError(_("Use an http(s) URL."), code="scheme")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            _("Leave the user name and password out of the URL."), code="credentials"
        )
    refusal = url_refusal(url)
    if refusal == NOT_FOUND:
        raise ValidationError(_("The host name does not resolve."), code="host_not_found")
    if refusal is not None:
        raise ValidationError(
            _(
                "The host resolves to a loopback, private, link-local or reserved address; "
                "use a public address."
            ),
            code="address_not_allowed",
        )


def _session() -> HTTPSession:
    allow = allowed_networks()
    session = HTTPSession(
        Config(
            ip_filter_enable=True,
            ip_filter_allow_loopback_ips=bool(allow),
            never_redirect=True,
            default_timeout=(
                settings.OMS_WEBHOOK_TIMEOUT_SECONDS,
                settings.OMS_WEBHOOK_TIMEOUT_SECONDS,
            ),
        )
    )
    session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
    return session


def outbound_post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: float
) -> OutboundResponse:
    """POST ``body`` to ``url`` once, without following redirects (a 3xx is the answer).

    Raises ``OutboundFailed`` before any connection when the host resolves to an address that
    is not allowed, and when no HTTP answer came (connection failed, timed out).
    """
    refusal = url_refusal(url)
    if refusal is not None:
        raise OutboundFailed(refusal)
    try:
        with _session() as session:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,  # read only the excerpt of whatever the receiver sends back
            )
            with response:
                excerpt = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
                return OutboundResponse(
                    status_code=response.status_code,
                    excerpt=excerpt.decode(errors="replace"),
                )
    except InvalidIPAddress:
        raise OutboundFailed(REFUSED) from None
    except (requests.Timeout, urllib3.exceptions.TimeoutError):
        raise OutboundFailed(TIMED_OUT) from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        logger.info("outbound call to %s failed: %s", urlsplit(url).hostname, exc)
        raise OutboundFailed(CONNECTION_FAILED) from None
