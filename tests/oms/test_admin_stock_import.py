"""Stock counts through the admin's import screens (upload, preview, confirm) and the export,
in English and Chinese, as the Operations group."""

import html
import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from oms.models import InventoryBatch
from oms.permissions import OPERATIONS_GROUP
from tests.factories import BatchFactory, MerchantFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:oms_inventorybatch_import")
CONFIRM = reverse("admin:oms_inventorybatch_process_import")
EXPORT = reverse("admin:oms_inventorybatch_export")
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # the order of the admin's import_formats


@pytest.fixture
def ops_client(client):
    user = User.objects.create_user("opsuser", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return client


@pytest.fixture
def shelf(merchant):
    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC")
    kettle = ProductFactory(merchant=merchant, sku="KETTLE")
    teapot = ProductFactory(merchant=merchant, sku="TEAPOT")
    return {
        "kettle": BatchFactory(warehouse=warehouse, product=kettle, batch_number="K1", on_hand=10),
        "teapot": BatchFactory(warehouse=warehouse, product=teapot, batch_number="T1", on_hand=4),
    }


def text(response) -> str:
    body = response.content.decode()
    body = re.sub(r"(?s)<script.*?</script>|<style.*?</style>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def upload(client, merchant, content: bytes, *, name="count.csv", language="en"):
    return client.post(
        IMPORT,
        {
            "merchant": merchant.pk,
            "format": CSV_FORMAT if name.endswith(".csv") else XLSX_FORMAT,
            "resource": "0",
            "import_file": SimpleUploadedFile(name, content),
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )


def confirm(client, preview, language="en"):
    data = {
        name: preview.context["confirm_form"][name].value()
        for name in preview.context["confirm_form"].fields
    }
    return client.post(CONFIRM, data, HTTP_ACCEPT_LANGUAGE=language)


def on_hand(batch) -> int:
    return InventoryBatch.objects.get(pk=batch.pk).on_hand


BAD = b"warehouse,sku,batch,on_hand\nSH-DC,KETTLE,K1,25\nSH-DC,TEAPOT,T1,-2\n"
GOOD = b"warehouse,sku,batch,on_hand\nSH-DC,KETTLE,K1,25\nSH-DC,TEAPOT,T1,2\n"


def test_a_bad_row_shows_its_error_offers_no_confirm_and_changes_nothing(
    ops_client, merchant, shelf
):
    response = upload(ops_client, merchant, BAD)
    assert response.status_code == 200
    page = text(response)
    assert "Nothing was imported: 1 row needs correcting." in page
    assert "on hand: '-2' is below 0." in page
    assert "confirm_form" not in response.context
    assert CONFIRM not in response.content.decode()
    assert (on_hand(shelf["kettle"]), on_hand(shelf["teapot"])) == (10, 4)


def test_a_fixed_file_previews_then_applies_on_confirm(ops_client, merchant, shelf):
    preview = upload(ops_client, merchant, GOOD, name="sh-0800.csv")
    assert preview.context["confirm_form"] is not None
    page = text(preview)
    assert "10 → 25" in page and "4 → 2" in page
    assert (on_hand(shelf["kettle"]), on_hand(shelf["teapot"])) == (10, 4)  # a preview only
    done = confirm(ops_client, preview)
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:oms_inventorybatch_changelist")
    assert (on_hand(shelf["kettle"]), on_hand(shelf["teapot"])) == (25, 2)
    assert "Import finished: 0 new, 2 updated" in text(ops_client.get(done["Location"]))
    record = shelf["kettle"].history.latest()
    assert record.history_change_reason == "Stock count import: sh-0800.csv"
    assert record.history_user.username == "opsuser"


def test_rows_that_became_wrong_between_preview_and_confirm_apply_nothing(
    ops_client, merchant, shelf
):
    preview = upload(ops_client, merchant, GOOD)
    InventoryBatch.objects.filter(pk=shelf["teapot"].pk).update(reserved=3)  # an order came in
    response = confirm(ops_client, preview)
    assert response.status_code == 200
    assert "3 units of this batch are reserved for orders" in text(response)
    assert (on_hand(shelf["kettle"]), on_hand(shelf["teapot"])) == (10, 4)


def test_another_merchants_rows_are_refused_in_admin(ops_client, merchant, shelf):
    other = MerchantFactory(code="rival")
    theirs = BatchFactory(
        warehouse=WarehouseFactory(merchant=other, code="RIVAL-WH"),
        product=ProductFactory(merchant=other, sku="RIVAL-SKU"),
        batch_number="R1",
        on_hand=9,
    )
    content = b"warehouse,sku,batch,on_hand\nSH-DC,KETTLE,K1,25\nRIVAL-WH,RIVAL-SKU,R1,0\n"
    page = text(upload(ops_client, merchant, content))
    assert f"Merchant {merchant.code} has no warehouse 'RIVAL-WH'." in page
    assert (on_hand(shelf["kettle"]), on_hand(theirs)) == (10, 9)


def test_the_import_screens_read_in_chinese(ops_client, merchant, shelf):
    form = text(ops_client.get(IMPORT, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    for words in (
        "导入",
        "商家",
        "导入文件",
        "格式",
        "仓库编码 (warehouse)",
        "有效期至（expiry_date，可选）",
    ):
        assert words in form, words
    for english in ("File to import", "This importer", "Submit", "Select format", "optional"):
        assert english not in form, english
    export = text(ops_client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "将导出以下字段" in export and "导出" in export
    for english in ("This exporter", "Submit", "Select format", "Format"):
        assert english not in export, english
    refused = text(upload(ops_client, merchant, BAD, language="zh-hans"))
    assert "在库: '-2' 小于 0。" in refused
    assert "未导入任何数据：有 1 行需要更正。" in refused and "Nothing was" not in refused
    unreadable = text(
        upload(ops_client, merchant, b"not a workbook", name="c.xlsx", language="zh-hans")
    )
    assert "读取文件时出错" in unreadable and "encountered" not in unreadable
    preview = upload(ops_client, merchant, GOOD, language="zh-hans")
    page = text(preview)
    assert "确认导入" in page and "更新" in page
    assert "Confirm import" not in page and "Below is a preview" not in page
    done = confirm(ops_client, preview, language="zh-hans")
    listing = text(ops_client.get(done["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "导入成功，新增0条记录，更新2条记录" in listing and "Import finished" not in listing
    assert on_hand(shelf["kettle"]) == 25


def test_an_xlsx_file_imports_like_a_csv(ops_client, merchant, shelf):
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["warehouse", "sku", "batch", "on_hand"])
    book.active.append(["SH-DC", "KETTLE", "K1", 31])
    out = io.BytesIO()
    book.save(out)
    preview = upload(ops_client, merchant, out.getvalue(), name="count.xlsx")
    assert "10 → 31" in text(preview)
    confirm(ops_client, preview)
    assert on_hand(shelf["kettle"]) == 31


def test_the_export_writes_the_columns_the_import_reads(ops_client, merchant, shelf):
    response = ops_client.post(EXPORT, {"format": CSV_FORMAT, "resource": "0"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "merchant,warehouse,sku,batch,expiry_date,on_hand"
    expiry = shelf["kettle"].expiry_date.isoformat()
    assert f"{merchant.code},SH-DC,KETTLE,K1,{expiry},10" in lines
    # The exported file imports back as it is: every row unchanged.
    preview = upload(ops_client, merchant, response.content, name="export.csv")
    assert preview.context["confirm_form"] is not None
    assert preview.context["result"].totals["skip"] == 2


def test_staff_who_may_only_view_stock_may_export_but_not_import(client, merchant, shelf):
    user = User.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_inventorybatch"))
    client.force_login(user)
    assert client.get(IMPORT).status_code == 403
    assert upload(client, merchant, GOOD).status_code == 403
    assert client.post(EXPORT, {"format": CSV_FORMAT, "resource": "0"}).status_code == 200
    assert on_hand(shelf["kettle"]) == 10


def test_repeated_rows_are_both_flagged_in_admin(ops_client, merchant, shelf):
    content = b"warehouse,sku,batch,on_hand\nSH-DC,KETTLE,K1,25\nSH-DC,KETTLE,K1,26\n"
    page = text(upload(ops_client, merchant, content))
    assert "Nothing was imported: 2 rows need correcting." in page
    assert page.count("Warehouse, SKU and batch repeat in rows 2, 3; count each once.") == 2
    assert "Non field specific" not in page
    assert on_hand(shelf["kettle"]) == 10
