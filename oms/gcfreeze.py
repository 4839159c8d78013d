"""Keep the start-up heap out of the cyclic garbage collector's full collections.

A served process loads large static tables once (the pinyin dictionaries that customer matching
uses hold ~200,000 lists; the URLconf, models, serializers) and keeps them for its life. CPython's
full (generation 2) collection walks every tracked object each time it runs, so with these
tables a collection every few hundred requests paused a request for 200-400 ms (measured on the
promise API, ``bench/promise_api.py``). ``gc.freeze()`` moves what exists at start-up to a
permanent generation the collector skips; what requests allocate is collected as before.
"""

import gc


def freeze_startup_heap() -> None:
    """Import every view (through the URLconf), collect once, and freeze what is left."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the views and what they import
    gc.collect()
    gc.freeze()
