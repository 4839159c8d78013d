import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers.importing import identities_import
from customers.matching import Observation
from customers.models import Customer, CustomerMerge, Identity, ReviewItem
from customers.services import customer_resolve, customers_merge, customers_unmerge, review_decide
from tests.factories import (
    BatchFactory,
    ChannelFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


def _obs(
    record_id,
    phone="13800138000",
    name="张伟",
    address="上海市浦东新区世纪大道100号3号楼1201室",
    device="",
    account="",
    channel="douyin",
):
    return Observation(
        record_id=record_id,
        channel=channel,
        channel_account_id=account,
        device_id=device,
        phone=phone,
        receiver_name=name,
        address=address,
        created_at=None,
    )


def test_the_same_person_across_channels_is_one_customer_with_reasons(merchant):
    first, _identity, decision = customer_resolve(
        merchant=merchant, observation=_obs("a", phone="138 0013 8000")
    )
    assert decision.outcome.value == "new"
    second, identity, decision = customer_resolve(
        merchant=merchant,
        observation=_obs(
            "b",
            phone="+86 138-0013-8000",
            channel="tmall",
            address="上海浦东新区世纪大道100号三号楼1201",
        ),
    )
    assert second == first and decision.outcome.value == "link"
    assert (
        identity.reasons
        and identity.phone_masked.endswith("8000")
        and "138" in identity.phone_masked
    )
    assert "13800138000" not in str(
        Identity.objects.values_list("fingerprint", flat=True)[0]
    )  # keyed digest only


def test_family_members_at_one_address_stay_apart(merchant):
    husband, _i, _d = customer_resolve(
        merchant=merchant, observation=_obs("a", phone="13800138000", name="张伟")
    )
    wife, _i, decision = customer_resolve(
        merchant=merchant, observation=_obs("b", phone="13900139000", name="李娜")
    )
    assert husband != wife and decision.outcome.value in ("new", "review")


def test_resolving_the_same_record_twice_is_idempotent(merchant):
    customer_resolve(merchant=merchant, observation=_obs("same"))
    customer_resolve(merchant=merchant, observation=_obs("same"))
    assert Identity.objects.count() == 1 and Customer.objects.count() == 1


def test_orders_get_their_golden_customer_after_commit(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product)
    douyin, tmall = (
        ChannelFactory(merchant=merchant, kind="douyin"),
        ChannelFactory(merchant=merchant, kind="tmall"),
    )
    first = make_order(merchant=merchant, lines=[(product, 1)], channel=douyin)
    second = make_order(merchant=merchant, lines=[(product, 1)], channel=tmall)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.customer_id and first.customer_id == second.customer_id


def test_merge_and_unmerge_restore_orders_and_identities(merchant):
    product = ProductFactory(merchant=merchant)
    BatchFactory(warehouse=WarehouseFactory(merchant=merchant), product=product)
    order = make_order(merchant=merchant, lines=[(product, 1)])
    order.refresh_from_db()
    other, _i, _d = customer_resolve(
        merchant=merchant,
        observation=_obs("x", phone="13700137000", name="王芳", address="杭州市西湖区文三路90号"),
    )
    merge = customers_merge(survivor=other, absorbed=order.customer, reason="staff", actor="ops")
    order.refresh_from_db()
    assert order.customer == other
    customers_unmerge(merge=merge, actor="ops")
    order.refresh_from_db()
    assert order.customer_id == merge.absorbed_id
    assert Identity.objects.filter(customer=merge.absorbed).count() == len(merge.moved_identity_ids)
    assert CustomerMerge.objects.get().undone_by == "ops"
    assert merge.absorbed.history.count() >= 2  # audited


def test_review_items_are_settled_by_a_person(merchant):
    identity_customer, identity, _d = customer_resolve(merchant=merchant, observation=_obs("a"))
    other, other_identity, _d = customer_resolve(
        merchant=merchant, observation=_obs("b", phone="13700137000", name="王芳")
    )
    item = ReviewItem.objects.create(
        identity=other_identity, suggested_customer=identity_customer, score=6, reasons=["similar"]
    )
    review_decide(item=item, merge=True, actor="ops")
    other_identity.refresh_from_db()
    assert other_identity.customer == identity_customer and item.status == "merged"


def test_import_and_export_identities(merchant, tmp_path, capsys):
    path = tmp_path / "obs.csv"
    rows = [
        [
            "record_id",
            "channel",
            "channel_account_id",
            "device_id",
            "phone",
            "receiver_name",
            "address",
            "created_at",
        ],
        [
            "r1",
            "douyin",
            "",
            "dev-1",
            "13800138000",
            "张伟",
            "上海市浦东新区世纪大道100号3号楼1201室",
            "2026-01-02T10:00:00+08:00",
        ],
        [
            "r2",
            "tmall",
            "",
            "",
            "+86 138 0013 8000",
            "张伟",
            "上海浦东新区世纪大道100号三号楼1201",
            "2026-02-02T10:00:00+08:00",
        ],
        [
            "r3",
            "pos",
            "",
            "",
            "13900139000",
            "李娜",
            "北京市朝阳区建国路88号2号楼1505",
            "not a date",
        ],
        ["r4", "pos", "", "", "13900139000", "李娜", "北京市朝阳区建国路88号2号楼1505", ""],
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    call_command("import_identities", str(path), merchant=merchant.code, no_progress=True)
    out = capsys.readouterr()
    assert "line 4: created_at 'not a date' is not ISO 8601 (skipped)" in out.err
    assert "3 rows resolved" in out.out
    export = tmp_path / "out.csv"
    call_command("export_customers", str(export), merchant=merchant.code)
    mapping = dict(list(csv.reader(io.StringIO(export.read_text(encoding="utf-8"))))[1:])
    assert set(mapping) == {"r1", "r2", "r4"} and mapping["r1"] == mapping["r2"] != mapping["r4"]
    call_command("import_identities", str(path), merchant=merchant.code, no_progress=True)
    assert "3 already imported" in capsys.readouterr().out and Identity.objects.count() == 3


def test_import_links_to_customers_already_stored(merchant):
    stored, _i, _d = customer_resolve(merchant=merchant, observation=_obs("live"))
    report = identities_import(merchant=merchant, observations=[_obs("csv-1", channel="tmall")])
    assert report.assignments == {"csv-1": stored.pk}


def test_customer_admin_pages(admin_client, merchant):
    customer, identity, _d = customer_resolve(merchant=merchant, observation=_obs("a"))
    assert (
        admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:customers_identity_changelist")).status_code == 200
