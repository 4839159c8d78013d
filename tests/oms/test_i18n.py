"""The Simplified Chinese catalogue (locale/zh_Hans) is compiled, committed and used."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from oms.models import (
    ChannelKind,
    Order,
    OrderStatus,
    Reservation,
    Shipment,
    TemperatureClass,
    Warehouse,
    WarehouseKind,
)

MO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]")


def test_model_verbose_names_in_chinese():
    with translation.override("zh-hans"):
        assert str(Order._meta.verbose_name) == "订单"
        assert str(Warehouse._meta.verbose_name) == "仓库"
        assert str(Reservation._meta.verbose_name) == "库存预占"
        assert str(Shipment._meta.get_field("tracking_number").verbose_name) == "运单号"
    with translation.override("en"):
        assert str(Order._meta.verbose_name) == "order"


def test_choice_labels_in_chinese():
    with translation.override("zh-hans"):
        assert str(OrderStatus.NEEDS_ATTENTION.label) == "待人工处理"
        assert str(OrderStatus.RELEASED.label) == "已下发仓库"
        assert str(WarehouseKind.REGIONAL.label) == "区域仓"
        assert str(TemperatureClass.CHILLED.label) == "冷藏"
        assert str(ChannelKind.DOUYIN.label) == "抖音小店"
    with translation.override("en"):
        assert str(OrderStatus.NEEDS_ATTENTION.label) == "Needs attention"


def test_catalogue_complete_and_placeholders_kept():
    """Every compiled entry is translated and keeps its %(name)x placeholders."""
    assert MO_FILE.exists(), "run `manage.py compilemessages` and commit the .mo"
    with MO_FILE.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    entries = {k: v for k, v in catalog.items() if k}
    assert len(entries) > 100
    for key, msgstr in entries.items():
        msgid = key[0] if isinstance(key, tuple) else key  # plural forms: (msgid, form)
        assert msgstr, msgid
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_admin_login_page_renders_chinese(client):
    response = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and "/login/" in response.redirect_chain[-1][0]
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "欢迎回到" in html and "Welcome back" not in html  # the theme's words, ours in Chinese
    assert "登录" in html  # Django's own admin catalogue


def test_the_console_header_and_sidebar_read_chinese(admin_client):
    html = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "OMS 运营后台" in html  # our site_header
    for words in ("待处理订单", "路由决策", "服务与 SLA", "搜索应用和模型"):
        assert words in html
    for english in ("Orders needing attention", "Search apps and models", "All applications"):
        assert english not in html


def test_admin_login_page_stays_english_by_default(client):
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Welcome back to" in html
    assert "OMS 运营后台" not in html


SOURCES = ("manage.py", "oms", "routing", "customers", "channels", "orchestration", "templates")


@pytest.mark.tooling
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_marked_for_translation_is_in_the_catalogue(tmp_path, domain):
    """Extract the marked strings anew (``makemessages`` on a copy of the sources) and merge
    them into a copy of the committed catalogue: nothing may come out untranslated or fuzzy (a
    fuzzy entry is a new or changed string that gettext matched to an old translation), so no
    English is left on a Chinese page because a string was added without its translation."""
    if shutil.which("xgettext") is None or shutil.which("msgattrib") is None:
        pytest.skip("gettext is not installed (CI installs it)")
    root = Path(settings.BASE_DIR)
    for name in SOURCES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    shutil.copytree(root / "locale", tmp_path / "locale")
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "-d",
            domain,
            "--no-obsolete",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    po = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    problems = []
    for option in ("--untranslated", "--only-fuzzy"):
        out = subprocess.run(
            ["msgattrib", option, "--no-wrap", str(po)], check=True, capture_output=True, text=True
        ).stdout
        problems += [
            f"{option[2:]}: {msgid}"
            for msgid in re.findall(r'^msgid "(.+)"$', out, flags=re.MULTILINE)
        ]
    assert not problems, "\n".join(problems)
