"""Input that used to give a 500 answers a JSON 400 or 404 with a message (hardening, #11).

Runs on SQLite and PostgreSQL; the offset cases failed on PostgreSQL only (it refuses offsets
beyond +-15:59), so CI's PostgreSQL run is the one that matters for them.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from oms.models import Merchant

pytestmark = pytest.mark.django_db


def order_of(merchant, channel):
    from tests.factories import ProductFactory, make_order

    return make_order(
        merchant=merchant, channel=channel, lines=[(ProductFactory(merchant=merchant), 1)]
    )


FAR_OFFSETS = [
    "2026-01-01T00:00:00+17:53",
    "2026-01-01T00:00:00-23:59",
    "0001-01-01T00:00:00+01:00",
]


@pytest.mark.parametrize("moment", FAR_OFFSETS)
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/orders/", "created_before"),
        ("/api/orders/", "created_after"),
        ("/api/channels/metrics", "since"),
        ("/api/channels/price-differences", "at"),
    ],
)
def test_times_with_any_offset_answer_without_a_server_error(api, merchant, path, param, moment):
    response = api.get(path, {param: moment})

    if moment.startswith("0001"):  # before year 1 in UTC: a client error with the field named
        assert response.status_code == 400 and param in response.json(), response.content
    else:  # a valid instant, compared in UTC
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("moment", FAR_OFFSETS)
def test_the_timeline_with_a_far_offset_answers_its_events(api, merchant, channel, moment):
    """``created_after`` on the timeline (item 8) is read as on the list: never a 500."""
    order = order_of(merchant, channel)
    response = api.get(f"/api/orders/{order.pk}/timeline/", {"created_after": moment})
    if moment.startswith("0001"):
        assert response.status_code == 400 and "created_after" in response.json()
    else:
        assert response.status_code == 200, response.content
        assert response.json()[0]["kind"] == "created"


def test_a_far_offset_is_the_same_instant_in_utc(api, merchant, channel):
    order = order_of(merchant, channel)
    # 2026-01-01T00:00+17:53 is 2025-12-31T06:07Z: the order, created now, is after it.
    after = api.get("/api/orders/", {"created_after": "2026-01-01T00:00:00+17:53"}).json()
    before = api.get("/api/orders/", {"created_before": "2026-01-01T00:00:00+17:53"}).json()
    assert [row["id"] for row in after["results"]] == [order.pk]
    assert before["results"] == []


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00", "2026-01-01T25:00:00"])
def test_a_time_that_is_not_iso_is_a_400_with_the_field(api, merchant, bad):
    for path, param in (("/api/channels/metrics", "since"), ("/api/orders/", "created_after")):
        response = api.get(path, {param: bad})
        assert response.status_code == 400 and param in response.json(), (path, response.content)


@pytest.mark.parametrize(
    "path", ["/api/orders/", "/api/products/", "/api/webhooks/", "/api/signals/"]
)
def test_deeply_nested_json_is_a_400_on_every_json_write(api, merchant, path):
    body = "[" * 6000 + "]" * 6000

    response = api.post(path, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert "nested too deeply" in response.json()["detail"]


def test_unknown_api_routes_and_methods_answer_json(api, merchant):
    for path in ("/api/no-such-thing/", "/api/orders/999999/nothing/", "/api/channels/x/y/z"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "not_found"


def test_pages_outside_the_api_keep_html_404s(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_server_error_under_api_is_json(merchant, monkeypatch, settings):
    from oms.api import views

    def boom(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.ProductViewSet, "list", boom)
    from oms.models import ApiKey

    raw = "oms_test_boom_key_0123456789"
    ApiKey.objects.create(
        merchant=merchant, name="boom", prefix=raw[:12], key_hash=ApiKey.hash(raw)
    )
    client = Client(raise_request_exception=False)

    response = client.get("/api/products/", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "detail": "Internal error; it has been logged.",
    }


@pytest.mark.parametrize("token", ["abc%00def", "%00", "a" * 65, "x y", "ab%E2%80%AEcd"])
def test_a_malformed_status_page_token_is_a_404_with_the_private_headers(client, token):
    response = client.get(f"/track/{token}/")

    assert response.status_code == 404
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "This order link is not valid" in response.content.decode()


def test_an_unknown_token_looks_like_a_revoked_one(client):
    unknown = client.get("/track/" + "A" * 32 + "/")
    assert unknown.status_code == 404
    assert unknown["X-Robots-Tag"] == "noindex, nofollow"
    assert "script-src" not in unknown["Content-Security-Policy"]  # default-src 'none' covers it


@pytest.mark.parametrize("rate", ["100 per min", "100/fortnight", "0/min", "/min", "1e3/s"])
def test_a_malformed_merchant_rate_is_refused_by_validation(rate):
    merchant = Merchant(code="rate-check", name="Rate check", api_throttle_rate=rate)
    with pytest.raises(ValidationError) as refused:
        merchant.full_clean()
    assert "api_throttle_rate" in refused.value.message_dict


@pytest.mark.parametrize("rate", ["600/min", "20/s", "10000/hour", "100000/day", ""])
def test_well_formed_merchant_rates_pass(rate):
    Merchant(code="rate-ok", name="Rate ok", api_throttle_rate=rate).full_clean()


def test_the_admin_form_refuses_a_malformed_rate_with_a_message(admin_client, merchant):
    page = admin_client.post(
        f"/admin/oms/merchant/{merchant.pk}/change/",
        {
            "code": merchant.code,
            "name": merchant.name,
            "currency": "CNY",
            "active": "on",
            "api_throttle_rate": "100 per min",
        },
    )
    assert page.status_code == 200  # the form again, not a redirect
    assert "Write the rate as requests/period" in page.content.decode()
    merchant.refresh_from_db()
    assert merchant.api_throttle_rate == ""
