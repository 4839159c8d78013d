"""Routing in admin: profiles (weights as percentages, audited, diffed, revertible), rules,
lanes, live signals, and every decision with its explanation."""

import itertools

from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline

from oms.adminkit import NeverDeletedMixin, TenantLockedMixin
from routing.engine.problem import FACTOR_NAMES
from routing.models import (
    FACTOR_LABELS,
    PROFILE_PRICES,
    CarrierCapacity,
    CourierLoad,
    Lane,
    RoutingDecision,
    RoutingProfile,
    RoutingRule,
    WeatherAlert,
)
from routing.simulation import profile_what_if


class RoutingRuleInline(TabularInline):
    model = RoutingRule
    extra = 0
    fields = [
        "name",
        "enabled",
        "condition",
        "threshold",
        "region",
        "cold_chain_only",
        "effect",
        "factor",
        "amount",
    ]


def _diff_rows(profile: RoutingProfile, limit: int = 10) -> list[tuple]:
    records = list(profile.history.order_by("-history_id")[: limit + 1])
    rows = []
    for newer, older in itertools.pairwise(records):
        delta = newer.diff_against(older)
        changes = "; ".join(f"{c.field}: {c.old} → {c.new}" for c in delta.changes) or "—"
        when = timezone.localtime(newer.history_date).strftime("%Y-%m-%d %H:%M")
        rows.append((newer.history_id, when, newer.history_user or "—", changes))
    return rows


@admin.register(RoutingProfile)
class RoutingProfileAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    list_display = [
        "name",
        "merchant",
        "is_default",
        "enabled",
        "active_from",
        "active_until",
        "priority",
        "weights_summary",
        "updated_at",
    ]
    list_filter = ["enabled", "is_default", "merchant"]
    search_fields = ["name", "description"]
    inlines = [RoutingRuleInline]
    readonly_fields = ["weights_in_cny", "recent_changes"]
    actions = ["simulate", "revert_last_change"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "description", "merchant", "is_default", "enabled", "priority"]},
        ),
        (
            _("When"),
            {
                "fields": ["active_from", "active_until"],
                "description": _(
                    "Leave both empty for always; e.g. a promotion from Dec 12 00:00 to Dec 13 00:00."
                ),
            },
        ),
        (
            _("Weights (%, must add up to 100)"),
            {
                "fields": list(FACTOR_NAMES),
                "description": _(
                    "Shipping and handling are both money: their weights add up to the money "
                    "weight, and one CNY of either counts the same. Every other weight scales "
                    "that factor's price below against money."
                ),
            },
        ),
        (
            _("Prices in CNY at the default weights"),
            {
                "fields": [f"price_{name}" for name in PROFILE_PRICES],
                "description": _(
                    "What one unit of each factor costs the merchant when the weights are the "
                    "default ones (money 40 %, lateness 22 %, certainty 10 %, splits 6 %, ...). "
                    "A factor at twice its default weight, or money at half, doubles its price."
                ),
            },
        ),
        (
            _("What the weights mean in CNY"),
            {"fields": ["weights_in_cny", "measured_trade_off", "measured_at"]},
        ),
        (
            _("High-value orders: lowest cost subject to delivery certainty"),
            {
                "fields": [
                    "high_value_enabled",
                    "high_value_threshold",
                    "high_value_include_vip",
                    "high_value_min_certainty",
                ]
            },
        ),
        (_("Audit"), {"fields": ["recent_changes"]}),
    ]

    @admin.display(description=_("weights"))
    def weights_summary(self, profile: RoutingProfile) -> str:
        top = sorted(profile.weights_percent().items(), key=lambda kv: -kv[1])[:3]
        return ", ".join(f"{FACTOR_LABELS[name]} {value}%" for name, value in top)

    @admin.display(description=_("trade-off"))
    def weights_in_cny(self, profile: RoutingProfile):
        if profile.pk is None:
            return _("Save the profile to see its prices in CNY.")
        return format_html_join(
            "", "<p>{}</p>", ((line,) for line in profile.trade_off_sentences())
        )

    @admin.display(description=_("recent changes"))
    def recent_changes(self, profile: RoutingProfile):
        rows = _diff_rows(profile) if profile.pk else []
        if not rows:
            return _("No changes recorded yet.")
        body = format_html_join("", "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        history = reverse("admin:routing_routingprofile_history", args=[profile.pk])
        return format_html(
            "<table><tr><th>version</th><th>when</th><th>who</th><th>what changed</th></tr>{}</table>"
            '<p><a href="{}">Full history — open a version to revert to it</a></p>',
            body,
            history,
        )

    @admin.action(description=_("Revert the last change (one click, recorded as a new change)"))
    def revert_last_change(self, request, queryset):
        for profile in queryset:
            records = list(profile.history.order_by("-history_id")[:2])
            if len(records) < 2:
                self.message_user(
                    request, _("%(p)s has no earlier version.") % {"p": profile}, messages.WARNING
                )
                continue
            with transaction.atomic():
                previous = records[1].instance
                previous._change_reason = f"revert to version {records[1].history_id}"
                previous.save()
            self.message_user(
                request,
                _("%(p)s reverted to version %(v)d.") % {"p": profile, "v": records[1].history_id},
            )

    @admin.action(description=_("Simulate on the last 200 real orders (what-if, writes nothing)"))
    def simulate(self, request, queryset):
        reports = [
            (profile, profile_what_if(draft=profile, last_n=200)) for profile in queryset[:3]
        ]
        return render(
            request,
            "admin/routing/simulation.html",
            {
                "reports": reports,
                "title": _("What-if simulation"),
                **self.admin_site.each_context(request),
            },
        )


@admin.register(RoutingRule)
class RoutingRuleAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("profile",)  # a rule moved to another profile could change merchant
    list_display = [
        "name",
        "profile",
        "enabled",
        "condition",
        "threshold",
        "region",
        "effect",
        "factor",
        "amount",
    ]
    list_filter = ["enabled", "condition", "effect", "profile"]
    search_fields = ["name"]


@admin.register(Lane)
class LaneAdmin(ModelAdmin):
    list_display = [
        "warehouse",
        "region",
        "carrier",
        "shipping_cost",
        "transit_hours",
        "on_time_rate",
    ]
    list_filter = ["region", "carrier", "warehouse__merchant"]
    search_fields = ["warehouse__code", "carrier"]
    list_select_related = ["warehouse"]


class SignalAdmin(TenantLockedMixin, ModelAdmin):
    list_filter = ["source", "merchant"]
    date_hierarchy = "observed_at"

    @admin.display(boolean=True, description=_("fresh"))
    def fresh(self, signal) -> bool:
        return not signal.is_stale


@admin.register(WeatherAlert)
class WeatherAlertAdmin(SignalAdmin):
    list_display = ["region", "level", "source", "observed_at", "expires_at", "fresh", "merchant"]
    list_filter = ["region", "level", *SignalAdmin.list_filter]


@admin.register(CarrierCapacity)
class CarrierCapacityAdmin(SignalAdmin):
    list_display = [
        "region",
        "carrier",
        "saturation",
        "source",
        "observed_at",
        "expires_at",
        "fresh",
        "merchant",
    ]
    list_filter = ["region", *SignalAdmin.list_filter]


@admin.register(CourierLoad)
class CourierLoadAdmin(SignalAdmin):
    list_display = ["warehouse", "load", "source", "observed_at", "expires_at", "fresh"]
    list_select_related = ["warehouse"]


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = [
        "order",
        "created_at",
        "outcome",
        "chosen",
        "method",
        "optimal",
        "cost",
        "duration_ms",
        "profile_name",
        "profile_version",
        "mode",
    ]
    list_filter = ["outcome", "mode", "optimal", "method", "profile_name"]
    search_fields = ["order__external_id", "=order__id", "explanation"]
    date_hierarchy = "created_at"
    list_select_related = ["order"]
    fields = readonly_fields = (
        "order",
        "consolidation",
        "created_at",
        "outcome",
        "reason",
        "explanation_text",
        "contributions",
        "rejections",
        "method",
        "optimal",
        "objective",
        "cost",
        "duration_ms",
        "mode",
        "profile",
        "profile_version",
        "shipments",
        "runners_up",
        "notes",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("chosen"))
    def chosen(self, decision: RoutingDecision) -> str:
        return " + ".join(s["warehouse"] for s in decision.shipments) or "—"

    @admin.display(description=_("explanation"))
    def explanation_text(self, decision: RoutingDecision):
        return format_html_join(
            "", "<p>{}</p>", ((line,) for line in decision.explanation.splitlines())
        )

    @admin.display(description=_("per-factor contributions in CNY (winner vs runners-up)"))
    def contributions(self, decision: RoutingDecision):
        candidates = ([decision.winner] if decision.winner else []) + list(decision.runners_up)
        if not candidates:
            return "—"
        head = format_html_join("", "<th>{}</th>", ((c["label"],) for c in candidates))
        rows = format_html_join(
            "",
            "<tr><td>{}</td>{}</tr>",
            (
                (
                    FACTOR_LABELS.get(name, name),
                    format_html_join(
                        "",
                        "<td>{}</td>",
                        ((f"{c['contributions'].get(name, 0):.2f}",) for c in candidates),
                    ),
                )
                for name in (*FACTOR_NAMES, "scarcity")
            ),
        )
        totals = format_html_join(
            "", "<td><b>{}</b></td>", ((f"{c['objective']:.2f}",) for c in candidates)
        )
        return format_html(
            "<table><tr><th>factor</th>{}</tr>{}<tr><td><b>objective</b></td>{}</tr></table>",
            head,
            rows,
            totals,
        )

    @admin.display(description=_("rejected candidates"))
    def rejections(self, decision: RoutingDecision):
        if not decision.rejected:
            return "—"
        return format_html_join(
            "",
            "<li>{}: {} {}</li>",
            ((r["node_code"], r["reason"], r.get("detail", "")) for r in decision.rejected),
        )
