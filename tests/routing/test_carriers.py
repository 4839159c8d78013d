"""Carrier services as data: rate cards resolved for the engine, routing to a service, import."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.models import OrderStatus, Shipment, TemperatureClass
from routing import context
from routing.carriers import engine_services, lane_zone
from routing.models import (
    Carrier,
    CarrierRate,
    CarrierService,
    RoutingDecision,
    RoutingProfile,
    RoutingRule,
    WarehouseCarrier,
    WeatherAlert,
)
from routing.rate_cards import RateCardInvalid, rate_card_apply, rate_card_preview
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


def _service(merchant, carrier_code, code, level, *, chilled=False, capacity=None, **extra):
    carrier, _ = Carrier.objects.get_or_create(
        merchant=merchant, code=carrier_code, defaults={"name": carrier_code.title()}
    )
    return CarrierService.objects.create(
        carrier=carrier,
        code=code,
        name=f"{carrier_code.title()} {code}",
        level=level,
        chilled=chilled,
        frozen=chilled,
        daily_capacity=capacity,
        **extra,
    )


def _zone_rates(service, first=8, per_kg=2, hours=30, on_time=0.97):
    CarrierRate.objects.bulk_create(
        CarrierRate(
            service=service,
            zone=zone,
            first_price=Decimal(first + zone),
            additional_per_kg=Decimal(per_kg),
            transit_hours=hours + 6 * zone,
            on_time_rate=on_time,
        )
        for zone in range(1, 6)
    )


@pytest.fixture
def carriers(merchant):
    """A Shanghai warehouse with an economy, an air and a cold-chain service; tea and milk."""
    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC")
    economy = _service(merchant, "pine", "eco", "economy", capacity=2)
    air = _service(merchant, "kite", "air", "express")
    cold = _service(merchant, "polar", "cold", "cold_chain", chilled=True)
    _zone_rates(economy, first=8, per_kg=2, hours=30)
    _zone_rates(air, first=16, per_kg=8, hours=6)
    _zone_rates(cold, first=12, per_kg=4, hours=14)
    for service in (economy, air, cold):
        WarehouseCarrier.objects.create(
            warehouse=warehouse, service=service, is_default=service is economy
        )
    tea = ProductFactory(merchant=merchant, sku="TEA", weight_kg=Decimal("1.5"))
    milk = ProductFactory(merchant=merchant, sku="MILK", temperature_class=TemperatureClass.CHILLED)
    for product in (tea, milk):
        BatchFactory(warehouse=warehouse, product=product, on_hand=50)
    return {
        "warehouse": warehouse,
        "economy": economy,
        "air": air,
        "cold": cold,
        "tea": tea,
        "milk": milk,
    }


def test_the_most_specific_rate_card_line_prices_a_lane(merchant, carriers):
    economy = carriers["economy"]
    CarrierRate.objects.create(
        service=economy,
        destination_province="浙江",
        first_price=Decimal("5.50"),
        additional_per_kg=Decimal("1"),
        transit_hours=20,
    )
    CarrierRate.objects.create(
        service=economy,
        origin_province="上海",
        destination_province="Zhejiang",
        first_price=Decimal("4.50"),
        additional_per_kg=Decimal("1"),
        transit_hours=18,
    )
    services = engine_services([carriers["warehouse"]], destinations=["浙江省", "新疆", "上海市"])
    eco = next(s for s in services[carriers["warehouse"].pk] if s.code == "pine/eco")
    assert eco.lanes["浙江"].first_price == 4.5  # origin + province beats any origin + province
    assert eco.lanes["上海"].first_price == 9.0  # zone 1 (8 + 1)
    assert lane_zone("上海", "新疆") == 5
    assert eco.lanes["新疆"].first_price == 13.0


def test_remote_provinces_pay_the_service_surcharge(merchant, carriers):
    air = carriers["air"]
    air.remote_surcharge = Decimal("10")
    air.save()
    services = engine_services([carriers["warehouse"]], destinations=["新疆", "江苏"])
    lanes = next(s for s in services[carriers["warehouse"].pk] if s.code == "kite/air").lanes
    assert lanes["新疆"].surcharge == 10.0
    assert lanes["江苏"].surcharge == 0.0


def test_routing_picks_a_carrier_service_and_the_parcel_carries_its_name(merchant, carriers):
    order = make_order(merchant=merchant, lines=[(carriers["tea"], 2)])
    order.refresh_from_db()
    assert order.status == OrderStatus.ROUTED
    decision = RoutingDecision.objects.get(order=order)
    shipment = decision.shipments[0]
    assert shipment["carrier_service"] == "pine/eco"
    assert shipment["weight_kg"] == 3.0
    assert order.shipments.get().carrier == "Pine eco"
    assert "Carrier from Shanghai DC: Pine eco" in decision.explanation


def test_chilled_goods_go_on_the_cold_chain_service(merchant, carriers):
    order = make_order(merchant=merchant, lines=[(carriers["tea"], 1), (carriers["milk"], 1)])
    decision = RoutingDecision.objects.get(order=order)
    assert decision.shipments[0]["carrier_service"] == "polar/cold"


def test_a_service_counts_todays_parcels_against_its_daily_capacity(merchant, carriers):
    order = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    assert order.shipments.get().carrier == "Pine eco"
    Shipment.objects.create(order=order, warehouse=carriers["warehouse"], carrier="Pine eco")
    Shipment.objects.create(
        order=order, warehouse=carriers["warehouse"], carrier="Pine eco", status="cancelled"
    )
    services = {
        s.code: s
        for s in engine_services([carriers["warehouse"]], destinations=["上海"])[
            carriers["warehouse"].pk
        ]
    }
    assert services["pine/eco"].remaining_capacity_orders == 0  # 2 a day, 2 open today
    assert services["kite/air"].remaining_capacity_orders is None


def test_a_provincial_storm_and_a_cold_chain_rule_move_ambient_parcels_off_cold_chain(
    merchant, carriers
):
    # Make cold chain the cheapest for ambient parcels on a calm day.
    CarrierRate.objects.filter(service=carriers["cold"]).update(
        first_price=Decimal("3"), additional_per_kg=Decimal("1")
    )
    profile = RoutingProfile.objects.get(is_default=True)
    RoutingRule.objects.create(
        profile=profile,
        name="storm: cold-chain carriers -50 %",
        condition="weather_at_least",
        threshold=3,
        service_level="cold_chain",
        effect="down_weight",
        amount=0.5,
    )
    calm = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    assert RoutingDecision.objects.get(order=calm).shipments[0]["carrier_service"] == "polar/cold"
    WeatherAlert.objects.create(
        region="east",
        province="上海市",
        level=3,
        source="test",
        expires_at=timezone.now() + timezone.timedelta(hours=6),
    )
    signals = context.live_signals(merchant_id=merchant.pk)
    assert signals.weather == {"上海": 3}
    stormy = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    assert RoutingDecision.objects.get(order=stormy).shipments[0]["carrier_service"] == "pine/eco"
    chilled = make_order(merchant=merchant, lines=[(carriers["milk"], 1)])
    assert RoutingDecision.objects.get(order=chilled).shipments[0]["carrier_service"] == (
        "polar/cold"
    )


def test_one_default_service_per_warehouse(merchant, carriers):
    with pytest.raises(IntegrityError), transaction.atomic():
        WarehouseCarrier.objects.filter(service=carriers["air"]).update(is_default=True)


def test_a_warehouse_cannot_use_another_merchants_carrier(merchant, carriers):
    other = MerchantFactory()
    foreign = _service(other, "far", "eco", "economy")
    link = WarehouseCarrier(warehouse=carriers["warehouse"], service=foreign)
    with pytest.raises(ValidationError):
        link.full_clean()


def test_a_rate_line_names_a_province_or_a_zone_not_both(merchant, carriers):
    line = CarrierRate(
        service=carriers["air"],
        destination_province="浙江",
        zone=2,
        first_price=Decimal("9"),
        additional_per_kg=Decimal("1"),
        transit_hours=10,
    )
    with pytest.raises(ValidationError):
        line.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()


CSV_OK = """carrier,service,origin_province,destination_province,zone,first_weight_kg,first_price,additional_per_kg,transit_hours,on_time_rate
pine,eco,上海,浙江省,,1,4.5,1,18,0.98
pine,eco,,Xinjiang,,1,18,9,80,0.93
kite,air,,,2,1,15,5,14,0.985
"""


def test_a_valid_rate_card_previews_then_applies_and_a_second_import_changes_nothing(
    merchant, carriers
):
    preview = rate_card_preview(merchant=merchant, text=CSV_OK)
    assert preview.valid
    assert preview.counts == {"add": 2, "change": 1, "same": 0}  # kite/air zone 2 exists
    assert CarrierRate.objects.filter(service=carriers["economy"]).count() == 5
    rate_card_apply(merchant=merchant, text=CSV_OK)
    zhejiang = CarrierRate.objects.get(service=carriers["economy"], destination_province="浙江")
    assert (zhejiang.origin_province, zhejiang.first_price) == ("上海", Decimal("4.50"))
    assert zhejiang.history.count() == 1
    again = rate_card_preview(merchant=merchant, text=CSV_OK)
    assert again.counts == {"add": 0, "change": 0, "same": 3}


def test_one_wrong_row_shows_every_error_and_imports_nothing(merchant, carriers):
    text = CSV_OK + (
        "pine,eco,,Atlantis,,1,4,1,18,0.9\n"
        "pine,nope,,江苏,,1,4,1,18,0.9\n"
        "kite,air,,浙江,3,1,-2,1,18,1.5\n"
        "pine,eco,上海,浙江,,1,5,1,18,0.98\n"
    )
    before = CarrierRate.objects.count()
    preview = rate_card_preview(merchant=merchant, text=text)
    assert not preview.valid
    found = {(e.line, e.field) for e in preview.errors}
    assert (5, "destination_province") in found  # unknown province
    assert (6, "service") in found
    assert {(7, "zone"), (7, "first_price"), (7, "on_time_rate")} <= found
    assert (8, "destination_province") in found  # the same lane as line 2
    with pytest.raises(RateCardInvalid):
        rate_card_apply(merchant=merchant, text=text)
    assert CarrierRate.objects.count() == before


def test_a_file_missing_columns_is_refused_as_a_whole(merchant, carriers):
    preview = rate_card_preview(merchant=merchant, text="carrier,service\npine,eco\n")
    assert not preview.valid and preview.errors[0].field == "header"


def test_the_import_command_dry_run_writes_nothing_and_a_run_writes_all(
    merchant, carriers, tmp_path, capsys
):
    path = tmp_path / "rates.csv"
    path.write_text(CSV_OK, encoding="utf-8")
    before = CarrierRate.objects.count()
    call_command("import_rate_cards", str(path), "--merchant", merchant.code, "--dry-run")
    assert CarrierRate.objects.count() == before
    call_command("import_rate_cards", str(path), "--merchant", merchant.code)
    assert CarrierRate.objects.count() == before + 2
    assert "2 new, 1 changed" in capsys.readouterr().out


def test_the_import_command_fails_on_a_bad_file_and_an_unknown_merchant(
    merchant, carriers, tmp_path
):
    path = tmp_path / "rates.csv"
    path.write_text(CSV_OK + "pine,eco,,Atlantis,,1,4,1,18,0.9\n", encoding="utf-8")
    before = CarrierRate.objects.count()
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import_rate_cards", str(path), "--merchant", merchant.code)
    assert CarrierRate.objects.count() == before
    with pytest.raises(CommandError, match="no merchant"):
        call_command("import_rate_cards", str(path), "--merchant", "nobody")


def test_the_carrier_sentence_is_said_in_chinese_too(merchant, carriers):
    from django.utils import translation

    from routing.explaining import decision_sentences

    order = make_order(merchant=merchant, lines=[(carriers["tea"], 2)])
    decision = RoutingDecision.objects.get(order=order)
    with translation.override("zh-hans"):
        sentences = decision_sentences(decision)
    assert "Shanghai DC 的承运商：选 Pine eco（经济快递）而非 Polar cold" in " ".join(sentences)


def _past_orders_with(merchant, carriers, carrier_label: str, count: int) -> None:
    """``count`` delivered orders of the customer (same phone) whose parcel went with a carrier.

    Delivered at once, so no later order of the test merges with them.
    """
    from oms.models import Order

    for _ in range(count):
        order = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
        Shipment.objects.filter(order=order).update(carrier=carrier_label)
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)


def test_a_customers_usual_carrier_wins_within_the_profiles_premium(merchant, carriers):
    # Tea (1.5 kg) within Shanghai: Pine eco ¥9 + ¥2 = ¥11, Kite air ¥17 + ¥8 = ¥25.
    _past_orders_with(merchant, carriers, "Kite air", 3)
    first = RoutingDecision.objects.order_by("pk").first()
    assert first is not None and first.shipments[0]["carrier_service"] == "pine/eco"
    profile = RoutingProfile.objects.get(is_default=True)
    assert profile.carrier_preference_premium == Decimal("3.00")
    modest = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    assert RoutingDecision.objects.get(order=modest).shipments[0]["carrier_service"] == "pine/eco"
    Shipment.objects.filter(order=modest).update(carrier="Kite air")
    modest.__class__.objects.filter(pk=modest.pk).update(status=OrderStatus.DELIVERED)
    profile.carrier_preference_premium = Decimal("30")
    profile.save()
    generous = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    decision = RoutingDecision.objects.get(order=generous)
    assert decision.shipments[0]["carrier_service"] == "kite/air"
    assert "the customer usually ships with Kite" in decision.explanation


def test_no_usual_carrier_without_enough_history_or_a_majority(merchant, carriers):
    from oms.models import Order
    from routing.carriers import usual_carrier

    _past_orders_with(merchant, carriers, "Kite air", 2)
    probe = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    Order.objects.filter(pk=probe.pk).update(status=OrderStatus.DELIVERED)  # no merging into it
    Shipment.objects.filter(order=probe).update(carrier="Pine eco")
    probe.refresh_from_db()  # linked to the golden customer when it was routed
    assert probe.customer_id is not None
    assert usual_carrier(probe) == ""  # two past orders: not enough to call it usual
    _past_orders_with(merchant, carriers, "Pine eco", 2)
    assert usual_carrier(probe) == ""  # 2 of 4: no majority (the probe itself is not counted)
    _past_orders_with(merchant, carriers, "Kite air", 1)
    assert usual_carrier(probe) == "Kite"  # 3 of 5


def test_the_status_page_says_the_usual_carrier_in_the_customers_words(client, merchant, carriers):
    from django.urls import reverse
    from django.utils import translation

    from orchestration.catalogue import catalogue_install
    from orchestration.models import OrderTracking

    catalogue_install()  # the standard services, so the order gets a status page
    carriers["tea"].category = "furniture"
    carriers["tea"].save()
    _past_orders_with(merchant, carriers, "Kite air", 3)
    profile = RoutingProfile.objects.get(is_default=True)
    profile.carrier_preference_premium = Decimal("30")
    profile.save()
    order = make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    tracking = OrderTracking.objects.get(order=order)
    url = reverse("orchestration:track", args=[tracking.token])
    page = client.get(url).content.decode()
    assert "You usually choose Kite, so this delivery goes with Kite too." in page
    with translation.override("zh-hans"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "您常选 Kite，本次配送也由 Kite 承运。" in page


def test_a_cold_chain_warehouses_chilled_parcels_today_feed_the_cold_slot_price(merchant, carriers):
    from routing import context
    from routing.models import CarrierService as Service

    carriers["warehouse"].cold_chain = True
    carriers["warehouse"].save()
    Service.objects.filter(pk=carriers["cold"].pk).update(daily_capacity=5)
    make_order(merchant=merchant, lines=[(carriers["milk"], 1)])
    make_order(merchant=merchant, lines=[(carriers["tea"], 1)])
    midnight = context.local_midnight(merchant.pk, timezone.now())
    assert context.cold_parcels_since(merchant.pk, midnight) == {"SH-DC": 1.0}
    ctx = context.routing_context(merchant_id=merchant.pk, skus={"TEA"})
    assert ctx.outlook is not None and ctx.outlook.cold_parcels_so_far == {"SH-DC": 1.0}
    Service.objects.filter(pk=carriers["cold"].pk).update(daily_capacity=None)
    ctx = context.routing_context(merchant_id=merchant.pk, skus={"TEA"})
    assert ctx.outlook is not None and ctx.outlook.cold_parcels_so_far == {}  # no cap, no price
