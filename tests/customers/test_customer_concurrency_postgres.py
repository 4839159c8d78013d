"""Concurrent sightings of one person end as one customer (PostgreSQL, real threads)."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from customers.matching import Observation
from customers.models import Customer, CustomerMerge
from customers.services import customer_resolve
from tests.factories import MerchantFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def test_simultaneous_orders_of_one_person_create_one_customer():
    merchant = MerchantFactory()

    def sighting(number: int):
        try:
            person = number % 2  # two people, 20 sightings each, all at once
            customer, _identity, _decision = customer_resolve(
                merchant=merchant,
                observation=Observation(
                    record_id=f"r{number}",
                    channel=("douyin", "tmall")[number % 4 // 2],
                    channel_account_id="",
                    device_id="",
                    phone=("13800138000", "13900139000")[person],
                    receiver_name=("张伟", "李娜")[person],
                    address=(
                        "上海市浦东新区世纪大道100号3号楼1201室",
                        "北京市朝阳区建国路88号2号楼1505",
                    )[person],
                    created_at=None,
                ),
            )
            return person, customer.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(sighting, range(40)))
    customers_of = {person: {cid for p, cid in results if p == person} for person in (0, 1)}
    assert all(len(ids) == 1 for ids in customers_of.values()), customers_of
    assert customers_of[0] != customers_of[1]
    assert (
        Customer.objects.filter(merchant=merchant).count() == 2
        and not CustomerMerge.objects.exists()
    )
    assert Counter(p for p, _ in results) == {0: 20, 1: 20}
