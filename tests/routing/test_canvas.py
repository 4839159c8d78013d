"""The routing canvas: its what-if replays orders as the live router met them, its JSON endpoint
is staff-only and merchant-scoped with field messages, and a draft saved from it keeps its run."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from customers.models import MatchRuleSet
from oms.services.warehouses import warehouse_set_status
from routing.drafts import profile_enable
from routing.engine.problem import FACTOR_NAMES
from routing.models import (
    DEFAULT_WEIGHTS,
    NEGATIVE_WEIGHT,
    Lane,
    ProfileSimulation,
    RoutingDecision,
    RoutingProfile,
    RoutingRule,
)
from routing.simulation import profile_what_if
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


def _lane(warehouse, cost: str, hours: float) -> None:
    Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier="Express A",
        shipping_cost=Decimal(cost),
        transit_hours=hours,
        on_time_rate=0.97,
    )


@pytest.fixture
def network(merchant):
    """A cheap slow warehouse holding one unit and a dear fast one holding plenty; orders are
    routed alone (the replay does not merge a customer's orders)."""
    MatchRuleSet.objects.create(merchant=merchant, merge_window_minutes=0)
    # No scarcity bid price: it depends on the hour (the rest of the day's demand is extrapolated
    # from the hours gone), so just after midnight it keeps the cheap warehouse's last unit as a
    # reserve. These tests are about the replay drawing stock down, at any hour.
    RoutingProfile.objects.filter(is_default=True).update(price_scarcity=0)
    cheap = WarehouseFactory(merchant=merchant, code="SZ-RC", name="Suzhou RC")
    fast = WarehouseFactory(merchant=merchant, code="SH-DC", name="Shanghai DC")
    _lane(cheap, "6.00", 30.0)
    _lane(fast, "14.00", 12.0)
    product = ProductFactory(merchant=merchant, sku="TEA")
    BatchFactory(warehouse=cheap, product=product, on_hand=1)
    BatchFactory(warehouse=fast, product=product, on_hand=50)
    return {"cheap": cheap, "fast": fast, "product": product}


def _default() -> RoutingProfile:
    return RoutingProfile.objects.get(is_default=True)


def _url(profile: RoutingProfile, name: str = "what_if") -> str:
    return reverse(f"admin:routing_routingprofile_{name}", args=[profile.pk])


def _post(client, profile, body, **headers):
    return client.post(
        _url(profile), data=json.dumps(body), content_type="application/json", **headers
    )


def _weights(**changes) -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **changes}


def _row(report: dict, key: str) -> dict:
    return next(row for row in report["rows"] if row["key"] == key)


# The replay ---------------------------------------------------------------------------------


def test_the_replay_meets_each_order_with_the_stock_the_earlier_ones_left(merchant, network):
    """Live: the first order takes the cheap warehouse's last unit, the second goes to the fast
    one. Replayed from the stock of the time in arrival order, the profile in force makes the
    same two decisions, although neither warehouse holds those units any more."""
    first = make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    second = make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    chosen = [
        RoutingDecision.objects.get(order=order).shipments[0]["warehouse"]
        for order in (first, second)
    ]
    assert chosen == ["SZ-RC", "SH-DC"]
    live_cost = sum(
        RoutingDecision.objects.filter(order__in=[first, second]).values_list("cost", flat=True)
    )

    report = profile_what_if(draft=_default(), last_n=10, merchant_id=merchant.pk)

    active = _row(report, "active")
    assert report["orders"] == 2 and active["routed"] == 2 and active["unroutable"] == 0
    assert Decimal(str(active["cost_per_order"])) == (live_cost / 2).quantize(Decimal("0.01"))
    assert _row(report, "draft") == {
        **active,
        "key": "draft",
        "label": _row(report, "draft")["label"],
    }


def test_units_an_order_before_the_window_holds_stay_taken(merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    # Only the second order is replayed: the cheap warehouse's unit is held by the first.
    report = profile_what_if(draft=_default(), last_n=1, merchant_id=merchant.pk)
    active = _row(report, "active")
    assert report["orders"] == 1 and active["routed"] == 1
    fast_cost = RoutingDecision.objects.order_by("-pk").first().cost
    assert Decimal(str(active["cost_per_order"])) == fast_cost


def test_weights_change_what_the_draft_does(merchant, network):
    BatchFactory(warehouse=network["cheap"], product=network["product"], on_hand=20)
    for _ in range(4):
        make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=20)
    money = profile_what_if(
        draft=_default(),
        merchant_id=merchant.pk,
        weights=_weights(shipping_cost=50, handling_cost=40, lateness=0, certainty=0),
    )
    punctual = profile_what_if(
        draft=_default(),
        merchant_id=merchant.pk,
        weights=_weights(shipping_cost=5, handling_cost=5, lateness=80, certainty=0),
    )
    cheap, fast = _row(money, "draft"), _row(punctual, "draft")
    assert cheap["cost_per_order"] < fast["cost_per_order"]
    assert cheap["on_time_rate"] < fast["on_time_rate"] == 1.0
    # The two fixed rows do not move with the draft's weights.
    assert _row(money, "active") == _row(punctual, "active")
    assert _row(money, "nearest") == _row(punctual, "nearest")


def test_orders_to_a_paused_warehouse_are_counted_for_the_blind_nearest_rule(merchant, network):
    for _ in range(2):
        make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    # The cheap warehouse is also the nearest (same place, ties by code: SH-DC < SZ-RC)...
    warehouse_set_status(warehouse=network["fast"], status="paused", reason="fault", actor="t")
    report = profile_what_if(draft=_default(), last_n=10, merchant_id=merchant.pk)
    assert _row(report, "nearest")["to_paused"] >= 1
    assert _row(report, "active")["to_paused"] == 0 and _row(report, "draft")["to_paused"] == 0


def test_a_new_order_is_seen_at_once_despite_the_cache(merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    assert profile_what_if(draft=_default(), merchant_id=merchant.pk)["orders"] == 1
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    assert profile_what_if(draft=_default(), merchant_id=merchant.pk)["orders"] == 2


# The endpoint -------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    """Staff who may view routing profiles, and no more."""
    user = User.objects.create_user("planner", password="pw-12345-long", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_routingprofile"))
    return user


def test_the_what_if_answers_staff_with_formatted_rows(client, staff, merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    client.force_login(staff)
    response = _post(
        client, _default(), {"weights": _weights(), "orders": 50, "merchant": merchant.pk}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 100
    report = body["report"]
    assert report["orders"] == 1 and len(report["heads"]) == 3
    assert [line["metric"] for line in report["table"]] == [
        "cost_per_order",
        "on_time_rate",
        "splits",
        "to_paused",
        "unroutable",
    ]
    for line in report["table"]:
        for cell in line["cells"]:  # no long floats: money to the fen, shares to 0.1 point
            number = cell.split(" ")[0]
            assert len(number.partition(".")[2]) <= 2, cell
    assert body["meaning"]["lateness"] == "An hour late costs ¥0.50."


def test_the_what_if_refuses_anyone_but_staff(client, merchant, network):
    profile = _default()
    assert _post(client, profile, {"weights": _weights()}).status_code == 403
    outsider = User.objects.create_user("shopper", password="pw-12345-long")
    client.force_login(outsider)
    assert _post(client, profile, {"weights": _weights()}).status_code == 403
    User.objects.create_user("clerk", password="pw-12345-long", is_staff=True)
    client.force_login(User.objects.get(username="clerk"))  # staff without the permission
    assert _post(client, profile, {"weights": _weights()}).status_code == 403


def test_the_what_if_checks_csrf(staff, merchant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert _post(client, _default(), {"weights": _weights()}).status_code == 403


def test_another_merchants_profile_or_orders_answer_404(client, staff, merchant, network):
    client.force_login(staff)
    other = MerchantFactory()
    own = RoutingProfile.objects.create(name="Own", merchant=merchant, enabled=False)
    assert _post(client, own, {"weights": _weights(), "merchant": other.pk}).status_code == 404
    assert _post(client, own, {"weights": _weights(), "merchant": merchant.pk}).status_code == 200
    assert _post(client, _default(), {"weights": _weights(), "merchant": 99999}).status_code == 404
    missing = _post(client, RoutingProfile(pk=99999), {"weights": _weights()})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No such routing profile or merchant."}


def test_the_other_merchants_orders_are_not_replayed(client, staff, merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    other = MerchantFactory()
    own = RoutingProfile.objects.create(name="Other's", merchant=other, enabled=False)
    client.force_login(staff)
    body = _post(client, own, {"weights": _weights()}).json()
    assert body["report"]["orders"] == 0


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"weights": _weights(stock=-4, lateness=30)}, "stock", NEGATIVE_WEIGHT),
        ({"weights": _weights(lateness=101)}, "lateness", "A weight is a percentage: at most 100."),
        (
            {"weights": _weights(lateness=21)},
            "non_field_errors",
            "Weights must add up to 100 % (they add up to 99 %).",
        ),
        ({"weights": {k: v for k, v in DEFAULT_WEIGHTS.items() if k != "splits"}}, "splits", None),
        ({"weights": _weights(distance="a lot")}, "distance", None),
    ],
)
def test_bad_weights_answer_400_with_a_message_at_the_field(client, staff, body, field, message):
    client.force_login(staff)
    response = _post(client, _default(), body)
    assert response.status_code == 400
    errors = response.json()["errors"]["weights"][field]
    assert errors and (message is None or errors == [message])


def test_other_bad_input_answers_400(client, staff):
    client.force_login(staff)
    profile = _default()
    response = _post(client, profile, {"weights": _weights(), "orders": 7})
    assert response.status_code == 400 and "orders" in response.json()["errors"]
    response = client.post(_url(profile), data="[1, 2", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"detail": ["The body must be a JSON object."]}
    assert _post(client, profile, {}).json()["errors"]["weights"]
    assert client.get(_url(profile)).status_code == 405


def test_the_what_if_speaks_chinese(client, staff, merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    client.force_login(staff)
    response = _post(client, _default(), {"weights": _weights()}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.json()
    assert body["report"]["heads"] == ["当前这组权重", "生效中的策略", "最近仓库规则"]
    assert body["meaning"]["lateness"] == "迟到一小时的代价为 ¥0.50。"
    bad = _post(
        client,
        _default(),
        {"weights": _weights(stock=-4, lateness=30)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert bad.json()["errors"]["weights"]["stock"] == ["权重不能为负数：不考虑某个因子时请填 0。"]


# The page and "save as draft" ---------------------------------------------------------------


def test_the_canvas_page_has_a_slider_per_weight_and_is_linked(admin_client):
    profile = _default()
    page = admin_client.get(_url(profile, "canvas"))
    assert page.status_code == 200
    html = page.content.decode()
    for name in FACTOR_NAMES:
        assert f'type="range" id="weight-{name}" name="{name}"' in html
    assert "routing/canvas.js" in html and _url(profile) in html
    change = admin_client.get(reverse("admin:routing_routingprofile_change", args=[profile.pk]))
    assert _url(profile, "canvas") in change.content.decode()
    start = admin_client.get(reverse("admin:routing_canvas"))
    assert start.status_code == 302 and start["Location"] == _url(profile, "canvas")


def _save(client, profile, **weights):
    data = {**_weights(**weights), "orders": 200, "merchant": ""}
    return client.post(_url(profile, "canvas_save"), data)


def test_saving_an_enabled_profile_makes_a_draft_with_its_run(admin_client, merchant, network):
    make_order(merchant=merchant, lines=[(network["product"], 1)], promised_in_hours=72)
    profile = _default()
    RoutingRule.objects.create(
        profile=profile,
        name="no red alerts",
        condition="weather_at_least",
        threshold=4,
        effect="exclude",
    )
    response = _save(admin_client, profile, lateness=40, shipping_cost=4)
    draft = RoutingProfile.objects.exclude(pk=profile.pk).get()
    assert response.status_code == 302 and response["Location"] == _url(draft, "canvas")
    assert not draft.enabled and not draft.is_default
    assert (draft.lateness, draft.shipping_cost) == (40, 4)
    assert list(draft.rules.values_list("name", flat=True)) == ["no red alerts"]
    profile.refresh_from_db()
    assert profile.lateness == 22  # the profile in force is untouched
    run = draft.simulations.get()
    assert run.profile_version == draft.version == 1
    assert run.config_digest == draft.config_digest() and run.orders == 1
    assert run.report["weights"]["lateness"] == 40
    # ... and that run is what lets it be enabled, from the canvas too.
    response = admin_client.post(_url(draft, "canvas_enable"))
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.enabled


def test_saving_a_draft_keeps_the_run_with_its_new_version(admin_client, merchant, network):
    draft = RoutingProfile.objects.create(name="Faster", enabled=False)
    _save(admin_client, draft, lateness=30, shipping_cost=14)
    draft.refresh_from_db()
    assert draft.lateness == 30 and RoutingProfile.objects.count() == 2
    run = draft.simulations.get()
    assert run.profile_version == draft.version == 2
    assert profile_enable(profile=draft).enabled


def test_a_draft_without_a_run_cannot_be_enabled_from_the_canvas(admin_client):
    draft = RoutingProfile.objects.create(name="Unrun", enabled=False)
    page = admin_client.get(_url(draft, "canvas")).content.decode()
    assert 'id="canvas-enable"' not in page
    admin_client.post(_url(draft, "canvas_enable"))
    draft.refresh_from_db()
    assert not draft.enabled and not ProfileSimulation.objects.exists()


def test_bad_weights_save_nothing(admin_client):
    draft = RoutingProfile.objects.create(name="Faster", enabled=False)
    response = _save(admin_client, draft, lateness=50)
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.lateness == 22
    assert not ProfileSimulation.objects.exists()


def test_view_only_staff_cannot_save(client, staff):
    draft = RoutingProfile.objects.create(name="Faster", enabled=False)
    client.force_login(staff)
    _save(client, draft, lateness=30, shipping_cost=14)
    draft.refresh_from_db()
    assert draft.lateness == 22 and not ProfileSimulation.objects.exists()


def test_on_time_per_region_is_what_the_router_sees_towards_that_region(merchant):
    """The replay reads each region's on-time rate from one query; it must be the rate
    ``engine_nodes`` gives a node routing there: its lane's, else its lanes' mean, else the
    estimate of a warehouse without lanes."""
    from routing import context

    laned = WarehouseFactory(merchant=merchant, code="LANED")
    Lane.objects.create(
        warehouse=laned,
        region="east",
        shipping_cost=Decimal("6"),
        transit_hours=20,
        on_time_rate=0.9,
    )
    Lane.objects.create(
        warehouse=laned,
        region="north",
        shipping_cost=Decimal("9"),
        transit_hours=40,
        on_time_rate=0.8,
    )
    WarehouseFactory(merchant=merchant, code="BARE")
    regions = ["east", "north", "south"]
    rates = context.on_time_by_region(merchant_id=merchant.pk, regions=regions)
    assert rates["LANED"] == pytest.approx({"east": 0.9, "north": 0.8, "south": 0.85})
    assert rates["BARE"] == {r: context.ESTIMATE_ON_TIME for r in regions}
    for region in regions:
        seen = {
            node.code: node.on_time_rate
            for node in context.engine_nodes(
                merchant_id=merchant.pk, skus=set(), destination_region=region
            )
        }
        assert seen == {code: by_region[region] for code, by_region in rates.items()}
