from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmbeddedConfig(AppConfig):
    name = "oms.embedded"
    label = "oms_embedded"
    verbose_name = _("Embedded mode")
