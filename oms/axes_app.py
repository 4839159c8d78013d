"""The staff login throttle (django-axes) under a name operations staff read in admin.

Its rows are named by who and when, on the local clock to the minute ("ops · 2026-12-04
17:16"); the library names them by the raw UTC timestamp with microseconds.
"""

from axes.apps import AppConfig as AxesAppConfig
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _login_row_name(row) -> str:
    when = (
        timezone.localtime(row.attempt_time).strftime("%Y-%m-%d %H:%M") if row.attempt_time else ""
    )
    return f"{row.username or '—'} · {when}"


class StaffLoginsConfig(AxesAppConfig):
    verbose_name = _("Staff logins")

    def ready(self) -> None:
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.__str__ = _login_row_name
