"""The "Operations" group: what operations staff may do in admin, granted by migrations.

Each app's data migration calls ``grant_operations`` with the permissions its models need, so
the group grows as apps add models and stays reproducible on every fresh database.
"""

OPERATIONS_GROUP = "Operations"


def grant_operations(apps, schema_editor, perms: dict[str, list[str]]) -> None:
    """Grant ``{"app_label.model": ["view", "change", ...]}`` to the Operations group."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=OPERATIONS_GROUP)
    for model_label, actions in perms.items():
        app_label, model = model_label.split(".")
        for action in actions:
            perm = Permission.objects.get(
                content_type__app_label=app_label, codename=f"{action}_{model}"
            )
            group.permissions.add(perm)
