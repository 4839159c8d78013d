"""Rate cards through the admin's spreadsheet import (upload, preview, confirm) and export: the
same row checks as ``manage.py import_rate_cards``, all rows or none, another merchant's
services unknown, and an exported card imports back unchanged."""

import html
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from oms.services.tabular import tabular_import
from routing.models import Carrier, CarrierRate, CarrierService
from routing.rate_cards import RateCardImport
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:routing_carrierrate_import")
CONFIRM = reverse("admin:routing_carrierrate_process_import")
EXPORT = reverse("admin:routing_carrierrate_export")
HEADER = "carrier,service,origin_province,destination_province,zone,first_price,additional_per_kg,transit_hours,on_time_rate\n"
GOOD = HEADER + "pine,eco,上海,浙江省,,4.5,1,18,0.98\npine,eco,,,2,9,3,30,0.95\n"
BAD = HEADER + "pine,eco,上海,浙江省,,4.5,1,18,0.98\npine,eco,,,7,9,3.005,30,1.5\n"


@pytest.fixture
def economy(merchant):
    carrier = Carrier.objects.create(merchant=merchant, code="pine", name="Pine Express")
    service = CarrierService.objects.create(
        carrier=carrier, code="eco", name="Pine eco", level="economy"
    )
    CarrierRate.objects.create(
        service=service,
        zone=2,
        first_price=Decimal("8"),
        additional_per_kg=Decimal("2"),
        transit_hours=36,
        on_time_rate=0.9,
    )
    return service


def text(response) -> str:
    body = re.sub(r"(?s)<script.*?</script>|<style.*?</style>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def upload(client, merchant, content: str, *, language="en"):
    return client.post(
        IMPORT,
        {
            "merchant": merchant.pk,
            "format": "0",
            "resource": "0",
            "import_file": SimpleUploadedFile("card.csv", content.encode()),
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )


def lines(service) -> list[tuple]:
    rows = CarrierRate.objects.filter(service=service).values_list(
        "destination_province", "zone", "first_price", "additional_per_kg"
    )
    return sorted(rows, key=lambda row: (row[1] or 0, row[0]))  # NULL zones sort alike anywhere


def test_one_bad_row_shows_its_errors_and_applies_nothing(admin_client, merchant, economy):
    before = lines(economy)
    response = upload(admin_client, merchant, BAD)
    assert response.status_code == 200
    page = text(response)
    assert "A zone is 1, 2, 3, 4 or 5." in page
    assert "An amount has at most 2 decimals (fen)." in page
    assert "An on-time rate is between 0 and 1." in page
    assert "confirm_form" not in response.context
    assert lines(economy) == before


def test_a_good_card_previews_then_applies_on_confirm_with_history(admin_client, merchant, economy):
    preview = upload(admin_client, merchant, GOOD)
    assert preview.context["confirm_form"] is not None
    page = text(preview)
    assert "8 → 9" in page and "2 → 3" in page  # the zone-2 line changes
    assert len(lines(economy)) == 1  # a preview only
    data = {
        name: preview.context["confirm_form"][name].value()
        for name in preview.context["confirm_form"].fields
    }
    done = admin_client.post(CONFIRM, data)
    assert done.status_code == 302
    assert lines(economy) == [
        ("浙江", None, Decimal("4.50"), Decimal("1.00")),
        ("", 2, Decimal("9.00"), Decimal("3.00")),
    ]
    record = CarrierRate.objects.get(service=economy, zone=2).history.latest()
    assert record.history_change_reason == "Rate card import: card.csv"


def test_the_chinese_page_says_the_errors_in_chinese(admin_client, merchant, economy):
    page = text(upload(admin_client, merchant, BAD, language="zh-hans"))
    assert "A zone is" not in page
    assert "区域为 1、2、3、4 或 5。" in page and "金额最多保留 2 位小数" in page


def test_another_merchants_services_are_unknown(admin_client, merchant, economy):
    other = MerchantFactory(code="rival")
    response = upload(admin_client, other, GOOD)
    assert "No carrier service pine/eco" in text(response)
    assert "confirm_form" not in response.context
    row = f"merchant,{HEADER}".replace("\n", "") + "\nrival,pine,eco,,,2,9,3,30,0.95\n"
    response = upload(admin_client, merchant, row)
    assert "This row is for merchant 'rival'" in text(response)


def test_an_exported_card_imports_back_unchanged(admin_client, merchant, economy):
    CarrierRate.objects.create(
        service=economy,
        origin_province="上海",
        destination_province="浙江",
        first_weight_kg=Decimal("0.5"),
        first_price=Decimal("4.50"),
        additional_per_kg=Decimal("1"),
        transit_hours=18.5,
        on_time_rate=0.985,
    )
    response = admin_client.post(EXPORT, {"format": "0", "resource": "0", "export_items": []})
    if response.status_code != 200 or "text/csv" not in response.get("Content-Type", ""):
        response = admin_client.post(EXPORT, {"format": "0", "resource": "0"})
    assert response.status_code == 200, text(response)[:400]
    exported = response.content.decode("utf-8-sig")
    assert exported.splitlines()[0].startswith("merchant,carrier,service,origin_province")
    report = tabular_import(
        importer=RateCardImport(merchant=merchant, source="export.csv"),
        headers=exported.splitlines()[0].split(","),
        data=[line.split(",") for line in exported.splitlines()[1:]],
        dry_run=True,
    )
    assert report.ok, [row.issues for row in report.rows]
    assert len(report.rows) == 2
    assert all(
        not row.is_new and row.before == {k: row.after[k] for k in row.before}
        for row in report.rows
    )


def test_the_sample_rate_cards_in_docs_import_as_documented():
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "docs" / "samples"
    homeliving = MerchantFactory(code="homeliving")
    for code, service, level in (("pine", "economy", "economy"), ("kite", "express", "express")):
        carrier = Carrier.objects.create(merchant=homeliving, code=code, name=code.title())
        CarrierService.objects.create(carrier=carrier, code=service, name=service, level=level)

    def run(name: str):
        rows = (samples / name).read_text(encoding="utf-8").splitlines()
        return tabular_import(
            importer=RateCardImport(merchant=homeliving, source=name),
            headers=rows[0].split(","),
            data=[row.split(",") for row in rows[1:]],
            dry_run=False,
        )

    bad = run("rate-card-one-bad-row.csv")
    assert [row.number for row in bad.refused_rows] == [3]
    assert not CarrierRate.objects.exists()
    assert run("rate-card.csv").applied
    assert CarrierRate.objects.count() == 3
