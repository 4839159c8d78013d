import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from oms.env import env_bool, env_int
from oms.models import Merchant, Order, OrderStatus, Product, Reservation, Warehouse

ROOT = Path(__file__).resolve().parents[2]


def test_env_helpers_fail_loudly_on_bad_values(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="oms.settings_production",
        DJANGO_SECRET_KEY="k" * 20 + "x7#Qz!" * 8,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _manage(
        "check", DJANGO_SETTINGS_MODULE="oms.settings_production", DJANGO_SECRET_KEY=""
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_embedded_default_is_sqlite_with_eager_celery():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)",
    )
    assert result.stdout.splitlines()[-1].split() == ["django.db.backends.sqlite3", "True"], (
        result.stderr
    )


def test_group_buying_cutoffs_become_beat_entries_in_utc():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(sorted((k, str(v['schedule'])) for k, v in s.CELERY_BEAT_SCHEDULE.items() "
        "if v['task'] == 'channels.build_pick_waves'))",
        OMS_GROUPBUY_CUTOFFS="10:00, 06:30",
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    # Asia/Shanghai is UTC+8: 10:00 local is 02:00 UTC, 06:30 local is 22:30 UTC the day before.
    assert "build-pick-waves-0630" in last and "build-pick-waves-1000" in last
    assert "<crontab: 30 22 * * *" in last and "<crontab: 0 2 * * *" in last
    assert (
        "build-pick-waves"
        not in _manage(
            "shell",
            "-c",
            "from django.conf import settings as s; print(list(s.CELERY_BEAT_SCHEDULE))",
        ).stdout
    )  # off unless configured
    refused = _manage("check", OMS_GROUPBUY_CUTOFFS="25:00")
    assert refused.returncode != 0 and "OMS_GROUPBUY_CUTOFFS" in refused.stderr


# make run's order (Makefile DEMO_SEEDS, less the service catalogue tested on its own).
DEMO_SEEDS = ["seed_demo", "seed_routing_demo", "seed_channels_demo", "seed_groupbuy_demo"]


def _seed_demo() -> None:
    for command in DEMO_SEEDS:
        call_command(command, verbosity=0, stdout=StringIO())


def test_the_makefile_seeds_the_demo_app_by_app_in_this_order():
    makefile = (ROOT / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if x.startswith("DEMO_SEEDS :="))
    assert line.split(":=")[1].split() == [*DEMO_SEEDS, "seed_services"]


@pytest.mark.django_db
@pytest.mark.parametrize("command", [*DEMO_SEEDS, "seed_services"])
def test_demo_commands_refuse_to_run_where_demo_data_is_off(settings, command):
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    settings.OMS_DEMO_DATA = False
    with pytest.raises(CommandError, match="OMS_DEMO_DATA"):
        call_command(command, stdout=StringIO())
    assert not get_user_model().objects.exists() and not Merchant.objects.exists()


def test_production_settings_switch_demo_data_off_whatever_the_environment_says():
    result = _manage(
        "seed_demo",
        DJANGO_SETTINGS_MODULE="oms.settings_production",
        DJANGO_SECRET_KEY="x" * 64,
        DJANGO_ALLOWED_HOSTS="oms.example.com",
        OMS_DEMO_DATA="true",
        DATABASE_URL="sqlite:////nonexistent-dir/never-created.sqlite3",
    )
    assert result.returncode != 0 and "Demo data is refused" in result.stderr


@pytest.mark.django_db
def test_seed_demo_builds_a_realistic_business_and_is_idempotent():
    _seed_demo()
    counts = (
        Merchant.objects.count(),
        Warehouse.objects.count(),
        Product.objects.count(),
        Order.objects.count(),
    )
    assert counts[0] >= 3 and counts[1] >= 30 * 3 and counts[2] >= 300 and counts[3] >= 1000
    merchant = Merchant.objects.get(code="homeliving")
    kinds = set(merchant.warehouses.values_list("kind", flat=True))
    assert kinds == {"own_dc", "regional", "store", "third_party", "drop_ship"}
    assert set(merchant.warehouses.values_list("region", flat=True)) >= {
        "east",
        "north",
        "south",
        "west",
    }
    assert merchant.warehouses.filter(cold_chain=True).exists()
    assert merchant.channels.values("kind").distinct().count() >= 5
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {
        OrderStatus.DELIVERED,
        OrderStatus.SHIPPED,
        OrderStatus.CANCELLED,
        OrderStatus.ROUTED,
    } <= statuses
    assert Reservation.objects.filter(status="active").exists()  # live orders hold real stock
    from channels.models import GiftRefusal

    demo = Order.objects.filter(external_id__startswith="DEMO-")
    assert (
        demo.count() == 2 and demo.values("customer").distinct().count() == 1
    )  # one person, two channels
    assert GiftRefusal.objects.count() == 1  # the second gift was refused
    _seed_demo()
    assert (
        Merchant.objects.count(),
        Warehouse.objects.count(),
        Product.objects.count(),
        Order.objects.count(),
    ) == counts
