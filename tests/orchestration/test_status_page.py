"""The customer status page: reached by token only, private, masked, with every step."""

import pytest
from django.urls import reverse

from oms.models import OrderStatus
from orchestration.models import OrderTracking
from orchestration.services.plans import tracking_revoke

pytestmark = pytest.mark.django_db


def _url(order) -> str:
    return reverse("orchestration:track", args=[OrderTracking.objects.get(order=order).token])


def test_the_page_lists_every_step_with_its_state_and_no_raw_personal_data(client, routed):
    order = routed("furniture")
    response = client.get(_url(order))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    for label in ("Home delivery", "Electronic warranty", "Installation appointment"):
        assert label in html
    assert 'data-state="done"' in html and 'data-state="in_progress"' in html
    assert 'data-state="waiting"' in html
    assert "13800138000" not in html and "138****8000" in html
    assert "世纪大道100号" not in html and "世纪****" in html


def test_the_page_says_where_the_parcel_ships_from_and_no_internal_reasoning(client, routed):
    from routing.models import RoutingDecision

    order = routed("furniture")
    RoutingDecision.objects.filter(order=order).update(
        explanation="WH001 chosen; WH002 excluded: delivery certainty 86.0 % < 95 %"
    )
    html = client.get(_url(order)).content.decode()
    assert "Ships from our warehouse in Shanghai, arrives" in html
    assert 'id="route-map"' in html
    for internal in ("excluded", "certainty", "objective", "&lt; 95", "WH002", "Why it ships"):
        assert internal not in html


def test_in_chinese_the_parcel_says_where_it_ships_from(client, routed):
    order = routed("furniture")
    html = client.get(_url(order), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "由我们上海的仓库发货，预计" in html and "送达" in html


def test_an_unknown_or_revoked_token_is_a_plain_404(client, routed):
    order = routed("furniture")
    url = _url(order)
    assert client.get("/track/not-a-token/").status_code == 404
    tracking = OrderTracking.objects.get(order=order)
    tracking_revoke(tracking=tracking, actor="test", reissue=False)
    assert client.get(url).status_code == 404
    tracking_revoke(tracking=tracking, actor="test", reissue=True)
    tracking.refresh_from_db()
    assert client.get(url).status_code == 404  # the old link never comes back
    assert client.get(reverse("orchestration:track", args=[tracking.token])).status_code == 200


def test_tokens_are_long_and_random(routed):
    tokens = {OrderTracking.objects.get(order=routed("furniture")).token for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(token) >= 32 for token in tokens)  # 24 random bytes = 192 bits


def test_a_service_heavy_order_shows_at_least_eight_status_items(client, routed):
    from orchestration.selectors import status_item_count

    order = routed("ev")
    assert order.status == OrderStatus.ROUTED
    assert status_item_count(order=order) >= 8


def test_the_page_renders_in_a_fixed_number_of_queries(
    client, routed, django_assert_max_num_queries
):
    order = routed("ev")
    with django_assert_max_num_queries(12):
        assert client.get(_url(order)).status_code == 200


def test_known_unknown_and_revoked_links_answer_with_the_same_privacy_headers(client, routed):
    """The headers alone never tell a guessed token from a real one (#11)."""
    order = routed("furniture")
    headers = ("Content-Security-Policy", "Referrer-Policy", "Cache-Control", "X-Robots-Tag")
    known = client.get(_url(order))
    unknown = client.get("/track/" + "A" * 32 + "/")
    tracking_revoke(tracking=OrderTracking.objects.get(order=order), actor="test", reissue=False)
    revoked = client.get(_url(order))

    assert (known.status_code, unknown.status_code, revoked.status_code) == (200, 404, 404)
    assert "default-src 'none'" in known["Content-Security-Policy"]
    for response in (unknown, revoked):
        assert {h: response.get(h) for h in headers} == {h: known.get(h) for h in headers}
