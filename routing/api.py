"""Routing in the merchant API: an order's decisions, and live signals pushed by the merchant.

An order merged with others of its customer shows the merged fulfilment (which orders, why) and
the one decision that routed them all, also when that decision was made for another order.
"""

from datetime import timedelta

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from oms.api.base import IdempotentPostMixin, MerchantScopedMixin
from oms.models import Consolidation, Region, Warehouse, WarehouseStatus
from oms.selectors import orders_of
from routing.explaining import decision_sentences
from routing.models import RoutingDecision
from routing.providers import Reading, signals_ingest


class RoutingDecisionSerializer(serializers.ModelSerializer):
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = RoutingDecision
        fields = [
            "id",
            "order",
            "consolidation",
            "created_at",
            "outcome",
            "reason",
            "explanation",
            "shipments",
            "method",
            "optimal",
            "objective",
            "cost",
            "duration_ms",
            "mode",
            "profile_name",
            "profile_version",
            "winner",
            "runners_up",
            "rejected",
            "notes",
        ]

    def get_explanation(self, decision: RoutingDecision) -> list[str]:
        """In the request's language (Accept-Language), times in the merchant's zone."""
        return decision_sentences(decision)


def consolidation_body(consolidation: Consolidation | None) -> dict | None:
    if consolidation is None:
        return None
    return {
        "id": consolidation.pk,
        "customer": consolidation.customer_id,
        "reason": consolidation.reason,
        "rule": consolidation.data.get("rule", ""),
        "window_minutes": consolidation.data.get("window_minutes"),
        "orders": [
            {
                "id": o.pk,
                "external_id": o.external_id,
                "channel": o.channel.code,
                "status": o.status,
            }
            for o in consolidation.consolidated_orders.select_related("channel").order_by("pk")
        ],
    }


# The schema of ``OrderRoutingViewSet.list``'s body (documentation only).
_CONSOLIDATION_RESPONSE = inline_serializer(
    "RoutingConsolidation",
    {
        "id": serializers.IntegerField(),
        "customer": serializers.IntegerField(allow_null=True),
        "reason": serializers.CharField(),
        "rule": serializers.CharField(),
        "window_minutes": serializers.IntegerField(allow_null=True),
        "orders": inline_serializer(
            "RoutingConsolidatedOrder",
            {
                "id": serializers.IntegerField(),
                "external_id": serializers.CharField(),
                "channel": serializers.CharField(),
                "status": serializers.CharField(),
            },
            many=True,
        ),
    },
    allow_null=True,
)


@extend_schema_serializer(many=False)  # one object, though the view is a "list" action
class OrderRoutingSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    consolidation = _CONSOLIDATION_RESPONSE
    decisions = RoutingDecisionSerializer(many=True)


class OrderRoutingViewSet(MerchantScopedMixin, viewsets.GenericViewSet):
    """``GET /api/orders/{id}/routing/``: the latest decision first, then earlier ones."""

    serializer_class = RoutingDecisionSerializer
    queryset = RoutingDecision.objects.none()
    pagination_class = None
    filter_backends = []

    @extend_schema(responses={200: OrderRoutingSerializer})
    def list(self, request, order_pk: int):
        order = orders_of(self.merchant).select_related("consolidation").filter(pk=order_pk).first()
        if order is None:
            raise Http404
        mine = Q(order=order)
        if order.consolidation_id:
            mine |= Q(consolidation_id=order.consolidation_id)
        decisions = (
            RoutingDecision.objects.filter(mine)
            .select_related("order__merchant")
            .order_by("-created_at", "-id")
        )
        return Response(
            {
                "order": order.pk,
                "status": order.status,
                "status_reason": order.status_reason,
                "consolidation": consolidation_body(order.consolidation),
                "decisions": RoutingDecisionSerializer(decisions, many=True).data,
            }
        )


class SignalSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["weather", "carrier_capacity", "courier_load", "warehouse_status"]
    )
    region = serializers.ChoiceField(choices=Region.choices, required=False)
    carrier = serializers.CharField(max_length=60, required=False, default="")
    warehouse = serializers.CharField(max_length=32, required=False)
    value = serializers.JSONField(
        help_text="weather: 0-4; carrier_capacity/courier_load: 0..1; "
        "warehouse_status: active|paused|closed"
    )
    # DRF's serializer metaclass takes declared fields off the class, so this does not replace
    # Field.source as the stubs assume.
    source = serializers.CharField(max_length=80)  # type: ignore[assignment]
    observed_at = serializers.DateTimeField(required=False)
    valid_minutes = serializers.IntegerField(min_value=1, max_value=7 * 24 * 60, default=120)
    note = serializers.CharField(max_length=200, required=False, default="")

    def validate(self, attrs: dict) -> dict:
        kind, value = attrs["kind"], attrs["value"]
        if kind in ("weather", "carrier_capacity") and not attrs.get("region"):
            raise serializers.ValidationError({"region": ["Required for this kind."]})
        if kind in ("courier_load", "warehouse_status") and not attrs.get("warehouse"):
            raise serializers.ValidationError({"warehouse": ["Required for this kind."]})
        if kind == "weather" and (not isinstance(value, int) or not 0 <= value <= 4):
            raise serializers.ValidationError(
                {"value": ["A weather level is an integer 0 (none) to 4 (red)."]}
            )
        if kind in ("carrier_capacity", "courier_load") and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
        ):
            raise serializers.ValidationError({"value": ["A share between 0 and 1."]})
        if kind == "warehouse_status" and value not in WarehouseStatus.values:
            raise serializers.ValidationError(
                {"value": [f"One of {', '.join(WarehouseStatus.values)}."]}
            )
        return attrs


class SignalViewSet(
    IdempotentPostMixin, MerchantScopedMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """``POST /api/signals/``: a live signal for this merchant's routing (a list is accepted too)."""

    serializer_class = SignalSerializer
    queryset = RoutingDecision.objects.none()

    @extend_schema(request=SignalSerializer(many=True), responses={201: None})
    def create(self, request):
        many = isinstance(request.data, list)
        data = SignalSerializer(data=request.data, many=many)
        data.is_valid(raise_exception=True)
        items = data.validated_data if many else [data.validated_data]
        codes = {item["warehouse"] for item in items if item.get("warehouse")}
        own = set(
            Warehouse.objects.filter(merchant=self.merchant, code__in=codes).values_list(
                "code", flat=True
            )
        )
        if codes - own:
            raise serializers.ValidationError(
                {"warehouse": [f"Unknown warehouse {code!r}." for code in sorted(codes - own)]}
            )
        now = timezone.now()
        readings = [
            Reading(
                kind=item["kind"],
                value=item["value"],
                source=item["source"],
                observed_at=item.get("observed_at") or now,
                valid_for=timedelta(minutes=item["valid_minutes"]),
                region=item.get("region", ""),
                carrier=item["carrier"],
                warehouse_code=item.get("warehouse", ""),
                merchant_id=self.merchant.pk,
                note=item["note"],
            )
            for item in items
        ]
        counts = signals_ingest(readings=readings)
        return Response(
            {"stored": {k: v for k, v in counts.items() if v}}, status=status.HTTP_201_CREATED
        )
