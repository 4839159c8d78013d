"""Decisions stored with table-wide history ids read as the profile's own version numbers."""

import importlib

import pytest
from django.apps import apps

from routing.models import RoutingDecision, RoutingProfile
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db

migration = importlib.import_module("routing.migrations.0010_decision_profile_version_per_profile")


def test_history_ids_become_per_profile_versions_and_back(merchant):
    default = RoutingProfile.objects.get(is_default=True)  # history id 1: its version 1
    other = RoutingProfile.objects.create(name="Other")  # history id 2: its version 1
    default.priority = 3
    default.save()  # history id 3: version 2 of the default
    other.priority = 1
    other.save()  # history id 4: version 2 of the other, whose version 1 is history id 2
    ids = list(default.history.order_by("history_id").values_list("history_id", flat=True))
    other_ids = list(other.history.order_by("history_id").values_list("history_id", flat=True))
    warehouse = WarehouseFactory(merchant=merchant)
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=warehouse, product=product, on_hand=9)
    orders = [make_order(merchant=merchant, lines=[(product, 1)]) for _ in range(4)]
    decisions = [RoutingDecision.objects.get(order=order) for order in orders]
    # As stored before: the table-wide history id of the record in force.
    for decision, (profile, history_id) in zip(
        decisions,
        [(default, ids[0]), (default, ids[1]), (other, other_ids[0]), (other, other_ids[1])],
        strict=True,
    ):
        RoutingDecision.objects.filter(pk=decision.pk).update(
            profile=profile, profile_version=history_id
        )
    migration.per_profile(apps, None)
    assert [RoutingDecision.objects.get(pk=d.pk).profile_version for d in decisions] == [
        1,
        2,
        1,
        2,
    ]  # one pass: no version renumbered twice
    migration.table_wide(apps, None)
    assert [RoutingDecision.objects.get(pk=d.pk).profile_version for d in decisions] == [
        ids[0],
        ids[1],
        other_ids[0],
        other_ids[1],
    ]
