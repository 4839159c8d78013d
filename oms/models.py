"""Core domain rows: merchants, catalogue, warehouses, stock, orders and their timeline.

Invariants that belong to a single row live here as database constraints (stock never below
zero, never more reserved than on hand, one order per merchant + channel + external id).
Workflows that touch several rows live in ``oms.services``.
"""

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oms.crypto import EncryptedCharField
from oms.history import history_user
from oms.stored_text import actor_name, event_kind
from oms.tenancy import same_merchant


class Region(models.TextChoices):
    EAST = "east", _("East China")
    NORTH = "north", _("North China")
    SOUTH = "south", _("South China")
    CENTRAL = "central", _("Central China")
    WEST = "west", _("West China")
    NORTHEAST = "northeast", _("Northeast China")


api_rate_validator = RegexValidator(
    r"^[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)$",
    _("Write the rate as requests/period, e.g. 600/min, 20/s, 10000/hour or 100000/day."),
    code="invalid_rate",
)


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this Python knows (``Asia/Shanghai``)."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("Unknown time zone %(zone)s."), code="invalid_time_zone", params={"zone": value}
        ) from None


class Merchant(models.Model):
    """A tenant: every product, warehouse, channel and order belongs to exactly one merchant."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, default=settings.OMS_DEFAULT_CURRENCY)
    api_throttle_rate = models.CharField(
        _("API rate limit"),
        max_length=20,
        blank=True,
        help_text=_("e.g. 600/min; empty uses the default rate of the deployment."),
        validators=[api_rate_validator],
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=40,
        default="Asia/Shanghai",
        validators=[validate_time_zone],
        help_text=_("Times on the customer status page are shown in it, e.g. Asia/Shanghai."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        """The merchant's time zone (the deployment's when the stored name is unknown)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def new_signing_secret() -> str:
    """A fresh per-channel HMAC secret (256 bits, URL-safe)."""
    return f"chs_{secrets.token_urlsafe(32)}"


class ChannelKind(models.TextChoices):
    DOUYIN = "douyin", _("Douyin shop")
    WECHAT_MINI = "wechat_mini", _("WeChat mini-program")
    TMALL = "tmall", _("Tmall")
    STORE_POS = "store_pos", _("Store POS")
    B2B = "b2b", _("B2B wholesale")
    GROUP_BUY = "group_buy", _("Community group-buying")
    API = "api", _("Direct API")


class SalesChannel(models.Model):
    """Where an order came from: one shop, mini-program, store or API client of a merchant.

    It lives in the core because every order points at it. What a channel does (its payload
    adapter, price list, promotions, inbox) lives in the ``channels`` app, which refers to this
    row. The table keeps the name it was created with in ``channels`` (the model moved here
    without copying a row).
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="channels", verbose_name=_("merchant")
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    active = models.BooleanField(_("active"), default=True)
    # HMAC needs the secret itself (a hash would not do), so it is stored encrypted
    # (``oms.crypto``): the admin shows it masked and the rotate action shows a new one once.
    # The previous secret keeps verifying until ``previous_secret_valid_until`` so the channel
    # can switch without dropping orders.
    signing_secret = EncryptedCharField(
        _("signing secret"), max_length=128, default=new_signing_secret, editable=False
    )
    previous_signing_secret = EncryptedCharField(
        _("previous signing secret"), max_length=128, blank=True, editable=False
    )
    previous_secret_valid_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "channels_saleschannel"
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "code"], name="channel_code_unique_per_merchant"
            )
        ]
        ordering = ["merchant_id", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """A merchant's API key. Only a SHA-256 of the key is stored; the key is shown once."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(
        verbose_name=_("key hash"), max_length=64, unique=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.merchant.code}:{self.name} ({self.prefix}…)"

    @classmethod
    def hash(cls, raw_key: str) -> str:
        return _hash_key(raw_key)

    @classmethod
    def generate(cls, *, merchant: Merchant, name: str) -> tuple["ApiKey", str]:
        """Create a key and return it with the raw secret, which is not stored anywhere."""
        raw_key = f"oms_{secrets.token_urlsafe(32)}"
        api_key = cls.objects.create(
            merchant=merchant, name=name, prefix=raw_key[:12], key_hash=_hash_key(raw_key)
        )
        return api_key, raw_key


class TemperatureClass(models.TextChoices):
    AMBIENT = "ambient", _("Ambient")
    CHILLED = "chilled", _("Chilled")
    FROZEN = "frozen", _("Frozen")


class Product(models.Model):
    """A sellable SKU of one merchant."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="products"
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=80, blank=True)
    temperature_class = models.CharField(
        _("temperature class"),
        max_length=10,
        choices=TemperatureClass.choices,
        default=TemperatureClass.AMBIENT,
    )
    unit_value = models.DecimalField(_("unit value"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=settings.OMS_DEFAULT_CURRENCY)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=9, decimal_places=3, default=0)
    volume_litres = models.DecimalField(
        _("packed volume (litres)"),
        max_digits=9,
        decimal_places=3,
        default=0,
        help_text=_("For carriers' volumetric weight; 0: weight alone decides."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["merchant_id", "sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "sku"], name="product_sku_unique_per_merchant"
            ),
            models.CheckConstraint(condition=Q(unit_value__gte=0), name="product_unit_value_gte_0"),
            models.CheckConstraint(condition=Q(weight_kg__gte=0), name="product_weight_gte_0"),
            models.CheckConstraint(condition=Q(volume_litres__gte=0), name="product_volume_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def needs_cold_chain(self) -> bool:
        return self.temperature_class != TemperatureClass.AMBIENT


class WarehouseKind(models.TextChoices):
    OWN_DC = "own_dc", _("Own distribution centre")
    REGIONAL = "regional", _("Regional centre")
    STORE = "store", _("Store")
    THIRD_PARTY = "third_party", _("Third-party cloud warehouse")
    DROP_SHIP = "drop_ship", _("Supplier drop-ship")


class WarehouseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class Warehouse(models.Model):
    """A fulfilment node: a DC, regional centre, store, 3PL warehouse or drop-ship supplier."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="warehouses"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=WarehouseKind.choices)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices)
    province = models.CharField(_("province"), max_length=40)
    city = models.CharField(_("city"), max_length=60)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5)
    cold_chain = models.BooleanField(_("cold-chain capable"), default=False)
    daily_capacity = models.PositiveIntegerField(_("daily capacity (orders)"), default=1000)
    handling_cost_per_shipment = models.DecimalField(
        _("handling cost per shipment"), max_digits=8, decimal_places=2, default=3
    )
    handling_cost_per_unit = models.DecimalField(
        _("handling cost per unit"), max_digits=8, decimal_places=2, default="0.50"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=WarehouseStatus.choices, default=WarehouseStatus.ACTIVE
    )
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)
    _change_reason: str  # set before a save; the history record keeps it

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["merchant_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "code"], name="warehouse_code_unique_per_merchant"
            ),
            models.CheckConstraint(
                condition=Q(
                    latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180
                ),
                name="warehouse_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_operational(self) -> bool:
        return self.status == WarehouseStatus.ACTIVE


class InventoryBatch(models.Model):
    """Stock of one SKU batch in one warehouse; ``reserved`` is held for routed orders."""

    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="batches"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="batches"
    )
    batch_number = models.CharField(_("batch number"), max_length=64)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    on_hand = models.PositiveIntegerField(_("on hand"), default=0)
    reserved = models.PositiveIntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Counts staff change (admin, stock count imports, the API's bulk update) are audited; the
    # reservations' bulk updates are recorded by the reservations themselves.
    history = HistoricalRecords(get_user=history_user, excluded_fields=["reserved", "updated_at"])
    _change_reason: str  # set before a save; the history record keeps it

    class Meta:
        verbose_name = _("inventory batch")
        verbose_name_plural = _("inventory batches")
        ordering = ["warehouse_id", "product_id", "expiry_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "product", "batch_number"],
                name="batch_unique_per_warehouse_product",
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="batch_on_hand_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                name="batch_reserved_between_0_and_on_hand",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "warehouse"], name="batch_product_warehouse_idx")
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} @ {self.warehouse.code} #{self.batch_number}"

    def clean(self) -> None:
        if self.warehouse_id and self.product_id:
            same_merchant(self.warehouse.merchant_id, product=self.product)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class OrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    ROUTED = "routed", _("Routed")
    RELEASED = "released", _("Released to warehouse")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    CANCELLED = "cancelled", _("Cancelled")


class Consolidation(models.Model):
    """Orders of one customer merged into one fulfilment: one routing decision, one shipment.

    ``reason`` says in words why they ship together; ``data`` keeps the rule that matched (the
    customer, the normalised address, the window) and every merge that added an order, so the
    record stays readable after an order of it is cancelled.
    """

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    reason = models.TextField(_("why merged"))
    data = models.JSONField(_("matched rule"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merged fulfilment")
        verbose_name_plural = _("merged fulfilments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return gettext("merged fulfilment %(id)s") % {"id": self.pk}


class Order(models.Model):
    """A canonical order from any channel; ``status`` follows ``oms.state.TRANSITIONS``."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="orders"
    )
    channel = models.ForeignKey(
        SalesChannel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="orders"
    )
    external_id = models.CharField(_("external id"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.CREATED
    )
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    receiver_name = models.CharField(_("receiver name"), max_length=80)
    receiver_phone = models.CharField(_("receiver phone"), max_length=32)
    province = models.CharField(_("province"), max_length=40)
    city = models.CharField(_("city"), max_length=60)
    district = models.CharField(_("district"), max_length=60, blank=True)
    address_line = models.CharField(_("address"), max_length=300)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=settings.OMS_DEFAULT_CURRENCY)
    subtotal = models.DecimalField(_("subtotal"), max_digits=14, decimal_places=2, default=0)
    shipping_fee = models.DecimalField(
        _("shipping fee"), max_digits=12, decimal_places=2, default=0
    )
    discount_total = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    placed_at = models.DateTimeField(_("placed at"))
    promised_at = models.DateTimeField(_("promised delivery by"), null=True, blank=True)
    consolidation = models.ForeignKey(
        Consolidation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consolidated_orders",
        verbose_name=_("merged fulfilment"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "channel", "external_id"],
                name="order_external_id_unique_per_channel",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "status", "created_at"], name="order_merchant_status_idx"
            ),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.external_id}"

    def clean(self) -> None:
        same_merchant(
            self.merchant_id,
            customer=self.customer if self.customer_id else None,
            channel=self.channel if self.channel_id else None,
        )

    @property
    def fulfilment_shipments(self) -> list["Shipment"]:
        """The parcels carrying this order: its own and, once merged, its fulfilment's.

        A merged fulfilment's shipment hangs on its earliest order; every order in it shows it.
        Reads ``shipments`` and ``consolidation__shipments`` prefetches when they are there.
        """
        shipments = {shipment.pk: shipment for shipment in self.shipments.all()}
        if self.consolidation is not None:  # no query when consolidation_id is null
            shipments.update((s.pk, s) for s in self.consolidation.shipments.all())
        return [shipments[pk] for pk in sorted(shipments)]


class OrderLine(models.Model):
    """One product on an order, with its SKU, name and unit price as they were when ordered.

    The order history reads ``sku``, ``name`` and ``unit_price`` from the line, never from the
    product, so renaming a product or its SKU later leaves past orders as they were placed.
    ``product`` still says which stock the line takes.
    """

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    sku = models.CharField(_("SKU as ordered"), max_length=64)
    name = models.CharField(_("name as ordered"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    line_total = models.DecimalField(_("line total"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_gte_0"),
            # A path that forgot to copy the product's SKU fails here, not in the history.
            models.CheckConstraint(condition=~Q(sku=""), name="order_line_sku_as_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RELEASED = "released", _("Released")
    SHIPPED = "shipped", _("Shipped")


class Reservation(models.Model):
    """Quantity of one order line held on one batch."""

    line = models.ForeignKey(
        OrderLine, verbose_name=_("line"), on_delete=models.CASCADE, related_name="reservations"
    )
    batch = models.ForeignKey(
        InventoryBatch,
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        related_name="reservations",
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReservationStatus.choices,
        default=ReservationStatus.ACTIVE,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["line_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return gettext("%(quantity)s of line %(line)s on batch %(batch)s") % {
            "quantity": self.quantity,
            "line": self.line_id,
            "batch": self.batch_id,
        }


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class Shipment(models.Model):
    """A parcel from one warehouse. A merged fulfilment's shipment carries the lines of all its
    orders; ``order`` is then the earliest order still in it."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="shipments"
    )
    consolidation = models.ForeignKey(
        Consolidation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("merged fulfilment"),
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="shipments"
    )
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return gettext("parcel %(id)s of order %(order)s from %(warehouse)s") % {
            "id": self.pk,
            "order": self.order_id,
            "warehouse": self.warehouse.code,
        }


class OrderEvent(models.Model):
    """One entry of an order's timeline: who did what, when and why. Append-only."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=30)
    actor = models.CharField(_("actor"), max_length=120)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order_id", "at", "id"]

    def __str__(self) -> str:
        return gettext("%(kind)s by %(actor)s") % {
            "kind": event_kind(self.kind),
            "actor": actor_name(self.actor),
        }


class IdempotencyRecord(models.Model):
    """A POST seen under an ``Idempotency-Key``: in flight, or finished with its response."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        COMPLETED = "completed", _("Completed")

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(verbose_name=_("key"), max_length=255)
    fingerprint = models.CharField(verbose_name=_("fingerprint"), max_length=64)
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=State.choices, default=State.IN_FLIGHT
    )
    response_status = models.PositiveSmallIntegerField(
        verbose_name=_("response status"), null=True, blank=True
    )
    response_body = models.BinaryField(verbose_name=_("response body"), null=True, blank=True)
    response_content_type = models.CharField(
        verbose_name=_("response content type"), max_length=100, blank=True
    )
    created_at = models.DateTimeField(
        verbose_name=_("created at"), auto_now_add=True, db_index=True
    )
    locked_until = models.DateTimeField(verbose_name=_("locked until"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "key"], name="idempotency_key_unique_per_merchant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
