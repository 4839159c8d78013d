"""Bench-only settings: ``oms.settings`` plus switches the API benchmark flips by environment.

``BENCH_NO_THROTTLE=1`` drops the per-key throttle (to measure what it costs); nothing else
changes, so the server under test runs the production code path.
"""

import os

from oms.settings import *  # noqa: F403
from oms.settings import REST_FRAMEWORK

if os.environ.get("BENCH_NO_THROTTLE") == "1":
    REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
