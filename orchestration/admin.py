"""Order services in admin: the atom catalogue, templates with their DAG validated as inlines,
per-order steps (complete, retry), status-page links (revoke), SLA alerts with their root cause,
pickup points, and webhooks (subscriptions with secret rotation, deliveries with replay)."""

import json

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline

from oms.adminkit import NeverDeletedMixin, TenantLockedMixin, TrimmedDecimalsMixin, details_html
from oms.selectors import merchant_zone
from oms.stored_text import event_kind, say
from orchestration import customer_text
from orchestration.models import (
    InterventionRequest,
    OrderTracking,
    PickupPoint,
    ServiceAtom,
    ServiceStep,
    ServiceTemplate,
    SlaAlert,
    StepStatus,
    TemplateStep,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from orchestration.services.plans import template_problems, tracking_revoke
from orchestration.services.steps import step_complete, step_replan
from orchestration.services.webhooks import new_secret, webhook_replay, webhook_secret_rotate


def _local(iso: str) -> str:
    moment = parse_datetime(iso)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else iso


@admin.register(ServiceAtom)
class ServiceAtomAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("code",)  # the catalogue (``catalogue_install``) finds atoms by it
    list_display = [
        "code",
        "label_en",
        "label_zh",
        "handler",
        "sla",
        "max_attempts",
        "customer_may_intervene",
        "external_system",
        "active",
    ]
    list_filter = ["handler", "customer_may_intervene", "active"]
    search_fields = ["code", "label_en", "label_zh"]


class TemplateStepFormSet(forms.BaseInlineFormSet):
    """Refuses a template whose steps are not a DAG of known atoms, naming every problem."""

    def clean(self) -> None:
        super().clean()
        rows = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            atom = form.cleaned_data.get("atom")
            rows.append(
                (
                    form.cleaned_data.get("key") or "",
                    form.cleaned_data.get("depends_on") or "",
                    atom.handler if atom else None,
                )
            )
        problems = template_problems(steps=rows)
        if problems:
            raise forms.ValidationError(problems)


class TemplateStepInline(TabularInline):
    model = TemplateStep
    formset = TemplateStepFormSet
    extra = 0
    fields = ["position", "key", "atom", "depends_on", "parameters"]


@admin.register(ServiceTemplate)
class ServiceTemplateAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant", "code")  # orders' tracking links keep their template
    list_display = [
        "code",
        "name",
        "merchant",
        "match_category",
        "match_temperature_class",
        "match_channel_kind",
        "priority",
        "enabled",
        "step_keys",
    ]
    list_filter = ["enabled", "merchant"]
    search_fields = ["code", "name"]
    inlines = [TemplateStepInline]

    @admin.display(description=_("steps"))
    def step_keys(self, obj: ServiceTemplate) -> str:
        return " · ".join(
            f"{s.key}←{s.depends_on}" if s.depends_on else s.key for s in obj.steps.all()
        )


@admin.register(ServiceStep)
class ServiceStepAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = [
        "order",
        "key",
        "atom",
        "status",
        "attempts",
        "deadline",
        "eta",
        "reference",
        "last_error",
    ]
    list_filter = ["status", "atom"]
    search_fields = ["order__external_id", "reference", "key"]
    raw_id_fields = ["order"]
    readonly_fields = [
        "parameters_shown"
        if f.name == "parameters"
        else "result_shown"
        if f.name == "result"
        else f.name
        for f in ServiceStep._meta.fields
    ] + ["upstream"]
    exclude = ["parameters", "result"]
    actions = ["complete_steps", "retry_steps"]

    @admin.display(description=_("parameters"))
    def parameters_shown(self, step: ServiceStep) -> str:
        return details_html(step.parameters, merchant_zone(step.order.merchant_id))

    @admin.display(description=_("result"))
    def result_shown(self, step: ServiceStep) -> str:
        tz = merchant_zone(step.order.merchant_id)
        result = dict(step.result or {})
        if result.get("message_code"):
            # The step's message said in the viewer's language (as on the status page).
            said = customer_text.step_message(
                {
                    "message_code": result.pop("message_code"),
                    "message_params": result.pop("message_params", None) or {},
                },
                tz,
            )
            result.pop("message", None)
            result = {"message": said, **result}
        return details_html(result, tz)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Confirm selected steps as done (service carried out)"))
    def complete_steps(self, request, queryset):
        done = 0
        for step in queryset.filter(status=StepStatus.RUNNING).order_by("pk"):
            step_complete(step=step, actor=f"admin:{request.user.username}")
            done += 1
        self.message_user(request, _("%(n)d step(s) completed.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Run selected failed or stuck steps again"))
    def retry_steps(self, request, queryset):
        count = 0
        for step in queryset.filter(
            status__in=[StepStatus.FAILED, StepStatus.READY, StepStatus.RUNNING]
        ).order_by("pk"):
            step_replan(
                step=step, changes={}, actor=f"admin:{request.user.username}", reason="retry"
            )
            count += 1
        self.message_user(request, _("%(n)d step(s) queued.") % {"n": count}, messages.SUCCESS)


@admin.register(OrderTracking)
class OrderTrackingAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = ["order", "template", "created_at", "revoked_at", "status_page"]
    raw_id_fields = ["order"]
    readonly_fields = ["order", "token", "template", "created_at", "revoked_at", "status_page"]
    actions = ["revoke", "reissue"]

    def has_add_permission(self, request) -> bool:
        return False  # links are made when an order's services are planned

    @admin.display(description=_("status page"))
    def status_page(self, obj: OrderTracking) -> str:
        if obj.pk is None or not obj.token or not obj.active:
            return "—"
        url = reverse("orchestration:track", args=[obj.token])
        return format_html(
            '<a href="{}" target="_blank" rel="noreferrer">{}</a>', url, pgettext("link", "open")
        )

    @admin.action(description=_("Revoke the status-page link"))
    def revoke(self, request, queryset):
        for tracking in queryset.order_by("pk"):
            tracking_revoke(
                tracking=tracking, actor=f"admin:{request.user.username}", reissue=False
            )

    @admin.action(description=_("Revoke and issue a new status-page link"))
    def reissue(self, request, queryset):
        for tracking in queryset.order_by("pk"):
            tracking_revoke(tracking=tracking, actor=f"admin:{request.user.username}")


@admin.register(SlaAlert)
class SlaAlertAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = ["detected_at", "order", "atom", "cause", "late_party", "resolved_at"]
    list_filter = ["cause_kind", "atom", "resolved_at"]
    search_fields = ["order__external_id", "summary"]
    readonly_fields = [
        "step",
        "order",
        "atom",
        "deadline",
        "detected_at",
        "cause",
        "late_party",
        "summary_text",
        "chain",
        "timeline",
        "notified_to",
        "resolved_at",
    ]
    exclude = ["report", "cause_kind", "cause_label", "summary", "notified"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("cause"), ordering="cause_kind")
    def cause(self, obj: SlaAlert) -> str:
        return obj.cause_kind_label

    @admin.display(description=_("late party"))
    def late_party(self, obj: SlaAlert) -> str:
        return obj.cause_said

    @admin.display(description=_("summary"))
    def summary_text(self, obj: SlaAlert) -> str:
        return obj.summary_said

    @admin.display(description=_("notified"))
    def notified_to(self, obj: SlaAlert) -> str:
        """Who was told: staff by user name, the merchant's webhook in words."""
        names = []
        for recipient in obj.notified or []:
            if recipient.startswith("operations:"):
                names.append(recipient.removeprefix("operations:"))
            elif recipient.startswith("merchant webhook"):
                names.append(gettext("the merchant's webhook"))
            elif recipient.startswith("operations ("):
                names.append(gettext("nobody: the Operations group has no members"))
            else:
                names.append(recipient)
        return ", ".join(names) or "—"

    @admin.display(description=_("late chain"))
    def chain(self, obj: SlaAlert) -> str:
        statuses = dict(StepStatus.choices)
        rows = []
        for c in obj.report.get("chain", []):
            line = gettext(
                "%(key)s (%(atom)s): %(status)s, %(late)s min late, %(attempts)s attempts"
            )
            rows.append(
                (
                    line
                    % {
                        "key": c["key"],
                        "atom": c["atom"],
                        "status": statuses.get(c["status"], c["status"]),
                        "late": round(c["late_by_minutes"]),
                        "attempts": c["attempts"],
                    },
                    c["external_system"],
                )
            )
        return format_html_join("", "<div>{} {}</div>", rows)

    @admin.display(description=_("timeline"))
    def timeline(self, obj: SlaAlert) -> str:
        return format_html_join(
            "",
            "<div>{} · {} · {}</div>",
            (
                (_local(e["at"]), event_kind(e["kind"]), say(e.get("text"), e["message"]))
                for e in obj.report.get("timeline", [])
            ),
        )


@admin.register(PickupPoint)
class PickupPointAdmin(TenantLockedMixin, TrimmedDecimalsMixin, ModelAdmin):
    locked_on_change = ("merchant", "code")  # customers' pickup choices refer to it
    list_display = ["code", "name", "city", "merchant", "opening_hours", "active"]
    list_filter = ["city", "active"]
    search_fields = ["code", "name", "address"]


@admin.register(InterventionRequest)
class InterventionRequestAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = ["created_at", "step", "kind", "state", "attempts", "confirmed_at"]
    list_filter = ["kind", "state"]
    exclude = ["code_hash"]
    readonly_fields = [
        "tracking",
        "step",
        "kind",
        "payload",
        "expires_at",
        "attempts",
        "state",
        "created_at",
        "confirmed_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant",)
    list_display = ["merchant", "event_type", "url", "active", "previous_secret_expires_at"]
    list_filter = ["event_type", "active", "merchant"]
    # Secrets are never rendered: the page shows a hint, a new secret is shown once (on add and
    # by the rotate action), and only the merchant's own API returns it otherwise.
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["secret_hint", "previous_secret_expires_at"]
    actions = ["rotate_secret"]

    @admin.display(description=_("signing secret"))
    def secret_hint(self, subscription: WebhookSubscription) -> str:
        return f"{subscription.secret[:10]}…" if subscription.secret else "-"

    def save_model(self, request, obj, form, change):
        adding = obj.pk is None
        if adding:
            obj.secret = new_secret()
        super().save_model(request, obj, form, change)
        if adding:
            self._show_once(request, obj)

    def _show_once(self, request, subscription: WebhookSubscription) -> None:
        self.message_user(
            request,
            _(
                "Signing secret of %(s)s: %(k)s — give it to the merchant now; it is not shown again."
            )
            % {"s": subscription, "k": subscription.secret},
            messages.WARNING,
        )

    def has_rotate_secret_permission(self, request) -> bool:
        return request.user.has_perm("orchestration.change_webhooksubscription")

    @admin.action(
        description=_("Rotate the signing secret (old one valid 24 h)"),
        permissions=["rotate_secret"],
    )
    def rotate_secret(self, request, queryset):
        for subscription in queryset.order_by("pk"):
            self._show_once(request, webhook_secret_rotate(subscription=subscription))


class WebhookAttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "at", "status_code", "duration_ms", "error", "response_excerpt"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "subscription",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["state", "event__event_type"]
    search_fields = ["event__event_id"]
    readonly_fields = [
        "event",
        "subscription",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "payload",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("event type"))
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.event_type

    @admin.display(description=_("event id"))
    def event_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event.event_id)

    @admin.display(description=_("payload"))
    def payload(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.event.payload, indent=2))

    @admin.action(description=_("Replay selected deliveries (same event id)"))
    def replay(self, request, queryset):
        count = 0
        for delivery in queryset.order_by("pk"):
            webhook_replay(delivery=delivery)
            count += 1
        self.message_user(
            request, _("%(n)d delivery(ies) queued.") % {"n": count}, messages.SUCCESS
        )
