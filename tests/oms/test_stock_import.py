"""Stock counts imported from CSV and XLSX: every row checked, all applied or none."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import tablib

from oms.models import InventoryBatch, OrderStatus
from oms.services.stock_import import StockCountImport
from oms.services.tabular import NON_COLUMN, tabular_import
from oms.signals import stock_available
from tests.factories import (
    BatchFactory,
    MerchantFactory,
    ProductFactory,
    WarehouseFactory,
    make_order,
)

HEADERS = ["warehouse", "sku", "batch", "expiry_date", "on_hand"]


def as_csv(rows, headers=HEADERS) -> bytes:
    lines = [",".join(headers)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def as_xlsx(rows, headers=HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(merchant, content: bytes, file_format: str, *, dry_run=False, source="count.csv"):
    """Read the file as the admin does (tablib) and import it."""
    dataset = tablib.Dataset().load(
        content if file_format == "xlsx" else content.decode(), format=file_format
    )
    return tabular_import(
        importer=StockCountImport(merchant=merchant, source=source),
        headers=dataset.headers,
        data=dataset,
        dry_run=dry_run,
    )


@pytest.fixture
def stock(merchant):
    shanghai = WarehouseFactory(merchant=merchant, code="SH-DC")
    suzhou = WarehouseFactory(merchant=merchant, code="SZ-RC")
    kettle = ProductFactory(merchant=merchant, sku="KETTLE")
    teapot = ProductFactory(merchant=merchant, sku="TEAPOT")
    return {
        "shanghai": shanghai,
        "suzhou": suzhou,
        "kettle": kettle,
        "teapot": teapot,
        "kettle_sh": BatchFactory(
            warehouse=shanghai, product=kettle, batch_number="K1", on_hand=10, expiry_date=None
        ),
        "teapot_sz": BatchFactory(
            warehouse=suzhou, product=teapot, batch_number="T1", on_hand=4, expiry_date=None
        ),
    }


def on_hand(batch) -> int:
    return InventoryBatch.objects.get(pk=batch.pk).on_hand


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_count_sets_on_hand_adds_new_batches_and_is_in_the_history(
    merchant, stock, file_format, django_capture_on_commit_callbacks
):
    make = as_csv if file_format == "csv" else as_xlsx
    rows = [
        ("SH-DC", "KETTLE", "K1", "", 25),
        ("SZ-RC", "TEAPOT", "T1", "", 4),
        ("SZ-RC", "KETTLE", "K9", "2027-03-31", 7),
    ]
    announced = []

    def listener(sender, merchant_id, product_ids, **kwargs):
        announced.append((merchant_id, sorted(product_ids)))

    stock_available.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = run(merchant, make(rows), file_format, source=f"sh-0800.{file_format}")
    finally:
        stock_available.disconnect(listener)
    assert report.ok and report.applied
    assert on_hand(stock["kettle_sh"]) == 25
    assert on_hand(stock["teapot_sz"]) == 4
    new = InventoryBatch.objects.get(warehouse=stock["suzhou"], batch_number="K9")
    assert (new.product, new.on_hand, new.expiry_date) == (stock["kettle"], 7, date(2027, 3, 31))
    # Units arrived (K1 up, K9 new): the apps above hear it once, after the commit.
    assert announced == [(merchant.pk, [stock["kettle"].pk])]
    record = stock["kettle_sh"].history.latest()
    assert (record.on_hand, record.history_change_reason) == (
        25,
        f"Stock count import: sh-0800.{file_format}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_one_bad_row_applies_nothing(merchant, stock, file_format):
    make = as_csv if file_format == "csv" else as_xlsx
    rows = [
        ("SH-DC", "KETTLE", "K1", "", 25),
        ("SZ-RC", "TEAPOT", "T1", "", -3),
        ("SZ-RC", "KETTLE", "K9", "", 7),
    ]
    report = run(merchant, make(rows), file_format)
    assert not report.applied
    assert [row.number for row in report.refused_rows] == [3]
    assert report.refused_rows[0].issues == {"on_hand": ["'-3' is below 0."]}
    assert on_hand(stock["kettle_sh"]) == 10
    assert not InventoryBatch.objects.filter(batch_number="K9").exists()
    assert stock["kettle_sh"].history.count() == 1  # the factory's insert only


@pytest.mark.django_db
def test_rows_naming_another_merchants_warehouse_or_sku_are_refused(merchant, stock):
    other = MerchantFactory(code="rival")
    their_warehouse = WarehouseFactory(merchant=other, code="RIVAL-WH")
    their_product = ProductFactory(merchant=other, sku="RIVAL-SKU")
    theirs = BatchFactory(warehouse=their_warehouse, product=their_product, batch_number="R1")
    rows = [
        ("SH-DC", "KETTLE", "K1", "", 25),
        ("RIVAL-WH", "RIVAL-SKU", "R1", "", 0),
        ("SH-DC", "RIVAL-SKU", "R1", "", 1),
    ]
    report = run(merchant, as_csv(rows), "csv")
    issues = {row.number: row.issues for row in report.refused_rows}
    assert issues[3] == {
        "warehouse": [f"Merchant {merchant.code} has no warehouse 'RIVAL-WH'."],
        "sku": [f"Merchant {merchant.code} has no SKU 'RIVAL-SKU'."],
    }
    assert issues[4] == {"sku": [f"Merchant {merchant.code} has no SKU 'RIVAL-SKU'."]}
    assert on_hand(theirs) == 100 and on_hand(stock["kettle_sh"]) == 10
    # A merchant column naming another merchant refuses the row too.
    report = run(
        merchant,
        as_csv([("rival", "SH-DC", "KETTLE", "K1", 3)], ["merchant", *HEADERS[:3], "on_hand"]),
        "csv",
    )
    assert list(report.refused_rows[0].issues) == ["merchant"]
    assert on_hand(stock["kettle_sh"]) == 10


@pytest.mark.django_db
def test_quantities_are_whole_numbers_of_zero_or_more(merchant, stock):
    rows = [
        ("SH-DC", "KETTLE", "K1", "", "2.5"),
        ("SZ-RC", "TEAPOT", "T1", "", "many"),
        ("SZ-RC", "KETTLE", "K2", "", ""),
        ("SZ-RC", "KETTLE", "K3", "31/03/2027", "12.0"),
    ]
    report = run(merchant, as_csv(rows), "csv")
    issues = {row.number: row.issues for row in report.refused_rows}
    assert issues[2] == {"on_hand": ["'2.5' is not a whole number."]}
    assert issues[3] == {"on_hand": ["'many' is not a whole number."]}
    assert issues[4] == {"on_hand": ["'' is not a whole number."]}
    assert issues[5] == {"expiry_date": ["'31/03/2027' is not a date (YYYY-MM-DD)."]}
    report = run(merchant, as_csv([("SH-DC", "KETTLE", "K1", "", "12.0")]), "csv")
    assert report.applied and on_hand(stock["kettle_sh"]) == 12


@pytest.mark.django_db
def test_duplicated_rows_are_flagged_and_nothing_applied(merchant, stock):
    rows = [
        ("SH-DC", "KETTLE", "K1", "", 25),
        ("SZ-RC", "TEAPOT", "T1", "", 5),
        ("SH-DC", "KETTLE", "K1", "", 26),
    ]
    report = run(merchant, as_csv(rows), "csv")
    assert [row.number for row in report.refused_rows] == [2, 4]
    assert report.refused_rows[0].issues[NON_COLUMN] == [
        "Warehouse, SKU and batch repeat in rows 2, 4; count each once."
    ]
    assert on_hand(stock["kettle_sh"]) == 10 and on_hand(stock["teapot_sz"]) == 4


@pytest.mark.django_db
def test_a_count_below_what_orders_hold_is_refused(merchant, stock):
    InventoryBatch.objects.filter(pk=stock["kettle_sh"].pk).update(reserved=6)
    report = run(merchant, as_csv([("SH-DC", "KETTLE", "K1", "", 5)]), "csv")
    assert report.refused_rows[0].issues == {
        "on_hand": ["6 units of this batch are reserved for orders; the count cannot be lower."]
    }
    assert on_hand(stock["kettle_sh"]) == 10


@pytest.mark.django_db
def test_a_preview_shows_before_and_after_and_applies_nothing(merchant, stock):
    report = run(merchant, as_csv([("SH-DC", "KETTLE", "K1", "", 25)]), "csv", dry_run=True)
    assert report.ok and not report.applied
    row = report.rows[0]
    assert (row.before["on_hand"], row.after["on_hand"], row.is_new) == ("10", "25", False)
    assert on_hand(stock["kettle_sh"]) == 10


@pytest.mark.django_db
def test_headers_in_chinese_or_another_spelling_are_understood_and_missing_ones_named(
    merchant, stock
):
    content = as_csv([("SH-DC", "KETTLE", "K1", 30)], ["仓库编码", "SKU", "批次", "在库数量"])
    report = run(merchant, content, "csv")
    assert report.applied and on_hand(stock["kettle_sh"]) == 30
    report = run(
        merchant, as_csv([("SH-DC", "KETTLE", 3)], ["Warehouse Code", "sku", "qty"]), "csv"
    )
    assert report.problems == [
        "Missing columns: batch. Expected columns: merchant, warehouse code, SKU, batch, "
        "expiry date, on hand."
    ]
    assert on_hand(stock["kettle_sh"]) == 30


@pytest.mark.django_db(transaction=True)
def test_an_imported_count_routes_the_order_waiting_for_that_stock(merchant):
    from routing.models import Lane

    warehouse = WarehouseFactory(merchant=merchant, code="SH-DC")
    Lane.objects.create(
        warehouse=warehouse,
        region="east",
        carrier="Express A",
        shipping_cost=Decimal("8.00"),
        transit_hours=20.0,
        on_time_rate=0.98,
    )
    kettle = ProductFactory(merchant=merchant, sku="KETTLE")
    batch = BatchFactory(warehouse=warehouse, product=kettle, batch_number="K1", on_hand=2)
    waiting = make_order(merchant=merchant, lines=[(kettle, 5)])
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.NEEDS_ATTENTION
    report = run(merchant, as_csv([("SH-DC", "KETTLE", "K1", "", 12)]), "csv")
    assert report.applied
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.ROUTED
    batch.refresh_from_db()
    assert (batch.on_hand, batch.reserved) == (12, 5)


@pytest.mark.django_db
def test_the_sample_files_in_docs_import_as_documented():
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "docs" / "samples"
    homeliving = MerchantFactory(code="homeliving")
    for code in ("SH-DC", "SZ-RC", "HZ-RC"):
        WarehouseFactory(merchant=homeliving, code=code)
    for sku in ("HOM-0001", "HOM-0002", "HOM-0005"):
        ProductFactory(merchant=homeliving, sku=sku)
    bad = run(homeliving, (samples / "stock-count-one-bad-row.csv").read_bytes(), "csv")
    assert [row.number for row in bad.refused_rows] == [3]
    assert not InventoryBatch.objects.exists()
    good = run(homeliving, (samples / "stock-count.xlsx").read_bytes(), "xlsx")
    assert good.applied
    assert InventoryBatch.objects.filter(batch_number="COUNT-A").count() == 4


@pytest.mark.django_db
def test_a_recount_that_finds_the_books_right_writes_nothing(merchant, stock):
    before = stock["kettle_sh"].history.count()
    report = run(merchant, as_csv([("SH-DC", "KETTLE", "K1", "", 10)]), "csv")
    assert report.applied and on_hand(stock["kettle_sh"]) == 10
    assert stock["kettle_sh"].history.count() == before


@pytest.mark.django_db
def test_a_file_of_over_a_thousand_rows_is_checked_and_applied(merchant):
    """The batches are looked up in one query whatever the size of the file (an OR per row
    went past SQLite's expression depth of 1,000)."""
    warehouses = [WarehouseFactory(merchant=merchant, code=f"W{i}") for i in range(3)]
    products = [ProductFactory(merchant=merchant, sku=f"S{i:04d}") for i in range(400)]
    rows = [(w.code, p.sku, "B1", "", 5) for w in warehouses for p in products]
    report = run(merchant, as_csv(rows), "csv", dry_run=True)
    assert report.ok and len(report.rows) == 1200
    report = run(merchant, as_csv(rows), "csv")
    assert report.applied
    assert InventoryBatch.objects.filter(warehouse__merchant=merchant).count() == 1200
