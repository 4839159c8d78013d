"""Signals of routing.

``before_route`` is sent in the worker right before an order is planned, so the order can be
completed first without a second task per order. Routing itself connects the customer master
(``receivers.link_customer_before_routing`` attaches the golden customer, whose VIP status the
high-value policy reads): routing may import ``customers``, never the other way round.
"""

from django.dispatch import Signal

# sender=Order, order_id=int
before_route = Signal()
