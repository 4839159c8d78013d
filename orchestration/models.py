"""Order services: the atom catalogue, templates (DAGs of atoms), per-order steps, SLAs,
customer interventions and merchant webhooks.

Configuration (atoms, templates and their steps, webhook subscriptions) is edited in admin and
keeps a full history. A routed order gets one ``ServiceStep`` per template step; each step runs
its atom's handler (looked up in ``orchestration.registry``) once its upstream steps are done.
The order's status as customers see it is derived from these steps (``orchestration.selectors``).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oms.crypto import EncryptedCharField
from oms.history import history_user
from oms.outbound import validate_outbound_url
from oms.stored_text import say
from orchestration import registry


def _handler_choices() -> list[tuple[str, str]]:
    return registry.choices()


class ServiceAtom(models.Model):
    """One service the business can perform for an order (deliver, install, lock a serial...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_zh = models.CharField(_("label (Chinese)"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    handler = models.CharField(_("handler"), max_length=60, choices=_handler_choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    sla = models.DurationField(
        _("SLA"), default=timedelta(hours=24), help_text=_("From ready to done, e.g. 1 02:00:00.")
    )
    max_attempts = models.PositiveSmallIntegerField(_("max attempts"), default=5)
    backoff_seconds = models.PositiveIntegerField(
        _("first retry after (s)"), default=30, help_text=_("Doubles on every attempt.")
    )
    backoff_max_seconds = models.PositiveIntegerField(_("longest retry wait (s)"), default=3600)
    customer_may_intervene = models.BooleanField(_("customer may intervene"), default=False)
    external_system = models.CharField(
        _("external system"),
        max_length=80,
        blank=True,
        help_text=_(
            "Who really performs it (carrier, factory MES, customs broker), for SLA reports."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("service atom")
        verbose_name_plural = _("service atoms")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="atom_max_attempts_gte_1")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.label})"

    @property
    def label(self) -> str:
        """The customer-facing label in the active language."""
        language = translation.get_language() or ""
        if language.startswith("zh") and self.label_zh:
            return self.label_zh
        return self.label_en

    def clean(self) -> None:
        if self.handler and not registry.is_registered(self.handler):
            raise ValidationError({"handler": _("Unknown handler %(h)s.") % {"h": self.handler}})
        if not isinstance(self.parameters, dict):
            raise ValidationError({"parameters": _("Parameters must be a JSON object.")})


class ServiceTemplate(models.Model):
    """Which services an order gets: a DAG of atoms, chosen by a matching rule.

    Rule: every non-empty criterion must hold for at least one line of the order (category,
    temperature class) or for the order itself (merchant, channel kind); among the matching
    enabled templates the highest priority wins, then the most specific.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="service_templates",
        help_text=_("Empty: any merchant."),
    )
    match_category = models.CharField(
        _("product category"), max_length=80, blank=True, help_text=_("Empty: any category.")
    )
    match_temperature_class = models.CharField(
        _("temperature class"), max_length=10, blank=True, help_text=_("Empty: any.")
    )
    match_channel_kind = models.CharField(
        _("channel kind (order type)"), max_length=20, blank=True, help_text=_("Empty: any.")
    )
    priority = models.SmallIntegerField(_("priority"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("service template")
        verbose_name_plural = _("service templates")
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return self.name

    def graph(self) -> dict[str, list[str]]:
        from orchestration.dag import parse_keys

        return {s.key: parse_keys(s.depends_on) for s in self.steps.all()}


class TemplateStep(models.Model):
    """One node of a template's DAG: an atom under a key, after the steps it depends on."""

    template = models.ForeignKey(
        ServiceTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="steps"
    )
    key = models.SlugField(_("key"), max_length=40)
    atom = models.ForeignKey(
        ServiceAtom, verbose_name=_("atom"), on_delete=models.PROTECT, related_name="template_steps"
    )
    depends_on = models.CharField(
        _("depends on"),
        max_length=300,
        blank=True,
        help_text=_("Keys of the steps that must be done first, comma-separated."),
    )
    parameters = models.JSONField(
        _("parameter overrides"), default=dict, blank=True, help_text=_("Merged over the atom's.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("template step")
        verbose_name_plural = _("template steps")
        ordering = ["template_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="template_step_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template.code}:{self.key}"


class OrderTracking(models.Model):
    """An order's service plan and its customer link: a random token, revocable."""

    order = models.OneToOneField(
        "oms.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="tracking"
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    template = models.ForeignKey(
        ServiceTemplate,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order tracking")
        verbose_name_plural = _("order trackings")

    def __str__(self) -> str:
        return f"tracking of order {self.order_id}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    READY = "ready", _("Ready")
    RUNNING = "running", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STEP_STATUSES = (StepStatus.WAITING, StepStatus.READY, StepStatus.RUNNING)

# Timeline kind of a carrier's scan of a parcel at a hub (``services.parcels``)
PARCEL_SCAN = "parcel_scan"


class ServiceStep(models.Model):
    """One atom performed for one order; ``upstream`` steps must be done before it is ready.

    The deadline is set when the step becomes ready (ready time + the atom's SLA). ``result``
    holds what the handler wrote (booking references, serials, amounts); ``plan_version``
    grows when a customer intervention re-plans the step, so a re-run books anew.
    """

    order = models.ForeignKey(
        "oms.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="service_steps"
    )
    atom = models.ForeignKey(
        ServiceAtom, verbose_name=_("atom"), on_delete=models.PROTECT, related_name="steps"
    )
    key = models.SlugField(_("key"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    upstream = models.ManyToManyField(
        "self",
        verbose_name=_("upstream steps"),
        symmetrical=False,
        related_name="downstream",
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("max attempts"), default=5)
    plan_version = models.PositiveSmallIntegerField(_("plan version"), default=1)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    eta = models.DateTimeField(_("ETA"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("service step")
        verbose_name_plural = _("service steps")
        ordering = ["order_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], name="service_step_key_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="step_status_deadline_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="step_status_retry_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(key)s of order %(order)s (%(status)s)") % {
            "key": self.key,
            "order": self.order_id,
            "status": self.get_status_display(),
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STEP_STATUSES

    @property
    def last_error_said(self) -> str:
        """The last error in the viewer's language when the handler said it as a message."""
        return say((self.result or {}).get("last_error_text"), self.last_error)


class PickupPoint(models.Model):
    """A place where a customer can collect an order instead of a home delivery."""

    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pickup_points",
        help_text=_("Empty: open to every merchant's orders (a public locker network)."),
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    city = models.CharField(_("city"), max_length=60)
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5)
    opening_hours = models.CharField(_("opening hours"), max_length=80, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")
        ordering = ["city", "code"]

    def __str__(self) -> str:
        return self.name


class InterventionKind(models.TextChoices):
    RESCHEDULE = "reschedule", _("Reschedule")
    PICKUP = "pickup", _("Switch to a pickup point")


class InterventionRequest(models.Model):
    """A change a customer asked for, waiting for the one-time code sent to the phone on record.

    Only a salted hash of the code is kept; it expires and allows a few attempts.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the code")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")
        LOCKED = "locked", _("Too many wrong codes")

    tracking = models.ForeignKey(
        OrderTracking,
        verbose_name=_("tracking"),
        on_delete=models.CASCADE,
        related_name="interventions",
    )
    step = models.ForeignKey(
        ServiceStep, verbose_name=_("step"), on_delete=models.CASCADE, related_name="interventions"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=InterventionKind.choices)
    payload = models.JSONField(_("what was asked"), default=dict)
    code_hash = models.CharField(verbose_name=_("code hash"), max_length=128)
    expires_at = models.DateTimeField(_("code expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer intervention")
        verbose_name_plural = _("customer interventions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} of step {self.step_id} ({self.state})"


CAUSE_KINDS = {
    "upstream_step": _("an earlier step was late"),
    "external_system": _("external system"),
    "this_step": _("this step"),
    "worker_queue": _("no worker took the step"),
}


class SlaAlert(models.Model):
    """A step past its deadline, with the root cause: which step or system was late, and why."""

    step = models.ForeignKey(
        ServiceStep, verbose_name=_("step"), on_delete=models.CASCADE, related_name="sla_alerts"
    )
    order = models.ForeignKey(
        "oms.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="sla_alerts"
    )
    atom = models.ForeignKey(
        ServiceAtom, verbose_name=_("atom"), on_delete=models.CASCADE, related_name="sla_alerts"
    )
    deadline = models.DateTimeField(_("deadline"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True, db_index=True)
    cause_kind = models.CharField(_("cause"), max_length=20)
    cause_label = models.CharField(_("late party"), max_length=160)
    summary = models.CharField(_("summary"), max_length=500)
    report = models.JSONField(_("root-cause report"), default=dict)
    notified = models.JSONField(_("notified"), default=list)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sla_alerts",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "deadline"], name="sla_alert_once_per_deadline")
        ]

    def __str__(self) -> str:
        return gettext("SLA breach of %(atom)s on order %(order)s") % {
            "atom": self.atom.code,
            "order": self.order_id,
        }

    @property
    def cause_said(self) -> str:
        """The late party in the viewer's language (as stored for alerts before codes)."""
        return say((self.report or {}).get("cause_text"), self.cause_label)

    @property
    def summary_said(self) -> str:
        return say((self.report or {}).get("summary_text"), self.summary)

    @property
    def cause_kind_label(self) -> str:
        return str(CAUSE_KINDS.get(self.cause_kind, self.cause_kind))


class WebhookEventType(models.TextChoices):
    ANY = "*", _("Every event")
    STEP_DONE = "service.step_done", _("A service step is done")
    STEP_FAILED = "service.step_failed", _("A service step failed")
    INTERVENTION = "service.intervention", _("A customer changed a service")
    SLA_BREACHED = "service.sla_breached", _("A service step breached its SLA")
    SERVICES_COMPLETED = "service.completed", _("Every service of an order is done")


class WebhookSubscription(models.Model):
    """Where a merchant wants to hear about one event type, and the secrets to sign with.

    During a rotation both ``secret`` and ``previous_secret`` sign every delivery, so the
    merchant can switch its verifier at any moment before ``previous_secret_expires_at``.
    """

    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    event_type = models.CharField(_("event type"), max_length=40, choices=WebhookEventType.choices)
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedCharField(_("signing secret"), max_length=100)  # oms.crypto
    previous_secret = EncryptedCharField(_("previous secret"), max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(
        get_user=history_user, excluded_fields=["secret", "previous_secret"]
    )

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["merchant_id", "event_type", "id"]

    def __str__(self) -> str:
        return f"{self.merchant} {self.event_type} -> {self.url}"

    def clean(self) -> None:
        super().clean()
        if self.url:
            try:
                validate_outbound_url(self.url)
            except ValidationError as exc:
                raise ValidationError({"url": exc.messages}) from None


class WebhookEvent(models.Model):
    """One event for one merchant, written in the transaction that caused it (the outbox)."""

    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    event_type = models.CharField(_("event type"), max_length=40)
    order = models.ForeignKey(
        "oms.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookDelivery(models.Model):
    """Delivery of one event to one subscription: at least once, retried with backoff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        GAVE_UP = "gave_up", _("Gave up")

    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        verbose_name=_("last status code"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhook_delivery_once_per_subscription"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription_id} ({self.state})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.FloatField(_("duration (ms)"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery_id", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
