"""Absolute links to pages of this OMS, for people who follow them from outside it.

``OMS_PUBLIC_BASE_URL`` says where staff and customers reach the OMS; without it a link made for
a request takes that request's host, and one made outside a request (a demo command printing
to the console) runserver's default address.
"""

from django.conf import settings
from django.http import HttpRequest

DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # where `manage.py runserver` listens by default


def public_base_url() -> str:
    """Scheme, host and port of the OMS, without a trailing slash."""
    return settings.OMS_PUBLIC_BASE_URL or DEFAULT_BASE_URL


def public_url(path: str, *, request: HttpRequest | None = None) -> str:
    """``path`` (from ``reverse``, with its leading slash) as an absolute link."""
    if not settings.OMS_PUBLIC_BASE_URL and request is not None:
        return request.build_absolute_uri(path)
    return public_base_url() + path
