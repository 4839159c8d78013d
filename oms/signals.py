"""Signals other apps listen to, so ``oms`` never imports the apps built on top of it.

Each is sent after the transaction that caused it has committed.
"""

from django.dispatch import Signal

# sender=Order, order_id=int, merchant_id=int
order_created = Signal()
# sender=Order, order_id=int, from_status=str, to_status=str
order_status_changed = Signal()
# sender=InventoryBatch, merchant_id=int, product_ids=list[int]: units became available
# (a receipt, a recount upwards, a released reservation), so waiting orders may fit now.
stock_available = Signal()
# sender=Order, order=Order: the apps above answer with panels for the order's admin page, each
# ``{"title": str, "columns": [str], "rows": [[str]], "empty": str}`` (routing decisions, service
# steps, webhooks), and optionally ``"link": {"url", "label", "permission"}`` to an action page
# (shown to users holding that permission), so the order workspace shows them without ``oms``
# importing those apps.
order_panels = Signal()
# sender=InventoryBatch, merchant_id=int, product_ids=list[int]: units on hand or reserved moved
# either way (a reservation, a release, a shipment, a recount or a receipt); caches of what can
# be promised listen.
stock_changed = Signal()
