"""The Simplified Chinese catalogue (locale/zh_Hans) is compiled, committed and used."""

import gettext
import re
from pathlib import Path

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
    assert "OMS 运营后台" in html  # our site_header
    assert "登录" in html  # Django's own admin catalogue


def test_admin_login_page_stays_english_by_default(client):
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "OMS operations" in html
    assert "OMS 运营后台" not in html
