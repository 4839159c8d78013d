"""Routing in admin: profiles (weights as percentages, audited, diffed, revertible), rules,
lanes, carriers with their services and rate cards (audited), live signals, and every decision
with its explanation."""

import itertools
from collections.abc import Collection
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy
from import_export.fields import Field
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.decorators import display

from oms.admin_import import SpreadsheetImportMixin, TabularResource
from oms.adminkit import NeverDeletedMixin, SharesAsPercentMixin, TenantLockedMixin
from routing import canvas
from routing.drafts import (
    DraftNotSimulated,
    not_simulated_message,
    profile_enable,
    profile_simulate,
    simulation_for,
)
from routing.engine.problem import FACTOR_NAMES
from routing.explaining import (
    COUNTED_LABELS,
    COUNTED_REASONS,
    decision_sentences,
    hours,
    merchant_tz,
    milliseconds,
    money,
    note_sentence,
    percent,
    plan_label,
    profile_label,
    rejection_sentence,
)
from routing.forms import RoutingProfileForm, RoutingRuleFormSet
from routing.holds import holds_release
from routing.models import (
    FACTOR_LABELS,
    NEGATIVE_WEIGHT,
    PROFILE_PRICES,
    Carrier,
    CarrierCapacity,
    CarrierRate,
    CarrierService,
    CourierLoad,
    Lane,
    PromiseHold,
    RoutingDecision,
    RoutingProfile,
    RoutingRule,
    WarehouseCarrier,
    WeatherAlert,
)
from routing.rate_cards import RateCardImport, line_values
from routing.timeline_text import unroutable_text


class RoutingRuleInline(StackedInline):
    """Stacked, a rule to a few lines: nine columns of selects do not fit 1366 px."""

    model = RoutingRule
    formset = RoutingRuleFormSet
    extra = 0
    fields = [
        ("name", "enabled"),
        ("condition", "threshold"),
        ("region", "province"),
        ("cold_chain_only", "service_level"),
        ("effect", "factor"),
        "amount",
    ]


def _field_label(name: str) -> str:
    try:
        return str(getattr(RoutingProfile._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return "—" if value is None or value == "" else str(value)


def _diff_rows(profile: RoutingProfile, limit: int = 10) -> list[tuple]:
    """(version, when, who, what changed) of the latest changes, newest first."""
    versions = profile.versions_by_history_id()
    records = list(profile.history.order_by("-history_id")[: limit + 1])
    tz = merchant_tz(profile.merchant)
    rows = []
    for newer, older in itertools.pairwise(records):
        delta = newer.diff_against(older)
        changes = (
            "; ".join(
                f"{_field_label(c.field)}: {_value(c.old)} → {_value(c.new)}" for c in delta.changes
            )
            or "—"
        )
        when = timezone.localtime(newer.history_date, tz).strftime("%Y-%m-%d %H:%M")
        rows.append((versions[newer.history_id], when, newer.history_user or "—", changes))
    return rows


@admin.register(RoutingProfile)
class RoutingProfileAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    form = RoutingProfileForm
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
    readonly_fields = [
        "canvas_link",
        "weights_total",
        "weights_in_cny",
        "recent_changes",
        "simulations",
    ]
    actions = ["simulate", "enable_simulated_drafts", "revert_last_change"]
    history_list_display = ["version"]
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
                "fields": ["canvas_link", *FACTOR_NAMES, "weights_total"],
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
        (_("Carriers"), {"fields": ["carrier_preference_premium"]}),
        (_("Simulations"), {"fields": ["simulations"]}),
        (_("Audit"), {"fields": ["recent_changes"]}),
    ]

    class Media:
        js = ["routing/profile_form.js"]
        css = {"all": ["routing/profile_form.css"]}

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(
                lambda request, object_id: function(self, request, object_id)
            )

        extra = [
            path("canvas/", self.admin_site.admin_view(self.canvas_start), name="routing_canvas"),
            path(
                "<int:object_id>/canvas/",
                view(canvas.canvas_view),
                name="routing_routingprofile_canvas",
            ),
            path(
                "<int:object_id>/canvas/what-if/",
                canvas.staff_json(
                    lambda request, object_id: canvas.what_if_view(self, request, object_id)
                ),
                name="routing_routingprofile_what_if",
            ),
            path(
                "<int:object_id>/canvas/save/",
                view(canvas.save_view),
                name="routing_routingprofile_canvas_save",
            ),
            path(
                "<int:object_id>/canvas/enable/",
                view(canvas.enable_view),
                name="routing_routingprofile_canvas_enable",
            ),
        ]
        return extra + super().get_urls()

    def canvas_start(self, request):
        """The sidebar's "Routing canvas": the default profile's canvas (else the list)."""
        profile = RoutingProfile.objects.filter(is_default=True).first()
        if profile is None:
            return HttpResponseRedirect(reverse("admin:routing_routingprofile_changelist"))
        return HttpResponseRedirect(
            reverse("admin:routing_routingprofile_canvas", args=[profile.pk])
        )

    @admin.display(description=_("routing canvas"))
    def canvas_link(self, profile: RoutingProfile):
        if profile.pk is None:
            return _("Save the profile to try its weights on the routing canvas.")
        return format_html(
            '<a class="routing-canvas-link" href="{}">{}</a>',
            reverse("admin:routing_routingprofile_canvas", args=[profile.pk]),
            _("Open the routing canvas: move the weights and see the what-if on recent orders"),
        )

    @admin.display(description=_("weights"))
    def weights_summary(self, profile: RoutingProfile) -> str:
        top = sorted(profile.weights_percent().items(), key=lambda kv: -kv[1])[:3]
        return ", ".join(f"{FACTOR_LABELS[name]} {value}%" for name, value in top)

    @admin.display(description=_("weights total"))
    def weights_total(self, profile: RoutingProfile):
        total = sum(profile.weights_percent().values()) if profile.pk else 100
        # The page's script keeps this up to date as staff type (routing/profile_form.js).
        return format_html(
            '<output class="routing-weights-total" data-weights-total data-fields="{}" '
            'data-ok="{}" data-off="{}" data-negative="{}">{}</output>',
            ",".join(FACTOR_NAMES),
            _("Total %(total)s %% of 100 %%") % {"total": "{total}"},
            _("Total %(total)s %% — must be 100 %%") % {"total": "{total}"},
            NEGATIVE_WEIGHT,
            _("Total %(total)s %% of 100 %%") % {"total": total},
        )

    @admin.display(description=_("trade-off"))
    def weights_in_cny(self, profile: RoutingProfile):
        if profile.pk is None:
            return _("Save the profile to see its prices in CNY.")
        return format_html_join(
            "", "<p>{}</p>", ((line,) for line in profile.trade_off_sentences())
        )

    @admin.display(description=_("version"))
    def version(self, record) -> str:
        """The profile's own version number of a history record (history page column)."""
        number = record.instance.history.filter(
            id=record.id, history_id__lte=record.history_id
        ).count()
        return f"v{number}"

    @admin.display(description=_("recent changes"))
    def recent_changes(self, profile: RoutingProfile):
        rows = _diff_rows(profile) if profile.pk else []
        if not rows:
            return _("No changes recorded yet.")
        body = format_html_join("", "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        history = reverse("admin:routing_routingprofile_history", args=[profile.pk])
        return format_html(
            '<div class="routing-table"><table><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table></div>"
            '<p><a href="{}">{}</a></p>',
            _("version"),
            pgettext("time of a change", "when"),
            _("who"),
            _("what changed"),
            body,
            history,
            _("Full history — open a version to revert to it"),
        )

    @admin.display(description=_("simulation runs"))
    def simulations(self, profile: RoutingProfile):
        if profile.pk is None:
            return _("Save the profile as a draft, then simulate it.")
        runs = list(profile.simulations.select_related("created_by")[:5])
        if not runs:
            return _("Not simulated yet: run “Simulate on the last 200 real orders” from the list.")
        digest = profile.config_digest()
        tz = merchant_tz(profile.merchant)
        rows = []
        for run in runs:
            draft: dict[str, Any] = next(
                (r for r in run.report.get("rows", []) if r["label"].startswith("draft")), {}
            )
            rows.append(
                (
                    run.profile_version,
                    timezone.localtime(run.created_at, tz).strftime("%Y-%m-%d %H:%M"),
                    run.created_by or "—",
                    run.orders,
                    money(draft.get("cost_per_order", 0)),
                    percent(draft.get("on_time_rate", 0)),
                    _("yes") if run.config_digest == digest else _("no"),
                )
            )
        return format_html(
            '<div class="routing-table"><table><thead><tr>{}</tr></thead><tbody>{}</tbody>'
            "</table></div>",
            format_html_join(
                "",
                "<th>{}</th>",
                (
                    (h,)
                    for h in (
                        _("version"),
                        _("run at"),
                        _("run by"),
                        _("orders"),
                        _("cost per order (¥)"),
                        _("on time (%)"),
                        _("same configuration as now"),
                    )
                ),
            ),
            format_html_join(
                "",
                "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td></tr>",
                rows,
            ),
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
            previous = records[1].instance
            version = profile.version - 1
            if (
                previous.enabled
                and not profile.enabled
                and simulation_for(profile=profile, digest=previous.config_digest()) is None
            ):
                self.message_user(
                    request,
                    _("%(p)s: version %(v)d is enabled and was never simulated as it is.")
                    % {"p": profile, "v": version}
                    + " "
                    + not_simulated_message(),
                    messages.ERROR,
                )
                continue
            with transaction.atomic():
                previous._change_reason = f"revert to version {version}"
                previous.save()
            self.message_user(
                request,
                _("%(p)s reverted to version %(v)d (saved as version %(n)d).")
                % {"p": profile, "v": version, "n": profile.version},
            )

    @admin.action(
        description=_("Simulate on the last 200 real orders (what-if, kept with the version)")
    )
    def simulate(self, request, queryset):
        reports = []
        for profile in queryset[:3]:
            run = profile_simulate(profile=profile, last_n=200, user=request.user)
            reports.append((profile, run.report))
        return render(
            request,
            "admin/routing/simulation.html",
            {
                "reports": reports,
                "title": _("What-if simulation"),
                **self.admin_site.each_context(request),
            },
        )

    @admin.action(
        description=_("Enable the selected drafts (each needs a simulation of it as it is)")
    )
    def enable_simulated_drafts(self, request, queryset):
        for profile in queryset:
            try:
                enabled = profile_enable(profile=profile)
            except DraftNotSimulated as exc:
                self.message_user(request, f"{profile}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(p)s is enabled (version %(v)d).") % {"p": enabled, "v": enabled.version},
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
        "province",
        "service_level",
        "effect",
        "factor",
        "amount",
    ]
    list_filter = ["enabled", "condition", "effect", "service_level", "profile"]
    search_fields = ["name"]


@admin.display(description=_("on-time rate"), ordering="on_time_rate")
def on_time_percent(row: Lane | CarrierRate) -> str:
    """A lane's or rate line's on-time share as staff read it: "95.5 %"."""
    return f"{percent(row.on_time_rate)} %"


@admin.register(Lane)
class LaneAdmin(SharesAsPercentMixin, ModelAdmin):
    list_display = [
        "warehouse",
        "region",
        "carrier",
        "shipping_cost",
        "transit_hours",
        on_time_percent,
    ]
    share_fields = ["on_time_rate"]
    list_filter = ["region", "carrier", "warehouse__merchant"]
    search_fields = ["warehouse__code", "carrier"]
    list_select_related = ["warehouse"]


class CarrierServiceInline(TabularInline):
    """The carrier's services, listed; each is added and edited on its own page."""

    model = CarrierService
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["code", "name", "level", "chilled", "frozen", "daily_capacity", "active"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Carrier)
class CarrierAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant", "code")  # the code is what rate-card files name
    list_display = ["name", "code", "merchant"]
    list_filter = ["merchant"]
    search_fields = ["name", "code"]
    inlines = [CarrierServiceInline]


class CarrierRateInline(SharesAsPercentMixin, TabularInline):
    """The rate card: one row a lane (a destination province, or a zone 1-5)."""

    model = CarrierRate
    extra = 0
    share_fields = ["on_time_rate"]
    fields = [
        "origin_province",
        "destination_province",
        "zone",
        "first_weight_kg",
        "first_price",
        "additional_per_kg",
        "transit_hours",
        "on_time_rate",
    ]


@admin.register(CarrierService)
class CarrierServiceAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    # Moving a service to another carrier could change merchant; the code is what rate-card
    # files and routing decisions name.
    locked_on_change = ("carrier", "code")
    list_display = [
        "name",
        "carrier",
        "level",
        "chilled",
        "frozen",
        "volumetric_divisor",
        "remote_surcharge",
        "daily_capacity",
        "same_city_only",
        "active",
    ]
    list_filter = ["level", "active", "carrier__merchant"]
    search_fields = ["name", "code", "carrier__name"]
    list_select_related = ["carrier"]
    inlines = [CarrierRateInline]


class RateCardResource(TabularResource):
    """Rate cards: the import adds or changes lines per service, origin and destination; the
    export writes the same columns, so an exported card can be edited and imported back."""

    importer_class = RateCardImport
    merchant = Field(attribute="service__carrier__merchant__code", column_name="merchant")
    carrier = Field(attribute="service__carrier__code", column_name="carrier")
    service = Field(attribute="service__code", column_name="service")
    origin_province = Field(attribute="origin_province", column_name="origin_province")
    destination_province = Field(
        attribute="destination_province", column_name="destination_province"
    )
    zone = Field(attribute="zone", column_name="zone")
    first_weight_kg = Field(column_name="first_weight_kg")
    first_price = Field(column_name="first_price")
    additional_per_kg = Field(column_name="additional_per_kg")
    transit_hours = Field(column_name="transit_hours")
    on_time_rate = Field(column_name="on_time_rate")

    def _value(self, line: CarrierRate, key: str) -> str:
        return line_values(line)[key]

    def dehydrate_first_weight_kg(self, line: CarrierRate) -> str:
        return self._value(line, "first_weight_kg")

    def dehydrate_first_price(self, line: CarrierRate) -> str:
        return self._value(line, "first_price")

    def dehydrate_additional_per_kg(self, line: CarrierRate) -> str:
        return self._value(line, "additional_per_kg")

    def dehydrate_transit_hours(self, line: CarrierRate) -> str:
        return self._value(line, "transit_hours")

    def dehydrate_on_time_rate(self, line: CarrierRate) -> str:
        return self._value(line, "on_time_rate")


@admin.register(CarrierRate)
class CarrierRateAdmin(
    SpreadsheetImportMixin, SharesAsPercentMixin, SimpleHistoryAdmin, ModelAdmin
):
    resource_classes = [RateCardResource]
    list_display = [
        "service",
        "origin_province",
        "destination_province",
        "zone",
        "first_weight_kg",
        "first_price",
        "additional_per_kg",
        "transit_hours",
        on_time_percent,
    ]
    share_fields = ["on_time_rate"]
    list_filter = ["service__carrier", "service__level", "zone"]
    search_fields = ["service__name", "origin_province", "destination_province"]
    list_select_related = ["service__carrier"]

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).select_related("service__carrier__merchant")


@admin.register(WarehouseCarrier)
class WarehouseCarrierAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ["warehouse", "service", "is_default"]
    list_filter = ["is_default", "service__carrier", "warehouse__merchant"]
    search_fields = ["warehouse__code", "service__name"]
    list_select_related = ["warehouse", "service__carrier"]


class SignalAdmin(TenantLockedMixin, ModelAdmin):
    list_filter = ["source", "merchant"]
    date_hierarchy = "observed_at"

    @admin.display(boolean=True, description=_("fresh"))
    def fresh(self, signal) -> bool:
        return not signal.is_stale


@admin.register(WeatherAlert)
class WeatherAlertAdmin(SignalAdmin):
    list_display = [
        "region",
        "province",
        "level",
        "source",
        "observed_at",
        "expires_at",
        "fresh",
        "merchant",
    ]
    list_filter = ["region", "level", *SignalAdmin.list_filter]


@admin.register(CarrierCapacity)
class CarrierCapacityAdmin(SignalAdmin):
    list_display = [
        "region",
        "carrier",
        "service_level",
        "saturation",
        "source",
        "observed_at",
        "expires_at",
        "fresh",
        "merchant",
    ]
    list_filter = ["region", "service_level", *SignalAdmin.list_filter]


@admin.register(CourierLoad)
class CourierLoadAdmin(SignalAdmin):
    list_display = ["warehouse", "load", "source", "observed_at", "expires_at", "fresh"]
    list_select_related = ["warehouse"]


def _table(head: list, rows: list[list], numeric: Collection[int] = ()) -> str:
    """A small HTML table that wraps rather than widens the page (values escaped)."""

    def cells(values, tag):
        return format_html_join(
            "",
            "<" + tag + ' class="{}">{}</' + tag + ">",
            (("num" if i in numeric else "", v) for i, v in enumerate(values)),
        )

    return format_html(
        '<div class="routing-table"><table><thead><tr>{}</tr></thead><tbody>{}</tbody>'
        "</table></div>",
        cells(head, "th"),
        format_html_join("", "<tr>{}</tr>", ((cells(row, "td"),) for row in rows)),
    )


ROUTING_MODES = {"single": _("single order"), "batch": pgettext_lazy("routing mode", "batch")}
SOLVERS = {"highs": "HiGHS", "cbc": "CBC"}


def method_label(method: str) -> str:
    """How a plan was found, in words (the engine's method codes: ``routing.engine``)."""
    kind, _sep, detail = method.partition(":")
    if kind == "fast_path":
        return str(
            {
                "": _("proved best without the solver"),
                "pair": _("proved best without the solver (two warehouses)"),
                "greedy": _("proved best without the solver (greedy split)"),
            }.get(detail, _("proved best without the solver"))
        )
    if kind == "greedy":
        return str(_("greedy plan (the solver's fallback)"))
    if kind == "batch":
        return str(_("batch plan (%(solver)s)") % {"solver": SOLVERS.get(detail, detail or "—")})
    if kind in ("milp", "highs", "cbc"):
        solver = SOLVERS.get(detail or kind, detail or kind)
        return str(_("mixed-integer program (%(solver)s)") % {"solver": solver})
    return method


def _signed(value: float, digits: int = 2) -> str:
    text = f"{value:+.{digits}f}"
    return "0" if float(text) == 0 else text


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = [
        "order",
        "created_at",
        "outcome",
        "chosen",
        "method_text",
        "cost",
        "decision_time",
        "profile_and_version",
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
        "unroutable_reason",
        "explanation_text",
        "shipments_table",
        "score",
        "runners_up_table",
        "partial_table",
        "contributions",
        "rejections",
        "method_text",
        "optimal",
        "decision_time",
        "routing_mode",
        "profile",
        "version",
        "weights_used",
        "notes_text",
    )

    class Media:
        css = {"all": ["routing/profile_form.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__merchant", "profile")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @staticmethod
    def _money_price(decision: RoutingDecision) -> float | None:
        price = (decision.facts or {}).get("money_price")
        return price if price and price > 0 else None

    def _cny(self, decision: RoutingDecision, objective_units: float) -> str:
        price = self._money_price(decision)
        return money(objective_units / price) if price else f"{objective_units:.2f}"

    @admin.display(description=_("chosen"))
    def chosen(self, decision: RoutingDecision) -> str:
        return " + ".join(s["warehouse"] for s in decision.shipments) or "—"

    @admin.display(description=_("solver / method"), ordering="method")
    def method_text(self, decision: RoutingDecision) -> str:
        return method_label(decision.method)

    @admin.display(description=_("decision time (ms)"), ordering="duration_ms")
    def decision_time(self, decision: RoutingDecision) -> str:
        return milliseconds(decision.duration_ms)

    @admin.display(description=_("profile version"), ordering="profile_name")
    def profile_and_version(self, decision: RoutingDecision) -> str:
        return profile_label(decision)

    @admin.display(description=_("mode"), ordering="mode")
    def routing_mode(self, decision: RoutingDecision) -> str:
        return str(ROUTING_MODES.get(decision.mode, decision.mode))

    @admin.display(description=_("profile version"), ordering="profile_version")
    def version(self, decision: RoutingDecision) -> str:
        return f"v{decision.profile_version}" if decision.profile_version else "—"

    @admin.display(description=_("why it could not be routed"))
    def unroutable_reason(self, decision: RoutingDecision) -> str:
        if decision.outcome != RoutingDecision.Outcome.UNROUTABLE:
            return "—"
        return unroutable_text(decision)

    @admin.display(description=_("explanation"))
    def explanation_text(self, decision: RoutingDecision):
        return format_html_join("", "<p>{}</p>", ((line,) for line in decision_sentences(decision)))

    @admin.display(description=_("shipments"))
    def shipments_table(self, decision: RoutingDecision):
        if not decision.shipments:
            return "—"
        labels = (decision.facts or {}).get("labels", {})
        rows = [
            [
                labels.get(s["warehouse"], s["warehouse"]),
                ", ".join(f"{line['sku']} × {line['quantity']}" for line in s["lines"]),
                money(s["cost"]),
                hours(s["transit_hours"]),
            ]
            for s in decision.shipments
        ]
        return _table([_("warehouse"), _("lines"), _("cost (¥)"), _("transit (h)")], rows, {2, 3})

    @admin.display(description=pgettext_lazy("routing decision", "score"))
    def score(self, decision: RoutingDecision):
        winner = decision.winner
        if not winner:
            return "—"
        price = self._money_price(decision)
        if price is None:
            return format_html(
                "{} <span class='help'>{}</span>",
                f"{decision.objective:.2f}",
                _("objective units, lower is better (decision stored before CNY scores)"),
            )
        value = sum(winner["contributions"].values()) / price
        return format_html(
            "¥{} <div class='help'>{}</div>",
            money(value),
            _(
                "A CNY-equivalent score: the shipping and handling cost plus every other factor "
                "at this profile's prices. Lower is better; the runners-up are scored the same way."
            ),
        )

    @admin.display(description=_("runners-up (whole order from one warehouse)"))
    def runners_up_table(self, decision: RoutingDecision):
        winner, runners = decision.winner, list(decision.runners_up)
        if not winner or not runners:
            return "—"
        price = self._money_price(decision)

        def scored(view):
            return sum(view["contributions"].values()) / (price or 1)

        def pair(value: str, delta: str) -> str:
            return f"{value} ({delta})"

        rows = [
            [
                plan_label(view["label"]),
                pair(money(view["cost"]), _signed(view["cost"] - winner["cost"])),
                pair(
                    hours(view["transit_hours"]),
                    _signed(view["transit_hours"] - winner["transit_hours"], 1),
                ),
                pair(
                    percent(view["certainty"]),
                    _signed(100 * (view["certainty"] - winner["certainty"]), 1),
                ),
                pair(money(scored(view)), _signed(scored(view) - scored(winner))),
            ]
            for view in runners
        ]
        head = [
            _("warehouse"),
            _("cost, ¥ (vs chosen)"),
            _("transit, h (vs chosen)"),
            _("delivery certainty, % (vs chosen, points)"),
            _("score, ¥ (vs chosen)"),
        ]
        return _table(head, rows, set(range(1, 5)))

    @admin.display(description=_("held part of the order"))
    def partial_table(self, decision: RoutingDecision):
        facts = decision.facts or {}
        candidates = facts.get("partial", [])
        if not candidates:
            return "—" if facts else _("not recorded for decisions stored before this was kept")
        rows = [
            [
                facts.get("labels", {}).get(c["node_code"], c["node_code"]),
                ", ".join(
                    _("%(sku)s %(a)d of %(q)d")
                    % {"sku": line["sku"], "a": line["available"], "q": line["quantity"]}
                    for line in c["lines"]
                ),
            ]
            for c in candidates
        ]
        return _table([_("warehouse"), _("units held of those ordered")], rows)

    @admin.display(description=_("per-factor contributions in CNY (winner vs runners-up)"))
    def contributions(self, decision: RoutingDecision):
        candidates = ([decision.winner] if decision.winner else []) + list(decision.runners_up)
        if not candidates:
            return "—"
        rows: list[list[Any]] = [
            [FACTOR_LABELS.get(name, name)]
            + [self._cny(decision, c["contributions"].get(name, 0)) for c in candidates]
            for name in (*FACTOR_NAMES, "scarcity")
        ]
        rows.append(
            [pgettext("routing decision", "score")]
            + [self._cny(decision, sum(c["contributions"].values())) for c in candidates]
        )
        head = [_("factor")] + [plan_label(c["label"]) for c in candidates]
        return _table(head, rows, set(range(1, len(candidates) + 1)))

    @admin.display(description=_("excluded warehouses"))
    def rejections(self, decision: RoutingDecision):
        if not decision.rejected:
            return "—"
        facts = decision.facts or {"labels": {}}
        tz = merchant_tz(decision.order.merchant)
        items = [
            rejection_sentence(facts, row, tz)
            for row in decision.rejected
            if row["reason"] not in COUNTED_REASONS
        ]
        # The many warehouses left out for a plain reason: one line per reason, names listed.
        grouped: dict[str, list[str]] = {}
        for row in decision.rejected:
            if row["reason"] in COUNTED_REASONS:
                label = facts.get("labels", {}).get(row["node_code"], row["node_code"])
                grouped.setdefault(row["reason"], []).append(label)
        for reason, names in grouped.items():
            items.append(
                _("%(reason)s (%(n)d): %(names)s")
                % {"reason": COUNTED_LABELS[reason], "n": len(names), "names": ", ".join(names)}
            )
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items))
        )

    @admin.display(description=_("weights used (%)"))
    def weights_used(self, decision: RoutingDecision) -> str:
        weights = (decision.facts or {}).get("weights") or {}
        if not weights:
            return "—"
        top = sorted(weights.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{FACTOR_LABELS.get(k, k)} {v}" for k, v in top if v)

    @admin.display(description=_("notes"))
    def notes_text(self, decision: RoutingDecision):
        if not decision.notes:
            return "—"
        return format_html_join("", "<p>{}</p>", ((note_sentence(n),) for n in decision.notes))


HOLD_STATES = {
    "live": pgettext_lazy("promise hold", "holding"),
    "consumed": pgettext_lazy("promise hold", "taken by its order"),
    "expired": pgettext_lazy("promise hold", "expired"),
}
HOLD_COLOURS = {"live": "warning", "consumed": "success", "expired": "default"}


def hold_state(hold: PromiseHold, now=None) -> str:
    if hold.consumed_at is not None:
        return "consumed"
    return "live" if hold.expires_at > (now or timezone.now()) else "expired"


class HoldStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(HOLD_STATES.items())

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "live":
                return queryset.filter(consumed_at__isnull=True, expires_at__gt=now)
            case "consumed":
                return queryset.filter(consumed_at__isnull=False)
            case "expired":
                return queryset.filter(consumed_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(PromiseHold)
class PromiseHoldAdmin(ModelAdmin):
    """The soft holds delivery promises place: what each keeps out of other orders' routing,
    until when, and whether its order took it. Staff may release a live hold early (a checkout
    abandoned); nothing else is edited, and rows stay for the record."""

    list_display = [
        "external_id",
        "merchant",
        "state_badge",
        "units_text",
        "parcels_text",
        "promised_at",
        "expires_at",
    ]
    list_filter = [HoldStateFilter, "merchant"]
    search_fields = ["external_id"]
    date_hierarchy = "created_at"
    list_select_related = ["merchant"]
    actions = ["release"]
    fields = readonly_fields = (
        "external_id",
        "merchant",
        "state_text",
        "units_table",
        "parcels_table",
        "promised_at",
        "created_at",
        "expires_at",
        "consumed_at",
    )

    class Media:
        css = {"all": ["routing/profile_form.css"]}

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_release_permission(self, request) -> bool:
        return request.user.has_perm("routing.change_promisehold")

    @admin.action(description=_("Release the selected holds now"), permissions=["release"])
    def release(self, request, queryset) -> None:
        now = timezone.now()
        live = [hold for hold in queryset if hold_state(hold, now) == "live"]
        released = holds_release(live, now=now)
        for hold in live:  # the hold's history says who released it, and when
            self.log_change(request, hold, [{"changed": {"fields": ["expires at"]}}])
        self.message_user(
            request,
            ngettext(
                "%(n)d hold released: its units and parcels count for other orders again.",
                "%(n)d holds released: their units and parcels count for other orders again.",
                released,
            )
            % {"n": released},
            messages.SUCCESS if released else messages.WARNING,
        )

    @display(description=_("state"), label=HOLD_COLOURS)
    def state_badge(self, hold: PromiseHold) -> tuple[str, str]:
        state = hold_state(hold)
        return state, str(HOLD_STATES[state])

    @admin.display(description=_("state"))
    def state_text(self, hold: PromiseHold) -> str:
        return str(HOLD_STATES[hold_state(hold)])

    @admin.display(description=_("units held"))
    def units_text(self, hold: PromiseHold) -> str:
        units = sum(int(entry[2]) for entry in hold.units)
        warehouses = len({entry[0] for entry in hold.units})
        return ngettext(
            "%(units)d at %(n)d warehouse", "%(units)d at %(n)d warehouses", warehouses
        ) % {"units": units, "n": warehouses}

    @admin.display(description=_("parcels held"))
    def parcels_text(self, hold: PromiseHold) -> int:
        return len(hold.parcels)

    @admin.display(description=_("units held"))
    def units_table(self, hold: PromiseHold):
        rows = [[code, sku, int(units)] for code, sku, units in hold.units]
        return _table([_("warehouse"), _("SKU"), _("units")], rows, {2}) if rows else "—"

    @admin.display(description=_("parcels held"))
    def parcels_table(self, hold: PromiseHold):
        rows = [[code, service] for code, service in hold.parcels]
        return _table([_("warehouse"), _("carrier service")], rows) if rows else "—"
