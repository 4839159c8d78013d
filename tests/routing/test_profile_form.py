"""The routing profile form: per-profile versions, honest weight errors, no unsimulated draft."""

import pytest
from django.urls import reverse

from routing.drafts import DraftNotSimulated, profile_enable, profile_simulate
from routing.models import NEGATIVE_WEIGHT, RoutingDecision, RoutingProfile
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:routing_routingprofile_changelist"


def _form_data(admin_client, url: str, **changes) -> dict:
    form = admin_client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({"rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0, **changes})
    return {k: v for k, v in data.items() if v is not False}


@pytest.fixture
def routed(merchant):
    """One real routed order for the what-if to replay."""
    warehouse = WarehouseFactory(merchant=merchant, code="HZ-RC", name="Hangzhou RC")
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=5)
    return make_order(merchant=merchant, lines=[(product, 1)])


def _draft(**weights) -> RoutingProfile:
    return RoutingProfile.objects.create(
        name="Draft: faster", enabled=False, lateness=32, shipping_cost=12, **weights
    )


def test_versions_count_per_profile_whatever_other_profiles_did(admin_client):
    default = RoutingProfile.objects.get(is_default=True)
    draft = _draft()
    for lateness in (30, 28):
        draft.lateness, draft.shipping_cost = lateness, 44 - lateness
        draft.save()
        default.priority += 1
        default.save()
    assert draft.version == 3 and default.version == 3
    assert draft.versions_by_history_id() == {
        h: n
        for n, h in enumerate(
            draft.history.order_by("history_id").values_list("history_id", flat=True), start=1
        )
    }
    page = admin_client.get(reverse("admin:routing_routingprofile_change", args=[draft.pk]))
    content = page.content.decode()
    assert "<td>v3</td>" in content and "<td>v2</td>" in content
    history = admin_client.get(reverse("admin:routing_routingprofile_history", args=[draft.pk]))
    assert "v3" in history.content.decode()
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "revert_last_change", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "reverted to version 2 (saved as version 4)" in response.content.decode()
    draft.refresh_from_db()
    assert draft.lateness == 30 and draft.history.first().history_change_reason == (
        "revert to version 2"
    )


def test_a_decision_records_the_profiles_own_version(merchant):
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=5)
    _draft()  # more history rows in the table, none of them the default profile's
    default = RoutingProfile.objects.get(is_default=True)
    default.priority = 5
    default.save()
    order = make_order(merchant=merchant, lines=[(product, 1)])
    decision = RoutingDecision.objects.get(order=order)
    assert decision.profile == default and decision.profile_version == 2


def test_a_negative_weight_says_so_and_no_wrong_sum(admin_client):
    profile = RoutingProfile.objects.get(is_default=True)
    url = reverse("admin:routing_routingprofile_change", args=[profile.pk])
    response = admin_client.post(url, _form_data(admin_client, url, lateness=-5, certainty=37))
    form = response.context["adminform"].form
    assert form.errors["lateness"] == [str(NEGATIVE_WEIGHT)]
    assert "add up to" not in str(form.errors)  # the old value's sum is not reported
    response = admin_client.post(url, _form_data(admin_client, url, lateness=30))
    assert "Weights must add up to 100 % (they add up to 108 %)." in str(
        response.context["adminform"].form.errors
    )


def test_a_negative_weight_is_refused_by_the_model_too():
    profile = RoutingProfile.objects.get(is_default=True)
    profile.lateness, profile.certainty = -5, 37
    with pytest.raises(Exception) as refused:
        profile.full_clean()
    assert str(NEGATIVE_WEIGHT) in str(refused.value) and "add up to" not in str(refused.value)


def test_the_form_carries_a_live_total_from_a_static_script(admin_client):
    profile = RoutingProfile.objects.get(is_default=True)
    page = admin_client.get(
        reverse("admin:routing_routingprofile_change", args=[profile.pk])
    ).content.decode()
    assert "routing/profile_form.js" in page and "data-weights-total" in page
    assert 'data-fields="stock,status,capacity,carrier_saturation,weather,courier_load,' in page
    assert "Total 100 % of 100 %" in page
    chinese = admin_client.get(
        reverse("admin:routing_routingprofile_change", args=[profile.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert "合计 100 %（应为 100 %）" in chinese


def test_a_draft_cannot_be_enabled_without_a_simulation_of_it(admin_client, routed):
    draft = _draft()
    url = reverse("admin:routing_routingprofile_change", args=[draft.pk])
    response = admin_client.post(url, _form_data(admin_client, url, enabled="on"))
    assert response.status_code == 200
    assert "Simulate this version before enabling it" in str(
        response.context["adminform"].form.errors["enabled"]
    )
    with pytest.raises(DraftNotSimulated):
        profile_enable(profile=draft)
    draft.refresh_from_db()
    assert not draft.enabled


def test_a_simulated_draft_can_be_enabled_but_not_once_changed(admin_client, routed):
    draft = _draft()
    admin_client.post(reverse(CHANGELIST), {"action": "simulate", "_selected_action": [draft.pk]})
    run = draft.simulations.get()
    assert run.status == "completed" and run.profile_version == 1 and run.orders >= 1
    url = reverse("admin:routing_routingprofile_change", args=[draft.pk])
    # Enabling with other weights than the simulated ones is refused ...
    changed = _form_data(admin_client, url, enabled="on", lateness=33, shipping_cost=11)
    response = admin_client.post(url, changed)
    assert response.status_code == 200 and "enabled" in response.context["adminform"].form.errors
    # ... enabling exactly what was simulated is not.
    response = admin_client.post(url, _form_data(admin_client, url, enabled="on"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.enabled and draft.version == 2


def test_the_enable_service_follows_the_same_rule(routed):
    draft = _draft()
    profile_simulate(profile=draft, last_n=20)
    draft.lateness, draft.shipping_cost = 30, 14
    draft.save()  # changed after its simulation
    with pytest.raises(DraftNotSimulated):
        profile_enable(profile=draft)
    profile_simulate(profile=draft, last_n=20)
    assert profile_enable(profile=draft).enabled
    assert sorted(draft.simulations.values_list("profile_version", flat=True)) == [1, 2]


def test_rules_changed_while_enabling_are_refused(admin_client, routed):
    draft = _draft()
    profile_simulate(profile=draft, last_n=20)
    url = reverse("admin:routing_routingprofile_change", args=[draft.pk])
    data = _form_data(admin_client, url, enabled="on")
    data.update(
        {
            "rules-TOTAL_FORMS": 1,
            "rules-0-name": "exclude when red",
            "rules-0-enabled": "on",
            "rules-0-condition": "weather_at_least",
            "rules-0-threshold": 4,
            "rules-0-effect": "exclude",
            "rules-0-amount": 0.5,
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = [f.non_form_errors() for f in response.context["inline_admin_formsets"]]
    assert "Rules changed while enabling the profile" in str(errors), errors
    assert "Rules changed while enabling the profile" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.enabled and not draft.rules.exists()


def test_a_new_profile_starts_as_a_draft(admin_client):
    form = admin_client.get(reverse("admin:routing_routingprofile_add")).context["adminform"].form
    assert form.fields["enabled"].initial is False
