"""Production settings: everything of ``oms.settings`` plus the hardening ``check --deploy`` asks.

Use with ``DJANGO_SETTINGS_MODULE=oms.settings_production``; a secret key must be provided.
"""

from django.core.exceptions import ImproperlyConfigured

from oms.env import env_bool, env_int, env_list, env_str
from oms.settings import *  # noqa: F403

DEBUG = False
OMS_DEMO_DATA = False  # no known password or fixed API key, whatever the environment says
# Webhooks reach public addresses only, unless the deployment lists a loopback receiver.
OMS_OUTBOUND_ALLOW_ADDRESSES = env_list("OMS_OUTBOUND_ALLOW_ADDRESSES", [])
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to at least 50 random characters")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Static files: `manage.py collectstatic --noinput` copies them here at deploy time, compressed
# and with a hash of their content in the name; WhiteNoise serves them with far-future caching.
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))  # noqa: F405
WHITENOISE_USE_FINDERS = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
