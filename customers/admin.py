"""The customer master in admin: customers with their identities and why they were linked,
matching rules and their fitted versions (compare, activate), doubtful matches to settle,
and merges that can be undone."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline

from customers.models import (
    Customer,
    CustomerMerge,
    CustomerSplit,
    Identity,
    MatchRuleSet,
    ReviewItem,
    RuleSetVersion,
)
from customers.services import (
    customers_unmerge,
    review_decide,
    rule_set_activate,
    rule_set_compare,
)
from oms.adminkit import NeverDeletedMixin, TenantLockedMixin


class IdentityInline(TabularInline):
    model = Identity
    extra = 0
    fields = readonly_fields = (
        "record_id",
        "channel",
        "phone_masked",
        "name",
        "device_id",
        "outcome",
        "score",
        "reasons",
        "observed_at",
    )
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(TenantLockedMixin, NeverDeletedMixin, SimpleHistoryAdmin, ModelAdmin):
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
    inlines = [IdentityInline]


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
        "fingerprint",
        "observed_at",
        "outcome",
        "score",
        "reasons",
    ]


@admin.register(MatchRuleSet)
class MatchRuleSetAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ["__str__", "merge_window_minutes", "updated_at"]


@admin.register(ReviewItem)
class ReviewItemAdmin(ModelAdmin):
    list_display = ["identity", "suggested_customer", "score", "status", "created_at", "decided_by"]
    list_filter = ["status"]
    readonly_fields = [
        "identity",
        "suggested_customer",
        "score",
        "reasons",
        "status",
        "decided_at",
        "decided_by",
    ]
    actions = ["merge", "keep_apart"]

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
