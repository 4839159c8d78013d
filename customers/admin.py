"""The customer master in admin: the customer 360 (orders across channels, lifetime value,
identities and why they were linked), the channel repeat-rate report, matching rules and their
fitted versions (compare, activate), doubtful matches to settle, and merges that can be undone."""

from datetime import tzinfo
from decimal import Decimal
from fractions import Fraction

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin

from customers.customer360 import (
    channel_repeat_rates,
    customer_family,
    lifetime_value,
    merges_of_identities,
    recent_identities,
    recent_orders,
)
from customers.models import (
    Customer,
    CustomerMerge,
    CustomerSplit,
    Identity,
    MatchRuleSet,
    ReviewItem,
    RuleSetVersion,
)
from customers.reasons import explain, explain_merge
from customers.services import (
    customers_unmerge,
    review_decide,
    rule_set_activate,
    rule_set_compare,
)
from oms.adminkit import NeverDeletedMixin, TenantLockedMixin, details_html
from oms.models import ChannelKind, Merchant, OrderStatus
from oms.selectors import merchant_zone


@admin.register(Customer)
class CustomerAdmin(TenantLockedMixin, NeverDeletedMixin, SimpleHistoryAdmin, ModelAdmin):
    """The customer 360: the editable row, then (template) lifetime value, orders, identities."""

    locked_on_change = ("merchant",)
    list_display = [
        "id",
        "display_name",
        "phone_masked",
        "merchant",
        "vip",
        "merged_into",
        "created_at",
    ]
    list_filter = ["merchant", "vip"]
    search_fields = ["display_name", "=id", "phone_masked"]
    readonly_fields = ["merged_into"]
    change_form_template = "admin/customers/customer/change_form.html"
    change_list_template = "admin/customers/customer/change_list.html"

    def get_urls(self):
        return [
            path(
                "channel-repeat-rates/",
                self.admin_site.admin_view(self.channel_repeat_rates_view),
                name="customers_customer_channel_repeat_rates",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        if customer is not None:
            extra_context = {**(extra_context or {}), **customer360_context(customer)}
        return super().change_view(request, object_id, form_url, extra_context)

    def channel_repeat_rates_view(self, request):
        """Per channel of one merchant: duplicate customers and repeat rates (see the help)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        merchants = list(Merchant.objects.order_by("code"))
        merchant = None
        chosen = request.GET.get("merchant", "").strip()
        if chosen:
            if not chosen.isdigit():
                raise Http404
            merchant = get_object_or_404(Merchant, pk=int(chosen))
        elif len(merchants) == 1:
            merchant = merchants[0]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Channel repeat rates"),
            "merchants": merchants,
            "merchant": merchant,
            "rows": [
                {
                    "rates": rates,
                    "duplicate_rate": percent(rates.duplicate_rate),
                    "repeat_per_account": percent(rates.repeat_rate_per_account),
                    "repeat_per_customer": percent(rates.repeat_rate_per_customer),
                    "understatement": f"{float(rates.understatement) * 100:+.1f}",
                }
                for rates in (channel_repeat_rates(merchant=merchant) if merchant else [])
            ],
        }
        return TemplateResponse(request, "admin/customers/channel_repeat_rates.html", context)


def money(amount: Decimal, currency: str) -> str:
    """``¥1,234.50`` for CNY, ``USD 12.00`` otherwise: to the fen, with thousands separated."""
    return f"¥{amount:,.2f}" if currency == "CNY" else f"{currency} {amount:,.2f}"


def percent(share: Fraction) -> str:
    return f"{float(share) * 100:.1f} %"


def _local(moment, zone: tzinfo) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M") if moment else "-"


def customer360_context(customer: Customer) -> dict:
    """What the customer page shows around the form: a few queries, whatever the order count.

    Times are in the merchant's time zone (``Merchant.time_zone``), the zone the status page
    shows the customer too.
    """
    family = customer_family(customer)
    zone = customer.merchant.tzinfo
    orders = recent_orders(family)
    value = lifetime_value(family)
    order_total = value.orders + value.cancelled
    identities, identity_total = recent_identities(family)
    merges = merges_of_identities(family)
    # Labels resolved once per page: get_FOO_display() rebuilds and hashes every lazy label
    # of the field's choices for each row.
    statuses = {key: str(label) for key, label in OrderStatus.choices}
    kinds = {key: str(label) for key, label in ChannelKind.choices}
    outcomes = {key: str(label) for key, label in Identity.Outcome.choices}
    lookup = "customer__id__exact" if len(family) == 1 else "customer__id__in"
    query = f"?{lookup}={','.join(map(str, family))}"
    return {
        "c360_family": family[1:],
        "c360_value": value,
        "c360_revenue": [money(amount, currency) for currency, amount in value.revenue.items()],
        "c360_first": _local(value.first_order_at, zone),
        "c360_last": _local(value.last_order_at, zone),
        "c360_repeat_rate": percent(value.repeat_rate),
        "c360_channels": [(use, kinds.get(use.kind, use.kind)) for use in value.channels],
        "c360_orders": [
            {
                "order": order,
                "url": reverse("admin:oms_order_change", args=[order.pk]),
                "channel": order.channel.name,
                "kind": kinds.get(order.channel.kind, order.channel.kind),
                "placed_at": _local(order.placed_at, zone),
                "status": statuses.get(order.status, order.status),
                "cancelled": order.status == OrderStatus.CANCELLED,
                "total": money(order.total, order.currency),
                "via_merged": order.customer_id != customer.pk,
            }
            for order in orders
        ],
        "c360_order_total": order_total,
        "c360_orders_more": order_total > len(orders),
        "c360_orders_url": reverse("admin:oms_order_changelist") + query,
        "c360_identities": [
            {
                "identity": identity,
                "url": reverse("admin:customers_identity_change", args=[identity.pk]),
                "channel": kinds.get(identity.channel, identity.channel),
                "outcome": outcomes.get(identity.outcome, identity.outcome),
                "observed_at": _local(identity.observed_at, zone),
                "reasons": explain(identity.reasons),
                "merge": merges.get(identity.pk),
                "merged_at": _local(merges[identity.pk].created_at, zone)
                if identity.pk in merges
                else "",
                "merge_reasons": explain_merge(merges[identity.pk].reason)
                if identity.pk in merges
                else [],
            }
            for identity in identities
        ],
        "c360_identity_total": identity_total,
        "c360_identities_more": identity_total > len(identities),
        "c360_identities_url": reverse("admin:customers_identity_changelist") + query,
        "c360_report_url": reverse("admin:customers_customer_channel_repeat_rates")
        + f"?merchant={customer.merchant_id}",
    }


def reasons_html(stored: object) -> str:
    """Stored match reasons as sentences in the viewer's language, one a line."""
    reasons = explain(stored)
    if not reasons:
        return "—"
    return format_html(
        '<ul class="flex flex-col gap-1">{}</ul>',
        format_html_join("", "<li>{}</li>", ((reason.text,) for reason in reasons)),
    )


@admin.register(Identity)
class IdentityAdmin(NeverDeletedMixin, SimpleHistoryAdmin, ModelAdmin):
    list_display = [
        "record_id",
        "customer",
        "channel",
        "phone_masked",
        "name",
        "outcome",
        "score",
        "observed_at",
    ]
    list_filter = ["outcome", "channel", "merchant"]
    search_fields = ["record_id", "name", "device_id", "=customer__id"]
    raw_id_fields = ["customer"]
    readonly_fields = [
        "merchant",
        "record_id",
        "channel",
        "account_key",
        "device_id",
        "phone_digest",
        "phone_masked",
        "name",
        "fingerprint_shown",
        "observed_at",
        "outcome",
        "score",
        "reasons_shown",
    ]
    exclude = ["fingerprint", "reasons"]

    @admin.display(description=_("why"))
    def reasons_shown(self, identity: Identity) -> str:
        return reasons_html(identity.reasons)

    @admin.display(description=_("fingerprint"))
    def fingerprint_shown(self, identity: Identity) -> str:
        return details_html(identity.fingerprint, merchant_zone(identity.merchant_id))


@admin.register(MatchRuleSet)
class MatchRuleSetAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    list_display = ["__str__", "merge_window_minutes", "updated_at"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ModelAdmin):
    list_display = ["identity", "suggested_customer", "score", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    readonly_fields = [
        "identity",
        "suggested_customer",
        "score",
        "reasons_shown",
        "status",
        "decided_at",
        "decided_by",
    ]
    exclude = ["reasons"]
    actions = ["merge", "keep_apart"]

    @admin.display(description=_("why"))
    def reasons_shown(self, item: ReviewItem) -> str:
        return reasons_html(item.reasons)

    @admin.action(description=_("Same person: merge the customers"))
    def merge(self, request, queryset):
        for item in queryset:
            review_decide(item=item, merge=True, actor=f"user:{request.user}")
        self.message_user(request, _("%(n)d review(s) merged.") % {"n": len(queryset)})

    @admin.action(description=_("Different people: keep apart"))
    def keep_apart(self, request, queryset):
        for item in queryset:
            review_decide(item=item, merge=False, actor=f"user:{request.user}")
        self.message_user(request, _("%(n)d review(s) kept apart.") % {"n": len(queryset)})


@admin.register(CustomerMerge)
class CustomerMergeAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = ["absorbed", "survivor", "reason", "actor", "created_at", "undone_at"]
    list_filter = ["merchant"]
    readonly_fields = [
        "merchant",
        "survivor",
        "absorbed",
        "reason",
        "actor",
        "moved_identity_ids",
        "moved_order_ids",
        "created_at",
        "undone_at",
        "undone_by",
    ]
    actions = ["unmerge"]

    @admin.action(description=_("Undo the merge (orders and identities go back)"))
    def unmerge(self, request, queryset):
        for merge in queryset:
            customers_unmerge(merge=merge, actor=f"user:{request.user}")
        self.message_user(
            request, _("%(n)d merge(s) undone.") % {"n": len(queryset)}, messages.SUCCESS
        )


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(SimpleHistoryAdmin, ModelAdmin):
    """Fitted drafts next to the active rules: what would change, then activate (or go back)."""

    list_display = [
        "label",
        "merchant",
        "status",
        "origin",
        "created_at",
        "activated_at",
        "resolve_status",
        "changes",
    ]
    list_filter = ["status", "merchant"]
    readonly_fields = [
        "merchant",
        "status",
        "origin",
        "thresholds",
        "rules",
        "comparison_table",
        "fit_table",
        "created_at",
        "activated_at",
        "activated_by",
        "resolve_status",
        "resolve_summary",
    ]
    fields = ["label", *readonly_fields]
    actions = ["activate", "recompare"]

    def has_add_permission(self, request) -> bool:
        return False  # versions come from fit_match_rules or from an activation

    def has_delete_permission(self, request, obj=None) -> bool:
        # An active or retired version is the record of what ran (and the way back).
        if obj is not None and obj.status != RuleSetVersion.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("would change"))
    def changes(self, version) -> str:
        data = version.comparison or {}
        if not data:
            return "-"
        return gettext("%(merges)d merges, %(splits)d splits") % {
            "merges": data["merges"],
            "splits": data["splits"],
        }

    @admin.display(description=_("thresholds"))
    def thresholds(self, version) -> str:
        rules = version.rules or {}
        return gettext("link at %(link)s, review at %(review)s") % {
            "link": rules.get("link_threshold", "-"),
            "review": rules.get("review_threshold", "-"),
        }

    @admin.display(description=_("compared with the rules in force"))
    def comparison_table(self, version) -> str:
        data = version.comparison or {}
        if not data:
            return gettext('Not compared yet: use the action "Compare with the rules in force".')
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} / {}</td><td>{} / {}</td><td>{} → {}</td><td>{}</td></tr>",
            (
                (
                    gettext("would merge") if item["change"] == "merge" else gettext("would split"),
                    *item["names"],
                    *item["phones"],
                    item["score_before"],
                    item["score_after"],
                    "; ".join(item["reasons"]),
                )
                for item in data.get("examples", [])
            ),
        )
        return format_html(
            "<p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            gettext(
                "%(records)d identities: %(before)d customers now, %(after)d with this version; "
                "%(merges)d merges, %(splits)d splits (%(joined)d pairs of records joined, "
                "%(parted)d parted)."
            )
            % {
                "records": data["records"],
                "before": data["customers_before"],
                "after": data["customers_after"],
                "merges": data["merges"],
                "splits": data["splits"],
                "joined": data["pairs_joined"],
                "parted": data["pairs_parted"],
            },
            gettext("change"),
            gettext("names"),
            gettext("phones"),
            gettext("score now → with this version"),
            gettext("why (this version's evidence)"),
            rows,
        )

    @admin.display(description=_("fit (EM)"))
    def fit_table(self, version) -> str:
        fit = version.fit_report or {}
        if not fit:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (row["field"], row["level"], row["pairs"], row["m"], row["u"], row["log2_m_u"])
                for row in fit.get("levels", [])
            ),
        )
        return format_html(
            "<p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>m</th><th>u</th>"
            "<th>log2(m/u)</th></tr></thead><tbody>{}</tbody></table>",
            gettext(
                "%(records)d identities, %(pairs)d candidate pairs; share of matches %(lambda)s; "
                "%(iterations)d iterations; %(seconds)s s. Kept from the rules in force "
                "(too few pairs): %(kept)s."
            )
            % {
                "records": fit["records"],
                "pairs": fit["pairs"],
                "lambda": fit["lambda"],
                "iterations": fit["iterations"],
                "seconds": fit["seconds"],
                "kept": ", ".join(fit.get("kept_default", [])) or "-",
            },
            gettext("field"),
            gettext("level"),
            gettext("pairs"),
            rows,
        )

    @admin.display(description=_("re-resolve report"))
    def resolve_summary(self, version) -> str:
        report = version.resolve_report or {}
        if "error" in report:
            return report["error"]
        if not report:
            return "-"
        return gettext(
            "%(identities)d identities: %(before)d customers before, %(after)d after; "
            "%(merges)d merges, %(splits)d splits, %(unmerges)d merges undone."
        ) % {
            "identities": report["identities"],
            "before": report["customers_before"],
            "after": report["customers_after"],
            "merges": report["merges"],
            "splits": report["splits"],
            "unmerges": report["unmerges"],
        }

    @admin.action(
        description=_("Activate (re-resolves the merchant's customers in the background)"),
        permissions=["change"],
    )
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to activate."), messages.ERROR)
            return
        version = rule_set_activate(version=queryset.get(), actor=f"user:{request.user}")
        self.message_user(
            request,
            _("%(v)s is active; the customers are being re-resolved.") % {"v": version.label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Compare with the rules in force"), permissions=["change"])
    def recompare(self, request, queryset):
        for version in queryset[:3]:
            rule_set_compare(version=version)
        self.message_user(request, _("Compared."), messages.SUCCESS)


@admin.register(CustomerSplit)
class CustomerSplitAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = ["source", "created", "reason", "actor", "created_at"]
    list_filter = ["merchant"]
    readonly_fields = [
        "merchant",
        "source",
        "created",
        "reason",
        "actor",
        "moved_identity_ids",
        "moved_order_ids",
        "moved_gift_grant_ids",
        "moved_consolidation_ids",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # splits come from re-resolving with other rules
