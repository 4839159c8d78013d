"""The customer master in admin: customers with their identities and why they were linked,
matching rules, doubtful matches to settle, and merges that can be undone."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from customers.models import Customer, CustomerMerge, Identity, MatchRuleSet, ReviewItem
from customers.services import customers_unmerge, review_decide
from oms.adminkit import NeverDeletedMixin, TenantLockedMixin


class IdentityInline(admin.TabularInline):
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
class CustomerAdmin(TenantLockedMixin, NeverDeletedMixin, SimpleHistoryAdmin):
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
class IdentityAdmin(NeverDeletedMixin, SimpleHistoryAdmin):
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
class MatchRuleSetAdmin(TenantLockedMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "merge_window_minutes", "updated_at"]


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
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
class CustomerMergeAdmin(NeverDeletedMixin, admin.ModelAdmin):
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
