"""Signing secrets are stored encrypted, read back in clear, and their key can be rotated."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from oms import crypto
from oms.models import SalesChannel
from orchestration.models import WebhookSubscription
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def _stored(model, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_channel_secret_is_stored_encrypted_and_read_in_clear(merchant):
    channel = ChannelFactory(merchant=merchant, code="douyin")
    clear = channel.signing_secret
    stored = _stored(SalesChannel, channel.pk, "signing_secret")
    assert stored.startswith("enc:") and clear not in stored
    assert SalesChannel.objects.get(pk=channel.pk).signing_secret == clear
    assert _stored(SalesChannel, channel.pk, "previous_signing_secret") == ""  # empty stays empty


def test_a_webhook_secret_is_stored_encrypted(merchant):
    subscription = WebhookSubscription.objects.create(
        merchant=merchant, event_type="*", url="https://example.invalid/hook", secret="s" * 40
    )
    assert "s" * 40 not in _stored(WebhookSubscription, subscription.pk, "secret")
    assert WebhookSubscription.objects.get(pk=subscription.pk).secret == "s" * 40


def test_a_secret_written_before_encryption_is_read_as_is_and_encrypted_on_save(merchant):
    channel = ChannelFactory(merchant=merchant, code="douyin")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SalesChannel._meta.db_table} SET signing_secret = %s WHERE id = %s",
            ["legacy-clear-secret", channel.pk],
        )
    loaded = SalesChannel.objects.get(pk=channel.pk)
    assert loaded.signing_secret == "legacy-clear-secret"
    call_command("rotate_field_keys", stdout=io.StringIO())
    assert _stored(SalesChannel, channel.pk, "signing_secret").startswith("enc:")
    assert SalesChannel.objects.get(pk=channel.pk).signing_secret == "legacy-clear-secret"


def test_keys_rotate_without_losing_a_secret(merchant, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.OMS_FIELD_KEYS = [old]
    channel = ChannelFactory(merchant=merchant, code="douyin")
    clear = channel.signing_secret
    settings.OMS_FIELD_KEYS = [new, old]  # new first: encrypts; old still decrypts
    assert SalesChannel.objects.get(pk=channel.pk).signing_secret == clear
    call_command("rotate_field_keys", stdout=io.StringIO())
    settings.OMS_FIELD_KEYS = [new]  # the old key is gone
    assert SalesChannel.objects.get(pk=channel.pk).signing_secret == clear
    settings.OMS_FIELD_KEYS = [old]
    with pytest.raises(ImproperlyConfigured, match="OMS_FIELD_KEYS"):
        SalesChannel.objects.get(pk=channel.pk)


def test_a_malformed_key_is_refused_loudly(settings):
    settings.OMS_FIELD_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        crypto.encrypt("x")


def test_the_column_fits_the_longest_secret(merchant):
    channel = ChannelFactory(merchant=merchant, code="douyin", signing_secret="x" * 128)
    stored = _stored(SalesChannel, channel.pk, "signing_secret")
    assert len(stored) <= SalesChannel._meta.get_field("signing_secret").max_length
    assert SalesChannel.objects.get(pk=channel.pk).signing_secret == "x" * 128
