"""What a benchmark ran on, in one line for its results file."""

import os
import sys
from pathlib import Path


def describe() -> str:
    """``2 vCPU <model name>, Python 3.11.7``."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return f"{os.cpu_count()} vCPU {cpu}, Python {sys.version.split()[0]}"
