"""Keep the available-to-promise cache true: drop entries when stock, warehouses or lanes change.

Connected in ``routing.apps``. Stock movements through ``oms.services.inventory`` arrive as
``oms.signals.stock_changed`` after their commit; a batch saved or deleted directly (admin, a
data fix) through the model signals, also after the commit.
"""

from django.db import transaction

from routing.promise import atp


def stock_changed(sender, merchant_id: int, product_ids: list[int], **kwargs) -> None:
    atp.invalidate_products(merchant_id=merchant_id, product_ids=product_ids)


def batch_saved(sender, instance, **kwargs) -> None:
    merchant_id = instance.warehouse.merchant_id
    product_id = instance.product_id
    transaction.on_commit(
        lambda: atp.invalidate_products(merchant_id=merchant_id, product_ids=[product_id])
    )


def warehouse_saved(sender, instance, **kwargs) -> None:
    merchant_id = instance.merchant_id
    transaction.on_commit(lambda: atp.invalidate_network(merchant_id=merchant_id))


def lane_saved(sender, instance, **kwargs) -> None:
    merchant_id = instance.warehouse.merchant_id
    transaction.on_commit(lambda: atp.invalidate_network(merchant_id=merchant_id))


def profile_saved(sender, instance, **kwargs) -> None:
    transaction.on_commit(atp.invalidate_profiles)


def carriers_saved(sender, instance, **kwargs) -> None:
    transaction.on_commit(atp.invalidate_carriers)
