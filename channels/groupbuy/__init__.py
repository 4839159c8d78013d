"""Community group-buying waves: ``core`` (pure merge and sort) and its Django side.

Nothing is imported here, so ``channels.groupbuy.core`` loads without Django.
"""
