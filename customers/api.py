"""Customer master in the merchant API: ``POST /api/orders/merge-check``.

A checkout asks, before payment, whether this buyer already has an order in the merge window
that has not left for the warehouse yet, so the two can ship together. The check is read-only:
the buyer is resolved with the same matcher as orders, nothing is stored.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from customers.matching import Observation
from customers.services import customer_lookup, rules_for
from oms.api.base import IdempotentPostMixin, MerchantScopedMixin
from oms.models import Order, OrderStatus

MERGEABLE = (OrderStatus.CREATED, OrderStatus.ROUTED)
DEFAULT_WINDOW_MINUTES = 30


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
        _rules, row = rules_for(merchant)
        window = row.merge_window_minutes if row else DEFAULT_WINDOW_MINUTES
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
        body = {
            "mergeable": False,
            "customer": None,
            "window_minutes": window,
            "orders": [],
            "reasons": list(decision.reasons),
        }
        if customer is None:
            return Response(body)
        orders = (
            Order.objects.filter(
                merchant=merchant,
                customer=customer,
                status__in=MERGEABLE,
                created_at__gte=timezone.now() - timedelta(minutes=window),
            )
            .select_related("channel")
            .order_by("created_at")
        )
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
