"""Settings for the OMS, read from the environment only.

Without any variable set the project runs embedded: a SQLite file, Celery in eager mode and an
in-process cache, so ``make run`` needs nothing else. ``DATABASE_URL`` and ``REDIS_URL`` switch the
same code to PostgreSQL, a Redis broker with real workers and a shared cache. Every variable is
listed in ``.env.example``; ``oms.settings_production`` adds the hardening ``check --deploy`` asks.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from oms.env import (
    env_base_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    env_times,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not env_bool("OMS_ALLOW_INSECURE_KEY", default=True):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production-0123456789"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin theme: before django.contrib.admin, whose templates it replaces.
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.simple_history",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: its runserver (WhiteNoise serves static files, the in-process periodic
    # jobs of the embedded mode start) takes the place of the one staticfiles has.
    "oms.embedded",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "oms.axes_app.StaffLoginsConfig",  # django-axes, named for staff
    "oms",
    "channels",
    "customers",
    "routing",
    "orchestration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything else
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login
]

# Staff logins are throttled: after OMS_LOGIN_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is locked out for OMS_LOGIN_COOLOFF_MINUTES (the right password
# included). Merchants' API keys are not passwords and are not counted here.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("OMS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OMS_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    # An unreachable server fails the connect in this many seconds (the API answers 503), not
    # after the operating system's TCP timeout of minutes. (A SQLite URL has no server.)
    if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
            "DB_CONNECT_TIMEOUT", 5
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # SQLite serialises writers; a generous timeout turns contention into waiting.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
if env_str(
    "DJANGO_TEST_DB_NAME"
):  # lets parallel test runs on one server use their own test database
    DATABASES["default"]["TEST"] = {"NAME": env_str("DJANGO_TEST_DB_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling, idempotency in-flight markers) ----------------------------------------
REDIS_URL = env_str("REDIS_URL")
# A down or hung Redis holds a request up at most this long per call (seconds); then the caller
# goes on without it: the throttle lets the request through, the routing doorbell leaves the
# order to the sweeper. Redis answers in well under a millisecond when it is well.
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.25)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.25)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "oms"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- I18N: stored in UTC, shown in Asia/Shanghai, Chinese and English --------------------------
LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
OMS_DEFAULT_CURRENCY = env_str("OMS_DEFAULT_CURRENCY", "CNY")
# Where staff and customers reach this OMS (https://oms.example.com), for the links it gives out:
# the status-page links of the API and those the demo commands print (`make run` sets it from
# HOST and PORT). Empty: the API's links take the host of the request, printed ones
# http://127.0.0.1:8000 (runserver's default).
OMS_PUBLIC_BASE_URL = env_base_url("OMS_PUBLIC_BASE_URL")
# Demo data commands (seed_demo, seed_routing_demo, ...) run only where this is on; production
# settings switch it off, so a known admin password and fixed API keys never reach production.
OMS_DEMO_DATA = env_bool("OMS_DEMO_DATA", default=True)
# Key of the keyed digests of phone numbers and addresses (customer matching); empty derives it
# from DJANGO_SECRET_KEY. Changing it makes stored digests unmatchable: rotate with a re-import.
OMS_PII_KEY = env_str("OMS_PII_KEY")
# Keys of the secrets stored encrypted (oms/crypto.py): Fernet keys, the first encrypts, all
# decrypt. Empty derives one from OMS_PII_KEY (else DJANGO_SECRET_KEY).
OMS_FIELD_KEYS = env_list("OMS_FIELD_KEYS", [])

# Static files (the admin's, Swagger UI's) are served by WhiteNoise from the application itself,
# with runserver as with gunicorn. Here they are read where the apps keep them: no collectstatic
# step, and nothing to go stale (a changed file is picked up on restart, at once with
# DJANGO_DEBUG=1). oms.settings_production serves collected, compressed copies with hashed names.
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Payload limits: an order larger than this is refused with a clear 400, never half-read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("OMS_MAX_REQUEST_BYTES", 1_048_576)
# API keys and sales channels are cached per process this long (oms/localcache.py); 0: off.
OMS_API_LOCAL_CACHE_SECONDS = env_int("OMS_API_LOCAL_CACHE_SECONDS", 30)
# The order API's shortcuts through framework internals (oms/fastpaths.py); off: public API only,
# same answers, slower (a way out if a framework upgrade breaks one).
OMS_API_FAST_PATHS = env_bool("OMS_API_FAST_PATHS", True)
OMS_MAX_ORDER_LINES = env_int("OMS_MAX_ORDER_LINES", 200)
# Minutes a delivery promise holds the units and parcels of the option a checkout takes
# (routing.holds); 0: promises hold nothing.
OMS_PROMISE_HOLD_MINUTES = env_int("OMS_PROMISE_HOLD_MINUTES", 15)
# Deliveries to a channel's ingest URL per channel code and client address (a 429 beyond);
# empty: no limit. Rejected deliveries (unsigned, oversized) keep only their first 2 KB, size and
# hash, and are purged after this many days (channels.purge_rejected_inbox, hourly).
OMS_CHANNEL_INGEST_RATE = env_str("OMS_CHANNEL_INGEST_RATE", "6000/min")
OMS_INBOX_REJECTED_KEEP_DAYS = env_int("OMS_INBOX_REJECTED_KEEP_DAYS", 7)
OMS_MAX_BULK_STOCK_ITEMS = env_int("OMS_MAX_BULK_STOCK_ITEMS", 1000)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oms.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oms.api.auth.IsMerchant"],
    "DEFAULT_THROTTLE_CLASSES": ["oms.api.throttling.MerchantKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {"merchant": env_str("OMS_API_THROTTLE_RATE", "60000/min")},
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "oms.api.pagination.StableOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "oms.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "oms.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["oms.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OMS merchant API",
    "DESCRIPTION": "Orders, inventory, products and warehouses of one merchant. "
    "Authenticate with `Authorization: Bearer <api key>`; send `Idempotency-Key` on every POST.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Error responses of every operation, documented once (oms.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oms.api.schema.add_error_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
OMS_IDEMPOTENCY_TTL_HOURS = env_int("OMS_IDEMPOTENCY_TTL_HOURS", 48)
OMS_IDEMPOTENCY_LOCK_SECONDS = env_int("OMS_IDEMPOTENCY_LOCK_SECONDS", 60)

# --- Celery ---------------------------------------------------------------------------------
# Without a broker the tasks run eagerly in-process (after commit), so nothing else is needed;
# runserver then runs the beat schedule itself (oms/embedded/scheduler.py). Eager tasks still
# open the broker connection named here: in-memory, with a host named so kombu need not warn.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A killed worker loses no task: acknowledge only after the task ran, re-queue when the worker
# process dies, and keep the broker's visibility timeout far above the longest task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 900)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    # A message un-acked for longer than this is handed to another worker: it must outlive any task.
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT"
    )
# A publish to a down or hung broker fails within about two connect or read timeouts (one
# retry) instead of the defaults' wait without end; the sweepers send the work again. The read
# timeout is longer than the cache's: workers run their own commands (acks, restores) on it.
CELERY_BROKER_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
}
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_TASK_DEFAULT_QUEUE = "oms"
# Webhook deliveries wait on merchants' servers (up to OMS_WEBHOOK_TIMEOUT_SECONDS each): they
# run on a queue of their own, served by their own worker (`make webhook-worker`), so a slow or
# hanging receiver never holds up routing or service steps.
CELERY_TASK_ROUTES = {
    "orchestration.deliver_webhook": {"queue": "webhooks"},
    "orchestration.dispatch_webhooks": {"queue": "webhooks"},
}
CELERY_TIMEZONE = "UTC"
OMS_ROUTING_MODE = env_str("OMS_ROUTING_MODE", "single")  # or "batch"
if OMS_ROUTING_MODE not in ("single", "batch"):
    raise ImproperlyConfigured("OMS_ROUTING_MODE must be 'single' or 'batch'")
# The routing doorbell's key lives this long when its task is lost (routing/tasks.py).
OMS_ROUTING_BELL_SECONDS = env_int("OMS_ROUTING_BELL_SECONDS", 60)
# How long a routing task holds an order (routing one takes milliseconds): a task killed
# mid-routing leaves its claim behind for this long at most.
OMS_ROUTING_CLAIM_SECONDS = env_int("OMS_ROUTING_CLAIM_SECONDS", 30)
OMS_ROUTING_SWEEP_AFTER_SECONDS = env_int("OMS_ROUTING_SWEEP_AFTER_SECONDS", 60)
OMS_ROUTING_SWEEP_INTERVAL_SECONDS = env_int("OMS_ROUTING_SWEEP_INTERVAL_SECONDS", 30)
OMS_ROUTING_BATCH_SECONDS = env_int("OMS_ROUTING_BATCH_SECONDS", 30)
OMS_ROUTING_BATCH_LIMIT = env_int("OMS_ROUTING_BATCH_LIMIT", 2000)
OMS_SIGNAL_PROVIDERS = env_list(
    "OMS_SIGNAL_PROVIDERS", []
)  # dotted paths, e.g. routing.providers.SimulatedFeed
# Service steps whose retry time came, left running by a dead worker or never planned. With
# workers a retry is a delayed message and this sweep a safety net; eager (embedded), where no
# message can wait, the sweep is what runs retries, so it looks more often.
OMS_STEP_SWEEP_SECONDS = env_int("OMS_STEP_SWEEP_SECONDS", 10 if CELERY_TASK_ALWAYS_EAGER else 60)
CELERY_BEAT_SCHEDULE = {
    "poll-signal-providers": {"task": "routing.poll_signal_providers", "schedule": 300.0},
    "route-pending-orders": {
        "task": "routing.route_pending",
        "schedule": float(OMS_ROUTING_BATCH_SECONDS),
    },
    # Orders waiting over OMS_ROUTING_SWEEP_AFTER_SECONDS are routed again by ``route_order``,
    # which takes no claim: once a worker runs again, a killed task's order is routed within
    # sweep-after + one interval, whatever is left of its claim.
    "sweep-unrouted-orders": {
        "task": "routing.sweep_unrouted",
        "schedule": float(OMS_ROUTING_SWEEP_INTERVAL_SECONDS),
    },
    "purge-idempotency-records": {"task": "oms.purge_idempotency_records", "schedule": 3600.0},
    "purge-rejected-inbox": {"task": "channels.purge_rejected_inbox", "schedule": 3600.0},
    "orchestration-check-slas": {"task": "orchestration.check_slas", "schedule": 60.0},
    "orchestration-sweep-steps": {
        "task": "orchestration.sweep_steps",
        "schedule": float(OMS_STEP_SWEEP_SECONDS),
    },
    "orchestration-dispatch-webhooks": {
        "task": "orchestration.dispatch_webhooks",
        "schedule": 30.0,
    },
}

# Group-buying pick waves are built at these cut-off times of day, in TIME_ZONE (comma list of
# HH:MM, e.g. "10:00,22:00"); empty: build them from admin or `manage.py build_pick_waves`.
OMS_GROUPBUY_CUTOFFS = env_times("OMS_GROUPBUY_CUTOFFS", [])
_LOCAL_UTC_OFFSET_MINUTES = 8 * 60  # Asia/Shanghai has no daylight saving time
for _hour, _minute in OMS_GROUPBUY_CUTOFFS:
    _utc = (_hour * 60 + _minute - _LOCAL_UTC_OFFSET_MINUTES) % (24 * 60)
    CELERY_BEAT_SCHEDULE[f"build-pick-waves-{_hour:02d}{_minute:02d}"] = {
        "task": "channels.build_pick_waves",
        "schedule": crontab(hour=_utc // 60, minute=_utc % 60),  # beat runs in UTC
    }

# --- Order services (orchestration) ------------------------------------------------------------
OMS_OTP_SENDER = env_str("OMS_OTP_SENDER", "orchestration.senders.DevelopmentSender")
OMS_SLA_NOTIFIER = env_str("OMS_SLA_NOTIFIER", "orchestration.senders.LogNotifier")
OMS_OTP_TTL_SECONDS = env_int("OMS_OTP_TTL_SECONDS", 600)
OMS_OTP_MAX_ATTEMPTS = env_int("OMS_OTP_MAX_ATTEMPTS", 5)
OMS_OTP_MAX_REQUESTS_PER_HOUR = env_int("OMS_OTP_MAX_REQUESTS_PER_HOUR", 10)
OMS_PICKUP_RADIUS_KM = env_int("OMS_PICKUP_RADIUS_KM", 50)
OMS_WEBHOOK_TIMEOUT_SECONDS = env_int("OMS_WEBHOOK_TIMEOUT_SECONDS", 10)
OMS_WEBHOOK_BACKOFF_BASE_SECONDS = env_int("OMS_WEBHOOK_BACKOFF_BASE_SECONDS", 30)
OMS_WEBHOOK_BACKOFF_MAX_SECONDS = env_int("OMS_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)
# Loopback addresses webhooks may be sent to anyway (oms/outbound.py): a local receiver in
# development, the demo and the tests. Public addresses need no entry; private, link-local and
# reserved ones are always refused. Production settings default to none.
OMS_OUTBOUND_ALLOW_ADDRESSES = env_list(
    "OMS_OUTBOUND_ALLOW_ADDRESSES", ["127.0.0.1", "::1"] if OMS_DEMO_DATA else []
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": env_str("CELERY_TRACE_LOG_LEVEL", "WARNING")},
    },
}

# Staff who open the login page directly land in the console (the theme's login form sends no
# "next" of its own, and Django's default is /accounts/profile/, which this project has not).
LOGIN_REDIRECT_URL = "admin:index"

# Spreadsheet imports (stock counts, channel prices) need the model's change permission, exports
# its view permission. Between preview and confirm the file waits in the machine's temp folder;
# with several web machines behind one address, keep it in the shared cache (Redis) instead:
# OMS_IMPORT_TMP_STORAGE=import_export.tmp_storages.CacheStorage.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_TMP_STORAGE_CLASS = env_str(
    "OMS_IMPORT_TMP_STORAGE", "import_export.tmp_storages.TempFolderStorage"
)

# The admin theme (django-unfold): sidebar by job, the project's name, languages switch.
UNFOLD = {
    "SITE_TITLE": _("OMS"),
    "SITE_HEADER": _("OMS operations"),
    "SITE_SYMBOL": "local_shipping",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    # The console's additions to the theme (lists and pickers that fit 1366 px).
    "STYLES": [lambda request: static("oms/console.css")],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": "oms.adminnav.navigation",
    },
}
