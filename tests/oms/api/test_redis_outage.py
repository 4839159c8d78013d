"""Redis down or hung: the order API still accepts orders, each within a bounded time, and they
are routed once Redis is back (#11 item 15).

The cache is pointed at a TCP proxy in front of the shared Redis (``REDIS_URL``), and the test
cuts or hangs the proxy; the shared server is never touched. Transactional, so the routing
doorbell rings after each commit inside the request, as in production.
"""

import logging
import time
from urllib.parse import urlsplit

import pytest

from oms import fastpaths
from oms.api import throttling
from oms.celery import app as celery_app
from oms.models import Order, OrderStatus
from routing.tasks import route_ready, sweep_unrouted
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ORDERS = 4
BOUND_SECONDS = 1.0


@pytest.fixture
def redis_proxy(settings, monkeypatch):
    """The default cache, through a proxy the test can break; the doorbell rings it."""
    url = urlsplit(settings.REDIS_URL)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379)
    credentials = url.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": url._replace(netloc=netloc).geturl()}
    }
    fastpaths._redis_client.cache_clear()
    monkeypatch.setattr(throttling, "_cache_skipped_until", 0.0)
    monkeypatch.setattr(throttling, "FAIL_OPEN_SECONDS", 60.0)  # one warning in this test
    yield proxy
    proxy.close()
    fastpaths._redis_client.cache_clear()


@pytest.fixture
def product(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=100)
    return product


def _body(channel, product, number: int) -> dict:
    return {
        "channel": channel.code,
        "external_id": f"OUTAGE-{number}",
        "receiver": {
            "name": "Li",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州",
            "address_line": "文三路90号",
        },
        "lines": [{"sku": product.sku, "quantity": 1}],
    }


@pytest.mark.parametrize("outage", ["hung", "down"])
def test_orders_are_accepted_while_redis_is_out_and_routed_when_it_is_back(
    outage, redis_proxy, api, channel, product, caplog
):
    # A first order while Redis is well (routed at once), so what is timed below is the
    # outage, not a cold start.
    assert api.post("/api/orders/", _body(channel, product, -1), format="json").status_code == 201
    # With a real broker an order rings the routing doorbell (a cache SET NX) after commit;
    # the autouse ``_celery_eager`` fixture puts eager mode back afterwards.
    celery_app.conf.task_always_eager = False
    redis_proxy.hang() if outage == "hung" else redis_proxy.cut()
    latencies, ids = [], []
    with caplog.at_level(logging.WARNING):
        for number in range(ORDERS):
            started = time.perf_counter()
            response = api.post("/api/orders/", _body(channel, product, number), format="json")
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
    assert max(latencies) < BOUND_SECONDS, latencies
    throttle_warnings = [r for r in caplog.records if r.name == "oms.api.throttling"]
    assert len(throttle_warnings) == 1, throttle_warnings  # rate-limited, not one per request
    assert "unreachable" in throttle_warnings[0].getMessage()
    orders = Order.objects.filter(pk__in=ids)
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.CREATED}

    redis_proxy.restore()
    celery_app.conf.task_always_eager = True  # the sweeper's tasks run here
    assert sweep_unrouted(older_than_seconds=0) == ORDERS
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.ROUTED}
    # The throttle counts again once the cache answers.
    throttling._cache_skipped_until = 0.0
    assert api.get("/api/orders/").status_code == 200
    assert throttling._cache_skipped_until == 0.0


def test_a_publish_to_a_hung_broker_gives_up_within_its_timeouts(settings):
    """Were the cache up and the broker hung, the doorbell's publish would still end."""
    celery_app.conf.task_always_eager = False  # put back by the autouse _celery_eager
    url = urlsplit(settings.CELERY_BROKER_URL)
    with TcpProxy(url.hostname or "127.0.0.1", url.port or 6379) as proxy:
        proxy.hang()
        broker = url._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        with celery_app.connection_for_write(broker) as connection:
            started = time.perf_counter()
            with pytest.raises(Exception):  # noqa: B017 (kombu's or redis-py's, by version)
                route_ready.apply_async((0,), connection=connection)
            elapsed = time.perf_counter() - started
    # Two attempts (one retry), each bounded by the broker's connect and read timeouts.
    bound = 2 * (settings.REDIS_CONNECT_TIMEOUT + settings.CELERY_BROKER_SOCKET_TIMEOUT) + 1
    assert elapsed < bound, elapsed
