"""Serializers of the merchant API. All input validation happens here (400 with field messages)."""

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from oms import fastpaths
from oms.api.auth import principal_of
from oms.geo import region_for_province
from oms.localcache import LocalCache
from oms.models import (
    InventoryBatch,
    Merchant,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    SalesChannel,
    Shipment,
    Warehouse,
)


class _MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int
    min_value: Decimal


MONEY: _MoneyOptions = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


def _merchant(serializer: serializers.BaseSerializer[Any]) -> Merchant:
    return principal_of(serializer.context["request"]).merchant


# --- Orders ---------------------------------------------------------------------------------
class ReceiverSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    phone = serializers.RegexField(
        r"^\+?[0-9 ()\-]{5,32}$",
        max_length=32,
        error_messages={"invalid": _("Enter a phone number (digits, +, spaces, dashes).")},
    )
    province = serializers.CharField(max_length=40)
    city = serializers.CharField(max_length=60)
    district = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    address_line = serializers.CharField(max_length=300)
    postal_code = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(**MONEY, required=False)


class OrderCreateSerializer(serializers.Serializer):
    channel = serializers.SlugField(
        max_length=40, help_text=_("Code of one of your sales channels.")
    )
    external_id = serializers.CharField(
        max_length=64, help_text=_("The order's id in that channel.")
    )
    receiver = ReceiverSerializer()
    lines = OrderLineInputSerializer(many=True, allow_empty=False)
    placed_at = serializers.DateTimeField(required=False)
    promised_at = serializers.DateTimeField(required=False, allow_null=True)
    shipping_fee = serializers.DecimalField(**MONEY, required=False, default=Decimal("0"))
    discount_total = serializers.DecimalField(**MONEY, required=False, default=Decimal("0"))
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)

    def validate_channel(self, code: str) -> SalesChannel:
        return _channel_of(_merchant(self), code)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return _resolve_lines(_merchant(self), lines)

    def validate(self, attrs: dict) -> dict:
        return _check_order(_merchant(self), attrs)

    @classmethod
    def validated_fast(cls, data: object, *, merchant) -> dict | None:
        """``validated_data`` of a well-formed request without a serializer per request, or
        ``None``: then the full serializer says what is off (``oms.fastpaths``)."""
        return fastpaths.validated_without_serializer_tree(
            cls, data, finish=lambda attrs: _finish_order(merchant, attrs)
        )


def _finish_order(merchant, attrs: dict) -> dict:
    """What ``validate_channel``, ``validate_lines`` and ``validate`` do, for the fast path."""
    attrs["channel"] = _channel_of(merchant, attrs["channel"])
    attrs["lines"] = _resolve_lines(merchant, attrs["lines"])
    return _check_order(merchant, attrs)


_CHANNELS: LocalCache[SalesChannel | None] = LocalCache("sales channels")


def _channel_of(merchant, code: str) -> SalesChannel:
    channel = _CHANNELS.get(
        (merchant.pk, code),
        lambda: SalesChannel.objects.filter(merchant=merchant, code=code).first(),
        keep_none=False,  # a channel just created in another process is found at once
    )
    if channel is None:
        raise serializers.ValidationError(_("Unknown channel %(code)r.") % {"code": code})
    if not channel.active:
        raise serializers.ValidationError(_("Channel %(code)r is inactive.") % {"code": code})
    return channel


def _resolve_lines(merchant, lines: list[dict]) -> list[dict]:
    """Resolve SKUs of this merchant; errors are keyed by line index, as DRF keys list items."""
    if len(lines) > settings.OMS_MAX_ORDER_LINES:
        raise serializers.ValidationError(
            _("At most %(n)d lines per order.") % {"n": settings.OMS_MAX_ORDER_LINES}
        )
    skus = [line["sku"] for line in lines]
    products = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in=skus)}
    repeated = {sku for sku, count in Counter(skus).items() if count > 1}
    seen: set[str] = set()
    # Keyed by the line's index as text, as it reads in the JSON response.
    errors: dict[str, dict[str, list[str]]] = {}
    for index, line in enumerate(lines):
        sku = line["sku"]
        product = products.get(sku)
        if product is None:
            errors[str(index)] = {"sku": [_("Unknown SKU %(sku)r.") % {"sku": sku}]}
        elif not product.active:
            errors[str(index)] = {"sku": [_("SKU %(sku)r is not for sale.") % {"sku": sku}]}
        elif sku in repeated and sku in seen:
            errors[str(index)] = {
                "sku": [
                    _(
                        "SKU %(sku)r appears on more than one line; "
                        "send one line with the total quantity."
                    )
                    % {"sku": sku}
                ]
            }
        else:
            line["product"] = product
            line.setdefault("unit_price", product.unit_value)
        seen.add(sku)
    if errors:
        raise serializers.ValidationError(errors)
    return lines


def _check_order(merchant, attrs: dict) -> dict:
    placed_at, promised_at = attrs.get("placed_at"), attrs.get("promised_at")
    if placed_at and promised_at and promised_at <= placed_at:
        raise serializers.ValidationError({"promised_at": [_("Must be after placed_at.")]})
    subtotal = sum(line["unit_price"] * line["quantity"] for line in attrs["lines"])
    if attrs["discount_total"] > subtotal + attrs["shipping_fee"]:
        raise serializers.ValidationError(
            {"discount_total": [_("Cannot exceed the subtotal plus shipping fee.")]}
        )
    currency = attrs.get("currency")
    if currency and currency != merchant.currency:
        raise serializers.ValidationError(
            {"currency": [_("Orders of this merchant are in %(c)s.") % {"c": merchant.currency}]}
        )
    if not region_for_province(attrs["receiver"]["province"]):
        raise serializers.ValidationError({"receiver": {"province": [_("Unknown province.")]}})
    return attrs


class OrderLineSerializer(serializers.ModelSerializer):
    """A line as ordered: its own SKU, name and price, whatever the product is called now."""

    class Meta:
        model = OrderLine
        fields = ["id", "sku", "name", "quantity", "unit_price", "line_total"]


class ShipmentSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")

    class Meta:
        model = Shipment
        fields = [
            "id",
            "warehouse",
            "carrier",
            "tracking_number",
            "status",
            "shipped_at",
            "delivered_at",
        ]


class OrderSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    receiver = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True)
    shipments = ShipmentSerializer(many=True, source="fulfilment_shipments")

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "channel",
            "status",
            "status_reason",
            "customer",
            "consolidation",
            "receiver",
            "region",
            "currency",
            "subtotal",
            "shipping_fee",
            "discount_total",
            "total",
            "placed_at",
            "promised_at",
            "created_at",
            "updated_at",
            "lines",
            "shipments",
        ]

    def to_representation(self, order: Order) -> dict:
        if fastpaths.enabled():
            return fastpaths.order_representation(order, receiver=self.get_receiver(order))
        return super().to_representation(order)

    def get_receiver(self, order: Order) -> dict:
        return {
            "name": order.receiver_name,
            "phone": order.receiver_phone,
            "province": order.province,
            "city": order.city,
            "district": order.district,
            "address_line": order.address_line,
            "postal_code": order.postal_code,
        }


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["id", "at", "kind", "actor", "from_status", "to_status", "message", "data"]


# --- Catalogue and warehouses -----------------------------------------------------------------
if TYPE_CHECKING:
    # The mixin is combined with ModelSerializer; type it against what it extends.
    _ModelSerializerBase = serializers.ModelSerializer[Model]
else:
    _ModelSerializerBase = object


class _UniquePerMerchantMixin(_ModelSerializerBase):
    unique_field: str

    def validate(self, attrs: dict) -> dict:
        value = attrs.get(self.unique_field)
        if value is not None:
            model: type[Model] = self.Meta.model
            clash = model._default_manager.filter(
                merchant=_merchant(self), **{self.unique_field: value}
            )
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError({self.unique_field: [_("Already in use.")]})
        return super().validate(attrs)


class ProductSerializer(_UniquePerMerchantMixin, serializers.ModelSerializer):
    unique_field = "sku"
    unit_value = serializers.DecimalField(**MONEY)
    weight_kg = serializers.DecimalField(
        max_digits=9, decimal_places=3, min_value=Decimal("0"), required=False
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "temperature_class",
            "unit_value",
            "currency",
            "weight_kg",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["currency", "created_at", "updated_at"]


class WarehouseSerializer(_UniquePerMerchantMixin, serializers.ModelSerializer):
    unique_field = "code"
    latitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=Decimal(-90), max_value=Decimal(90)
    )
    longitude = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=Decimal(-180), max_value=Decimal(180)
    )

    class Meta:
        model = Warehouse
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "region",
            "province",
            "city",
            "latitude",
            "longitude",
            "cold_chain",
            "daily_capacity",
            "status",
            "status_reason",
            "status_changed_at",
        ]
        read_only_fields = ["status_changed_at"]
        extra_kwargs = {"region": {"required": False}}

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        province = attrs.get("province")
        if province and not attrs.get("region"):
            region = region_for_province(province)
            if not region:
                raise serializers.ValidationError(
                    {"province": [_("Unknown province; give a region.")]}
                )
            attrs["region"] = region
        return attrs


# --- Inventory ------------------------------------------------------------------------------
class InventoryBatchSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code")
    sku = serializers.CharField(source="product.sku")
    available = serializers.IntegerField(source="available_qty")

    class Meta:
        model = InventoryBatch
        fields = [
            "id",
            "warehouse",
            "sku",
            "batch_number",
            "expiry_date",
            "on_hand",
            "reserved",
            "available",
            "updated_at",
        ]


class StockItemSerializer(serializers.Serializer):
    batch = serializers.IntegerField(required=False, help_text=_("Id of an existing batch."))
    warehouse = serializers.CharField(max_length=32, required=False)
    sku = serializers.CharField(max_length=64, required=False)
    batch_number = serializers.CharField(max_length=64, required=False)
    expiry_date = serializers.DateField(required=False)
    on_hand = serializers.IntegerField(
        min_value=0, required=False, help_text=_("Counted units (set).")
    )
    delta = serializers.IntegerField(
        required=False, help_text=_("Units received (+) or removed (-).")
    )

    def validate(self, attrs: dict) -> dict:
        if ("on_hand" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError(_("Give exactly one of on_hand or delta."))
        if "batch" not in attrs and not all(
            k in attrs for k in ("warehouse", "sku", "batch_number")
        ):
            raise serializers.ValidationError(_("Give batch, or warehouse + sku + batch_number."))
        return attrs


class StockBulkUpdateSerializer(serializers.Serializer):
    items = StockItemSerializer(many=True, allow_empty=False)

    def validate_items(self, items: list[dict]) -> list[dict]:
        if len(items) > settings.OMS_MAX_BULK_STOCK_ITEMS:
            raise serializers.ValidationError(
                _("At most %(n)d items per request.") % {"n": settings.OMS_MAX_BULK_STOCK_ITEMS}
            )
        return items
