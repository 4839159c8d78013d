"""Masking of personal data shown on public pages and sent to merchants.

No raw phone number leaves the system: payloads pass through ``scrub`` and pages show
``mask_phone``/``mask_address`` only.
"""

import re
from typing import Any

_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    """``13800138000`` -> ``138****8000``; anything shorter keeps only its last two digits."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 11:
        digits = digits[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    if not digits:
        return ""
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_address(*, province: str, city: str, district: str, address_line: str) -> str:
    """Province, city and district stay; the street line keeps its first two characters."""
    street = (address_line or "")[:2] + "****" if address_line else ""
    parts = [province, city if city != province else "", district, street]
    return " ".join(p for p in parts if p)


def scrub(value: Any) -> Any:
    """Mask every mainland mobile number anywhere in a JSON-like value."""
    if isinstance(value, str):
        return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
