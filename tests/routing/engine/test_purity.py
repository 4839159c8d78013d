"""routing/engine is a pure core: importing every module must not import Django."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ENGINE = pathlib.Path(__file__).resolve().parents[3] / "routing" / "engine"


def test_no_module_in_routing_engine_imports_django() -> None:
    modules = sorted(
        f"routing.engine.{p.stem}" for p in ENGINE.glob("*.py") if p.stem != "__init__"
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ENGINE.parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


def test_no_source_file_mentions_a_django_import() -> None:
    for path in ENGINE.rglob("*.py"):
        text = path.read_text()
        assert "import django" not in text and "from django" not in text, path
