"""Routing configuration, live signals and decisions.

Operations staff steer routing here without a deploy: ``RoutingProfile`` holds factor weights
(percentages that sum to 100), the CNY price of each non-money factor at the default weights
(the weights scale them; the page shows what they come to), an active time window and the
high-value policy; ``RoutingRule``
rows are rules written without code. Both keep a full history (django-simple-history), so every
change is audited, shown as a diff and can be reverted. ``Lane`` rows are the carrier price and
transit time from a warehouse to a region (the estimate used where no carrier service is set
up). ``Carrier``, ``CarrierService``, ``CarrierRate`` (the rate card: first weight and each
further kg per origin -> destination province or zone, transit hours and on-time rate) and
``WarehouseCarrier`` (which services pick up at a warehouse, one its default) are the carrier
contracts routing chooses among per shipment; they keep a history too. Signals (weather, carrier saturation, courier load)
carry their source, time and expiry. ``RoutingDecision`` stores every decision with its
explanation.
"""

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oms.history import history_user
from oms.models import Region
from oms.tenancy import same_merchant
from routing.engine.problem import (
    DEFAULT_PRICES,
    FACTOR_NAMES,
    PRICED_FACTORS,
    Prices,
    RuleCondition,
    RuleEffect,
    ServiceLevel,
    Weights,
    prices_in_cny,
)

SERVICE_LEVELS = [
    (ServiceLevel.ECONOMY.value, _("economy")),
    (ServiceLevel.EXPRESS.value, _("express / air")),
    (ServiceLevel.SAME_DAY.value, _("same-day courier")),
    (ServiceLevel.COLD_CHAIN.value, _("cold chain")),
]

FACTOR_LABELS = {
    "stock": _("stock level and freshness (FEFO)"),
    "status": _("warehouse operational status"),
    "capacity": _("remaining warehouse capacity"),
    "carrier_saturation": _("regional carrier capacity saturation"),
    "weather": _("weather alert on the route"),
    "courier_load": _("courier daily load"),
    "shipping_cost": _("shipping cost"),
    "handling_cost": _("handling cost"),
    "lateness": _("transit time against the promise (lateness risk)"),
    "splits": _("number of shipments (splits)"),
    "distance": _("distance"),
    "certainty": _("delivery certainty (historic on-time rate)"),
    # Not a weight of its own (the stock weight steers it): a row of the decision page.
    "scarcity": _("scarcity bid price (stock later orders today will want)"),
}
DEFAULT_WEIGHTS = {
    "stock": 4,
    "status": 3,
    "capacity": 4,
    "carrier_saturation": 3,
    "weather": 3,
    "courier_load": 2,
    "shipping_cost": 22,
    "handling_cost": 18,
    "lateness": 22,
    "splits": 6,
    "distance": 3,
    "certainty": 10,
}
assert set(DEFAULT_WEIGHTS) == set(FACTOR_NAMES) and sum(DEFAULT_WEIGHTS.values()) == 100
# What one unit of each non-money factor is, as a price field's label says it.
PRICE_LABELS = {
    "stock": _("an order taking the last, freshest units of its SKUs (¥)"),
    "status": _("a parcel from a degraded warehouse (¥)"),
    "capacity": _("a unit from a warehouse with its day's capacity used up (¥)"),
    "carrier_saturation": _("a parcel when the origin's carriers are fully saturated (¥)"),
    "weather": _("a parcel under a red weather alert on the route (¥)"),
    "courier_load": _("a parcel when the warehouse's couriers are fully loaded (¥)"),
    "lateness": _("an hour past the promise, per parcel (¥)"),
    "splits": _("a split: each parcel beyond the first (¥)"),
    "distance": _("1,000 km, per parcel (¥)"),
    "certainty": _("a point (1 %) of delivery certainty, per parcel (¥)"),
    "scarcity": _("a unit a later order of the day cannot get (¥; steered by the stock weight)"),
}
# The same, as a sentence with this profile's price in CNY of shipping and handling.
PRICE_SENTENCES = {
    "lateness": _("An hour late costs ¥%(v)s."),
    "certainty": _("A point of delivery certainty is worth ¥%(v)s."),
    "splits": _("A split costs ¥%(v)s."),
    "status": _("A parcel from a degraded warehouse costs ¥%(v)s."),
    "capacity": _("A unit from a warehouse at full capacity costs ¥%(v)s."),
    "carrier_saturation": _("A parcel when carriers are fully saturated costs ¥%(v)s."),
    "weather": _("A parcel under a red weather alert costs ¥%(v)s."),
    "courier_load": _("A parcel when couriers are fully loaded costs ¥%(v)s."),
    "stock": _("Taking the last, freshest units of an order's SKUs costs ¥%(v)s."),
    "distance": _("1,000 km cost ¥%(v)s."),
    "scarcity": _(
        "Using the last units of a SKU that later orders today will want costs up to ¥%(v)s a unit."
    ),
}
# Prices of the profile: one per priced factor, and the scarcity bid price.
PROFILE_PRICES = (*PRICED_FACTORS, "scarcity")
assert set(PRICE_LABELS) == set(PRICE_SENTENCES) == set(PROFILE_PRICES)


def _price_field(name: str) -> models.DecimalField:
    return models.DecimalField(
        PRICE_LABELS[name],
        max_digits=8,
        decimal_places=2,
        default=Decimal(str(getattr(DEFAULT_PRICES, name))),
        validators=[MinValueValidator(0)],
        help_text=_("CNY at the default weights; this profile's weights scale it."),
    )


NEGATIVE_WEIGHT = _("A weight cannot be negative: use 0 to leave a factor out.")


def _weight_field(name: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        FACTOR_LABELS[name],
        default=DEFAULT_WEIGHTS[name],
        validators=[MinValueValidator(0, message=NEGATIVE_WEIGHT), MaxValueValidator(100)],
        help_text=_("percent"),
    )


# What a simulation must have seen for its run to stand for a configuration: every field that
# changes how an order is routed (not its name, window or priority, which say when it applies).
CONFIG_FIELDS: tuple[str, ...] = (
    *FACTOR_NAMES,
    *(f"price_{name}" for name in PROFILE_PRICES),
    "high_value_enabled",
    "high_value_threshold",
    "high_value_include_vip",
    "high_value_min_certainty",
    "carrier_preference_premium",
)
RULE_CONFIG_FIELDS: tuple[str, ...] = (
    "condition",
    "threshold",
    "region",
    "province",
    "service_level",
    "cold_chain_only",
    "effect",
    "factor",
    "amount",
)


def _canonical(value) -> str:
    """One spelling per value: 0.5, 0.50 and Decimal("0.50") alike (a form's, the database's)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float | Decimal):
        return str(Decimal(str(value)).normalize())
    return str(value)


class RoutingProfile(models.Model):
    """How orders are routed: weights per factor, a time window, the high-value policy."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    merchant = models.ForeignKey(
        "oms.Merchant",
        on_delete=models.CASCADE,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        related_name="routing_profiles",
        help_text=_("Empty: applies to every merchant."),
    )
    is_default = models.BooleanField(_("default profile"), default=False)
    enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("Draft profiles stay disabled until simulated and approved."),
    )
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    active_until = models.DateTimeField(_("active until"), null=True, blank=True)
    priority = models.SmallIntegerField(
        _("priority"), default=0, help_text=_("Among profiles active at once, the highest wins.")
    )
    stock = _weight_field("stock")
    status = _weight_field("status")
    capacity = _weight_field("capacity")
    carrier_saturation = _weight_field("carrier_saturation")
    weather = _weight_field("weather")
    courier_load = _weight_field("courier_load")
    shipping_cost = _weight_field("shipping_cost")
    handling_cost = _weight_field("handling_cost")
    lateness = _weight_field("lateness")
    splits = _weight_field("splits")
    distance = _weight_field("distance")
    certainty = _weight_field("certainty")
    price_lateness = _price_field("lateness")
    price_certainty = _price_field("certainty")
    price_splits = _price_field("splits")
    price_stock = _price_field("stock")
    price_status = _price_field("status")
    price_capacity = _price_field("capacity")
    price_carrier_saturation = _price_field("carrier_saturation")
    price_weather = _price_field("weather")
    price_courier_load = _price_field("courier_load")
    price_distance = _price_field("distance")
    price_scarcity = _price_field("scarcity")
    measured_trade_off = models.CharField(
        _("measured trade-off"),
        max_length=200,
        blank=True,
        help_text=_(
            "What a simulation measured against the nearest-warehouse rule, e.g. "
            "'cost +0.40 CNY an order, on time +6 points, last 200 orders'."
        ),
    )
    measured_at = models.DateTimeField(_("measured at"), null=True, blank=True)
    high_value_enabled = models.BooleanField(
        _("dual objective for high-value orders"), default=True
    )
    high_value_threshold = models.DecimalField(
        _("high-value threshold (order value)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=10000,
    )
    high_value_include_vip = models.BooleanField(
        _("VIP customers count as high-value"), default=True
    )
    high_value_min_certainty = models.PositiveSmallIntegerField(
        _("minimum delivery certainty for high-value orders (%)"),
        default=95,
        validators=[MinValueValidator(50), MaxValueValidator(100)],
    )
    carrier_preference_premium = models.DecimalField(
        _("customer's usual carrier: worth up to (¥ per parcel)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=[MinValueValidator(0)],
        help_text=_(
            "A customer who chose one carrier for most past orders (any channel) gets it when "
            "it costs at most this much more. 0: past choices are ignored."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("routing profile")
        verbose_name_plural = _("routing profiles")
        ordering = ["-is_default", "-priority", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="one_default_routing_profile",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def weights_percent(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FACTOR_NAMES}

    def engine_weights(self) -> Weights:
        return Weights(**{k: float(v) for k, v in self.weights_percent().items()})

    def engine_prices(self) -> Prices:
        return Prices(**{name: float(getattr(self, f"price_{name}")) for name in PROFILE_PRICES})

    def prices_in_cny(self) -> dict[str, float] | None:
        """What each factor costs with this profile's weights, in CNY of shipping and handling.

        None when money has no weight (the objective then ignores cost). See
        ``routing.engine.problem.factor_prices`` for the mapping.
        """
        if sum(self.weights_percent().values()) <= 0:
            return None
        return prices_in_cny(self.engine_weights().normalised(), self.engine_prices())

    def trade_off_sentences(self) -> list[str]:
        """The weights in CNY, one sentence per factor with a price, largest effect first."""
        prices = self.prices_in_cny()
        if prices is None:
            return [str(_("Money has no weight: plans ignore cost and follow the other factors."))]
        money = self.shipping_cost + self.handling_cost
        head = _("Money (shipping + handling, %(w)d %%): one CNY counts as one CNY.") % {"w": money}
        order = ["lateness", "certainty", "splits"]
        rest = [f for f in PROFILE_PRICES if f not in order]
        return [str(head)] + [
            str(PRICE_SENTENCES[f] % {"v": f"{prices[f]:.2f}"})
            for f in order + rest
            if prices[f] > 0
        ]

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True) -> None:
        # A weight that failed its own check (a form leaves it out) is not on the instance: the
        # sum would be of the value before, so ``clean`` then leaves the sum alone.
        self._weights_excluded = bool(set(exclude or ()) & set(FACTOR_NAMES))
        try:
            super().full_clean(exclude, validate_unique, validate_constraints)
        finally:
            del self._weights_excluded

    def clean(self) -> None:
        weights = self.weights_percent()
        if getattr(self, "_weights_excluded", False) or any(
            not isinstance(v, int) or v < 0 for v in weights.values()
        ):
            total = 100  # the weight's own error says what is wrong
        else:
            total = sum(weights.values())
        if total != 100:
            raise ValidationError(
                _("Weights must add up to 100 %% (they add up to %(t)d %%).") % {"t": total}
            )
        if self.active_from and self.active_until and self.active_until <= self.active_from:
            raise ValidationError({"active_until": _("Must be after 'active from'.")})
        if self.is_default and not self.enabled:
            raise ValidationError({"enabled": _("The default profile must be enabled.")})

    def is_active_at(self, moment) -> bool:
        return (
            self.enabled
            and (self.active_from is None or self.active_from <= moment)
            and (self.active_until is None or moment < self.active_until)
        )

    @property
    def version(self) -> int:
        """This profile's version: 1 for its first recorded state, one more for each change.

        Counted over the profile's own history records (django-simple-history), so every
        profile has versions 1, 2, 3, ... whatever other profiles did meanwhile; 0 before any
        record exists. A decision stores the version it was made with.
        """
        return self.history.count()

    def versions_by_history_id(self) -> dict[int, int]:
        """This profile's version number of each of its history records."""
        ids = self.history.order_by("history_id").values_list("history_id", flat=True)
        return {history_id: n for n, history_id in enumerate(ids, start=1)}

    def config_digest(self, rules=None) -> str:
        """A fingerprint of how this profile routes: ``CONFIG_FIELDS`` and its enabled rules.

        Two states with the same digest route every order alike, so a simulation of one stands
        for the other. ``rules`` (dicts of ``RULE_CONFIG_FIELDS``) defaults to the stored ones.
        """
        if rules is None:
            rules = (
                list(self.rules.filter(enabled=True).values(*RULE_CONFIG_FIELDS)) if self.pk else []
            )
        body = {
            "profile": {name: _canonical(getattr(self, name)) for name in CONFIG_FIELDS},
            "rules": sorted(
                json.dumps({k: _canonical(rule[k]) for k in RULE_CONFIG_FIELDS}, sort_keys=True)
                for rule in rules
            ),
        }
        encoded = json.dumps(body, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()


class ProfileSimulation(models.Model):
    """A what-if run of one version of a profile on recent real orders, kept with the version.

    A draft profile is enabled only when a completed run exists for exactly the configuration
    being enabled (same ``config_digest``); ``profile_version`` says which version was run.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    profile = models.ForeignKey(
        RoutingProfile,
        on_delete=models.CASCADE,
        related_name="simulations",
        verbose_name=_("routing profile"),
    )
    profile_version = models.PositiveIntegerField(_("profile version"))
    config_digest = models.CharField(_("configuration fingerprint"), max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.COMPLETED
    )
    orders = models.PositiveIntegerField(_("orders replayed"), default=0)
    report = models.JSONField(_("report"), default=dict)
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run by"),
    )

    class Meta:
        verbose_name = _("profile simulation")
        verbose_name_plural = _("profile simulations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.profile} v{self.profile_version}: {self.get_status_display()}"


class RoutingRule(models.Model):
    """A rule operations staff write without code (see ``routing.engine.problem.Rule``)."""

    profile = models.ForeignKey(
        RoutingProfile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="rules"
    )
    name = models.CharField(_("name"), max_length=120)
    enabled = models.BooleanField(_("enabled"), default=True)
    condition = models.CharField(
        _("when"),
        max_length=40,
        choices=[
            (RuleCondition.ALWAYS.value, _("always")),
            (RuleCondition.WEATHER_AT_LEAST.value, _("weather alert on the route at least")),
            (
                RuleCondition.CARRIER_SATURATION_AT_LEAST.value,
                _("carrier saturation at the origin at least"),
            ),
            (RuleCondition.NODE_DEGRADED.value, _("warehouse degraded")),
        ],
    )
    threshold = models.FloatField(
        _("threshold"),
        default=0,
        help_text=_("Weather: 1 blue, 2 yellow, 3 orange, 4 red. Saturation: 0..1."),
    )
    region = models.CharField(
        _("region"),
        max_length=20,
        choices=Region.choices,
        blank=True,
        help_text=_("Empty: any region."),
    )
    province = models.CharField(
        _("province"),
        max_length=40,
        blank=True,
        help_text=_("Empty: any province of the region."),
    )
    cold_chain_only = models.BooleanField(_("only cold-chain warehouses"), default=False)
    service_level = models.CharField(
        _("only carrier services of level"),
        max_length=20,
        blank=True,
        choices=SERVICE_LEVELS,
        help_text=_("Empty: any shipment. E.g. cold chain: down-weight cold-chain carriers."),
    )
    effect = models.CharField(
        _("then"),
        max_length=20,
        choices=[
            (RuleEffect.EXCLUDE.value, _("exclude the warehouse (or carrier service)")),
            (
                RuleEffect.DOWN_WEIGHT.value,
                _("down-weight the warehouse (or carrier service) by amount (0..1)"),
            ),
            (RuleEffect.SCALE_WEIGHT.value, _("multiply a factor's weight by amount")),
        ],
    )
    factor = models.CharField(
        _("factor"),
        max_length=30,
        blank=True,
        choices=[(name, FACTOR_LABELS[name]) for name in FACTOR_NAMES],
    )
    amount = models.FloatField(_("amount"), default=0.5)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["profile_id", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.effect == RuleEffect.SCALE_WEIGHT and not self.factor:
            raise ValidationError({"factor": _("Say which factor's weight to scale.")})
        if self.effect == RuleEffect.DOWN_WEIGHT and not 0 <= self.amount <= 1:
            raise ValidationError({"amount": _("A down-weight is a share between 0 and 1.")})
        if self.effect == RuleEffect.SCALE_WEIGHT and self.amount < 0:
            raise ValidationError({"amount": _("A weight multiplier cannot be negative.")})


class Lane(models.Model):
    """Carrier service from a warehouse to a destination region: price, time, track record."""

    warehouse = models.ForeignKey(
        "oms.Warehouse", verbose_name=_("warehouse"), on_delete=models.CASCADE, related_name="lanes"
    )
    region = models.CharField(_("destination region"), max_length=20, choices=Region.choices)
    carrier = models.CharField(_("carrier"), max_length=60)
    shipping_cost = models.DecimalField(
        _("shipping cost per parcel"), max_digits=10, decimal_places=2
    )
    transit_hours = models.FloatField(_("transit hours"), validators=[MinValueValidator(0)])
    on_time_rate = models.FloatField(
        _("historic on-time rate"),
        default=0.97,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )

    class Meta:
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")
        ordering = ["warehouse_id", "region"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "region"], name="one_lane_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code} → {self.get_region_display()} ({self.carrier})"


class Carrier(models.Model):
    """A carrier the merchant has a contract with (its services carry the prices)."""

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=80)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["merchant_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="carrier_code_per_merchant")
        ]

    def __str__(self) -> str:
        return self.name


class CarrierService(models.Model):
    """One service of a carrier: its level, what it may carry, weight rules and daily capacity."""

    carrier = models.ForeignKey(
        Carrier, verbose_name=_("carrier"), on_delete=models.CASCADE, related_name="services"
    )
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=80)
    level = models.CharField(_("service level"), max_length=20, choices=SERVICE_LEVELS)
    chilled = models.BooleanField(_("carries chilled goods"), default=False)
    frozen = models.BooleanField(_("carries frozen goods"), default=False)
    volumetric_divisor = models.PositiveIntegerField(
        _("volumetric divisor (cm³ per kg)"),
        default=8000,
        validators=[MinValueValidator(1000)],
        help_text=_("Billable weight is the larger of actual kg and cm³ / this divisor."),
    )
    remote_surcharge = models.DecimalField(
        _("remote-area surcharge (¥ per parcel)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )
    daily_capacity = models.PositiveIntegerField(
        _("daily capacity (parcels per warehouse)"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    same_city_only = models.BooleanField(
        _("same city only"),
        default=False,
        help_text=_("A same-day courier: delivers only in the warehouse's own city."),
    )
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("carrier service")
        verbose_name_plural = _("carrier services")
        ordering = ["carrier_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="service_code_per_carrier")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.level == ServiceLevel.COLD_CHAIN and not (self.chilled or self.frozen):
            raise ValidationError(
                {"chilled": _("A cold-chain service carries chilled or frozen goods.")}
            )


class CarrierRate(models.Model):
    """One line of a rate card: a service from an origin province to a destination.

    The destination is a province or a zone (1 within the province, 2 up to 600 km, 3 up to
    1,200 km, 4 up to 2,000 km, 5 beyond, between the provinces' capitals); an empty origin
    means every origin. Routing takes the most specific line: origin and province, any origin
    and province, origin and zone, any origin and zone.
    """

    service = models.ForeignKey(
        CarrierService, verbose_name=_("service"), on_delete=models.CASCADE, related_name="rates"
    )
    origin_province = models.CharField(
        _("origin province"), max_length=40, blank=True, help_text=_("Empty: any origin.")
    )
    destination_province = models.CharField(_("destination province"), max_length=40, blank=True)
    zone = models.PositiveSmallIntegerField(
        _("zone"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    first_weight_kg = models.DecimalField(
        _("first weight (kg)"), max_digits=6, decimal_places=2, default=Decimal("1")
    )
    first_price = models.DecimalField(_("first weight price (¥)"), max_digits=8, decimal_places=2)
    additional_per_kg = models.DecimalField(
        _("each additional kg (¥)"), max_digits=8, decimal_places=2
    )
    transit_hours = models.FloatField(_("transit hours"), validators=[MinValueValidator(0)])
    on_time_rate = models.FloatField(
        _("on-time rate"), default=0.97, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("rate card line")
        verbose_name_plural = _("rate card")
        ordering = ["service_id", "origin_province", "zone", "destination_province"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(zone__isnull=True) & ~Q(destination_province=""))
                | (Q(zone__isnull=False) & Q(destination_province="")),
                name="rate_province_or_zone",
            ),
            # One rate per lane: two partial constraints rather than NULLS NOT DISTINCT, which
            # SQLite cannot enforce (a row names a province or a zone, never both).
            models.UniqueConstraint(
                fields=["service", "origin_province", "destination_province"],
                condition=Q(zone__isnull=True),
                name="one_rate_per_province_lane",
            ),
            models.UniqueConstraint(
                fields=["service", "origin_province", "zone"],
                condition=Q(zone__isnull=False),
                name="one_rate_per_zone_lane",
            ),
            models.CheckConstraint(condition=Q(first_price__gte=0), name="rate_first_price_gte_0"),
            models.CheckConstraint(
                condition=Q(additional_per_kg__gte=0), name="rate_additional_gte_0"
            ),
        ]

    def __str__(self) -> str:
        to = self.destination_province or f"zone {self.zone}"
        return f"{self.service}: {self.origin_province or '*'} → {to}"

    def clean(self) -> None:
        if bool(self.destination_province) == (self.zone is not None):
            raise ValidationError(
                {"zone": _("Give either a destination province or a zone, not both.")}
            )


class WarehouseCarrier(models.Model):
    """A carrier service picking up at a warehouse; at most one is the warehouse's default."""

    warehouse = models.ForeignKey(
        "oms.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.CASCADE,
        related_name="carrier_services",
    )
    service = models.ForeignKey(
        CarrierService,
        verbose_name=_("carrier service"),
        on_delete=models.CASCADE,
        related_name="warehouses",
    )
    is_default = models.BooleanField(_("default"), default=False)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("warehouse carrier service")
        verbose_name_plural = _("warehouse carrier services")
        ordering = ["warehouse_id", "service_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "service"], name="one_link_per_warehouse_service"
            ),
            models.UniqueConstraint(
                fields=["warehouse"],
                condition=Q(is_default=True),
                name="one_default_carrier_per_warehouse",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse} · {self.service}"

    def clean(self) -> None:
        if self.warehouse_id and self.service_id:
            same_merchant(self.warehouse.merchant_id, service=self.service.carrier)


class PromiseHold(models.Model):
    """A soft hold a delivery promise placed for the order a checkout is about to create.

    What the option the buyer took needs (``routing.engine.holds``): units per warehouse and
    SKU, and a parcel per shipment (of the warehouse's daily parcels and of the carrier
    service's), kept out of every other order's routing and promise until ``expires_at`` or
    until the order with ``external_id`` is routed (``consumed_at``). Not stock bookkeeping:
    nothing is reserved, and an expired hold simply stops counting.
    """

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    external_id = models.CharField(_("order reference"), max_length=64)
    units = models.JSONField(_("units held"), default=list)  # [[warehouse, sku, units], ...]
    parcels = models.JSONField(_("parcels held"), default=list)  # [[warehouse, service], ...]
    promised_at = models.DateTimeField(_("promised by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("promise hold")
        verbose_name_plural = _("promise holds")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "external_id"], name="one_promise_hold_per_order_reference"
            )
        ]
        indexes = [models.Index(fields=["merchant", "expires_at"], name="promise_hold_live_idx")]

    def __str__(self) -> str:
        return self.external_id


class Signal(models.Model):
    """Common fields of a live signal: where it came from, when, and until when it holds.

    A signal with a merchant steers only that merchant's routing (pushed through its API key);
    one without (a feed, or staff in admin) steers everyone's.
    """

    merchant = models.ForeignKey(
        "oms.Merchant",
        on_delete=models.CASCADE,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: applies to every merchant."),
    )
    source = models.CharField(_("source"), max_length=80)
    observed_at = models.DateTimeField(_("observed at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def is_stale(self) -> bool:
        return self.expires_at <= timezone.now()


class WeatherAlert(Signal):
    class Level(models.IntegerChoices):
        NONE = 0, _("none")
        BLUE = 1, _("blue")
        YELLOW = 2, _("yellow")
        ORANGE = 3, _("orange")
        RED = 4, _("red")

    region = models.CharField(_("region"), max_length=20, choices=Region.choices)
    province = models.CharField(
        _("province"), max_length=40, blank=True, help_text=_("Empty: the whole region.")
    )
    level = models.PositiveSmallIntegerField(_("alert level"), choices=Level.choices)

    class Meta:
        verbose_name = _("weather alert")
        verbose_name_plural = _("weather alerts")
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["region", "-observed_at"], name="weather_region_idx")]

    def __str__(self) -> str:
        where = self.province or self.get_region_display()
        return f"{where}: {self.get_level_display()}"


class CarrierCapacity(Signal):
    region = models.CharField(_("origin region"), max_length=20, choices=Region.choices)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    service_level = models.CharField(
        _("carrier type"),
        max_length=20,
        blank=True,
        choices=SERVICE_LEVELS,
        help_text=_("Empty: every carrier type picking up in the region."),
    )
    saturation = models.FloatField(
        _("saturation (0..1)"), validators=[MinValueValidator(0), MaxValueValidator(1)]
    )

    class Meta:
        verbose_name = _("carrier capacity")
        verbose_name_plural = _("carrier capacity")
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["region", "-observed_at"], name="carrier_region_idx")]

    def __str__(self) -> str:
        return f"{self.get_region_display()} {self.carrier}: {self.saturation:.0%}"


class CourierLoad(Signal):
    warehouse = models.ForeignKey(
        "oms.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.CASCADE,
        related_name="courier_loads",
    )
    load = models.FloatField(
        _("load (0..1)"), validators=[MinValueValidator(0), MaxValueValidator(1)]
    )

    class Meta:
        verbose_name = _("courier load")
        verbose_name_plural = _("courier loads")
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["warehouse", "-observed_at"], name="courier_warehouse_idx")]

    def __str__(self) -> str:
        return f"{self.warehouse.code}: {self.load:.0%}"

    def clean(self) -> None:
        same_merchant(self.merchant_id, warehouse=self.warehouse if self.warehouse_id else None)


class RoutingDecision(models.Model):
    """One routing decision: the plan, how it was found, and why, in numbers and words.

    A merged fulfilment has one decision for all its orders: ``order`` is the order whose
    routing merged them, ``consolidation`` names the others.
    """

    class Outcome(models.TextChoices):
        ROUTED = "routed", _("routed")
        UNROUTABLE = "unroutable", _("unroutable")
        FAILED = "failed", _("could not be applied")
        SUPERSEDED = "superseded", _("replaced by a merged fulfilment's decision")

    order = models.ForeignKey(
        "oms.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="routing_decisions",
    )
    consolidation = models.ForeignKey(
        "oms.Consolidation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routing_decisions",
        verbose_name=_("merged fulfilment"),
        help_text=_("Set when the order was routed together with other orders of its customer."),
    )
    created_at = models.DateTimeField(_("decided at"), auto_now_add=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    profile = models.ForeignKey(
        RoutingProfile, verbose_name=_("profile"), on_delete=models.SET_NULL, null=True, blank=True
    )
    profile_name = models.CharField(_("profile"), max_length=80, blank=True)
    profile_version = models.PositiveIntegerField(_("profile version"), default=0)
    method = models.CharField(_("solver / method"), max_length=40)
    optimal = models.BooleanField(_("proved optimal"), default=False)
    objective = models.FloatField(_("objective"), default=0)
    cost = models.DecimalField(_("fulfilment cost"), max_digits=12, decimal_places=2, default=0)
    duration_ms = models.FloatField(_("decision time (ms)"), default=0)
    mode = models.CharField(_("mode"), max_length=10, default="single")
    shipments = models.JSONField(_("chosen nodes"), default=list)
    winner = models.JSONField(_("winner's factor contributions"), default=dict)
    runners_up = models.JSONField(_("runners-up"), default=list)
    rejected = models.JSONField(_("rejected candidates"), default=list)
    explanation = models.TextField(_("explanation"), blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    notes = models.JSONField(_("notes"), default=list)
    facts = models.JSONField(
        _("facts"),
        default=dict,
        blank=True,
        help_text=_(
            "What the explanation is rendered from, in the reader's language: the trade-off, "
            "partial-stock candidates, weights. Empty on decisions stored before them: their "
            "stored text is shown."
        ),
    )

    class Meta:
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing decisions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(
            _("Decision %(id)s for order %(order)s: %(outcome)s")
            % {"id": self.pk, "order": self.order_id, "outcome": self.get_outcome_display()}
        )
