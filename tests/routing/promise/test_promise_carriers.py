"""``POST /api/promise/`` over warehouse x carrier service: per-service options, rate-card prices,
cold chain, paused warehouses, other merchants' carriers, and routing keeping the service."""

import math
from datetime import datetime
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from customers.models import MatchRuleSet
from oms.models import TemperatureClass, WarehouseStatus
from routing.models import Carrier, CarrierRate, CarrierService, WarehouseCarrier
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db
ADDRESS = {"province": "上海市", "city": "上海", "address_line": "世纪大道100号"}

# code: (level, chilled, same city, first kg, each further kg, transit hours, on-time, divisor)
SERVICES = {
    "eco": ("economy", False, False, "6.00", "2.00", 30.0, 0.95, 8000),
    "air": ("express", False, False, "11.00", "3.00", 9.0, 0.985, 6000),
    "cold": ("cold_chain", True, False, "12.00", "4.00", 14.0, 0.975, 6000),
    "bee": ("same_day", False, True, "15.00", "2.00", 3.0, 0.99, 5000),
}


def _services(merchant, prefix="LK"):
    carrier = Carrier.objects.create(merchant=merchant, code=prefix.lower(), name=f"{prefix} Post")
    out = {}
    for code, (
        level,
        chilled,
        same_city,
        first,
        extra,
        hours,
        on_time,
        divisor,
    ) in SERVICES.items():
        service = CarrierService.objects.create(
            carrier=carrier,
            code=code,
            name=f"{prefix} {code}",
            level=level,
            chilled=chilled,
            same_city_only=same_city,
            volumetric_divisor=divisor,
        )
        CarrierRate.objects.create(
            service=service,
            destination_province="上海",
            first_price=Decimal(first),
            additional_per_kg=Decimal(extra),
            transit_hours=hours,
            on_time_rate=on_time,
        )
        out[code] = service
    return out


def _link(warehouse, services, default="eco"):
    for code, service in services.items():
        WarehouseCarrier.objects.create(
            warehouse=warehouse, service=service, is_default=code == default
        )


@pytest.fixture
def world(merchant):
    """A Shanghai DC with four services (economy, express, cold chain, same-day courier)."""
    dc = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC", cold_chain=True)
    services = _services(merchant)
    _link(dc, services)
    tea = ProductFactory(merchant=merchant, sku="TEA", weight_kg=Decimal("1.5"))
    milk = ProductFactory(
        merchant=merchant,
        sku="MILK",
        temperature_class=TemperatureClass.CHILLED,
        weight_kg=Decimal("1.0"),
    )
    pillow = ProductFactory(  # light and bulky: priced by volume
        merchant=merchant, sku="PILLOW", weight_kg=Decimal("0.8"), volume_litres=Decimal("30")
    )
    for product in (tea, milk, pillow):
        BatchFactory(warehouse=dc, product=product, on_hand=100)
    return {"dc": dc, "services": services, "tea": tea, "milk": milk, "pillow": pillow}


def _promise(api, lines, address=ADDRESS):
    return api.post("/api/promise/", {"lines": lines, "address": address}, format="json")


def _levels(body):
    return {option["carrier_service"]["level"]: option for option in body["options"]}


def _rate_card_price(code: str, billable_kg: float) -> Decimal:
    _level, _chilled, _city, first, extra, *_rest = SERVICES[code]
    further = max(0, math.ceil(billable_kg - 1 - 1e-9))
    return Decimal(first) + Decimal(extra) * further


def test_a_cart_gets_an_option_per_carrier_service_priced_from_its_rate_card(api, world):
    response = _promise(api, [{"sku": "TEA", "quantity": 2}])
    assert response.status_code == 200, response.content
    options = _levels(response.json())
    # Ambient tea: never the cold-chain service when an ambient one is as fast and cheaper.
    assert {"economy", "same_day"} <= set(options) and "cold_chain" not in options
    economy, same_day = options["economy"], options["same_day"]
    assert economy["carrier_service"] == {
        "code": "lk/eco",
        "name": "LK eco",
        "carrier": "LK Post",
        "level": "economy",
    }
    assert economy["carrier"] == "LK Post"
    for option in options.values():
        (shipment,) = option["shipments"]
        assert shipment["carrier_service"] == option["carrier_service"]
        # 2 x 1.5 kg = 3 kg: the first kg and 2 further kg at the service's own rates.
        assert shipment["billable_weight_kg"] == 3.0
        code = option["carrier_service"]["code"].split("/")[1]
        assert Decimal(option["shipping_price"]) == _rate_card_price(code, 3.0)
        # The window starts at the service's transit hours.
        earliest = datetime.fromisoformat(option["window"]["earliest"])
        hours = SERVICES[code][5]
        assert abs((earliest - timezone.now()).total_seconds() / 3600 - hours) <= 1.01
    assert economy["shipping_price"] == "10.00"  # 6 + 2 x 2
    assert same_day["window"]["same_day"] is True and same_day["window"]["hours_wide"] <= 4
    assert "cheapest" in economy["tags"] and "fastest" in same_day["tags"]


def test_express_is_offered_between_economy_and_the_courier(api, world):
    WarehouseCarrier.objects.filter(service=world["services"]["bee"]).delete()
    options = _levels(_promise(api, [{"sku": "TEA", "quantity": 2}]).json())
    assert set(options) == {"economy", "express"}
    express, economy = options["express"], options["economy"]
    assert express["shipping_price"] == "17.00"  # 11 + 2 x 3
    assert datetime.fromisoformat(express["window"]["latest"]) < datetime.fromisoformat(
        economy["window"]["earliest"]
    )
    # Certainty: the engine's on-time chance under the window, at most the lane's record.
    assert 0 < express["certainty"] <= 0.985 and 0 < economy["certainty"] <= 0.95


def test_a_bulky_parcel_is_priced_by_its_volumetric_weight(api, world):
    WarehouseCarrier.objects.filter(service=world["services"]["bee"]).delete()
    body = _promise(api, [{"sku": "PILLOW", "quantity": 1}]).json()
    express = _levels(body)["express"]
    # 30 litres / 6000 cm3 per kg = 5 kg billable (0.8 kg actual): 11 + 4 x 3.
    assert express["shipments"][0]["billable_weight_kg"] == 5.0
    assert express["shipping_price"] == "23.00"


def test_a_chilled_cart_is_offered_cold_chain_services_only(api, world):
    body = _promise(api, [{"sku": "MILK", "quantity": 2}, {"sku": "TEA", "quantity": 1}]).json()
    assert body["promisable"] is True
    for option in body["options"]:
        for shipment in option["shipments"]:
            if any(line["sku"] == "MILK" for line in shipment["lines"]):
                assert shipment["carrier_service"]["level"] == "cold_chain"
    milk_only = _promise(api, [{"sku": "MILK", "quantity": 1}]).json()
    assert {o["carrier_service"]["code"] for o in milk_only["options"]} == {"lk/cold"}


def test_a_paused_warehouse_is_not_promised(api, merchant, world):
    other = WarehouseFactory(merchant=merchant, code="SZ-RC", province="江苏", city="苏州")
    _link(other, {"eco": world["services"]["eco"]})
    BatchFactory(warehouse=other, product=world["tea"], on_hand=10)
    dc = world["dc"]
    dc.status = WarehouseStatus.PAUSED
    dc.status_reason = "power cut"
    dc.save()
    body = _promise(api, [{"sku": "TEA", "quantity": 1}]).json()
    assert body["promisable"] is True
    assert {s["warehouse"] for o in body["options"] for s in o["shipments"]} == {"SZ-RC"}
    assert body["lines"][0]["available_to_promise"] == 10


def test_another_merchants_carriers_never_appear(api, merchant, world):
    stranger = MerchantFactory()
    theirs = _services(stranger, prefix="XX")
    # Their services are cheaper and faster, linked to their own warehouse in the same city.
    for service in theirs.values():
        service.rates.update(first_price=Decimal("1.00"), transit_hours=1.0)
    wh = WarehouseFactory(merchant=stranger, code="XX-DC")
    _link(wh, theirs)
    ProductFactory(merchant=stranger, sku="TEA")
    body = _promise(api, [{"sku": "TEA", "quantity": 1}]).json()
    codes = {s["carrier_service"]["code"] for o in body["options"] for s in o["shipments"]}
    assert codes and all(code.startswith("lk/") for code in codes)
    assert {s["warehouse"] for o in body["options"] for s in o["shipments"]} == {"SH-DC"}


def test_a_new_rate_is_promised_at_once(api, world):
    before = _levels(_promise(api, [{"sku": "TEA", "quantity": 1}]).json())["economy"]
    assert before["shipping_price"] == "8.00"  # 1.5 kg: the first kg and one more
    rate = world["services"]["eco"].rates.get()
    rate.first_price = Decimal("7.50")
    with TestCase.captureOnCommitCallbacks(execute=True):
        rate.save()
    after = _levels(_promise(api, [{"sku": "TEA", "quantity": 1}]).json())["economy"]
    assert after["shipping_price"] == "9.50"


@pytest.mark.parametrize(
    "payload",
    [
        {"lines": [{"sku": "TEA", "quantity": "two"}], "address": ADDRESS},
        {"lines": [{"sku": "TEA", "quantity": 1}], "address": {"province": "Atlantis"}},
        {"lines": "TEA", "address": ADDRESS},
    ],
)
def test_bad_input_is_a_400_with_field_messages(api, world, payload):
    response = api.post("/api/promise/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) & {"lines", "address"}


def test_an_order_carrying_an_option_is_routed_with_its_service(api, merchant, world):
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)  # each on its own
    body = _promise(api, [{"sku": "TEA", "quantity": 1}]).json()
    assert len(body["options"]) >= 2
    for option in body["options"]:
        promised_at = datetime.fromisoformat(option["promised_at"])
        hours = (promised_at - timezone.now()).total_seconds() / 3600
        order = make_order(merchant=merchant, lines=[(world["tea"], 1)], promised_in_hours=hours)
        shipment = order.shipments.get()
        assert shipment.carrier == option["carrier_service"]["name"], option["carrier_service"]


def test_the_body_is_what_the_documented_serializer_writes(merchant, world):
    from routing.promise.api import PromiseSerializer, promise_body
    from routing.promise.service import CartLine, cart_promise

    promise = cart_promise(
        merchant=merchant,
        lines=[CartLine(world["tea"], 2), CartLine(world["milk"], 1)],
        province="上海",
        city="上海",
    )
    body = promise_body(promise)
    assert body["options"]
    assert PromiseSerializer(body).data == body


def test_the_promise_prices_cold_chain_slots_with_the_days_cold_parcels_as_routing_does(
    api, merchant, world, monkeypatch
):
    """With the cold-chain service capped, routing prices an ambient parcel's use of its slots
    from the day's chilled parcels so far; the promise's context carries the same count."""
    from routing import context
    from routing.promise import service as promise_service

    cold = world["services"]["cold"]
    cold.daily_capacity = 3
    cold.save()
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)  # each on its own
    for _ in range(2):
        order = make_order(merchant=merchant, lines=[(world["milk"], 1)])
        assert order.shipments.get().warehouse == world["dc"]
    seen = []
    real = promise_service.promise_options

    def capture(order, ctx, **kwargs):
        seen.append(ctx)
        return real(order, ctx, **kwargs)

    monkeypatch.setattr(promise_service, "promise_options", capture)
    assert _promise(api, [{"sku": "TEA", "quantity": 1}]).status_code == 200
    routing_ctx = context.routing_context(
        merchant_id=merchant.pk, skus={"TEA"}, destination_province="上海"
    )
    assert routing_ctx.outlook is not None and seen[0].outlook is not None
    assert routing_ctx.outlook.cold_parcels_so_far == {"SH-DC": 2.0}
    assert seen[0].outlook.cold_parcels_so_far == routing_ctx.outlook.cold_parcels_so_far
