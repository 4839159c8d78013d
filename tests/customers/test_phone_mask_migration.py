"""Stored phone masks written in the older forms read as ``mask_phone`` writes them now."""

import importlib

import pytest
from django.apps import apps

from customers.matching import mask_phone
from customers.models import Customer, Identity

pytestmark = pytest.mark.django_db

migration = importlib.import_module("customers.migrations.0008_phone_masks_in_one_form")


def test_older_masks_take_the_one_form_and_foreign_ones_keep_their_code(merchant):
    core = Customer.objects.create(merchant=merchant, phone_masked="+86 138****5678")
    fallback = Customer.objects.create(merchant=merchant, phone_masked="+86139****8000")
    foreign = Customer.objects.create(merchant=merchant, phone_masked="+1 650***0000")
    identity = Identity.objects.create(
        merchant=merchant,
        customer=core,
        record_id="r1",
        phone_masked="+86 138****5678",
        fingerprint={},
        outcome=Identity.Outcome.NEW,
    )
    migration.masks_in_one_form(apps, None)
    for row in (core, fallback, foreign, identity):
        row.refresh_from_db()
    assert core.phone_masked == identity.phone_masked == mask_phone("13812345678")
    assert fallback.phone_masked == "139****8000"
    assert foreign.phone_masked == mask_phone("+1 650 253 0000")
