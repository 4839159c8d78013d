"""``POST /api/promise/``: what a cart can be promised to an address, before payment.

Thin: the request serializer validates the cart (SKUs of the caller's merchant only: another
merchant's SKU reads as unknown) and the address; ``service.cart_promise`` answers; the response
serializers write it and document it in the OpenAPI schema.

The answer is 200 also when nothing can be promised (``promisable`` false, ``reason`` says why,
``lines`` how much of each SKU there is): a checkout shows that, it is not an error. Prices are
CNY strings to the fen; window times are ISO 8601 on the merchant's clock (with its offset).
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from customers.api import merge_check_body
from oms.api.base import IdempotentPostMixin, MerchantScopedMixin
from oms.geo import province_key, region_for_province
from oms.models import Product, Region
from routing.holds import hold_expiry, hold_place
from routing.promise.engine_adapter import ServiceChoice, hold_for
from routing.promise.service import Buyer, CartLine, Promise, cart_promise

FEN = Decimal("0.01")


# --- Request --------------------------------------------------------------------------------
class PromiseLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class PromiseAddressSerializer(serializers.Serializer):
    province = serializers.CharField(
        max_length=40,
        help_text=gettext_lazy("Province, in Chinese or English ('浙江', 'Zhejiang')."),
    )
    city = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    district = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    address_line = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )

    def validate_province(self, province: str) -> str:
        if not region_for_province(province):
            raise serializers.ValidationError(gettext_lazy("Unknown province."))
        return province_key(province)


class PromiseBuyerSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    phone = serializers.RegexField(
        r"^\+?[0-9 ()\-]{5,32}$",
        max_length=32,
        error_messages={
            "invalid": gettext_lazy("Enter a phone number (digits, +, spaces, dashes).")
        },
    )
    device_id = serializers.CharField(max_length=120, required=False, default="")
    account_id = serializers.CharField(max_length=120, required=False, default="")
    channel = serializers.CharField(max_length=40, required=False, default="")


class PromiseHoldRequestSerializer(serializers.Serializer):
    option = serializers.RegexField(
        r"^option-[1-9][0-9]{0,2}$",
        help_text=gettext_lazy("The id of the option the buyer took, as this answer numbers it."),
    )
    external_id = serializers.CharField(
        max_length=64,
        help_text=gettext_lazy("The order reference the checkout will create the order under."),
    )


class CartPromiseSerializer(serializers.Serializer):
    lines = PromiseLineSerializer(many=True, allow_empty=False)
    address = PromiseAddressSerializer()
    hold = PromiseHoldRequestSerializer(
        required=False,
        help_text=gettext_lazy(
            "Hold the units and parcels of this option for the order to come, for a few "
            "minutes (OMS_PROMISE_HOLD_MINUTES), so orders placed meanwhile do not take them."
        ),
    )
    buyer = PromiseBuyerSerializer(
        required=False,
        help_text=gettext_lazy(
            "Who is buying: with it (and an address line) the answer says whether the order "
            "can ship with the buyer's other orders in the merge window."
        ),
    )

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        merchant = self.context["merchant"]
        if len(lines) > settings.OMS_MAX_ORDER_LINES:
            raise serializers.ValidationError(
                _("At most %(n)d lines per order.") % {"n": settings.OMS_MAX_ORDER_LINES}
            )
        skus = [line["sku"] for line in lines]
        products = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in=skus)}
        repeated = {sku for sku, count in Counter(skus).items() if count > 1}
        errors: dict[str, dict[str, list[str]]] = {}
        seen: set[str] = set()
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
            seen.add(sku)
        if errors:
            raise serializers.ValidationError(errors)
        return lines

    def validate(self, attrs: dict) -> dict:
        if attrs.get("buyer") and not attrs["address"]["address_line"].strip():
            raise serializers.ValidationError(
                {
                    "address": {
                        "address_line": [
                            _("Needed to check whether the order can ship with the buyer's others.")
                        ]
                    }
                }
            )
        return attrs


# --- Response -------------------------------------------------------------------------------
class LocalDateTimeField(serializers.DateTimeField):
    """A datetime written as given (already on the merchant's clock), not converted."""

    def to_representation(self, value):
        return value if isinstance(value, str) else value.isoformat()


class CarrierServiceSerializer(serializers.Serializer):
    """The carrier service routing chose for a parcel (null for a warehouse whose lane has no
    carrier services: its per-region price and carrier label are used)."""

    code = serializers.CharField(help_text=gettext_lazy("Carrier code / service code."))
    name = serializers.CharField()
    carrier = serializers.CharField()
    level = serializers.ChoiceField(choices=["economy", "express", "same_day", "cold_chain"])


class PromiseBatchSerializer(serializers.Serializer):
    batch_number = serializers.CharField()
    expiry_date = serializers.DateField(allow_null=True)
    quantity = serializers.IntegerField()


class PromiseShipmentLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    batches = PromiseBatchSerializer(many=True)


class PromiseShipmentSerializer(serializers.Serializer):
    warehouse = serializers.CharField()
    warehouse_name = serializers.CharField()
    carrier = serializers.CharField(
        help_text=gettext_lazy(
            "The carrier of the parcel's service, else the lane's; empty for an estimated lane."
        )
    )
    carrier_service = CarrierServiceSerializer(allow_null=True)
    transit_hours = serializers.FloatField()
    shipping_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    billable_weight_kg = serializers.FloatField(
        help_text=gettext_lazy(
            "Actual or volumetric weight, the larger, on the service's rate card (0 without one)."
        )
    )
    lines = PromiseShipmentLineSerializer(many=True)


class PromiseWindowSerializer(serializers.Serializer):
    earliest = LocalDateTimeField()
    latest = LocalDateTimeField()
    hours_wide = serializers.FloatField()
    same_day = serializers.BooleanField()


class PromiseOptionSerializer(serializers.Serializer):
    id = serializers.CharField()
    tags = serializers.ListField(
        child=serializers.ChoiceField(choices=["cheapest", "fastest", "most_certain"])
    )
    speed = serializers.ChoiceField(choices=["same_day", "next_day", "standard"])
    carrier = serializers.CharField()
    carrier_service = CarrierServiceSerializer(
        allow_null=True,
        help_text=gettext_lazy("The service of the parcel that arrives last: it sets the window."),
    )
    window = PromiseWindowSerializer()
    promised_at = LocalDateTimeField(
        help_text=gettext_lazy(
            "Send this as the order's promised_at when the buyer takes the option."
        )
    )
    shipping_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    fulfilment_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    certainty = serializers.FloatField(min_value=0, max_value=1)
    parcels = serializers.IntegerField()
    shipments = PromiseShipmentSerializer(many=True)


class PromiseLineAvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    available_to_promise = serializers.IntegerField()
    enough = serializers.BooleanField()


class PromiseDestinationSerializer(serializers.Serializer):
    province = serializers.CharField()
    region = serializers.ChoiceField(choices=Region.choices)


class MergeOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.CharField()


class PromiseMergeSerializer(serializers.Serializer):
    mergeable = serializers.BooleanField()
    customer = serializers.IntegerField(allow_null=True)
    window_minutes = serializers.IntegerField()
    orders = MergeOrderSerializer(many=True)
    reasons = serializers.ListField(child=serializers.CharField())


class PromiseProfileSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()


class PromiseHoldSerializer(serializers.Serializer):
    option = serializers.CharField()
    external_id = serializers.CharField()
    expires_at = LocalDateTimeField()


class PromiseSerializer(serializers.Serializer):
    promisable = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    evaluated_at = LocalDateTimeField()
    time_zone = serializers.CharField()
    currency = serializers.ChoiceField(choices=["CNY"])
    destination = PromiseDestinationSerializer()
    lines = PromiseLineAvailabilitySerializer(many=True)
    options = PromiseOptionSerializer(many=True)
    merge = PromiseMergeSerializer(allow_null=True)
    profile = PromiseProfileSerializer()
    hold = PromiseHoldSerializer(
        allow_null=True,
        help_text=gettext_lazy("The hold placed for the option asked for (null: none)."),
    )


def _fen(value: float) -> Decimal:
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


def _service_body(service: ServiceChoice | None) -> dict[str, str] | None:
    if service is None:
        return None
    return {
        "code": service.code,
        "name": service.name,
        "carrier": service.carrier,
        "level": service.level,
    }


def promise_body(promise: Promise) -> dict[str, Any]:
    """The promise as ``PromiseSerializer`` writes it: JSON types only (prices as strings to
    the fen, times as ISO 8601 on the merchant's clock)."""
    options = []
    for number, option in enumerate(promise.answer.options, start=1):
        plan, window = option.plan, option.window
        shipments = []
        for shipment in plan.shipments:
            shipments.append(
                {
                    "warehouse": shipment.node_code,
                    "warehouse_name": promise.warehouse_names.get(shipment.node_code, ""),
                    "carrier": shipment.carrier,
                    "carrier_service": _service_body(shipment.carrier_service),
                    "transit_hours": round(shipment.transit_hours, 1),
                    "shipping_price": str(_fen(shipment.shipping_price)),
                    "billable_weight_kg": round(shipment.weight_kg, 3),
                    "lines": [
                        {
                            "sku": sku,
                            "quantity": quantity,
                            "batches": [
                                {
                                    "batch_number": batch.batch_number,
                                    "expiry_date": batch.expiry_date.isoformat()
                                    if batch.expiry_date
                                    else None,
                                    "quantity": taken,
                                }
                                for batch, taken in promise.batches_for(
                                    shipment.node_code, sku, quantity
                                )
                            ],
                        }
                        for sku, quantity in shipment.lines
                    ],
                }
            )
        carriers = sorted({s.carrier for s in plan.shipments if s.carrier})
        options.append(
            {
                "id": f"option-{number}",
                "tags": list(option.tags),
                "speed": window.speed,
                "carrier": " + ".join(carriers),
                "carrier_service": _service_body(plan.slowest.carrier_service),
                "window": {
                    "earliest": window.earliest.isoformat(),
                    "latest": window.latest.isoformat(),
                    "hours_wide": round(window.hours_wide, 2),
                    "same_day": window.same_day,
                },
                "promised_at": window.latest.isoformat(),
                "shipping_price": str(
                    sum((_fen(s.shipping_price) for s in plan.shipments), Decimal("0"))
                ),
                "fulfilment_cost": str(_fen(plan.cost)),
                "certainty": round(plan.certainty, 4),
                "parcels": len(shipments),
                "shipments": shipments,
            }
        )
    short = [line for line in promise.lines if line.available < line.quantity]
    if options:
        reason = ""
    elif short:
        line = short[0]
        reason = _(
            "Only %(available)d of %(quantity)d units of %(sku)s can be promised to %(province)s."
        ) % {
            "available": line.available,
            "quantity": line.quantity,
            "sku": line.sku,
            "province": promise.province,
        }
    else:
        reason = _("No warehouse can ship this cart to %(province)s today.") % {
            "province": promise.province
        }
    profile = promise.profile
    return {
        "promisable": bool(options),
        "reason": reason,
        "evaluated_at": promise.now.astimezone(promise.tz).isoformat(),
        "time_zone": str(promise.tz),
        "currency": "CNY",  # lane prices and the engine's money are CNY
        "destination": {"province": promise.province, "region": promise.region},
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "available_to_promise": line.available,
                "enough": line.available >= line.quantity,
            }
            for line in promise.lines
        ],
        "options": options,
        "merge": merge_check_body(promise.merge) if promise.merge is not None else None,
        "profile": {
            "name": profile.name if profile else "built-in",
            "version": promise.profile_version,
        },
        "hold": None,
    }


class PromiseViewSet(IdempotentPostMixin, MerchantScopedMixin, viewsets.GenericViewSet):
    """``POST /api/promise/``: delivery options for a cart and an address (read-only)."""

    serializer_class = CartPromiseSerializer
    queryset = Product.objects.none()

    @extend_schema(request=CartPromiseSerializer, responses={200: PromiseSerializer})
    def create(self, request):
        data = CartPromiseSerializer(data=request.data, context={"merchant": self.merchant})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        address = v["address"]
        buyer = v.get("buyer")
        hold = v.get("hold")
        promise = cart_promise(
            merchant=self.merchant,
            lines=[CartLine(line["product"], line["quantity"]) for line in v["lines"]],
            province=address["province"],
            city=address["city"],
            address=" ".join(
                part
                for part in (
                    address["province"],
                    address["city"],
                    address["district"],
                    address["address_line"],
                )
                if part
            ),
            buyer=Buyer(**buyer) if buyer else None,
            hold_reference=hold["external_id"] if hold else "",
        )
        body = promise_body(promise)
        if hold and settings.OMS_PROMISE_HOLD_MINUTES > 0:
            body["hold"] = self._hold(promise, hold)
        # The body is already what ``PromiseSerializer`` writes (a test holds them equal);
        # running the nested serializers over it again cost a quarter of a warm promise.
        return Response(body)

    def _hold(self, promise: Promise, hold: dict) -> dict[str, str]:
        number = int(hold["option"].removeprefix("option-"))
        options = promise.answer.options
        if number > len(options):
            raise serializers.ValidationError(
                {
                    "hold": {
                        "option": [
                            _("This cart has no option %(id)s now.") % {"id": hold["option"]}
                        ]
                    }
                }
            )
        option = options[number - 1]
        expires_at = hold_expiry(promise.now)
        hold_place(
            merchant_id=self.merchant.pk,
            external_id=hold["external_id"],
            hold=hold_for(option.plan, key=hold["external_id"], expires_at=expires_at),
            promised_at=option.window.latest,
        )
        return {
            "option": hold["option"],
            "external_id": hold["external_id"],
            "expires_at": expires_at.astimezone(promise.tz).isoformat(),
        }
