from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from oms.signals import order_created, stock_available
        from routing import receivers
        from routing.signals import before_route

        order_created.connect(receivers.enqueue_routing, dispatch_uid="routing.enqueue_routing")
        stock_available.connect(
            receivers.retry_waiting_orders, dispatch_uid="routing.retry_waiting_orders"
        )
        before_route.connect(
            receivers.link_customer_before_routing, dispatch_uid="routing.link_customer"
        )
