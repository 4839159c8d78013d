"""The customer master: golden customers, the identities that point at them, and why.

An ``Identity`` is one sighting of a person (an order, a CSV row): channel account, device,
keyed phone digest, name and parsed address, stored as the matching core's fingerprint. It is
filed under blocking keys (``IdentityKey``) so resolving a new sighting reads only the rows
sharing a key. Every link stores its outcome, score and reasons. Merges are recorded in
``CustomerMerge`` with what moved, so an unmerge puts identities and orders back.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oms.history import history_user
from oms.tenancy import same_merchant


class Customer(models.Model):
    merchant = models.ForeignKey(
        "oms.Merchant",
        on_delete=models.CASCADE,
        related_name="customers",
        verbose_name=_("merchant"),
    )
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    phone_masked = models.CharField(_("phone (masked)"), max_length=32, blank=True)
    vip = models.BooleanField(_("VIP"), default=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="absorbed",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)
    _change_reason: str  # set before a save; the history record keeps it

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.display_name or f"customer #{self.pk}"

    def clean(self) -> None:
        same_merchant(
            self.merchant_id, merged_into=self.merged_into if self.merged_into_id else None
        )


class Identity(models.Model):
    class Outcome(models.TextChoices):
        LINK = "link", _("linked")
        REVIEW = "review", _("kept apart, flagged for review")
        NEW = "new", _("new customer")
        MANUAL = "manual", _("set by staff")

    # No index of its own: (merchant, record_id) leads with it. With one, a merchant whose
    # statistics are stale (new, or grown since the last ANALYZE) could get plans that read all
    # of its rows through it instead of the unique index.
    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="identities"
    )
    record_id = models.CharField(_("source record"), max_length=80)
    channel = models.CharField(_("channel"), max_length=40, blank=True)
    account_key = models.CharField(_("channel account"), max_length=120, blank=True)
    device_id = models.CharField(_("device id"), max_length=120, blank=True)
    phone_digest = models.CharField(_("phone (keyed digest)"), max_length=64, blank=True)
    phone_masked = models.CharField(_("phone (masked)"), max_length=32, blank=True)
    name = models.CharField(_("name"), max_length=80, blank=True)
    fingerprint = models.JSONField(_("fingerprint"))
    observed_at = models.DateTimeField(_("observed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    score = models.FloatField(_("score"), default=0)
    reasons = models.JSONField(_("why"), default=list)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["fingerprint"])

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "record_id"], name="identity_record_unique_per_merchant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id} → {self.customer_id}"

    def clean(self) -> None:
        same_merchant(self.merchant_id, customer=self.customer if self.customer_id else None)


class IdentityKey(models.Model):
    """A blocking key an identity is filed under (phone digest, device, account, address...)."""

    # No index of its own: identity_key_recent_idx leads with it. With one, a merchant whose
    # statistics are stale (new, or grown since the last ANALYZE) got plans that read all of
    # its keys through it (70 ms per resolution at 100,000 keys) instead of the key index.
    merchant = models.ForeignKey(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    identity = models.ForeignKey(
        Identity, verbose_name=_("identity"), on_delete=models.CASCADE, related_name="keys"
    )
    key = models.CharField(verbose_name=_("key"), max_length=160)

    class Meta:
        # With the identity id in the index, "the newest n identities under this key" is a
        # backward index-only scan that stops after n entries, however hot the key is.
        indexes = [
            models.Index(fields=["merchant", "key", "identity"], name="identity_key_recent_idx")
        ]

    def __str__(self) -> str:
        return self.key


class MatchRuleSet(models.Model):
    """Weights and thresholds of the matcher, as JSON operations staff edit (see the help)."""

    merchant = models.OneToOneField(
        "oms.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="match_rules",
        help_text=_("Empty: the default for everyone."),
    )
    rules = models.JSONField(
        _("rules"),
        default=dict,
        blank=True,
        help_text=_(
            'e.g. {"link_threshold": 10, "review_threshold": 5, "weights": {"phone_same": 6}, '
            '"phone_recycle_days": 540}. Unknown names are refused.'
        ),
    )
    merge_window_minutes = models.PositiveIntegerField(
        _("merge window (minutes)"),
        default=30,
        help_text=_(
            "Orders of one customer within this window that can ship together ship as one."
        ),
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)
    _change_reason: str  # set before a save; the history record keeps it

    class Meta:
        verbose_name = _("matching rules")
        verbose_name_plural = _("matching rules")

    def __str__(self) -> str:
        return f"rules for {self.merchant or 'everyone'}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from customers.matching import MatchRules

        try:
            MatchRules.from_mapping(self.rules or {})
        except (ValueError, TypeError) as exc:
            raise ValidationError({"rules": str(exc)}) from exc


class ReviewItem(models.Model):
    """A doubtful match kept apart until a person decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MERGED = "merged", _("merged by staff")
        KEPT_APART = "kept_apart", _("kept apart by staff")

    identity = models.ForeignKey(
        Identity, verbose_name=_("identity"), on_delete=models.CASCADE, related_name="reviews"
    )
    suggested_customer = models.ForeignKey(
        Customer, verbose_name=_("suggested customer"), on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("why"), default=list)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(verbose_name=_("decided at"), null=True, blank=True)
    decided_by = models.CharField(verbose_name=_("decided by"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("match to review")
        verbose_name_plural = _("matches to review")
        ordering = ["status", "-created_at"]

    def __str__(self) -> str:
        return f"review {self.identity} ~ {self.suggested_customer_id}"


class CustomerMerge(models.Model):
    """One merge, with exactly what moved, so it can be undone."""

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    survivor = models.ForeignKey(
        Customer, verbose_name=_("survivor"), on_delete=models.CASCADE, related_name="merges_in"
    )
    absorbed = models.ForeignKey(
        Customer, verbose_name=_("absorbed"), on_delete=models.CASCADE, related_name="merges_out"
    )
    reason = models.CharField(_("reason"), max_length=300)
    actor = models.CharField(_("by"), max_length=120)
    moved_identity_ids = models.JSONField(verbose_name=_("moved identity ids"), default=list)
    moved_order_ids = models.JSONField(verbose_name=_("moved order ids"), default=list)
    # Gift ledger rows of the absorbed customer (channels.GiftGrant) now held by the survivor,
    # and the grants dropped because both held one campaign (restored by an unmerge). Written
    # by the channels app's receiver of ``customers_merged`` (``channels.gift_merges``).
    moved_gift_grant_ids = models.JSONField(verbose_name=_("moved gift grant ids"), default=list)
    dropped_gift_grants = models.JSONField(verbose_name=_("dropped gift grants"), default=list)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    undone_at = models.DateTimeField(verbose_name=_("undone at"), null=True, blank=True)
    undone_by = models.CharField(verbose_name=_("undone by"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.absorbed_id} → {self.survivor_id}"


class RuleSetVersion(models.Model):
    """A version of a merchant's matching rules: a draft (fitted), the active one, or retired.

    Activating a version copies its rules into the merchant's ``MatchRuleSet`` (which the
    online resolve reads) and re-resolves the merchant's identities in the background; the
    version active before is retired and can be activated again to undo it. The first
    activation keeps the rules in force until then as a retired version of their own.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    class Origin(models.TextChoices):
        FITTED = "fitted", _("fitted to the merchant's identities")
        SNAPSHOT = "snapshot", _("rules in force before a version was activated")

    class Resolve(models.TextChoices):
        NONE = "", _("not run")
        PENDING = "pending", _("re-resolving")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    merchant = models.ForeignKey(
        "oms.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    label = models.CharField(_("label"), max_length=120)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    rules = models.JSONField(_("rules"), default=dict)
    fit_report = models.JSONField(_("fit"), default=dict, blank=True)
    comparison = models.JSONField(_("compared with the active rules"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    activated_by = models.CharField(_("activated by"), max_length=120, blank=True)
    resolve_status = models.CharField(
        _("re-resolve"), max_length=10, choices=Resolve.choices, default=Resolve.NONE, blank=True
    )
    resolve_report = models.JSONField(_("re-resolve report"), default=dict, blank=True)
    history = HistoricalRecords(get_user=history_user)
    _change_reason: str  # set before a save; the history record keeps it

    class Meta:
        verbose_name = _("matching rule set version")
        verbose_name_plural = _("matching rule set versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant"],
                condition=models.Q(status="active"),
                name="one_active_rule_set_version_per_merchant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from customers.matching import MatchRules

        try:
            MatchRules.from_mapping(self.rules or {})
        except (ValueError, TypeError) as exc:
            raise ValidationError({"rules": str(exc)}) from exc


class CustomerSplit(models.Model):
    """One split: identities (and their orders) moved from a customer to a new one, so it is
    audited like a merge and a merge of the two undoes it."""

    merchant = models.ForeignKey(
        "oms.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    source = models.ForeignKey(
        Customer, verbose_name=_("source"), on_delete=models.CASCADE, related_name="splits_out"
    )
    created = models.ForeignKey(
        Customer, verbose_name=_("created"), on_delete=models.CASCADE, related_name="splits_in"
    )
    reason = models.CharField(_("reason"), max_length=300)
    actor = models.CharField(_("by"), max_length=120)
    moved_identity_ids = models.JSONField(verbose_name=_("moved identity ids"), default=list)
    moved_order_ids = models.JSONField(verbose_name=_("moved order ids"), default=list)
    # Gift ledger rows whose order moved (written by the channels app's receiver of
    # ``customers_split``) and merged fulfilments whose orders all moved.
    moved_gift_grant_ids = models.JSONField(verbose_name=_("moved gift grant ids"), default=list)
    moved_consolidation_ids = models.JSONField(
        verbose_name=_("moved consolidation ids"), default=list
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer split")
        verbose_name_plural = _("customer splits")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.created_id}"
