"""A channel order's stored buyer phone mask reads as ``mask_phone`` writes it now."""

import importlib

import pytest
from django.apps import apps

from channels.models import ChannelOrder
from customers.matching import mask_phone
from tests.factories import ProductFactory, make_order

pytestmark = pytest.mark.django_db

migration = importlib.import_module("channels.migrations.0012_buyer_phone_masks_in_one_form")


def test_an_older_buyer_mask_takes_the_one_form(merchant, channel):
    order = make_order(merchant=merchant, channel=channel, lines=[(ProductFactory(), 1)])
    row = ChannelOrder.objects.create(
        order=order, channel=channel, buyer_phone_masked="+86138****5678"
    )
    migration.masks_in_one_form(apps, None)
    row.refresh_from_db()
    assert row.buyer_phone_masked == mask_phone("13812345678")
