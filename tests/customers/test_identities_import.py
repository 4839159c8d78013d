"""The bulk import stores exactly what one resolution at a time would store."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from customers.importing import identities_import
from customers.matching import Observation, blocking_keys, fingerprint_from_dict
from customers.models import Customer, Identity, IdentityKey
from customers.services import customer_resolve

pytestmark = pytest.mark.django_db


def _obs(record_id, phone, name, address, at):
    return Observation(
        record_id=record_id,
        channel="douyin",
        channel_account_id=f"acc-{phone[-4:]}",
        device_id="",
        phone=phone,
        receiver_name=name,
        address=address,
        created_at=at,
    )


def test_imported_rows_read_back_as_resolved_ones(merchant):
    rows = [
        _obs(
            "r1",
            "13800138000",
            "张伟",
            "上海市浦东新区世纪大道100号3号楼1201室",
            datetime(2026, 1, 2, 2, 0, tzinfo=UTC),
        ),
        _obs(
            "r2",
            "+86 138 0013 8000",
            "张伟",
            "上海浦东新区世纪大道100号三号楼1201",
            timezone.make_aware(datetime(2026, 2, 2, 10, 0)),  # Asia/Shanghai
        ),
        _obs("r3", "13900139000", "李娜", "北京市朝阳区建国路88号2号楼1505", None),
    ]
    report = identities_import(merchant=merchant, observations=rows)

    assert (report.linked, report.new, report.customers_created) == (1, 2, 2)
    identities = {i.record_id: i for i in Identity.objects.filter(merchant=merchant)}
    assert report.assignments == {rid: i.customer_id for rid, i in identities.items()}
    assert identities["r1"].customer_id == identities["r2"].customer_id
    assert identities["r1"].observed_at == datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    assert identities["r2"].observed_at == timezone.make_aware(datetime(2026, 2, 2, 10, 0))
    assert identities["r3"].observed_at is None
    second = identities["r2"]
    assert second.outcome == "link" and second.reasons and second.reasons[0].startswith("exact key")
    assert second.score > 0 and second.created_at is not None
    assert second.fingerprint["record_id"] == "r2" and second.name == "张伟"
    assert second.phone_masked.endswith("8000") and second.account_key == "douyin:acc-8000"
    for identity in identities.values():
        assert sorted(
            IdentityKey.objects.filter(identity=identity).values_list("key", flat=True)
        ) == (sorted(blocking_keys(fingerprint_from_dict(identity.fingerprint))))
    customer = Customer.objects.get(pk=second.customer_id)
    assert customer.display_name == "张伟" and customer.vip is False and customer.created_at

    _customer, later, _decision = customer_resolve(  # the id sequences moved on
        merchant=merchant,
        observation=_obs("r4", "13700137000", "王芳", "杭州市西湖区文三路90号", None),
    )
    assert later.pk > max(i.pk for i in identities.values())
    assert later.customer_id > max(report.assignments.values())
