"""Channel price lists imported from a spreadsheet: all rows applied or none, per merchant."""

import html
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import tablib
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels.models import ChannelPrice, ChannelPriceList
from channels.price_import import ChannelPriceImport
from oms.permissions import OPERATIONS_GROUP
from oms.services.tabular import tabular_import
from tests.factories import MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def price_list(merchant):
    return ChannelPriceList.objects.create(merchant=merchant, name="Douyin 2027")


@pytest.fixture
def kettle(merchant):
    return ProductFactory(merchant=merchant, sku="KETTLE")


def run(merchant, csv_text: str, *, dry_run=False):
    dataset = tablib.Dataset().load(csv_text, format="csv")
    return tabular_import(
        importer=ChannelPriceImport(merchant=merchant, source="prices.csv"),
        headers=dataset.headers,
        data=dataset,
        dry_run=dry_run,
    )


def test_a_price_is_added_then_updated_by_list_sku_and_start(merchant, price_list, kettle):
    report = run(
        merchant, "price_list,sku,price,valid_from\nDouyin 2027,KETTLE,199.00,2027-01-01\n"
    )
    assert report.applied
    price = ChannelPrice.objects.get(price_list=price_list, product=kettle)
    assert price.price == Decimal("199.00")
    assert price.valid_from == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    report = run(
        merchant,
        "price_list,sku,price,valid_from,valid_to\nDouyin 2027,KETTLE,189.5,2027-01-01,2027-02-01\n",
    )
    assert report.applied and report.rows[0].before["price"] == "199.00"
    price.refresh_from_db()
    assert (price.price, price.valid_to) == (
        Decimal("189.50"),
        datetime(2027, 2, 1, tzinfo=SHANGHAI),
    )
    assert ChannelPrice.objects.count() == 1
    assert price.history.latest().history_change_reason == "Price list import: prices.csv"


def test_one_bad_price_applies_no_price(merchant, price_list, kettle):
    teapot = ProductFactory(merchant=merchant, sku="TEAPOT")
    ProductFactory(merchant=merchant, sku="CUP")
    report = run(
        merchant,
        "price_list,sku,price\nDouyin 2027,KETTLE,199\nDouyin 2027,TEAPOT,9.999\n"
        "Douyin 2027,CUP,-1\n",
    )
    issues = {row.number: row.issues for row in report.refused_rows}
    assert issues == {
        3: {"price": ["'9.999' has more than 2 decimals."]},
        4: {"price": ["'-1' is not an amount of 0 or more."]},
    }
    assert not ChannelPrice.objects.filter(product__in=[kettle, teapot]).exists()


def test_another_merchants_list_or_sku_is_refused(merchant, price_list, kettle):
    other = MerchantFactory(code="rival")
    ChannelPriceList.objects.create(merchant=other, name="Rival list")
    ProductFactory(merchant=other, sku="RIVAL-SKU")
    report = run(
        merchant,
        "price_list,sku,price\nDouyin 2027,KETTLE,199\nRival list,KETTLE,1\nDouyin 2027,RIVAL-SKU,1\n",
    )
    issues = {row.number: row.issues for row in report.refused_rows}
    assert issues == {
        3: {"price_list": [f"Merchant {merchant.code} has no price list 'Rival list'."]},
        4: {"sku": [f"Merchant {merchant.code} has no SKU 'RIVAL-SKU'."]},
    }
    assert not ChannelPrice.objects.exists()


def test_windows_must_end_after_they_start_and_rows_not_repeat(merchant, price_list, kettle):
    report = run(
        merchant,
        "price_list,sku,price,valid_from,valid_to\n"
        "Douyin 2027,KETTLE,199,2027-02-01,2027-01-01\n"
        "Douyin 2027,KETTLE,150,2027-03-01,\n"
        "Douyin 2027,KETTLE,160,2027-03-01,\n",
    )
    issues = {row.number: row.issues for row in report.refused_rows}
    assert issues[2] == {"valid_to": ["The end of validity must come after its start."]}
    assert set(issues) == {2, 3, 4}
    assert not ChannelPrice.objects.exists()


def test_price_lists_import_through_admin_in_chinese(client, merchant, price_list, kettle):
    user = User.objects.create_user("opsuser", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    url = reverse("admin:channels_channelprice_import")
    post = {"merchant": merchant.pk, "format": "0", "resource": "0"}
    bad = SimpleUploadedFile("p.csv", "价格表,SKU,价格\nDouyin 2027,KETTLE,abc\n".encode())
    page = client.post(url, {**post, "import_file": bad}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "'abc' 不是金额。" in html.unescape(page.content.decode())
    assert "confirm_form" not in page.context
    good = SimpleUploadedFile("p.csv", "价格表,SKU,价格\nDouyin 2027,KETTLE,88\n".encode())
    preview = client.post(url, {**post, "import_file": good}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    form = preview.context["confirm_form"]
    done = client.post(
        reverse("admin:channels_channelprice_process_import"),
        {name: form[name].value() for name in form.fields},
    )
    assert done.status_code == 302
    assert ChannelPrice.objects.get(product=kettle).price == Decimal("88.00")
