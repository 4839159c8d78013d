"""Secrets at rest: model fields stored encrypted and read back in clear.

Signing secrets (a channel's, a webhook subscription's) must be recoverable, since HMAC needs
the secret itself, so they cannot be hashed like API keys. They are stored as Fernet tokens
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) prefixed ``enc:``. The key comes from
``OMS_FIELD_KEYS`` (a comma list of Fernet keys: the first encrypts, all decrypt, so a key is
rotated by putting the new one first and re-saving the rows with ``manage.py
rotate_field_keys``), or is derived with HKDF from ``OMS_PII_KEY`` (else ``DJANGO_SECRET_KEY``)
when that is empty. A stored value without the prefix is a row written before encryption and
is read as it is; the next save encrypts it. A database dump alone no longer gives away the
secrets that sign and verify orders and webhooks.
"""

import base64
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.validators import MaxLengthValidator
from django.db import models

PREFIX = "enc:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], fallback_secret: str) -> MultiFernet:
    if not keys:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"oms field encryption"
        ).derive(fallback_secret.encode())
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "OMS_FIELD_KEYS must be Fernet keys (32 url-safe base64 bytes each)"
        ) from exc


def pii_secret() -> str:
    """The deployment secret personal data is keyed with: ``OMS_PII_KEY``, else the secret key."""
    return settings.OMS_PII_KEY or settings.SECRET_KEY


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.OMS_FIELD_KEYS), pii_secret())


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """The clear value of a stored one; a value without the prefix predates encryption."""
    if not value.startswith(PREFIX):
        return value
    try:
        return fernet().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with the configured keys: was OMS_FIELD_KEYS, "
            "OMS_PII_KEY or DJANGO_SECRET_KEY changed without keeping the old key in "
            "OMS_FIELD_KEYS?"
        ) from exc


class EncryptedCharField(models.CharField):
    """A ``CharField`` whose non-empty values are stored encrypted (see the module docstring).

    ``max_length`` limits the clear value; the column is wide enough for its token. Lookups by
    value cannot work (each encryption differs), so none are made on these fields.
    """

    def __init__(self, *args: Any, max_length: int = 128, **kwargs: Any) -> None:
        self.clear_max_length = max_length
        kwargs["max_length"] = self.column_length(max_length)
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))

    @staticmethod
    def column_length(clear_length: int) -> int:
        # Fernet: 57 bytes of header, IV and MAC plus the text padded to 16, base64 (4/3).
        return len(PREFIX) + 4 * ((57 + 16 * (clear_length // 16 + 1) + 2) // 3)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["max_length"] = self.clear_max_length
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return value if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
