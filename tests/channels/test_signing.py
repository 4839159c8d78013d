"""One signer for both directions: channel deliveries in, merchant webhooks out."""

from channels.signing import (
    sign,
    verify,
    verify_webhook_signature,
    webhook_signature_header,
)

MAC = "12ea441391fdd08b20eaf150b36092e5e2a923e74bd6909f24f88dd43b631cb2"


def test_both_schemes_sign_the_same_timestamped_body_as_before():
    assert sign("whsec", 1000, b"{}") == f"sha256={MAC}"
    assert webhook_signature_header(secrets=["whsec"], timestamp=1000, body=b"{}") == (
        f"t=1000,v1={MAC}"
    )


def test_a_channel_delivery_verifies_with_the_previous_secret_too():
    verdict = verify(
        secrets=["new", "whsec"], signature=f"sha256={MAC}", timestamp="1000", body=b"{}", now=1000
    )
    assert verdict.ok
    stale = verify(
        secrets=["whsec"], signature=f"sha256={MAC}", timestamp="1000", body=b"{}", now=1301
    )
    assert not stale.ok and "300 s" in stale.reason


def test_a_webhook_signature_binds_the_timestamp():
    header = webhook_signature_header(secrets=["whsec"], timestamp=1000, body=b"{}")
    assert verify_webhook_signature(header=header, body=b"{}", secret="whsec", now=1300)
    replayed = header.replace("t=1000", "t=1200")
    assert not verify_webhook_signature(header=replayed, body=b"{}", secret="whsec", now=1300)
