from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from customers import receivers
        from oms.signals import order_created

        order_created.connect(
            receivers.enqueue_customer_link, dispatch_uid="customers.enqueue_customer_link"
        )
