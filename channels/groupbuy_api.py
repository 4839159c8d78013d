"""Merchant API of group-buying waves (mounted at /api/groupbuy/): list and read, scoped.

A wave of another merchant answers 404, like every other merchant-scoped resource.
"""

from django.urls import path
from rest_framework import mixins, serializers, viewsets

from channels.groupbuy.selectors import waves_of
from channels.models import PickList, PickListLine, PickWave
from oms.api.base import MerchantScopedMixin
from oms.models import Warehouse


class PickListLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PickListLine
        fields = ["position", "sku", "name", "quantity", "order_count"]


class PickListSerializer(serializers.ModelSerializer):
    lines = PickListLineSerializer(many=True, read_only=True)

    class Meta:
        model = PickList
        fields = [
            "id",
            "position",
            "pickup_point_id",
            "pickup_point_name",
            "leader_id",
            "leader_name",
            "order_count",
            "unit_count",
            "leader_proxy_count",
            "member_direct_count",
            "store_pickup_count",
            "lines",
        ]


class PickWaveSerializer(serializers.ModelSerializer):
    warehouse = serializers.SlugRelatedField[Warehouse](slug_field="code", read_only=True)
    # A plain string in the schema: a "status" enum here would collide with the order's.
    status = serializers.CharField(read_only=True, help_text="open, printed or picked")

    class Meta:
        model = PickWave
        fields = [
            "id",
            "warehouse",
            "status",
            "cutoff",
            "created_at",
            "order_count",
            "pickup_point_count",
            "sku_count",
            "unit_count",
            "duration_ms",
        ]


class PickWaveDetailSerializer(PickWaveSerializer):
    pick_lists = PickListSerializer(many=True, read_only=True)

    class Meta(PickWaveSerializer.Meta):
        fields = [*PickWaveSerializer.Meta.fields, "pick_lists"]


class PickWaveViewSet(
    MerchantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = PickWave.objects.none()  # for the schema; requests use get_queryset
    serializer_class = PickWaveSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        queryset = waves_of(self.merchant)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("pick_lists__lines")
        return queryset

    def get_serializer_class(self):
        return PickWaveDetailSerializer if self.action == "retrieve" else PickWaveSerializer


urlpatterns = [
    path("waves/", PickWaveViewSet.as_view({"get": "list"}), name="groupbuy-wave-list"),
    path(
        "waves/<int:pk>/", PickWaveViewSet.as_view({"get": "retrieve"}), name="groupbuy-wave-detail"
    ),
]
