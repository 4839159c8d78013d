"""What operations staff edit: channels, price lists, promotions; the inbox with its replay;
group-buying pick waves (build now, print)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.fields import Field
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from channels.exceptions import NotReplayable, PayloadInvalid
from channels.groupbuy.selectors import wave_sheet
from channels.groupbuy.services import groupbuy_wave_build, pick_wave_mark
from channels.models import (
    ChannelInboxMessage,
    ChannelOrder,
    ChannelPrice,
    ChannelPriceList,
    ChannelPricing,
    GiftGrant,
    GiftRefusal,
    OrderLinePricing,
    PickList,
    PickWave,
    PickWaveStatus,
    Promotion,
)
from channels.price_import import ChannelPriceImport
from channels.services import channel_secret_rotate, inbox_replay
from channels.timeline_text import refusal_text
from oms.admin_import import SpreadsheetImportMixin, TabularResource
from oms.adminkit import NeverDeletedMixin, TenantLockedMixin
from oms.models import ChannelKind, Merchant, SalesChannel


class ChannelPricingInline(StackedInline):
    model = ChannelPricing
    can_delete = True
    extra = 0
    max_num = 1


@admin.register(SalesChannel)
class SalesChannelAdmin(TenantLockedMixin, NeverDeletedMixin, ModelAdmin):
    locked_on_change = ("merchant", "code")
    list_display = ["code", "name", "merchant", "kind", "price_list", "active"]
    list_select_related = ["merchant", "pricing__price_list"]
    inlines = [ChannelPricingInline]
    list_filter = ["kind", "merchant", "active"]
    search_fields = ["code", "name"]
    readonly_fields = ["secret_hint", "previous_secret_valid_until"]
    actions = ["rotate_secret"]

    @admin.display(description=_("price list"))
    def price_list(self, channel) -> str:
        pricing = getattr(channel, "pricing", None)
        return str(pricing.price_list) if pricing else "-"

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


class ChannelPriceInline(TabularInline):
    model = ChannelPrice
    extra = 1
    autocomplete_fields = ["product"]


@admin.register(ChannelPriceList)
class ChannelPriceListAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant",)
    list_display = ["name", "merchant", "currency"]
    list_filter = ["merchant"]
    inlines = [ChannelPriceInline]


class ChannelPriceResource(TabularResource):
    """Channel prices: the import sets a SKU's price on a price list from a date; the export
    writes the same columns (dates in the merchant's time zone)."""

    importer_class = ChannelPriceImport
    merchant = Field(attribute="price_list__merchant__code", column_name="merchant")
    price_list = Field(attribute="price_list__name", column_name="price_list")
    sku = Field(attribute="product__sku", column_name="sku")
    price = Field(attribute="price", column_name="price")
    valid_from = Field(column_name="valid_from")
    valid_to = Field(column_name="valid_to")

    def dehydrate_valid_from(self, price: ChannelPrice) -> str:
        return _local_day(price, price.valid_from)

    def dehydrate_valid_to(self, price: ChannelPrice) -> str:
        return _local_day(price, price.valid_to)


def _local_day(price: ChannelPrice, moment) -> str:
    return moment.astimezone(price.price_list.merchant.tzinfo).date().isoformat() if moment else ""


@admin.register(ChannelPrice)
class ChannelPriceAdmin(SpreadsheetImportMixin, SimpleHistoryAdmin, ModelAdmin):
    resource_classes = [ChannelPriceResource]
    list_display = ["product", "price_list", "price", "valid_from", "valid_to"]
    list_filter = ["price_list"]
    search_fields = ["product__sku"]
    autocomplete_fields = ["product"]


class PromotionForm(forms.ModelForm):
    """The products a promotion covers are the merchant's own (a many-to-many field, which the
    model's ``clean()`` cannot see)."""

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        merchant = cleaned.get("merchant") or (
            self.instance.merchant if self.instance.merchant_id else None
        )
        products = cleaned.get("products")
        if merchant and products and any(p.merchant_id != merchant.pk for p in products):
            self.add_error("products", _("This belongs to another merchant."))
        return cleaned


@admin.register(Promotion)
class PromotionAdmin(TenantLockedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant", "campaign_code")
    form = PromotionForm
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
class ChannelInboxMessageAdmin(NeverDeletedMixin, ModelAdmin):
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
        "body_size",
        "body_truncated",
        "body_sha256",
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


class _ReadOnly(NeverDeletedMixin, ModelAdmin):
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
    list_display = ["campaign_code", "customer", "channel", "order", "reason_text", "refused_at"]
    list_filter = ["campaign_code", "channel", "merchant"]
    list_select_related = ["grant__channel"]
    # The stored English reason gives way to the sentence said in the viewer's language.
    exclude = ["reason"]
    readonly_fields = ["reason_text"]

    @admin.display(description=_("reason"))
    def reason_text(self, refusal: GiftRefusal) -> str:
        return refusal_text(refusal)


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


class PickListInline(TabularInline):
    model = PickList
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "position",
        "pickup_point_id",
        "pickup_point_name",
        "leader_name",
        "order_count",
        "unit_count",
        "leader_proxy_count",
        "member_direct_count",
        "store_pickup_count",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PickWave)
class PickWaveAdmin(ModelAdmin):
    """Group-buying pick waves: built by the service (button, command, task), printed here."""

    list_display = [
        "__str__",
        "merchant",
        "warehouse",
        "status",
        "order_count",
        "pickup_point_count",
        "sku_count",
        "unit_count",
        "duration_ms",
        "created_at",
        "print_link",
    ]
    list_filter = ["status", "merchant"]
    readonly_fields = [
        "merchant",
        "warehouse",
        "cutoff",
        "created_at",
        "status",
        "order_count",
        "pickup_point_count",
        "sku_count",
        "unit_count",
        "created_by",
        "duration_ms",
        "print_link",
    ]
    inlines = [PickListInline]
    actions = ["mark_printed", "mark_picked"]
    change_list_template = "channels/pick_wave_change_list.html"

    def has_add_permission(self, request) -> bool:
        return False  # waves are built from orders, not typed in

    def get_urls(self):
        return [
            path(
                "build/",
                self.admin_site.admin_view(self.build_view),
                name="channels_pickwave_build",
            ),
            path(
                "<int:pk>/print/",
                self.admin_site.admin_view(self.print_view),
                name="channels_pickwave_print",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_build_wave": request.user.has_perm("channels.add_pickwave"),
            "groupbuy_merchants": Merchant.objects.filter(
                pk__in=SalesChannel.objects.filter(kind=ChannelKind.GROUP_BUY).values("merchant_id")
            ).order_by("code"),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("print"))
    def print_link(self, wave) -> str:
        if wave.pk is None:
            return "-"
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            reverse("admin:channels_pickwave_print", args=[wave.pk]),
            _("Pick list"),
        )

    def build_view(self, request):
        """POST: build the waves of one merchant now (the same service the task calls)."""
        if request.method != "POST" or not request.user.has_perm("channels.add_pickwave"):
            raise PermissionDenied
        merchant = get_object_or_404(Merchant, pk=request.POST.get("merchant"))
        result = groupbuy_wave_build(merchant=merchant, actor=f"admin:{request.user}")
        if not result.waves:
            self.message_user(request, _("No group-buy orders are waiting."), messages.WARNING)
        for wave in result.waves:
            self.message_user(
                request,
                _("Wave #%(w)s: %(o)s orders, %(p)s pickup points, %(u)s units.")
                % {
                    "w": wave.pk,
                    "o": wave.order_count,
                    "p": wave.pickup_point_count,
                    "u": wave.unit_count,
                },
            )
        if result.split_skipped:
            self.message_user(
                request,
                _("%(n)s orders split over warehouses ship as ordinary parcels.")
                % {"n": result.split_skipped},
                messages.WARNING,
            )
        return redirect("admin:channels_pickwave_changelist")

    def print_view(self, request, pk: int):
        """The printable wave pick list and, per pickup point, sort and distribution lists."""
        wave = get_object_or_404(PickWave.objects.select_related("warehouse"), pk=pk)
        if not self.has_view_permission(request, wave):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "channels/pick_wave_print.html",
            {
                "sheet": wave_sheet(wave=wave),
                "back_url": reverse("admin:channels_pickwave_change", args=[pk]),
            },
        )

    @admin.action(description=_("Mark printed"))
    def mark_printed(self, request, queryset):
        for wave in queryset.order_by("pk"):
            pick_wave_mark(wave=wave, status=PickWaveStatus.PRINTED)

    @admin.action(description=_("Mark picked"))
    def mark_picked(self, request, queryset):
        for wave in queryset.order_by("pk"):
            pick_wave_mark(wave=wave, status=PickWaveStatus.PICKED)
