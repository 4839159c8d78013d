from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = _("Orders and inventory")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from oms.localcache import clear_all
        from oms.models import ApiKey, Merchant, SalesChannel

        for model in (ApiKey, Merchant, SalesChannel):
            post_save.connect(clear_all, sender=model, dispatch_uid=f"localcache-save-{model}")
            post_delete.connect(clear_all, sender=model, dispatch_uid=f"localcache-del-{model}")
