"""The matching core is pure: importing every module of it loads no Django."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import customers.matching

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_no_module_in_customers_matching_imports_django():
    modules = [
        f"customers.matching.{info.name}"
        for info in pkgutil.iter_modules(customers.matching.__path__)
    ]
    assert "customers.matching.score" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
