from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from customers import receivers
        from routing.signals import before_route

        before_route.connect(
            receivers.link_customer_before_routing, dispatch_uid="customers.link_before_routing"
        )
