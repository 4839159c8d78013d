"""Steps run before message codes existed get the code and parameters of their stored result.

The status page renders a step's message from ``result.message_code`` and
``result.message_params`` in the customer's language; older results only held an English
sentence. Everything the sentence said is in ``result.data`` (and the step's reference), so the
code is derived from the handler and that data. Rows already carrying a code are left alone.
"""

from django.db import migrations


def _code_and_params(handler: str, data: dict, reference: str, currency: str):
    if handler == "delivery_dispatch":
        carrier = data.get("carrier", "")
        point = (data.get("pickup_point") or {}).get("name")
        if point:
            return "delivery.to_pickup", {"carrier": carrier, "point": point}
        return "delivery.booked", {"carrier": carrier}
    if handler == "appointment_booking":
        return "appointment.booked", {
            "service": data.get("service", ""),
            "start": data.get("slot_start"),
        }
    if handler == "serial_lock":
        return "serials.locked", {"count": len(data.get("serials", []))}
    if handler == "ewarranty":
        return "warranty.issued", {"reference": reference, "valid_until": data.get("valid_until")}
    if handler == "tariff_estimate":
        return "tariff.estimated", {"amount": data.get("total", ""), "currency": currency}
    if handler == "after_sales_visit":
        return "visit.planned", {"at": data.get("visit_at")}
    if handler == "inspection":
        return "inspection.passed", {"count": len(data.get("checked", []))}
    return None


def forwards(apps, schema_editor):
    ServiceStep = apps.get_model("orchestration", "ServiceStep")
    rows = (
        ServiceStep.objects.exclude(reference="")
        .select_related("atom", "order")
        .only("result", "reference", "atom__handler", "order__currency")
        .order_by("pk")
    )
    batch = []
    for step in rows.iterator(chunk_size=1000):
        result = step.result or {}
        if result.get("message_code") or "data" not in result:
            continue
        derived = _code_and_params(
            step.atom.handler, result.get("data") or {}, step.reference, step.order.currency
        )
        if derived is None:
            continue
        result["message_code"], result["message_params"] = derived
        step.result = result
        batch.append(step)
        if len(batch) >= 500:
            ServiceStep.objects.bulk_update(batch, ["result"])
            batch = []
    if batch:
        ServiceStep.objects.bulk_update(batch, ["result"])


class Migration(migrations.Migration):
    dependencies = [("orchestration", "0004_operations_view_webhook_subscriptions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
