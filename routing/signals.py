"""Signals of routing.

``before_route`` is sent in the worker right before an order is planned, so other apps can
complete the order first (the customer master attaches the golden customer, whose VIP status
the high-value policy reads) without a second task per order.
"""

from django.dispatch import Signal

# sender=Order, order_id=int
before_route = Signal()
