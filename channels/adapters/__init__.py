"""One adapter per channel kind: native payload in, ``CanonicalOrder`` out. Pure, no Django.

``parse_payload(kind, payload)`` dispatches; every adapter raises ``PayloadError`` with field
paths of the native payload. ``docs/channels.md`` shows a sample of each kind; the samples are
the fixtures in ``tests/channels/fixtures/``.
"""

from collections.abc import Callable

from channels.adapters import api, b2b, douyin, group_buy, store_pos, tmall, wechat_mini
from channels.adapters.base import (
    Buyer,
    CanonicalAddress,
    CanonicalLine,
    CanonicalOrder,
    GroupBuy,
    PayloadError,
)

ADAPTERS: dict[str, Callable[[object], CanonicalOrder]] = {
    "douyin": douyin.parse,
    "wechat_mini": wechat_mini.parse,
    "tmall": tmall.parse,
    "store_pos": store_pos.parse,
    "b2b": b2b.parse,
    "group_buy": group_buy.parse,
    "api": api.parse,
}


def parse_payload(kind: str, payload: object) -> CanonicalOrder:
    """Turn a decoded JSON payload of a channel ``kind`` into a canonical order."""
    try:
        adapter = ADAPTERS[kind]
    except KeyError:
        raise PayloadError({"channel": [f"No adapter for channel kind {kind!r}."]}) from None
    return adapter(payload)


__all__ = [
    "ADAPTERS",
    "Buyer",
    "CanonicalAddress",
    "CanonicalLine",
    "CanonicalOrder",
    "GroupBuy",
    "PayloadError",
    "parse_payload",
]
