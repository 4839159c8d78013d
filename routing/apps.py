from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from oms.models import InventoryBatch, Warehouse
        from oms.signals import order_created, order_panels, stock_available, stock_changed
        from routing import receivers, timeline_text  # noqa: F401 - registers its messages
        from routing.models import (
            Carrier,
            CarrierRate,
            CarrierService,
            Lane,
            RoutingProfile,
            RoutingRule,
            WarehouseCarrier,
        )
        from routing.promise import receivers as promise
        from routing.signals import before_route

        order_created.connect(receivers.enqueue_routing, dispatch_uid="routing.enqueue_routing")
        order_panels.connect(receivers.order_routing_panel, dispatch_uid="routing.order_panel")
        stock_available.connect(
            receivers.retry_waiting_orders, dispatch_uid="routing.retry_waiting_orders"
        )
        before_route.connect(
            receivers.link_customer_before_routing, dispatch_uid="routing.link_customer"
        )
        # The available-to-promise cache (routing.promise.atp) follows stock, warehouses, lanes,
        # carrier services and their rates.
        stock_changed.connect(promise.stock_changed, dispatch_uid="routing.promise.stock")
        for signal in (post_save, post_delete):
            signal.connect(
                promise.batch_saved,
                sender=InventoryBatch,
                dispatch_uid=f"routing.promise.batch.{signal is post_save}",
            )
            signal.connect(
                promise.warehouse_saved,
                sender=Warehouse,
                dispatch_uid=f"routing.promise.warehouse.{signal is post_save}",
            )
            signal.connect(
                promise.lane_saved,
                sender=Lane,
                dispatch_uid=f"routing.promise.lane.{signal is post_save}",
            )
            for carrier_model in (Carrier, CarrierService, CarrierRate, WarehouseCarrier):
                signal.connect(
                    promise.carriers_saved,
                    sender=carrier_model,
                    dispatch_uid=f"routing.promise.{carrier_model.__name__}.{signal is post_save}",
                )
            for model in (RoutingProfile, RoutingRule):
                signal.connect(
                    promise.profile_saved,
                    sender=model,
                    dispatch_uid=f"routing.promise.{model.__name__}.{signal is post_save}",
                )
