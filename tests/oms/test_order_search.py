"""The order search in admin: parts of external ids, names and phones, and order numbers, read
from indexes on PostgreSQL (trigram GIN over the expressions the admin's search compares)."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from oms.models import Order
from tests.factories import BatchFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(merchant):
    batch = BatchFactory(warehouse__merchant=merchant, on_hand=100)
    return [
        make_order(merchant=merchant, lines=[(batch.product, 1)], external_id=f"SHOP-{code}")
        for code in ("AAA", "BBB", "CCC")
    ]


def _found(admin_client, term: str) -> str:
    response = admin_client.get(reverse("admin:oms_order_changelist"), {"q": term})
    assert response.status_code == 200
    return response.content.decode()


def test_a_part_of_an_external_id_finds_the_orders(admin_client, orders):
    page = _found(admin_client, "op-b")
    assert "SHOP-BBB" in page
    assert "SHOP-AAA" not in page and "SHOP-CCC" not in page


def test_an_order_number_finds_that_order(admin_client, orders):
    target = orders[1]
    assert target.external_id in _found(admin_client, str(target.pk))
    assert "SHOP-" not in _found(admin_client, "99999999")


@pytest.mark.postgres
def test_the_search_reads_the_trigram_indexes(rf: RequestFactory, orders, admin_user):
    model_admin = site._registry[Order]
    request = rf.get("/admin/oms/order/", {"q": "SHOP"})
    request.user = admin_user
    found, _duplicates = model_admin.get_search_results(request, Order.objects.all(), "SHOP")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: force the choice
        plan = found.order_by().explain()
    for index in (
        "order_external_id_trgm",
        "order_receiver_name_trgm",
        "order_receiver_phone_trgm",
    ):
        assert index in plan, plan
