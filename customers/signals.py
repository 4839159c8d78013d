"""Signals of the customer master, so apps built on it follow merges without being imported.

All are sent inside the transaction of the merge (unmerge, split): what a receiver changes commits
or rolls back with it. The gift ledger of ``channels`` moves grants this way.
"""

from django.dispatch import Signal

# sender=CustomerMerge, merge=CustomerMerge: survivor and absorbed are set, the row is saved
# after the receivers return, so they record on it what they moved (``moved_gift_grant_ids``,
# ``dropped_gift_grants``) for the unmerge to put back.
customers_merged = Signal()
# sender=CustomerMerge, merge=CustomerMerge: the merge being undone (``undone_at`` still empty).
customers_unmerged = Signal()
# sender=CustomerSplit, split=CustomerSplit: source and created are set, the identities and
# orders have moved; the row is saved after the receivers return, so they record on it what
# they moved (``moved_gift_grant_ids``).
customers_split = Signal()
