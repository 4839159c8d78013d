"""The staff login throttle (django-axes) under a name operations staff read in admin."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class StaffLoginsConfig(AxesAppConfig):
    verbose_name = _("Staff logins")
