"""Process-local caches of API keys and sales channels: revocation and deactivation apply."""

from types import SimpleNamespace

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone

from oms import localcache
from oms.models import ApiKey
from tests.factories import BatchFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sofa(merchant):
    product = ProductFactory(merchant=merchant, sku="SOFA-1", unit_value="5999.00")
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product, on_hand=100)
    return product


def _order(*, channel: str = "douyin", external_id: str = "DY-1") -> dict:
    return {
        "channel": channel,
        "external_id": external_id,
        "receiver": {
            "name": "张伟",
            "phone": "+86 138-0013-8000",
            "province": "浙江省",
            "city": "杭州",
            "address_line": "西湖区文三路90号",
        },
        "lines": [{"sku": "SOFA-1", "quantity": 1}],
    }


def test_a_key_revoked_in_admin_is_refused_at_once(api, channel, admin_user):
    assert api.get("/api/channels/").status_code == 200  # cached now
    admin = site._registry[ApiKey]
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    request._messages = SimpleNamespace(add=lambda *a, **k: None)
    admin.revoke(request, ApiKey.objects.all())
    assert api.get("/api/channels/").status_code == 401


def test_a_key_revoked_behind_the_caches_back_expires_within_the_ttl(
    api, channel, settings, monkeypatch
):
    settings.OMS_API_LOCAL_CACHE_SECONDS = 30
    assert api.get("/api/channels/").status_code == 200
    ApiKey.objects.update(revoked_at=timezone.now())  # no signal: another process did it
    assert api.get("/api/channels/").status_code == 200  # still cached here
    later = localcache.time.monotonic() + 31
    monkeypatch.setattr(localcache.time, "monotonic", lambda: later)
    assert api.get("/api/channels/").status_code == 401


def test_with_the_cache_off_every_request_reads_the_key(api, channel, settings):
    settings.OMS_API_LOCAL_CACHE_SECONDS = 0
    assert api.get("/api/channels/").status_code == 200
    ApiKey.objects.update(revoked_at=timezone.now())
    assert api.get("/api/channels/").status_code == 401


def test_a_channel_deactivated_is_refused_at_once(api, channel, sofa):
    assert api.post("/api/orders/", _order(), format="json").status_code == 201
    channel.active = False
    channel.save()
    response = api.post("/api/orders/", _order(external_id="DY-2"), format="json")
    assert response.status_code == 400 and "inactive" in response.json()["channel"][0]


def test_a_channel_created_after_an_unknown_code_was_asked_for_is_found_at_once(
    api, merchant, sofa
):
    from oms.models import SalesChannel

    body = _order(channel="tmall-flagship")
    assert api.post("/api/orders/", body, format="json").status_code == 400  # not there yet
    # Created by another process: no signal reaches this one's cache.
    SalesChannel.objects.bulk_create(
        [SalesChannel(merchant=merchant, code="tmall-flagship", name="Tmall", kind="tmall")]
    )
    assert api.post("/api/orders/", body, format="json").status_code == 201
