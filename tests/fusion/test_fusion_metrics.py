"""Per channel: cross-channel merge rate and duplicate-customer rate, on a known dataset."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from channels.selectors import fusion_metrics, ingest_metrics
from tests.factories import ChannelFactory
from tests.fusion.shop import HOME, place

pytestmark = pytest.mark.django_db

LI = replace(HOME, receiver_name="李娜", receiver_phone="13900139000", address_line="文三路200号")
WANG = replace(
    HOME, receiver_name="王芳", receiver_phone="13700137000", address_line="教工路18号5幢101室"
)


@pytest.fixture
def dataset(shop):
    """
    张伟: douyin an hour ago (alone); douyin sofa + mini cushion 3 minutes apart (merged).
    李娜: two douyin orders (merged, same channel).   王芳: one mini order.
    A third channel (store) has no orders.
    """
    ChannelFactory(merchant=shop["merchant"], code="store", name="Store")
    zhang_old = place(shop, "douyin", [("cushion", 1)], minutes_ago=60)
    zhang_sofa = place(shop, "douyin", [("sofa", 1)], minutes_ago=3)
    zhang_cushion = place(shop, "mini", [("cushion", 1)])
    li_first = place(shop, "douyin", [("cushion", 1)], address=LI, minutes_ago=2)
    li_second = place(shop, "douyin", [("cushion", 1)], address=LI)
    wang = place(shop, "mini", [("cushion", 1)], address=WANG)
    for order in (zhang_old, zhang_sofa, li_first):
        order.refresh_from_db()
    assert zhang_old.consolidation_id is None
    assert zhang_sofa.consolidation_id == zhang_cushion.consolidation_id is not None
    assert li_first.consolidation_id == li_second.consolidation_id is not None
    assert len({zhang_old.customer_id, li_first.customer_id, wang.customer_id}) == 3
    return shop


def test_fusion_metrics_per_channel(dataset):
    by_code = {row["channel"]: row for row in ingest_metrics(merchant=dataset["merchant"])}
    assert {k: by_code["douyin"][k] for k in _FUSION} == {
        "orders": 4,
        "merged_orders": 3,
        "cross_channel_merged": 1,
        "cross_channel_merge_rate": 0.25,
        "customers": 2,
        "multi_channel_customers": 1,
        "duplicate_customer_rate": 0.5,
    }
    assert {k: by_code["mini"][k] for k in _FUSION} == {
        "orders": 2,
        "merged_orders": 1,
        "cross_channel_merged": 1,
        "cross_channel_merge_rate": 0.5,
        "customers": 2,
        "multi_channel_customers": 1,
        "duplicate_customer_rate": 0.5,
    }
    assert {k: by_code["store"][k] for k in _FUSION} == dict.fromkeys(_FUSION, 0)
    assert by_code["douyin"]["gifts_refused_as_duplicate"] == 0


def test_fusion_metrics_since(dataset):
    since = timezone.now() - timedelta(minutes=30)
    rows = fusion_metrics(merchant=dataset["merchant"], since=since)
    douyin = rows[dataset["douyin"].pk]
    assert (douyin["orders"], douyin["cross_channel_merge_rate"]) == (3, 0.3333)
    assert (douyin["customers"], douyin["duplicate_customer_rate"]) == (2, 0.5)


def test_metrics_endpoint_reports_the_rates(api, dataset):
    body = api.get("/api/channels/metrics").json()
    douyin = next(row for row in body["results"] if row["channel"] == "douyin")
    assert douyin["cross_channel_merge_rate"] == 0.25
    assert douyin["duplicate_customer_rate"] == 0.5
    assert douyin["gifts_refused_as_duplicate"] == 0


_FUSION = (
    "orders",
    "merged_orders",
    "cross_channel_merged",
    "cross_channel_merge_rate",
    "customers",
    "multi_channel_customers",
    "duplicate_customer_rate",
)
