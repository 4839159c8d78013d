"""Decisions stored the table-wide history id as their profile version; now it is the
profile's own version number (1, 2, 3, ... per profile), as the profile page shows it.

One UPDATE per profile maps every old value at once, so no row is renumbered twice."""

from django.db import migrations
from django.db.models import Case, F, PositiveIntegerField, Value, When


def _numbers(apps) -> dict[int, list[tuple[int, int]]]:
    """Per profile id: (history id, version number), oldest first."""
    History = apps.get_model("routing", "HistoricalRoutingProfile")
    out: dict[int, list[tuple[int, int]]] = {}
    for profile_id, history_id in History.objects.order_by("id", "history_id").values_list(
        "id", "history_id"
    ):
        rows = out.setdefault(profile_id, [])
        rows.append((history_id, len(rows) + 1))
    return out


def _remap(apps, forward: bool) -> None:
    Decision = apps.get_model("routing", "RoutingDecision")
    for profile_id, rows in _numbers(apps).items():
        whens = [
            When(profile_version=old, then=Value(new))
            for old, new in (rows if forward else [(n, h) for h, n in rows])
        ]
        Decision.objects.filter(profile_id=profile_id).update(
            profile_version=Case(
                *whens, default=F("profile_version"), output_field=PositiveIntegerField()
            )
        )


def per_profile(apps, schema_editor):
    _remap(apps, forward=True)


def table_wide(apps, schema_editor):
    _remap(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [("routing", "0009_decision_facts_and_profile_simulations")]

    operations = [migrations.RunPython(per_profile, table_wide)]
