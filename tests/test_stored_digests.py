"""Digests kept in the database keep their values: their inputs are not stored, so a changed
formula would orphan every row (phones no longer match, codes no longer verify)."""

import pytest

from oms.models import Merchant


@pytest.fixture
def keys(settings):
    settings.OMS_PII_KEY = "pii-test-key"
    settings.SECRET_KEY = "secret-test-key"
    return settings


def test_the_customer_matching_key_of_a_merchant_is_unchanged(keys):
    from customers.services import matching_key

    key = matching_key(Merchant(code="m1"))
    assert key.hex() == "14990775f3fd48902e48e02d5512f4e7d3381555a3c434c15183f552a543df5d"
    keys.OMS_PII_KEY = ""
    key = matching_key(Merchant(code="m1"))
    assert key.hex() == "6852137c351e8c738dc7d5605fc927777a2bc7b34aa3d43f8b5272acc6a98ce0"


def test_a_channel_buyer_key_is_unchanged(keys):
    from channels.identity import buyer_digest

    digest = buyer_digest(Merchant(code="m1"), "phone", "+8613800138000")
    assert digest == "ca4744a2797db80499398b7a7e5f4b97525a4ce3e86eda887614817282b70319"
    keys.OMS_PII_KEY = ""
    digest = buyer_digest(Merchant(code="m1"), "account", "douyin:acc")
    assert digest == "92bee6704e4e166574d91b95c558fc62f7b59d87e5b967a7d86e4b021b17ac86"


def test_the_hash_of_a_confirmation_code_is_unchanged(keys):
    from orchestration.services.interventions import _hash

    assert _hash("123456", "abcd") == (
        "abcd$546d39c28e6c7cd15351b19ad4a3b8ebfc005b6e1a2173520795625887b42ecc"
    )
