"""Merchant API views: parse, call a service or selector, serialize. Nothing else."""

from django.db.models import Model, Prefetch, ProtectedError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from oms import fastpaths, selectors
from oms.api import serializers as s
from oms.api.base import IdempotentPostMixin, MerchantScopedMixin
from oms.api.filters import InventoryFilter, OrderFilter
from oms.exceptions import DuplicateOrder, InUse
from oms.models import InventoryBatch, Order, Product, SalesChannel, Shipment, Warehouse
from oms.services.inventory import StockChange, stock_bulk_update
from oms.services.orders import (
    AddressInput,
    LineInput,
    order_cancel,
    order_create,
    order_created_under_key,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Unique key per logical request; a retry with the same key and body replays the "
    "first response (header Idempotent-Replayed: true).",
)


class OrderViewSet(
    IdempotentPostMixin,
    MerchantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Order.objects.none()  # for the schema; requests use get_queryset
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["created_at", "placed_at", "promised_at", "total", "status", "id"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.orders_of(self.merchant).prefetch_related(
            "lines",
            Prefetch("shipments", queryset=Shipment.objects.select_related("warehouse")),
            Prefetch(
                "consolidation__shipments", queryset=Shipment.objects.select_related("warehouse")
            ),
        )

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={201: s.OrderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        v = None
        if fastpaths.enabled():
            v = s.OrderCreateSerializer.validated_fast(request.data, merchant=self.merchant)
        if v is None:  # the plain path; also says what is off, field by field
            data = s.OrderCreateSerializer(data=request.data, context={"request": request})
            data.is_valid(raise_exception=True)
            v = data.validated_data
        receiver = v["receiver"]
        key = self.claimed_idempotency_key
        try:
            order = self._create(v, receiver, key)
        except DuplicateOrder as duplicate:
            # A retry of a request that created the order and then died before its response
            # was stored: answer as the original did, with the order (as it is now).
            order_id = duplicate.details["order_id"]
            if (
                key
                and isinstance(order_id, int)
                and order_created_under_key(order_id=order_id, idempotency_key=key)
            ):
                order = self.get_queryset().get(pk=order_id)
                return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)
            raise
        # Serialized as created: routing runs after the commit (in a worker, or right away when
        # Celery is eager), so the next GET shows its outcome.
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    def _create(self, v: dict, receiver: dict, key: str) -> Order:
        return order_create(
            merchant=self.merchant,
            channel=v["channel"],
            external_id=v["external_id"],
            lines=[
                LineInput(line["product"], line["quantity"], line["unit_price"])
                for line in v["lines"]
            ],
            address=AddressInput(
                receiver_name=receiver["name"],
                receiver_phone=receiver["phone"],
                province=receiver["province"],
                city=receiver["city"],
                district=receiver["district"],
                address_line=receiver["address_line"],
                postal_code=receiver["postal_code"],
            ),
            actor=self.actor,
            placed_at=v.get("placed_at"),
            promised_at=v.get("promised_at"),
            shipping_fee=v["shipping_fee"],
            discount_total=v["discount_total"],
            currency=v.get("currency"),
            idempotency_key=key,
        )

    @extend_schema(
        request=s.CancelSerializer,
        responses={200: s.OrderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_cancel(order=order, actor=self.actor, reason=data.validated_data["reason"])
        return Response(s.OrderSerializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(responses={200: s.OrderEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, pk=None):
        order = self.get_object()
        return Response(s.OrderEventSerializer(selectors.timeline_of(order), many=True).data)


class _CatalogueViewSet(IdempotentPostMixin, MerchantScopedMixin, viewsets.ModelViewSet):
    """CRUD scoped to the merchant; deleting a row still in use answers 409, not 500."""

    model: type[Model]

    def get_queryset(self):
        return self.model._default_manager.filter(merchant=self.merchant)

    def perform_create(self, serializer):
        serializer.save(merchant=self.merchant)

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError:
            raise InUse(
                f"This {self.model._meta.verbose_name} is used by stock or orders; "
                "deactivate it instead."
            ) from None

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class ProductViewSet(_CatalogueViewSet):
    model = Product
    queryset = Product.objects.none()
    serializer_class = s.ProductSerializer
    filterset_fields = ["sku", "temperature_class", "category", "active"]
    ordering_fields = ["sku", "name", "unit_value", "created_at"]
    ordering = ["sku"]

    def perform_create(self, serializer):
        serializer.save(merchant=self.merchant, currency=self.merchant.currency)


class WarehouseViewSet(_CatalogueViewSet):
    model = Warehouse
    queryset = Warehouse.objects.none()
    serializer_class = s.WarehouseSerializer
    filterset_fields = ["code", "kind", "region", "status", "cold_chain"]
    ordering_fields = ["code", "name", "region", "daily_capacity"]
    ordering = ["code"]


class InventoryViewSet(
    IdempotentPostMixin,
    MerchantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = InventoryBatch.objects.none()
    serializer_class = s.InventoryBatchSerializer
    filterset_class = InventoryFilter
    ordering_fields = ["expiry_date", "on_hand", "reserved", "available_qty", "updated_at"]
    ordering = ["warehouse__code", "product__sku", "expiry_date"]

    def get_queryset(self):
        return selectors.batches_of(self.merchant)

    @extend_schema(
        request=s.StockBulkUpdateSerializer,
        responses={200: s.InventoryBatchSerializer(many=True)},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @action(detail=False, methods=["post"], url_path="bulk-update")
    def bulk_update(self, request):
        data = s.StockBulkUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["items"]
        changes = self._resolve(items)
        batches = stock_bulk_update(merchant=self.merchant, changes=changes)
        fresh = self.get_queryset().filter(pk__in=[b.pk for b in batches])
        return Response(s.InventoryBatchSerializer(fresh, many=True).data)

    def _resolve(self, items: list[dict]) -> list[StockChange]:
        """Turn ids and codes into rows of this merchant: other tenants' batch ids are 404."""
        batch_ids = {item["batch"] for item in items if "batch" in item}
        batches = {b.pk: b for b in selectors.batches_of(self.merchant).filter(pk__in=batch_ids)}
        if batch_ids - batches.keys():
            raise Http404
        warehouses = {
            w.code: w
            for w in Warehouse.objects.filter(
                merchant=self.merchant, code__in={i["warehouse"] for i in items if "warehouse" in i}
            )
        }
        products = {
            p.sku: p
            for p in Product.objects.filter(
                merchant=self.merchant, sku__in={i["sku"] for i in items if "sku" in i}
            )
        }
        # Keyed by the item's index as text, as it reads in the JSON response.
        errors: dict[str, dict[str, list[str]]] = {}
        changes: list[StockChange] = []
        for index, item in enumerate(items):
            warehouse: Warehouse | None
            product: Product | None
            if "batch" in item:
                batch = batches[item["batch"]]
                warehouse, product, number = batch.warehouse, batch.product, batch.batch_number
            else:
                warehouse, product = warehouses.get(item["warehouse"]), products.get(item["sku"])
                number = item["batch_number"]
                if warehouse is None or product is None:
                    problem: dict[str, list[str]] = {}
                    if warehouse is None:
                        problem["warehouse"] = [f"Unknown warehouse {item['warehouse']!r}."]
                    if product is None:
                        problem["sku"] = [f"Unknown SKU {item['sku']!r}."]
                    errors[str(index)] = problem
                    continue
            changes.append(
                StockChange(
                    warehouse=warehouse,
                    product=product,
                    batch_number=number,
                    on_hand=item.get("on_hand"),
                    delta=item.get("delta"),
                    expiry_date=item.get("expiry_date"),
                )
            )
        if errors:
            raise serializers.ValidationError({"items": errors})
        return changes


class ChannelSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    active = serializers.BooleanField()


class ChannelViewSet(MerchantScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = SalesChannel.objects.none()
    serializer_class = ChannelSerializer
    ordering = ["code"]
    ordering_fields = ["code"]

    def get_queryset(self):
        return SalesChannel.objects.filter(merchant=self.merchant)
