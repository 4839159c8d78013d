"""Customer master in the merchant API: ``POST /api/orders/merge-check``.

A checkout asks, before payment, whether this buyer already has an order in the merge window
that has not left for the warehouse yet and goes to the same delivery address, so the two can
ship together (the rules of ``customers.selectors.merge_companions``, which routing applies when
the order arrives). The check is read-only: the buyer is resolved with the same matcher as
orders, nothing is stored.
"""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from customers.matching import Observation
from customers.selectors import (
    address_key,
    delivery_address_key,
    merge_window_minutes,
    orders_in_merge_window,
)
from customers.services import customer_lookup
from oms.api.base import IdempotentPostMixin, MerchantScopedMixin
from oms.models import Order


class MergeCheckSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=80)
    address = serializers.CharField(max_length=300, help_text="Full address, province first.")
    device_id = serializers.CharField(max_length=120, required=False, default="")
    account_id = serializers.CharField(max_length=120, required=False, default="")
    channel = serializers.CharField(max_length=40, required=False, default="")


class MergeCheckViewSet(IdempotentPostMixin, MerchantScopedMixin, viewsets.GenericViewSet):
    serializer_class = MergeCheckSerializer
    queryset = Order.objects.none()

    @extend_schema(request=MergeCheckSerializer, responses={200: None})
    def create(self, request):
        data = MergeCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        merchant = self.merchant
        window = merge_window_minutes(merchant)
        customer, decision = customer_lookup(
            merchant=merchant,
            observation=Observation(
                record_id="merge-check",
                channel=v["channel"],
                channel_account_id=v["account_id"],
                device_id=v["device_id"],
                phone=v["phone"],
                receiver_name=v["name"],
                address=v["address"],
                created_at=timezone.now(),
            ),
        )
        body: dict[str, Any] = {
            "mergeable": False,
            "customer": None,
            "window_minutes": window,
            "orders": [],
            "reasons": list(decision.reasons),
        }
        if customer is None or window <= 0:
            body["customer"] = customer.pk if customer else None
            return Response(body)
        address = address_key(v["address"])
        orders = [
            order
            for order in orders_in_merge_window(
                merchant=merchant, customer=customer, at=timezone.now(), minutes=window
            )
            if delivery_address_key(order) == address
        ]
        body.update(
            customer=customer.pk,
            mergeable=bool(orders),
            orders=[
                {
                    "id": o.pk,
                    "external_id": o.external_id,
                    "channel": o.channel.code,
                    "status": o.status,
                    "created_at": serializers.DateTimeField().to_representation(o.created_at),
                }
                for o in orders
            ],
        )
        return Response(body)
