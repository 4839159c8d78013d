from django.db import migrations
from django.utils import timezone

from oms.permissions import grant_operations

PERMS = {
    "routing.routingprofile": ["view", "add", "change"],
    "routing.routingrule": ["view", "add", "change", "delete"],
    "routing.lane": ["view", "add", "change"],
    "routing.weatheralert": ["view", "add", "change"],
    "routing.carriercapacity": ["view", "add", "change"],
    "routing.courierload": ["view", "add", "change"],
    "routing.routingdecision": ["view"],
}


def forwards(apps, schema_editor):
    grant_operations(apps, schema_editor, PERMS)
    RoutingProfile = apps.get_model("routing", "RoutingProfile")
    Historical = apps.get_model("routing", "HistoricalRoutingProfile")
    if not RoutingProfile.objects.filter(is_default=True).exists():
        profile = RoutingProfile.objects.create(
            name="Balanced (default)", is_default=True,
            description="Cost and timeliness first, with certainty and splits as tie-breakers.",
        )
        # The first version of the audit trail, so the first change in admin shows as a diff.
        Historical.objects.create(
            **{field.attname: getattr(profile, field.attname) for field in RoutingProfile._meta.fields},
            history_date=timezone.now(), history_type="+", history_change_reason="created by migration",
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial"), ("oms", "0002_operations_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
