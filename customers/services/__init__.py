"""Customer master services: resolve a sighting to a golden customer, merge, unmerge, review.

``resolve``: sightings and orders to customers (blocking keys, the matching core, storage).
``merges``: merging and unmerging customers with their identities and orders; review decisions.
``rulesets``: rule set versions fitted to a merchant's identities, compared, activated; splits
and the re-resolve an activation runs.
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
from customers.services.rulesets import (
    customer_split,
    identities_reresolve,
    rule_set_activate,
    rule_set_compare,
    rule_set_fit,
    rule_set_reresolve,
)

__all__ = [
    "STRONG_KEY_KINDS",
    "STRONG_KEY_LIMIT",
    "WEAK_KEY_LIMIT",
    "DatabaseCandidates",
    "_current_rules",
    "customer_lookup",
    "customer_resolve",
    "customer_split",
    "customers_merge",
    "customers_unmerge",
    "identities_reresolve",
    "key_limit",
    "matching_key",
    "observation_for_order",
    "order_customer_link",
    "review_decide",
    "rule_set_activate",
    "rule_set_compare",
    "rule_set_fit",
    "rule_set_reresolve",
    "rules_for",
]
