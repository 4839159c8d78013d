"""Links the OMS gives out use its public address (``OMS_PUBLIC_BASE_URL``; `make run` sets it)."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from oms.env import env_base_url
from oms.links import public_url

ROOT = Path(__file__).resolve().parents[2]


def test_a_configured_address_wins_over_the_requests_host(settings):
    request = RequestFactory().get("/api/order-tracking/1/", HTTP_HOST="localhost:9000")
    settings.OMS_PUBLIC_BASE_URL = ""
    assert public_url("/track/abc/", request=request) == "http://localhost:9000/track/abc/"
    assert public_url("/track/abc/") == "http://127.0.0.1:8000/track/abc/"  # runserver's default
    settings.OMS_PUBLIC_BASE_URL = "https://oms.example.com"
    assert public_url("/track/abc/", request=request) == "https://oms.example.com/track/abc/"


@pytest.mark.parametrize(
    "raw, value",
    [
        ("", ""),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
        ("https://oms.cn", "https://oms.cn"),
    ],
)
def test_the_public_address_setting_is_read_strictly(monkeypatch, raw, value):
    monkeypatch.setenv("OMS_PUBLIC_BASE_URL", raw)
    assert env_base_url("OMS_PUBLIC_BASE_URL") == value


@pytest.mark.parametrize("raw", ["127.0.0.1:8123", "ftp://oms.cn", "http://", "http://a/?x=1"])
def test_an_address_without_scheme_or_host_is_refused(monkeypatch, raw):
    monkeypatch.setenv("OMS_PUBLIC_BASE_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="OMS_PUBLIC_BASE_URL"):
        env_base_url("OMS_PUBLIC_BASE_URL")


def test_make_run_prints_and_hands_down_its_own_host_and_port(tmp_path):
    """Every step of `make run` (stood in for by a fake python) sees the address it serves on."""
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\necho "python $* base=$OMS_PUBLIC_BASE_URL"\n')
    python.chmod(0o755)
    stamp = tmp_path / "installed"
    stamp.touch()  # newer than the lock file: nothing to install
    env = {k: v for k, v in os.environ.items() if k not in ("OMS_PUBLIC_BASE_URL", "MAKEFLAGS")}
    result = subprocess.run(
        ["make", "-s", "run", "PORT=8123", f"PY={python}", f"STAMP={stamp}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    seeds = [line for line in lines if line.startswith("python manage.py seed_")]
    assert len(seeds) == 5 and all(line.endswith("base=http://127.0.0.1:8123") for line in seeds)
    links = re.findall(r"https?://[^\s/]+", result.stdout)
    assert links and set(links) == {"http://127.0.0.1:8123"}
    assert "python manage.py runserver 127.0.0.1:8123 base=http://127.0.0.1:8123" in lines
    assert "--insecure" not in result.stdout
