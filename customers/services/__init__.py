"""Customer master services: resolve a sighting to a golden customer, merge, unmerge, review.

``resolve``: sightings and orders to customers (blocking keys, the matching core, storage).
``merges``: merging and unmerging customers with their identities and orders; review decisions.
"""

from customers.services.merges import customers_merge, customers_unmerge, review_decide
from customers.services.resolve import (
    STRONG_KEY_KINDS,
    STRONG_KEY_LIMIT,
    WEAK_KEY_LIMIT,
    DatabaseCandidates,
    _current_rules,
    customer_lookup,
    customer_resolve,
    key_limit,
    matching_key,
    observation_for_order,
    order_customer_link,
    rules_for,
)

__all__ = [
    "STRONG_KEY_KINDS",
    "STRONG_KEY_LIMIT",
    "WEAK_KEY_LIMIT",
    "DatabaseCandidates",
    "_current_rules",
    "customer_lookup",
    "customer_resolve",
    "customers_merge",
    "customers_unmerge",
    "key_limit",
    "matching_key",
    "observation_for_order",
    "order_customer_link",
    "review_decide",
    "rules_for",
]
