"""Sales channels, their signed ingestion inbox, channel prices, promotions and the gift ledger.

Row invariants live here as constraints: one grant per merchant + campaign + customer (the gift
ledger), one pricing breakdown per order line, one buyer key per merchant + digest. Workflows
(ingest, price, claim a gift) live in ``channels.services``.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oms.history import history_user
from oms.models import SalesChannel
from oms.tenancy import same_merchant


class ChannelPriceList(models.Model):
    """A named set of channel prices; one or more channels point at it as their price list."""

    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        related_name="channel_price_lists",
    )
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("channel price list")
        verbose_name_plural = _("channel price lists")
        ordering = ["merchant_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "name"], name="channel_price_list_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChannelPricing(models.Model):
    """Which price list a sales channel sells at; a channel without one sells at list prices."""

    channel = models.OneToOneField(
        SalesChannel,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pricing",
        verbose_name=_("sales channel"),
    )
    price_list = models.ForeignKey(
        ChannelPriceList,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("price list"),
        help_text=_("Prices of this channel; SKUs not on it sell at the product's list price."),
    )

    class Meta:
        verbose_name = _("channel price list assignment")
        verbose_name_plural = _("channel price list assignments")

    def __str__(self) -> str:
        return f"{self.channel} -> {self.price_list}"

    def clean(self) -> None:
        if self.channel_id and self.price_list_id:
            same_merchant(self.channel.merchant_id, price_list=self.price_list)


class ChannelPrice(models.Model):
    """The price of one SKU on a price list, valid in ``[valid_from, valid_to)``.

    Where windows overlap the one that started last wins (a promotion week over a base price).
    """

    price_list = models.ForeignKey(
        ChannelPriceList,
        verbose_name=_("price list"),
        on_delete=models.CASCADE,
        related_name="prices",
    )
    product = models.ForeignKey(
        "oms.Product",
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="channel_prices",
    )
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("channel price")
        verbose_name_plural = _("channel prices")
        ordering = ["price_list_id", "product_id", "valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="channel_price_gte_0"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="channel_price_window_valid",
            ),
        ]
        indexes = [models.Index(fields=["price_list", "product"], name="channel_price_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.product.sku} {self.price} ({self.price_list})"

    def clean(self) -> None:
        if self.price_list_id and self.product_id:
            same_merchant(self.price_list.merchant_id, product=self.product)


class PromotionKind(models.TextChoices):
    THRESHOLD = "threshold", _("Spend X, save Y (满减)")
    PERCENTAGE = "percentage", _("Percentage off")
    GIFT = "gift", _("Gift SKU")


class Promotion(models.Model):
    """A promotion of one channel, or of all the merchant's channels when ``channel`` is empty.

    Rows of several channels that share a ``campaign_code`` are one campaign: with
    ``once_per_customer`` the gift ledger grants it once per unified customer across them all.
    """

    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        related_name="promotions",
    )
    channel = models.ForeignKey(
        SalesChannel,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="promotions",
        help_text=_("Empty: every channel of the merchant."),
    )
    campaign_code = models.SlugField(_("campaign code"), max_length=60)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=PromotionKind.choices)
    threshold_amount = models.DecimalField(
        _("spend at least"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Subtotal of the eligible lines needed (满 X); 0 means no threshold."),
    )
    discount_amount = models.DecimalField(
        _("discount amount"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    percent_off = models.DecimalField(
        _("percent off"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    gift_product = models.ForeignKey(
        "oms.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gift SKU"),
    )
    gift_quantity = models.PositiveIntegerField(_("gift quantity"), default=1)
    products = models.ManyToManyField(
        "oms.Product",
        blank=True,
        related_name="+",
        verbose_name=_("eligible SKUs"),
        help_text=_("Empty: every SKU."),
    )
    once_per_customer = models.BooleanField(
        _("once per customer"),
        default=True,
        help_text=_("Granted once per unified customer per campaign, across all channels."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["merchant_id", "-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="promotion_window_valid"
            ),
            models.CheckConstraint(
                condition=Q(percent_off__gte=0, percent_off__lte=100),
                name="promotion_percent_0_100",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, threshold_amount__gte=0),
                name="promotion_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=~Q(kind="gift") | Q(gift_product__isnull=False),
                name="promotion_gift_has_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_code}: {self.name}"

    def clean(self) -> None:
        same_merchant(
            self.merchant_id,
            channel=self.channel if self.channel_id else None,
            gift_product=self.gift_product if self.gift_product_id else None,
        )


class InboxStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PARSED = "parsed", _("Parsed (order created)")
    FAILED = "failed", _("Failed")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected (bad signature)")


class ChannelInboxMessage(models.Model):
    """One delivery to the ingest endpoint, stored raw before it is parsed.

    A delivery whose signature verified is kept whole (``signature_valid``). A rejected one (bad
    signature, or larger than the limit) keeps only evidence: the first bytes of the body
    (``body_truncated`` when there was more), its size and SHA-256. Rejected rows are never
    replayed, and are purged after ``OMS_INBOX_REJECTED_KEEP_DAYS``. ``channel`` stays empty
    when the code named several channels and none verified.
    """

    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.ForeignKey(
        SalesChannel,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="inbox",
    )
    channel_code = models.CharField(_("channel code"), max_length=40)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    body = models.BinaryField(_("raw body"))
    body_size = models.PositiveIntegerField(_("bytes received"), default=0)
    body_sha256 = models.CharField(_("SHA-256 of the body"), max_length=64, blank=True)
    body_truncated = models.BooleanField(_("body kept in part"), default=False)
    signature_valid = models.BooleanField(_("signature valid"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=InboxStatus.choices, default=InboxStatus.RECEIVED
    )
    error = models.JSONField(_("error"), default=dict, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    order = models.ForeignKey(
        "oms.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel inbox message")
        verbose_name_plural = _("channel inbox messages")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["channel", "status", "received_at"], name="inbox_channel_status_idx"
            )
        ]

    def __str__(self) -> str:
        return f"inbox #{self.pk} {self.channel_code} ({self.status})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class ChannelBuyerKey(models.Model):
    """A keyed digest of a buyer's phone (or channel account) and the customer it stands for.

    The row is also the lock that serialises concurrent orders of one buyer (see
    ``channels.identity``), so two channels claiming the same gift at once cannot both win.
    """

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        ACCOUNT = "account", _("Channel account")

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=10, choices=Kind.choices)
    digest = models.CharField(verbose_name=_("digest"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("buyer key")
        verbose_name_plural = _("buyer keys")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "kind", "digest"], name="buyer_key_unique_per_merchant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.digest[:10]}…"


class ChannelOrder(models.Model):
    """What the channel told us about an order beyond the canonical order: buyer and group."""

    order = models.OneToOneField(
        "oms.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="channel_info"
    )
    channel = models.ForeignKey(
        SalesChannel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+"
    )
    inbox_message = models.ForeignKey(
        ChannelInboxMessage,
        verbose_name=_("inbox message"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    buyer_phone_masked = models.CharField(
        verbose_name=_("buyer phone masked"), max_length=32, blank=True
    )
    buyer_device_id = models.CharField(
        verbose_name=_("buyer device id"), max_length=128, blank=True
    )
    buyer_account_id = models.CharField(
        verbose_name=_("buyer account id"), max_length=128, blank=True
    )
    reported_total = models.DecimalField(
        verbose_name=_("reported total"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    group_order_type = models.CharField(
        verbose_name=_("group order type"), max_length=20, blank=True
    )
    group_leader_id = models.CharField(verbose_name=_("group leader id"), max_length=64, blank=True)
    group_leader_name = models.CharField(
        verbose_name=_("group leader name"), max_length=80, blank=True
    )
    pickup_point_id = models.CharField(
        verbose_name=_("pickup point id"), max_length=64, blank=True, db_index=True
    )
    pickup_point_name = models.CharField(
        verbose_name=_("pickup point name"), max_length=120, blank=True
    )
    group_activity_id = models.CharField(
        verbose_name=_("group activity id"), max_length=64, blank=True
    )

    class Meta:
        verbose_name = _("channel order")
        verbose_name_plural = _("channel orders")

    def __str__(self) -> str:
        return f"channel data of order {self.order_id}"


class OrderLinePricing(models.Model):
    """How one order line's price came about: list, channel rule, promotion, final.

    ``final_line_total`` = ``channel_price`` x quantity - ``promotion_discount``; the order's
    ``discount_total`` is the sum of the promotion discounts of its lines.
    """

    line = models.OneToOneField(
        "oms.OrderLine", verbose_name=_("line"), on_delete=models.CASCADE, related_name="pricing"
    )
    list_price = models.DecimalField(_("list price"), max_digits=12, decimal_places=2)
    channel_price = models.DecimalField(_("channel price"), max_digits=12, decimal_places=2)
    channel_rule = models.ForeignKey(
        ChannelPrice,
        verbose_name=_("channel rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    channel_rule_label = models.CharField(_("channel rule"), max_length=200, blank=True)
    promotion_discount = models.DecimalField(
        _("promotion discount"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    final_line_total = models.DecimalField(_("final line total"), max_digits=14, decimal_places=2)
    reported_unit_price = models.DecimalField(
        _("price reported by the channel"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    is_gift = models.BooleanField(_("gift"), default=False)
    gift_campaign = models.CharField(_("gift campaign"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("order line pricing")
        verbose_name_plural = _("order line pricing")

    def __str__(self) -> str:
        return f"pricing of line {self.line_id}"


class GiftGrant(models.Model):
    """The gift ledger: a campaign granted to a unified customer, at most once (DB-enforced)."""

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    campaign_code = models.SlugField(_("campaign code"), max_length=60)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.ForeignKey(
        SalesChannel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        "oms.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("gift grant")
        verbose_name_plural = _("gift ledger")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "campaign_code", "customer"],
                name="gift_granted_once_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_code} -> customer {self.customer_id}"


class GiftRefusal(models.Model):
    """A second claim of a campaign by a customer who already has it: what was withheld, why."""

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    campaign_code = models.SlugField(_("campaign code"), max_length=60)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.ForeignKey(
        SalesChannel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        "oms.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    grant = models.ForeignKey(
        GiftGrant,
        verbose_name=_("grant"),
        on_delete=models.CASCADE,
        null=True,
        related_name="refusals",
    )
    reason = models.CharField(_("reason"), max_length=300)
    refused_at = models.DateTimeField(_("refused at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("refused gift")
        verbose_name_plural = _("refused gifts")
        ordering = ["-refused_at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign_code} refused for customer {self.customer_id}"


class PickWaveStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PRINTED = "printed", _("Printed")
    PICKED = "picked", _("Picked")


class PickWave(models.Model):
    """One warehouse's picking batch of group-buy orders (社区团购波次), merged per pickup point.

    Built by ``channels.groupbuy.services.groupbuy_wave_build``; the counts are those at build
    time. ``warehouse`` is empty for orders whose warehouse routing has not fixed.
    """

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    warehouse = models.ForeignKey(
        "oms.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    cutoff = models.DateTimeField(_("cut-off"), help_text=_("Orders placed up to this time."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PickWaveStatus.choices, default=PickWaveStatus.OPEN
    )
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    pickup_point_count = models.PositiveIntegerField(_("pickup points"), default=0)
    sku_count = models.PositiveIntegerField(_("SKUs"), default=0)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    created_by = models.CharField(_("created by"), max_length=120)
    duration_ms = models.FloatField(_("build time (ms)"), default=0)

    class Meta:
        verbose_name = _("pick wave")
        verbose_name_plural = _("pick waves")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="pick_wave_merchant_idx")]

    def __str__(self) -> str:
        return f"wave #{self.pk}"


class PickList(models.Model):
    """The orders of one pickup point in a wave: what goes into its crates and who gets what."""

    wave = models.ForeignKey(
        PickWave, verbose_name=_("wave"), on_delete=models.CASCADE, related_name="pick_lists"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    pickup_point_id = models.CharField(_("pickup point id"), max_length=64)
    pickup_point_name = models.CharField(_("pickup point"), max_length=120)
    leader_id = models.CharField(_("leader id"), max_length=64, blank=True)
    leader_name = models.CharField(_("group leader"), max_length=80, blank=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    leader_proxy_count = models.PositiveIntegerField(_("leader proxy orders"), default=0)
    member_direct_count = models.PositiveIntegerField(_("member direct orders"), default=0)
    store_pickup_count = models.PositiveIntegerField(_("store pickup orders"), default=0)

    class Meta:
        verbose_name = _("pick list")
        verbose_name_plural = _("pick lists")
        ordering = ["wave_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "pickup_point_id"], name="pick_list_one_per_pickup_point"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pickup_point_name} ({self.pickup_point_id})"


class PickListLine(models.Model):
    """A SKU total of a pick list, in pick-path order (``position``)."""

    # No database FK constraint on ``pick_list`` (here and on GroupBuyAssignment): both rows are
    # written by ``groupbuy_wave_build`` in the transaction that creates the pick list they point
    # at, and deleted with it by the ORM cascade. The deferred per-row checks cost ~110 of ~300 ms
    # of a 3,000-order build (bench/RESULTS-groupbuy.md). Nor on ``product`` (5,500 checks,
    # ~40 ms): the line totals order lines of that product, which hold it (PROTECT) while the
    # orders exist, and the ORM's PROTECT here still refuses deleting a product that is in one.
    # FKs to orders are kept.
    pick_list = models.ForeignKey(
        PickList,
        verbose_name=_("pick list"),
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        "oms.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    order_count = models.PositiveIntegerField(_("orders"))

    class Meta:
        verbose_name = _("pick list line")
        verbose_name_plural = _("pick list lines")
        ordering = ["pick_list_id", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_list_line_quantity_gt_0")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class GroupBuyAssignment(models.Model):
    """A group-buy order in a pick list, written by ``groupbuy_wave_build``.

    The order is the primary key: an order is in at most one pick list, hence one wave, and the
    database refuses a second claim. Deleting the wave (or the pick list) frees its orders.
    """

    order = models.OneToOneField(
        "oms.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="groupbuy_assignment",
        verbose_name=_("order"),
    )
    pick_list = models.ForeignKey(
        PickList,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("pick list"),
        db_constraint=False,  # see PickListLine.pick_list
    )

    class Meta:
        verbose_name = _("group-buy assignment")
        verbose_name_plural = _("group-buy assignments")

    def __str__(self) -> str:
        return f"order {self.order_id} -> pick list {self.pick_list_id}"
