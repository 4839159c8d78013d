"""The routing doorbell: one task per burst of orders, none left waiting, claims shared."""

import pytest
from django.core.cache import cache

from oms.celery import app as celery_app
from oms.models import Order, OrderStatus
from routing import tasks
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=100)
    return product


@pytest.fixture
def sent(monkeypatch):
    """Task messages the doorbell would publish (a broker, not eager mode)."""
    messages: list[int] = []
    monkeypatch.setattr(
        tasks.route_ready, "delay", lambda merchant_id: messages.append(merchant_id)
    )
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    cache.clear()
    return messages


def _statuses(orders) -> set[str]:
    return set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True))


def test_a_burst_rings_once_and_its_task_routes_every_waiting_order(merchant, product, sent):
    orders = [make_order(merchant=merchant, lines=[(product, 1)]) for _ in range(5)]
    assert sent == [merchant.pk]  # the first order rang; the bell was set for the others
    assert _statuses(orders) == {OrderStatus.CREATED}
    assert tasks.route_ready(merchant.pk) == 5
    assert _statuses(orders) == {OrderStatus.ROUTED}
    later = make_order(merchant=merchant, lines=[(product, 1)])
    assert sent == [merchant.pk, merchant.pk]  # the task silenced the bell: the next order rings
    assert tasks.route_ready(merchant.pk) == 1 and _statuses([later]) == {OrderStatus.ROUTED}


def test_an_order_committed_while_the_task_runs_rings_again(merchant, product, sent, monkeypatch):
    first = make_order(merchant=merchant, lines=[(product, 1)])
    late: list[Order] = []
    original = tasks.order_route

    def route_and_meanwhile_take_an_order(*, order_id):
        if not late:
            late.append(make_order(merchant=merchant, lines=[(product, 1)]))
        return original(order_id=order_id)

    monkeypatch.setattr(tasks, "order_route", route_and_meanwhile_take_an_order)
    tasks.route_ready(merchant.pk)
    assert _statuses([first]) == {OrderStatus.ROUTED}
    assert sent == [merchant.pk, merchant.pk]  # the late order found the bell silent
    assert tasks.route_ready(merchant.pk) == 1 and _statuses(late) == {OrderStatus.ROUTED}


def test_an_order_claimed_by_another_task_is_left_to_it(merchant, product, sent):
    mine, theirs = (make_order(merchant=merchant, lines=[(product, 1)]) for _ in range(2))
    cache.add(f"routing:claim:{theirs.pk}", 1)
    assert tasks.route_ready(merchant.pk) == 1
    assert _statuses([mine]) == {OrderStatus.ROUTED} and _statuses([theirs]) == {"created"}


def test_a_full_page_sends_the_next_task(merchant, product, sent):
    orders = [make_order(merchant=merchant, lines=[(product, 1)]) for _ in range(3)]
    sent.clear()
    assert tasks.route_ready(merchant.pk, limit=2) == 2
    assert sent == [merchant.pk]
    assert tasks.route_ready(merchant.pk, limit=2) == 1
    assert _statuses(orders) == {OrderStatus.ROUTED}


def test_a_failed_send_silences_the_bell_so_the_next_order_tries_again(
    merchant, product, sent, monkeypatch, caplog
):
    def broker_down(merchant_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.route_ready, "delay", broker_down)
    stranded = make_order(merchant=merchant, lines=[(product, 1)])
    assert "the sweeper will retry" in caplog.text
    assert cache.get(f"routing:bell:{merchant.pk}") is None
    monkeypatch.setattr(tasks.route_ready, "delay", lambda merchant_id: sent.append(merchant_id))
    make_order(merchant=merchant, lines=[(product, 1)])
    assert sent == [merchant.pk]
    assert tasks.route_ready(merchant.pk) == 2 and _statuses([stranded]) == {OrderStatus.ROUTED}
