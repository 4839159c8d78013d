"""Signal receivers: the gift ledger follows merges, unmerges and splits of the customer master."""

from channels.gift_merges import gift_grants_merge, gift_grants_split, gift_grants_unmerge


def move_gift_grants_on_merge(sender, merge, **kwargs) -> None:
    gift_grants_merge(merge=merge)


def restore_gift_grants_on_unmerge(sender, merge, **kwargs) -> None:
    gift_grants_unmerge(merge=merge)


def move_gift_grants_on_split(sender, split, **kwargs) -> None:
    gift_grants_split(split=split)
