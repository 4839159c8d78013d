"""Order lines keep the SKU and name they were ordered under.

Existing lines take their product's current SKU and name, the best record there is, in one
``UPDATE ... FROM`` (PostgreSQL, and SQLite since 3.33): one statement however many lines.
"""

from django.db import migrations, models


def backfill_from_products(apps, schema_editor) -> None:
    OrderLine = apps.get_model("oms", "OrderLine")
    Product = apps.get_model("oms", "Product")
    quote = schema_editor.quote_name
    line, product = quote(OrderLine._meta.db_table), quote(Product._meta.db_table)
    schema_editor.execute(
        f"UPDATE {line} SET {quote('sku')} = p.{quote('sku')}, {quote('name')} = p.{quote('name')} "
        f"FROM {product} AS p WHERE p.{quote('id')} = {line}.{quote('product_id')}"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0008_merchant_api_rate_validated"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderline",
            name="sku",
            field=models.CharField(default="", max_length=64, verbose_name="SKU as ordered"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="orderline",
            name="name",
            field=models.CharField(default="", max_length=200, verbose_name="name as ordered"),
            preserve_default=False,
        ),
        migrations.RunPython(backfill_from_products, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(("sku", ""), _negated=True), name="order_line_sku_as_ordered"
            ),
        ),
    ]
