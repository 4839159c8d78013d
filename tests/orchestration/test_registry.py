"""The handler registry: no Django, a clear error for unknown codes, filled when the app starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import registry

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_imports_no_django():
    script = (
        "import sys\n"
        "import orchestration.registry\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_looking_up_an_unknown_handler_names_it():
    with pytest.raises(registry.UnknownHandler, match="unknown handler 'no_such_handler'"):
        registry.lookup("no_such_handler")
    assert not registry.is_registered("no_such_handler")


def test_every_handler_is_registered_once_the_app_has_started():
    codes = [code for code, _label in registry.choices()]
    assert codes == sorted(codes)
    assert {"delivery_dispatch", "appointment_booking", "serial_lock", "inspection"} <= set(codes)
    assert registry.lookup("delivery_dispatch").completes_on_delivery


def test_a_registered_handler_returns_the_stored_result_for_the_same_plan_version():
    calls = []

    @registry.register("test_counting", "counting (tests)")
    def counting(*, step, params, now):
        calls.append(step)
        return registry.HandlerResult(reference="NEW")

    class Step:
        result = {"plan_version": 2, "eta": "2026-03-01T10:00:00+00:00", "message": "booked"}
        plan_version = 2
        reference = "OLD"
        eta = None

    try:
        again = registry.lookup("test_counting").run(step=Step(), params={}, now=None)
        Step.plan_version = 3
        fresh = registry.lookup("test_counting").run(step=Step(), params={}, now=None)
    finally:
        del registry.HANDLERS["test_counting"]
    assert (again.reference, again.message, again.eta.isoformat()) == (
        "OLD",
        "booked",
        "2026-03-01T10:00:00+00:00",
    )
    assert fresh.reference == "NEW" and len(calls) == 1
