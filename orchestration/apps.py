from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrchestrationConfig(AppConfig):
    name = "orchestration"
    verbose_name = _("Order services")

    def ready(self) -> None:
        from oms.signals import order_panels, order_status_changed

        # handlers and timeline_text register themselves (step handlers, stored messages)
        from orchestration import handlers, receivers, timeline_text  # noqa: F401

        order_status_changed.connect(
            receivers.on_order_status_changed, dispatch_uid="orchestration.on_status_changed"
        )
        order_panels.connect(
            receivers.order_services_panel, dispatch_uid="orchestration.order_panel"
        )
