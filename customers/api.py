"""Customer master in the merchant API: ``POST /api/orders/merge-check``.

A checkout asks, before payment, whether this buyer already has an order in the merge window
that has not left for the warehouse yet and goes to the same delivery address, so the two can
ship together (the rules of ``customers.selectors.merge_companions``, which routing applies when
the order arrives). The check is read-only: the buyer is resolved with the same matcher as
orders, nothing is stored.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from customers.selectors import MergeCheck, merge_check
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
        check = merge_check(
            merchant=self.merchant,
            phone=v["phone"],
            name=v["name"],
            address=v["address"],
            device_id=v["device_id"],
            account_id=v["account_id"],
            channel=v["channel"],
        )
        return Response(merge_check_body(check))


def merge_check_body(check: MergeCheck) -> dict[str, Any]:
    """The merge-check's answer as the API writes it (also inside a delivery promise)."""
    return {
        "mergeable": check.mergeable,
        "customer": check.customer,
        "window_minutes": check.window_minutes,
        "orders": [
            {
                "id": o.pk,
                "external_id": o.external_id,
                "channel": o.channel.code,
                "status": o.status,
                "created_at": serializers.DateTimeField().to_representation(o.created_at),
            }
            for o in check.orders
        ],
        "reasons": check.reasons,
    }
