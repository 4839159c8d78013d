"""Keyed hashes: stored digests depend on them, so their outputs are pinned."""

from customers.matching.keyed import derive_key, hmac_sha256, keyed_hash


def test_hmac_sha256_is_the_standard_construction():
    # RFC 4231 test case 2.
    digest = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert digest.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_keyed_hash_keeps_the_value_every_stored_phone_digest_was_made_with():
    digest = keyed_hash("+8613812345678", b"k", purpose="phone")
    assert digest == "24bc64c6a1c2b44b36c3f9e140a62e14f6bc915ba4d15ad96ba90bb2118def86"


def test_keyed_hash_separates_purposes():
    assert keyed_hash("x", b"k", purpose="phone") != keyed_hash("x", b"k", purpose="address")


def test_a_derived_key_depends_on_its_context():
    key = derive_key(b"pii-test-key", "customer-matching:m1")
    assert key.hex() == "14990775f3fd48902e48e02d5512f4e7d3381555a3c434c15183f552a543df5d"
    assert key != derive_key(b"pii-test-key", "customer-matching:m2")
