from django.db import migrations

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
    if not RoutingProfile.objects.filter(is_default=True).exists():
        RoutingProfile.objects.create(
            name="Balanced (default)", is_default=True,
            description="Cost and timeliness first, with certainty and splits as tie-breakers.",
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial"), ("oms", "0002_operations_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
