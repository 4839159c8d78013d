"""Masking of personal data shown on public pages and sent to merchants.

No raw phone number leaves the system: payloads pass through ``scrub`` and pages show
``customers.matching.mask_phone`` (the project's one phone mask) and ``mask_address`` only.
"""

import re
from typing import Any

from customers.matching import mask_phone

_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")


def mask_address(*, province: str, city: str, district: str, address_line: str) -> str:
    """Province, city and district stay; the street line keeps its first two characters."""
    street = (address_line or "")[:2] + "****" if address_line else ""
    parts = [province, city if city != province else "", district, street]
    return " ".join(p for p in parts if p)


def scrub(value: Any) -> Any:
    """Mask every mainland mobile number anywhere in a JSON-like value."""
    if isinstance(value, str):
        return _MOBILE.sub(lambda match: mask_phone(match.group(0)), value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
