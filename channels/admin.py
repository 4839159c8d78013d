"""What operations staff edit: channels, price lists, promotions; the inbox with its replay."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from channels.exceptions import NotReplayable, PayloadInvalid
from channels.models import (
    ChannelInboxMessage,
    ChannelOrder,
    ChannelPrice,
    ChannelPriceList,
    GiftGrant,
    GiftRefusal,
    OrderLinePricing,
    Promotion,
    SalesChannel,
)
from channels.services import channel_secret_rotate, inbox_replay


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "merchant", "kind", "price_list", "active"]
    list_filter = ["kind", "merchant", "active"]
    search_fields = ["code", "name"]
    readonly_fields = ["secret_hint", "previous_secret_valid_until"]
    actions = ["rotate_secret"]

    @admin.display(description=_("signing secret"))
    def secret_hint(self, channel) -> str:
        return f"{channel.signing_secret[:8]}…" if channel.signing_secret else "-"

    @admin.action(
        description=_("Rotate the signing secret (new one shown once; old one valid 24 h)")
    )
    def rotate_secret(self, request, queryset):
        for channel in queryset:
            secret = channel_secret_rotate(channel=channel)
            self.message_user(
                request,
                _("New signing secret of %(c)s: %(s)s — give it to the channel now.")
                % {"c": channel.code, "s": secret},
                messages.WARNING,
            )


class ChannelPriceInline(admin.TabularInline):
    model = ChannelPrice
    extra = 1
    autocomplete_fields = ["product"]


@admin.register(ChannelPriceList)
class ChannelPriceListAdmin(SimpleHistoryAdmin):
    list_display = ["name", "merchant", "currency"]
    list_filter = ["merchant"]
    inlines = [ChannelPriceInline]


@admin.register(ChannelPrice)
class ChannelPriceAdmin(SimpleHistoryAdmin):
    list_display = ["product", "price_list", "price", "valid_from", "valid_to"]
    list_filter = ["price_list"]
    search_fields = ["product__sku"]
    autocomplete_fields = ["product"]


@admin.register(Promotion)
class PromotionAdmin(SimpleHistoryAdmin):
    list_display = [
        "campaign_code",
        "name",
        "merchant",
        "channel",
        "kind",
        "starts_at",
        "ends_at",
        "active",
    ]
    list_filter = ["kind", "active", "merchant"]
    search_fields = ["campaign_code", "name"]
    autocomplete_fields = ["gift_product", "products"]


@admin.register(ChannelInboxMessage)
class ChannelInboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "channel_code",
        "channel",
        "received_at",
        "status",
        "external_id",
        "order",
        "attempts",
    ]
    list_filter = ["status", "channel__kind", "merchant"]
    search_fields = ["external_id", "channel_code"]
    readonly_fields = [
        "merchant",
        "channel",
        "channel_code",
        "received_at",
        "headers",
        "payload",
        "signature_valid",
        "status",
        "error",
        "external_id",
        "order",
        "attempts",
        "processed_at",
    ]
    exclude = ["body"]
    actions = ["replay"]

    @admin.display(description=_("raw body"))
    def payload(self, message) -> str:
        return message.body_text

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Replay (process the stored payload again)"))
    def replay(self, request, queryset):
        for message in queryset.order_by("pk"):
            try:
                result = inbox_replay(message=message, actor=f"admin:{request.user}")
            except PayloadInvalid as exc:
                self.message_user(
                    request,
                    _("#%(m)s still fails: %(e)s") % {"m": message.pk, "e": exc.details["errors"]},
                    messages.ERROR,
                )
            except NotReplayable as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(
                    request,
                    _("#%(m)s: order #%(o)s (%(s)s)")
                    % {
                        "m": message.pk,
                        "o": result.order.pk,
                        "s": "duplicate" if result.duplicate else "created",
                    },
                )


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OrderLinePricing)
class OrderLinePricingAdmin(_ReadOnly):
    list_display = [
        "line",
        "list_price",
        "channel_price",
        "promotion_discount",
        "final_line_total",
        "is_gift",
    ]
    search_fields = ["line__order__external_id"]


@admin.register(GiftGrant)
class GiftGrantAdmin(_ReadOnly):
    list_display = ["campaign_code", "customer", "channel", "order", "granted_at"]
    list_filter = ["campaign_code", "merchant"]


@admin.register(GiftRefusal)
class GiftRefusalAdmin(_ReadOnly):
    list_display = ["campaign_code", "customer", "channel", "order", "reason", "refused_at"]
    list_filter = ["campaign_code", "channel", "merchant"]


@admin.register(ChannelOrder)
class ChannelOrderAdmin(_ReadOnly):
    list_display = [
        "order",
        "channel",
        "customer",
        "buyer_phone_masked",
        "pickup_point_name",
        "group_leader_name",
    ]
    list_filter = ["channel__kind", "group_order_type"]
    search_fields = ["order__external_id", "pickup_point_id", "group_leader_id"]
