"""Trigram indexes for the order search in admin, on PostgreSQL only (a no-op on SQLite).

The admin's search asks ``UPPER(column) LIKE UPPER('%term%')`` of the external id, the
receiver's name and phone; without an index that reads every order (619 ms at 100,000 orders).
A GIN index with ``gin_trgm_ops`` over the same expressions answers a part of an id or name
from the index. ``pg_trgm`` is a trusted extension (PostgreSQL 13+), so a database owner may
create it. Built ``CONCURRENTLY`` (outside a transaction), so a live table is not locked.
"""

from django.db import migrations

INDEXES = {
    "order_external_id_trgm": "external_id",
    "order_receiver_name_trgm": "receiver_name",
    "order_receiver_phone_trgm": "receiver_phone",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON oms_order "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("oms", "0014_product_packed_volume")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
