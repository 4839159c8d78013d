from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from oms.models import TemperatureClass
from routing.engine.problem import FACTOR_NAMES
from routing.models import CourierLoad, RoutingDecision, RoutingProfile, WeatherAlert
from routing.providers import SimulatedFeed, poll_providers
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(merchant):
    warehouse = WarehouseFactory(merchant=merchant, code="HZ-RC", name="Hangzhou RC")
    other = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC")
    product = ProductFactory(merchant=merchant, temperature_class=TemperatureClass.CHILLED)
    BatchFactory(warehouse=warehouse, product=product, on_hand=5)
    BatchFactory(warehouse=other, product=product, on_hand=5)
    return make_order(merchant=merchant, lines=[(product, 1)]), product


def test_order_routing_endpoint_explains_the_decision(api, routed):
    order, _product = routed
    response = api.get(f"/api/orders/{order.pk}/routing/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "routed" and len(body["decisions"]) == 1
    decision = body["decisions"][0]
    assert decision["outcome"] == "routed" and "chosen" in decision["explanation"][0]
    assert set(decision["winner"]["contributions"]) >= {"shipping_cost", "lateness", "certainty"}


def test_order_routing_of_another_merchant_is_404(api, db):
    other = MerchantFactory()
    product = ProductFactory(merchant=other)
    BatchFactory(warehouse=WarehouseFactory(merchant=other), product=product)
    order = make_order(merchant=other, lines=[(product, 1)])
    response = api.get(f"/api/orders/{order.pk}/routing/")
    assert response.status_code == 404 and "chosen" not in response.content.decode()


def test_a_warehouse_status_signal_pauses_it_for_the_next_order(api, merchant, routed):
    order, product = routed
    first = RoutingDecision.objects.get(order=order).shipments[0]["warehouse"]
    response = api.post(
        "/api/signals/",
        {
            "kind": "warehouse_status",
            "warehouse": first,
            "value": "paused",
            "source": "cold-chain sensor",
            "note": "cold-chain fault",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    second = make_order(merchant=merchant, lines=[(product, 1)])
    decision = RoutingDecision.objects.get(order=second)
    assert decision.shipments[0]["warehouse"] != first
    assert "cold-chain fault" in decision.explanation


def test_signals_are_validated_and_scoped(api, merchant):
    WarehouseFactory(merchant=merchant, code="MINE")
    rival = WarehouseFactory(merchant=MerchantFactory(), code="THEIRS")
    bad = api.post(
        "/api/signals/",
        {"kind": "weather", "region": "east", "value": 9, "source": "x"},
        format="json",
    )
    assert bad.status_code == 400 and "value" in bad.json()
    missing = api.post(
        "/api/signals/", {"kind": "weather", "value": 2, "source": "x"}, format="json"
    )
    assert missing.status_code == 400 and "region" in missing.json()
    foreign = api.post(
        "/api/signals/",
        {"kind": "courier_load", "warehouse": "THEIRS", "value": 0.5, "source": "x"},
        format="json",
    )
    assert foreign.status_code == 400 and not CourierLoad.objects.filter(warehouse=rival).exists()
    many = api.post(
        "/api/signals/",
        [
            {
                "kind": "weather",
                "region": "east",
                "value": 3,
                "source": "met office feed",
                "valid_minutes": 60,
            },
            {"kind": "courier_load", "warehouse": "MINE", "value": 0.9, "source": "dispatch"},
        ],
        format="json",
    )
    assert many.status_code == 201 and many.json()["stored"] == {"weather": 1, "courier_load": 1}
    alert = WeatherAlert.objects.get()
    assert alert.merchant == merchant and alert.expires_at - alert.observed_at == timedelta(
        minutes=60
    )


def test_the_simulated_feed_plugs_in_through_the_provider_interface(settings):
    settings.OMS_SIGNAL_PROVIDERS = ["routing.providers.SimulatedFeed"]
    report = poll_providers(now=timezone.now())
    assert (
        report[SimulatedFeed.name]["weather"] == 6
        and report[SimulatedFeed.name]["carrier_capacity"] == 6
    )
    assert WeatherAlert.objects.filter(merchant__isnull=True).count() == 6


def test_profile_changes_are_audited_diffed_and_revertible(admin_client):
    profile = RoutingProfile.objects.get(is_default=True)
    url = reverse("admin:routing_routingprofile_change", args=[profile.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update(
        {"rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0, "lateness": 40, "shipping_cost": 4}
    )
    data = {k: v for k, v in data.items() if v is not False}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert (profile.lateness, profile.shipping_cost) == (40, 4)
    page = admin_client.get(url).content.decode()
    assert "transit time against the promise (lateness risk): 22 → 40" in page
    assert "shipping cost: 22 → 4" in page and "<td>v2</td>" in page
    admin_client.post(
        reverse("admin:routing_routingprofile_changelist"),
        {"action": "revert_last_change", "_selected_action": [profile.pk]},
    )
    profile.refresh_from_db()
    assert (profile.lateness, profile.shipping_cost) == (22, 22)
    assert profile.history.count() == 3  # created, changed, reverted
    assert profile.history.first().history_change_reason == "revert to version 1"


def test_weights_must_add_up_to_100(admin_client):
    profile = RoutingProfile.objects.get(is_default=True)
    profile.lateness = 50
    with pytest.raises(Exception, match="add up to 100"):
        profile.full_clean()


def test_simulation_action_compares_a_draft_with_the_profile_in_force(admin_client, routed):
    draft = RoutingProfile.objects.create(
        name="Draft: cheapest",
        enabled=False,
        shipping_cost=60,
        lateness=4,
        handling_cost=8,
        certainty=2,
    )
    response = admin_client.post(
        reverse("admin:routing_routingprofile_changelist"),
        {"action": "simulate", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Draft: cheapest" in page
        and "Profile in force: Balanced (default)" in page
        and "Nearest-warehouse rule" in page
    )
    assert RoutingDecision.objects.count() == 1  # the what-if routed nothing for real
    run = draft.simulations.get()  # the run is kept with the version it simulated
    assert run.profile_version == draft.version == 1 and run.orders == 1


def test_profile_page_says_what_the_weights_mean_in_cny(admin_client):
    profile = RoutingProfile.objects.get(is_default=True)
    url = reverse("admin:routing_routingprofile_change", args=[profile.pk])
    page = admin_client.get(url).content.decode()
    assert "An hour late costs ¥0.50." in page
    assert "A point of delivery certainty is worth ¥0.15." in page
    assert "A split costs ¥1.50." in page
    assert (
        "Using the last units of a SKU that later orders today will want costs up to ¥300.00"
        in page
    )
    chinese = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    translation.activate("en")  # the request left Chinese active in this thread
    assert "迟到一小时的代价为 ¥0.50。" in chinese


def test_a_timeliness_profile_puts_a_higher_price_on_an_hour_late():
    weights = dict.fromkeys(FACTOR_NAMES, 0) | {
        "lateness": 75,
        "shipping_cost": 8,
        "handling_cost": 5,
        "certainty": 6,
        "splits": 3,
        "stock": 1,
        "capacity": 2,
    }
    promotion = RoutingProfile(name="timeliness 75", **weights)
    prices = promotion.prices_in_cny()
    # Lateness at 75 % instead of 22 %, money at 13 % instead of 40 %: 3.41 x 3.08 the price.
    assert prices["lateness"] == pytest.approx(0.5 * (75 / 22) / (13 / 40))
    with translation.override("en"):
        assert "An hour late costs ¥5.24." in promotion.trade_off_sentences()
