"""Browser test of the stock-count import: an Operations user uploads a spreadsheet with one bad
row and sees its error and nothing applied, then the fixed file, previews and confirms it, and
sees the counts change. English and Chinese at 1366 px, headless Debian chromium."""

import io

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


# What the pages say, per language: the error of the bad row, the preview's button, the message
# after the import; and English that must not be left on the Chinese pages.
WORDS = {
    "en": {
        "bad": "on hand: '-3' is below 0.",
        "refused": "Nothing was imported: 1 row needs correcting.",
        "confirm": "Confirm import",
        "done": "Import finished: 0 new, 2 updated",
        "english": [],
    },
    "zh-hans": {
        "bad": "在库: '-3' 小于 0。",
        "refused": "未导入任何数据：有 1 行需要更正。",
        "confirm": "确认导入",
        "done": "导入成功，新增0条记录，更新2条记录",
        "english": [
            "Nothing was imported",
            "correcting",
            "File to import",
            "This importer",
            "Confirm import",
            "Below is a preview",
            "Import finished",
            "Submit",
            "is below",
        ],
    },
}


@pytest.fixture
def ops_user(make_ops_user):
    return make_ops_user(["view_inventorybatch", "change_inventorybatch"])


@pytest.fixture
def shelf(db):
    from tests.factories import BatchFactory, MerchantFactory, ProductFactory, WarehouseFactory

    merchant = MerchantFactory(code="homeliving", name="HomeLiving")
    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC")
    return {
        "kettle": BatchFactory(
            warehouse=warehouse,
            product=ProductFactory(merchant=merchant, sku="KETTLE"),
            batch_number="K1",
            on_hand=10,
        ),
        "teapot": BatchFactory(
            warehouse=warehouse,
            product=ProductFactory(merchant=merchant, sku="TEAPOT"),
            batch_number="T1",
            on_hand=4,
        ),
    }


def _workbook(tmp_path, name: str, teapot_count: int) -> str:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["warehouse", "sku", "batch", "on_hand"])
    sheet.append(["SH-DC", "KETTLE", "K1", 25])
    sheet.append(["SH-DC", "TEAPOT", "T1", teapot_count])
    out = io.BytesIO()
    book.save(out)
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return str(path)


def _on_hand(shelf) -> tuple[int, int]:
    from oms.models import InventoryBatch

    return tuple(
        InventoryBatch.objects.get(pk=shelf[key].pk).on_hand for key in ("kettle", "teapot")
    )


def _upload(page, path: str) -> None:
    page.set_input_files('input[name="import_file"]', path)
    page.select_option('select[name="format"]', label="xlsx")
    with page.expect_navigation():
        page.locator('form[enctype="multipart/form-data"] button[type="submit"]').click()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_bad_row_applies_nothing_and_the_fixed_file_changes_the_counts(
    live_server, browser, log_in, shot, ops_user, shelf, tmp_path, language
):
    words = WORDS[language]
    page = log_in(browser, language)

    page.goto(f"{live_server.url}/admin/oms/inventorybatch/")
    with page.expect_navigation():
        page.locator('a[href$="/admin/oms/inventorybatch/import/"]').click()
    # The merchant is preselected: there is one.
    assert page.locator('select[name="merchant"]').input_value() == str(
        shelf["kettle"].warehouse.merchant_id
    )

    _upload(page, _workbook(tmp_path, "count-bad.xlsx", -3))
    body = " ".join(page.inner_text("body").split())
    assert words["refused"] in body and words["bad"] in body
    assert page.get_by_role("button", name=words["confirm"]).count() == 0
    assert _on_hand(shelf) == (10, 4)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    for english in words["english"]:
        assert english not in body, english
    shot(page, f"stock-import-refused-{language}.png")

    _upload(page, _workbook(tmp_path, "count-fixed.xlsx", 2))
    body = " ".join(page.inner_text("body").split())
    assert "10 → 25" in body and "4 → 2" in body
    assert _on_hand(shelf) == (10, 4)  # a preview only
    for english in words["english"]:
        assert english not in body, english
    shot(page, f"stock-import-preview-{language}.png")
    with page.expect_navigation():
        page.get_by_role("button", name=words["confirm"]).click()

    assert page.url.endswith("/admin/oms/inventorybatch/")
    body = " ".join(page.inner_text("body").split())
    assert words["done"] in body
    assert _on_hand(shelf) == (25, 2)
    rows = page.locator("#result_list tbody tr")
    counts = {
        rows.nth(i).locator("td.field-batch_number").inner_text(): rows.nth(i)
        .locator("td.field-on_hand")
        .inner_text()
        for i in range(rows.count())
    }
    assert counts == {"K1": "25", "T1": "2"}
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(page, f"stock-import-done-{language}.png")
    page.context.close()
