from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from oms.signals import order_created, order_panels, stock_available
        from routing import receivers, timeline_text  # noqa: F401 - registers its messages
        from routing.signals import before_route

        order_created.connect(receivers.enqueue_routing, dispatch_uid="routing.enqueue_routing")
        order_panels.connect(receivers.order_routing_panel, dispatch_uid="routing.order_panel")
        stock_available.connect(
            receivers.retry_waiting_orders, dispatch_uid="routing.retry_waiting_orders"
        )
        before_route.connect(
            receivers.link_customer_before_routing, dispatch_uid="routing.link_customer"
        )
