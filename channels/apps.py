from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = _("Sales channels")

    def ready(self) -> None:
        from channels import receivers, timeline_text  # noqa: F401 - registers its messages
        from customers.signals import customers_merged, customers_split, customers_unmerged

        customers_merged.connect(
            receivers.move_gift_grants_on_merge, dispatch_uid="channels.gift_grants_merge"
        )
        customers_unmerged.connect(
            receivers.restore_gift_grants_on_unmerge, dispatch_uid="channels.gift_grants_unmerge"
        )
        customers_split.connect(
            receivers.move_gift_grants_on_split, dispatch_uid="channels.gift_grants_split"
        )
