"""A database created at 4267676 (before ``SalesChannel`` moved into ``oms``) migrates forward
with no row lost: channels, their price lists, orders, promotions, staff permissions and admin
history all come through, on SQLite and PostgreSQL alike.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The leaf migration of each project app at commit 4267676.
AT_4267676 = [
    ("oms", "0005_consolidation_permissions"),
    ("channels", "0009_secrets_encrypted_at_rest"),
    ("customers", "0007_merchant_lookups_through_composite_indexes"),
    ("routing", "0004_decision_superseded"),
    ("orchestration", "0003_secrets_encrypted_at_rest"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _at_4267676():
    """The project apps as at 4267676; Django's own apps (admin, auth, ...) at their latest."""
    project_apps = {app for app, _ in AT_4267676}
    return AT_4267676 + [leaf for leaf in _latest() if leaf[0] not in project_apps]


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


# Models added after 4267676 whose permissions a migration grants to the Operations group.
MODELS_ADDED_SINCE = {
    ("customers", "rulesetversion"),
    ("customers", "customersplit"),
    ("routing", "carrier"),
    ("routing", "carrierservice"),
    ("routing", "carrierrate"),
    ("routing", "warehousecarrier"),
    ("routing", "promisehold"),
}


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _seed_old_schema(apps) -> dict:
    """Rows as the 4267676 code wrote them, through that commit's model state."""
    Merchant = apps.get_model("oms", "Merchant")
    Product = apps.get_model("oms", "Product")
    Order = apps.get_model("oms", "Order")
    OrderLine = apps.get_model("oms", "OrderLine")
    SalesChannel = apps.get_model("channels", "SalesChannel")
    ChannelPriceList = apps.get_model("channels", "ChannelPriceList")
    ChannelPrice = apps.get_model("channels", "ChannelPrice")
    Promotion = apps.get_model("channels", "Promotion")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    LogEntry = apps.get_model("admin", "LogEntry")

    merchant = Merchant.objects.create(code="m1", name="Merchant one", currency="CNY")
    product = Product.objects.create(
        merchant=merchant, sku="SKU-1", name="Sofa", unit_value=Decimal("5999.00")
    )
    price_list = ChannelPriceList.objects.create(merchant=merchant, name="Douyin prices")
    ChannelPrice.objects.create(price_list=price_list, product=product, price=Decimal("5799"))
    priced = SalesChannel.objects.create(
        merchant=merchant,
        code="douyin",
        name="Douyin shop",
        kind="douyin",
        price_list=price_list,
        signing_secret="chs_old_secret_one",
    )
    plain = SalesChannel.objects.create(
        merchant=merchant, code="pos", name="Store", kind="store_pos", signing_secret="chs_two"
    )
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for number, channel in enumerate((priced, plain, priced)):
        order = Order.objects.create(
            merchant=merchant,
            channel=channel,
            external_id=f"E-{number}",
            receiver_name="Li",
            receiver_phone="13800138000",
            province="Zhejiang",
            city="Hangzhou",
            address_line="1 West Lake Road",
            placed_at=now,
            subtotal=Decimal("5999.00"),
            total=Decimal("5999.00"),
        )
        OrderLine.objects.create(
            order=order,
            product=product,
            quantity=1,
            unit_price=Decimal("5999.00"),
            line_total=Decimal("5999.00"),
        )
    Promotion.objects.create(
        merchant=merchant,
        channel=priced,
        campaign_code="d12",
        name="Double 12",
        kind="percentage",
        percent_off=Decimal("5"),
        starts_at=now,
        ends_at=datetime(2026, 12, 31, tzinfo=UTC),
    )
    # Migrating a test database back can leave an "oms.saleschannel" content type made by
    # permission bookkeeping on the way; a database of 4267676 never had one.
    ContentType.objects.filter(app_label="oms", model="saleschannel").delete()
    # A test database may have been flushed by an earlier test: grant as 4267676's
    # migrations did, on whatever content type and permissions the old state has.
    channel_type, _ = ContentType.objects.get_or_create(app_label="channels", model="saleschannel")
    for action in ("view", "change"):
        Permission.objects.get_or_create(
            content_type=channel_type,
            codename=f"{action}_saleschannel",
            defaults={"name": f"Can {action} sales channel"},
        )
    operations, _ = Group.objects.get_or_create(name="Operations")
    operations.permissions.add(*Permission.objects.filter(content_type=channel_type))
    staff = User.objects.create(username="ops-migration", is_staff=True)
    LogEntry.objects.create(
        user=staff,
        content_type=channel_type,
        object_id=str(priced.pk),
        object_repr="Douyin shop",
        action_flag=2,
        change_message="renamed",
    )
    return {
        "priced": priced.pk,
        "plain": plain.pk,
        "price_list": price_list.pk,
        "content_type": channel_type.pk,
        "permission_ids": set(
            Permission.objects.filter(content_type=channel_type).values_list("pk", flat=True)
        ),
    }


@pytest.fixture
def back_to_latest(transactional_db):
    """Whatever a test does to the schema, the next test finds it fully migrated."""
    yield
    _migrate(_latest())


def test_a_database_of_4267676_migrates_forward_with_no_row_lost(back_to_latest):
    latest = _latest()
    old_apps = _migrate(_at_4267676())
    seeded = _seed_old_schema(old_apps)
    before = _row_counts()
    # The one row a migration removes on purpose: operations staff no longer edit webhook
    # subscriptions (orchestration 0004).
    revoked = (
        old_apps.get_model("auth", "Group")
        .permissions.through.objects.filter(permission__codename="change_webhooksubscription")
        .count()
    )
    before["auth_group_permissions"] -= revoked
    grants_then = set(
        old_apps.get_model("auth", "Group").permissions.through.objects.values_list("pk", flat=True)
    )

    _migrate(latest)
    after = _row_counts()
    # Rows gained, not lost: Operations is granted the permissions of models added since.
    from django.contrib.auth.models import Group as LatestGroup

    after["auth_group_permissions"] -= sum(
        1
        for pk, app_label, model in LatestGroup.permissions.through.objects.values_list(
            "pk", "permission__content_type__app_label", "permission__content_type__model"
        )
        if (app_label, model) in MODELS_ADDED_SINCE and pk not in grants_then
    )

    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from channels.models import ChannelPricing
    from oms.models import Order, SalesChannel

    # Every table of the old schema still has every row; the one new table holds the links.
    lost = {
        table: (rows, after.get(table))
        for table, rows in before.items()
        if after.get(table) != rows and table != "django_migrations"
    }
    assert lost == {}
    assert after["channels_channelpricing"] == 1
    priced = SalesChannel.objects.get(pk=seeded["priced"])
    assert (priced.code, priced.signing_secret) == ("douyin", "chs_old_secret_one")
    assert ChannelPricing.objects.get(channel=priced).price_list_id == seeded["price_list"]
    assert not ChannelPricing.objects.filter(channel_id=seeded["plain"]).exists()
    assert Order.objects.filter(channel=priced).count() == 2
    assert priced.promotions.get().campaign_code == "d12"
    # Permissions and admin history stay attached to the moved model.
    channel_type = ContentType.objects.get_for_model(SalesChannel)
    assert channel_type.pk == seeded["content_type"]
    assert not ContentType.objects.filter(app_label="channels", model="saleschannel").exists()
    assert (
        set(Permission.objects.filter(content_type=channel_type).values_list("pk", flat=True))
        == seeded["permission_ids"]
    )
    assert (
        Group.objects.get(name="Operations")
        .permissions.filter(codename="change_saleschannel", content_type=channel_type)
        .exists()
    )
    assert LogEntry.objects.get(object_repr="Douyin shop").content_type_id == channel_type.pk


def test_the_move_reverses_with_the_price_list_links_restored(back_to_latest):
    latest = _latest()
    from channels.models import ChannelPriceList
    from channels.services import channel_price_list_set
    from tests.factories import ChannelFactory

    channel = ChannelFactory()
    price_list = ChannelPriceList.objects.create(merchant=channel.merchant, name="list")
    channel_price_list_set(channel=channel, price_list=price_list)

    old_apps = _migrate(_at_4267676())
    OldChannel = old_apps.get_model("channels", "SalesChannel")
    assert OldChannel.objects.get(pk=channel.pk).price_list_id == price_list.pk

    _migrate(latest)
    from channels.models import ChannelPricing

    assert ChannelPricing.objects.get(channel_id=channel.pk).price_list_id == price_list.pk
