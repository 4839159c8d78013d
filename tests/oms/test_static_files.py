"""Static files (admin, Swagger UI) come from the application through WhiteNoise, DEBUG off too."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_admin_css_is_served_with_debug_off(client):
    assert settings.DEBUG is False  # Django's own static view would answer 404 here
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert "max-age" in response["Cache-Control"]  # WhiteNoise's answer
    assert b"#header" in _body(response)
    assert client.get("/static/admin/css/no-such-file.css").status_code == 404


@pytest.mark.django_db
def test_the_swagger_ui_loads_its_assets_from_this_server(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page.content.decode())
    assert {Path(a).name for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        assert asset.startswith("/static/"), asset  # no CDN: it works offline, behind a firewall
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(_body(response)) > 500, asset


def test_production_settings_serve_collected_files_with_hashed_names(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings_production",
        "DJANGO_SECRET_KEY": "k" * 20 + "x7#Qz!" * 8,
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert collect.returncode == 0, collect.stderr
    probe = (
        "import re, django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client()\n"
        "page = client.get('/admin/login/', secure=True).content.decode()\n"
        "css = re.search(r'/static/admin/css/base\\.[0-9a-f]{12}\\.css', page).group(0)\n"
        "answer = client.get(css, secure=True, HTTP_ACCEPT_ENCODING='gzip')\n"
        "print(answer.status_code, answer['Cache-Control'], answer.get('Content-Encoding'), sep='|')\n"
    )
    served = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 0, served.stderr
    status, cache_control, encoding = served.stdout.splitlines()[-1].split("|")
    assert status == "200" and "immutable" in cache_control and encoding == "gzip"
