"""Admin for operations staff: find, inspect and act on orders, stock and warehouses.

Actions call the same services as the API (``oms.services``), never re-implement them.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db import transaction
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.fields import Field
from import_export.widgets import DateWidget
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from oms import localcache
from oms.admin_import import SpreadsheetImportMixin, TabularResource
from oms.adminkit import (
    NeverDeletedMixin,
    TenantLockedMixin,
    TrimmedDecimalsMixin,
    details_html,
)
from oms.exceptions import DomainError
from oms.geo import region_for_province
from oms.models import (
    ApiKey,
    Consolidation,
    IdempotencyRecord,
    InventoryBatch,
    Merchant,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Product,
    Reservation,
    Shipment,
    ShipmentStatus,
    Warehouse,
    WarehouseStatus,
)
from oms.selectors import merchant_zone
from oms.services import order_edits
from oms.services import orders as order_services
from oms.services.inventory import stock_announce
from oms.services.stock_import import StockCountImport
from oms.services.warehouses import warehouse_set_status
from oms.signals import order_panels
from oms.stored_text import (
    EVENT_KINDS,
    actor_name,
    event_kind,
    event_text,
    message,
    status_reason_text,
)
from oms.tasks_queue import enqueue

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise

admin.site.site_header = _("OMS operations")
admin.site.site_title = _("OMS")
admin.site.index_title = _("Operations")

# Colours of order statuses in lists: waiting work is amber, trouble red, done green.
STATUS_COLOURS = {
    OrderStatus.CREATED: "info",
    OrderStatus.ROUTED: "info",
    OrderStatus.RELEASED: "warning",
    OrderStatus.SHIPPED: "primary",
    OrderStatus.DELIVERED: "success",
    OrderStatus.NEEDS_ATTENTION: "danger",
    OrderStatus.CANCELLED: "default",
}

# Users and groups in the theme's forms too (the stock admin registers them unstyled).
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(DjangoUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class StaffGroupAdmin(DjangoGroupAdmin, ModelAdmin):
    pass


class ApiKeyInline(TabularInline):
    model = ApiKey
    extra = 0
    fields = ["name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["name", "prefix", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are issued with the action below, which shows the secret once


@admin.register(Merchant)
class MerchantAdmin(TenantLockedMixin, NeverDeletedMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("code",)
    list_display = ["code", "name", "currency", "active", "created_at"]
    search_fields = ["code", "name"]
    list_filter = ["active", "currency"]
    inlines = [ApiKeyInline]
    actions = ["issue_api_key"]

    def has_issue_api_key_permission(self, request) -> bool:
        """Minting a live key is adding an API key: operations staff may not."""
        return request.user.has_perm("oms.add_apikey")

    @admin.action(description=_("Issue a new API key (shown once)"), permissions=["issue_api_key"])
    def issue_api_key(self, request, queryset):
        for merchant in queryset:
            _key, raw = ApiKey.generate(
                merchant=merchant, name=f"issued by {request.user} {timezone.now():%Y-%m-%d %H:%M}"
            )
            self.message_user(
                request,
                _("New key for %(m)s: %(k)s — copy it now, it is not stored.")
                % {"m": merchant.code, "k": raw},
                messages.WARNING,
            )


@admin.register(Product)
class ProductAdmin(TenantLockedMixin, TrimmedDecimalsMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant", "sku")
    list_display = [
        "sku",
        "name",
        "merchant",
        "category",
        "temperature_class",
        "unit_value",
        "active",
    ]
    list_filter = ["merchant", "temperature_class", "category", "active"]
    search_fields = ["sku", "name"]
    list_select_related = ["merchant"]


@admin.register(Warehouse)
class WarehouseAdmin(TenantLockedMixin, TrimmedDecimalsMixin, SimpleHistoryAdmin, ModelAdmin):
    locked_on_change = ("merchant", "code")
    list_display = [
        "code",
        "name",
        "merchant",
        "kind",
        "city",
        "cold_chain",
        "daily_capacity",
        "status",
        "status_reason",
    ]
    list_filter = ["merchant", "status", "kind", "region", "cold_chain"]
    search_fields = ["code", "name", "city", "province"]
    list_editable = ["status"]
    list_select_related = ["merchant"]
    actions = ["pause", "resume"]

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            obj.status_changed_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Pause selected warehouses (routing avoids them at once)"))
    def pause(self, request, queryset):
        for warehouse in queryset:
            warehouse_set_status(
                warehouse=warehouse,
                status=WarehouseStatus.PAUSED,
                reason=str(_("Paused by %(u)s") % {"u": request.user}),
                actor=f"user:{request.user}",
            )
        self.message_user(request, _("%(n)d warehouse(s) paused.") % {"n": len(queryset)})

    @admin.action(description=_("Resume selected warehouses"))
    def resume(self, request, queryset):
        for warehouse in queryset:
            warehouse_set_status(
                warehouse=warehouse,
                status=WarehouseStatus.ACTIVE,
                reason="",
                actor=f"user:{request.user}",
            )
        self.message_user(request, _("%(n)d warehouse(s) resumed.") % {"n": len(queryset)})


class ReservationInline(TabularInline):
    model = Reservation
    extra = 0
    fields = readonly_fields = ("batch", "quantity", "status", "created_at", "closed_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StockCountResource(TabularResource):
    """Stock counts: the import sets on-hand per warehouse, SKU and batch; the export writes the
    same columns, so an exported file can be counted, edited and imported back."""

    importer_class = StockCountImport
    merchant = Field(attribute="warehouse__merchant__code", column_name="merchant")
    warehouse = Field(attribute="warehouse__code", column_name="warehouse")
    sku = Field(attribute="product__sku", column_name="sku")
    batch = Field(attribute="batch_number", column_name="batch")
    expiry_date = Field(attribute="expiry_date", column_name="expiry_date", widget=DateWidget())
    on_hand = Field(attribute="on_hand", column_name="on_hand")


@admin.register(InventoryBatch)
class InventoryBatchAdmin(
    TenantLockedMixin, SpreadsheetImportMixin, SimpleHistoryAdmin, ModelAdmin
):
    resource_classes = [StockCountResource]
    locked_on_change = ("warehouse", "product")
    list_display = [
        "product",
        "warehouse",
        "batch_number",
        "expiry_date",
        "on_hand",
        "reserved",
        "available",
    ]
    list_filter = [
        "warehouse__merchant",
        "warehouse__region",
        "product__temperature_class",
        "expiry_date",
    ]
    search_fields = ["product__sku", "product__name", "warehouse__code", "batch_number"]
    list_select_related = ["product", "warehouse"]
    readonly_fields = ["reserved"]
    raw_id_fields = ["product", "warehouse"]
    inlines = [ReservationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(available_qty=F("on_hand") - F("reserved"))

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).select_related("warehouse__merchant")

    @admin.display(description=_("available"), ordering="available_qty")
    def available(self, batch) -> int:
        return batch.available_qty

    def save_model(self, request, obj, form, change):
        before = form.initial.get("on_hand") if change else 0
        super().save_model(request, obj, form, change)
        if obj.on_hand > (before or 0):
            stock_announce(merchant_id=obj.warehouse.merchant_id, product_ids=[obj.product_id])


class OrderLineInline(TabularInline):
    model = OrderLine
    extra = 0
    fields = readonly_fields = ("sku", "name", "quantity", "unit_price", "line_total")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ShipmentInline(TabularInline):
    model = Shipment
    extra = 0
    fields = ["warehouse", "carrier", "tracking_number", "status", "shipped_at", "delivered_at"]
    readonly_fields = ["warehouse", "status", "shipped_at", "delivered_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EventColumns:
    """A timeline entry's columns in the viewer's language: its kind, who, statuses, message."""

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, event: OrderEvent) -> str:
        return event_kind(event.kind)

    @admin.display(description=_("actor"), ordering="actor")
    def actor_label(self, event: OrderEvent) -> str:
        return actor_name(event.actor)

    @admin.display(description=_("from"))
    def from_label(self, event: OrderEvent) -> str:
        return _status_label(event.from_status)

    @admin.display(description=_("to"))
    def to_label(self, event: OrderEvent) -> str:
        return _status_label(event.to_status)

    @admin.display(description=_("message"))
    def said(self, event: OrderEvent) -> str:
        return event_text(event, tz=event.order.merchant.tzinfo)


def _status_label(status: str) -> str:
    if not status:
        return "—"
    return str(dict(OrderStatus.choices).get(status, status))


class OrderEventInline(EventColumns, TabularInline):
    model = OrderEvent
    extra = 0
    fields = readonly_fields = ("at", "kind_label", "actor_label", "from_label", "to_label", "said")
    can_delete = False
    ordering = ["at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__merchant")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _run(modeladmin, request, queryset, service, done: "str | StrPromise") -> None:
    ok = failed = 0
    moved_along: set[int] = set()
    for order in queryset:
        if order.pk in moved_along:
            ok += 1  # released / shipped / delivered with an order it was merged with
            continue
        if order.consolidation_id and service is not order_services.order_cancel:
            moved_along.update(
                Order.objects.filter(consolidation_id=order.consolidation_id, status=order.status)
                .exclude(pk=order.pk)
                .values_list("pk", flat=True)
            )
        try:
            service(order=order, actor=f"user:{request.user}")
            ok += 1
        except DomainError as exc:
            failed += 1
            modeladmin.message_user(request, f"#{order.pk}: {exc.message}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, _("%(n)d order(s) %(done)s.") % {"n": ok, "done": done})


class OrderAdminForm(forms.ModelForm):
    """Staff corrections, checked as the API checks a new order (``order_edits``).

    The shipping fee and the discount are non-negative amounts in fen, and the discount is at
    most the subtotal of the lines plus the shipping fee; the charges of an order whose parcel
    has left cannot change (the fields are read-only then, and a form posted while the order
    shipped meanwhile is refused here).
    """

    class Meta:
        model = Order
        fields = [*order_edits.DETAIL_FIELDS, *order_edits.CHARGE_FIELDS]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in order_edits.CHARGE_FIELDS:
            if name in self.fields:
                self.fields[name].validators.append(MinValueValidator(Decimal("0")))
                self.fields[name].widget.attrs["min"] = "0"

    def clean_promised_at(self):
        promised_at = self.cleaned_data["promised_at"]
        before = self.instance.promised_at
        if promised_at and before and promised_at == before.replace(second=0, microsecond=0):
            return before  # shown to the minute (the Chinese time format), not changed
        return promised_at

    def clean_province(self) -> str:
        province = self.cleaned_data["province"]
        if province != self.instance.province and not region_for_province(province):
            raise forms.ValidationError(_("Unknown province."))
        return province

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not any(name in self.changed_data for name in order_edits.CHARGE_FIELDS):
            return cleaned
        order = self.instance
        status = Order.objects.values_list("status", flat=True).get(pk=order.pk)
        if status not in order_edits.CHARGES_EDITABLE:
            raise forms.ValidationError(
                _("The charges of an order cannot change once it has shipped or was cancelled.")
            )
        shipping_fee = cleaned.get("shipping_fee", order.shipping_fee)
        discount_total = cleaned.get("discount_total", order.discount_total)
        if shipping_fee is None or discount_total is None:
            return cleaned  # the field's own error says what is wrong
        limit = order_edits.order_subtotal(order_id=order.pk) + shipping_fee
        if discount_total > limit:
            self.add_error(
                "discount_total",
                _("Cannot exceed the subtotal plus shipping fee (%(limit)s).")
                % {"limit": f"{limit:.2f}"},
            )
        return cleaned


class ShipForm(forms.Form):
    """Carrier and tracking number for each pending parcel of an order; both are required."""

    def __init__(self, *args, shipments, **kwargs):
        super().__init__(*args, **kwargs)
        self.shipments = shipments
        for shipment in shipments:
            self.fields[f"carrier_{shipment.warehouse_id}"] = forms.CharField(
                label=_("Carrier (%(warehouse)s)") % {"warehouse": shipment.warehouse.name},
                max_length=60,
                initial=shipment.carrier,
            )
            self.fields[f"tracking_{shipment.warehouse_id}"] = forms.CharField(
                label=_("Tracking number (%(warehouse)s)") % {"warehouse": shipment.warehouse.name},
                max_length=64,
                initial=shipment.tracking_number,
            )

    def clean(self):
        cleaned = super().clean()
        if not self.shipments:
            raise forms.ValidationError(_("This order has no parcel waiting to ship."))
        return cleaned

    def tracking_numbers(self) -> dict[int, str]:
        return {
            s.warehouse_id: self.cleaned_data[f"tracking_{s.warehouse_id}"].strip()
            for s in self.shipments
        }

    def carriers(self) -> dict[int, str]:
        return {
            s.warehouse_id: self.cleaned_data[f"carrier_{s.warehouse_id}"].strip()
            for s in self.shipments
        }


def _merged_shipments_panel(order: Order) -> dict:
    """The parcels of the merged fulfilment an order belongs to (they may sit on another order)."""
    shipments = (
        Shipment.objects.filter(consolidation=order.consolidation)
        .select_related("warehouse", "order")
        .order_by("pk")
    )
    return {
        "title": gettext("Parcels of the merged fulfilment"),
        "columns": [
            gettext("order"),
            gettext("warehouse"),
            gettext("carrier"),
            gettext("tracking number"),
            gettext("status"),
        ],
        "rows": [
            [
                shipment.order.external_id,
                shipment.warehouse.name,
                shipment.carrier or "—",
                shipment.tracking_number or "—",
                shipment.get_status_display(),
            ]
            for shipment in shipments
        ],
        "empty": gettext("No parcels yet."),
    }


@admin.register(Order)
class OrderAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = [
        "id",
        "external_id",
        "channel_name",
        "status_badge",
        "total",
        "placed_at",
        "promised_at",
        "consolidation",
    ]
    list_display_links = ["id", "external_id"]
    # The theme renders each row with its own header labels (for narrow screens); at 100 rows a
    # page took ~0.8 s of template time with 100,000 orders. 50 rows keep it well under 1 s.
    list_per_page = 50
    show_full_result_count = False
    list_filter = ["status", "merchant", "channel__kind", "region", "created_at"]
    # Parts of the external id, receiver name or phone (trigram indexes on PostgreSQL), and the
    # order number when the term is one (``get_search_results``).
    search_fields = ["external_id", "receiver_name", "receiver_phone"]
    date_hierarchy = "created_at"
    list_select_related = ["merchant", "channel"]
    readonly_fields = [
        "merchant",
        "channel",
        "external_id",
        "status",
        "status_reason_said",
        "placed_at",
        "currency",
        "subtotal",
        "total",
        "created_at",
        "updated_at",
        "region",
        "consolidation",
        "merged_with",
    ]
    raw_id_fields = ["customer"]
    form = OrderAdminForm
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "merchant",
                    "channel",
                    "external_id",
                    "status",
                    "status_reason_said",
                    "customer",
                    "consolidation",
                    "merged_with",
                ]
            },
        ),
        (
            _("Receiver"),
            {
                "fields": [
                    "receiver_name",
                    "receiver_phone",
                    "province",
                    "city",
                    "district",
                    "address_line",
                    "postal_code",
                    "region",
                ]
            },
        ),
        (
            _("Money"),
            {
                "fields": ["currency", "subtotal", "shipping_fee", "discount_total", "total"],
                "description": _(
                    "Total = subtotal of the lines + shipping fee - discount, recomputed on "
                    "save. The shipping fee and the discount can be corrected until the order "
                    "ships; each correction is written to the timeline."
                ),
            },
        ),
        (_("Times"), {"fields": ["placed_at", "promised_at", "created_at", "updated_at"]}),
    ]
    inlines = [OrderLineInline, ShipmentInline, OrderEventInline]

    def get_search_results(self, request, queryset, search_term):
        """The search fields' matches, and the order with that number when the term is one.

        Not the admin's ``=id``: for a term that is not a number it compares ``id::text``,
        which no index answers, so every search read all orders (~170 ms at 100,000).
        """
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit() and len(term) <= 18:
            found = found | queryset.filter(pk=int(term))
        return found, may_have_duplicates

    @admin.display(description=_("status reason"))
    def status_reason_said(self, order: Order) -> str:
        return status_reason_text(order, tz=order.merchant.tzinfo) or "—"

    @display(description=_("channel"), ordering="channel__name")
    def channel_name(self, order: Order) -> str:
        return order.channel.name if order.channel_id else "—"

    @display(description=_("status"), ordering="status", label=STATUS_COLOURS)
    def status_badge(self, order: Order) -> tuple[str, str]:
        return order.status, order.get_status_display()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None or obj.status not in order_edits.CHARGES_EDITABLE:
            fields += order_edits.CHARGE_FIELDS
        return fields

    def save_model(self, request, obj, form, change) -> None:
        """Through ``order_edit``: only the changed fields, the total recomputed, on the timeline.

        Never ``obj.save()``: it would write back every field as the page loaded it, a status
        that routing changed meanwhile included.
        """
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            order_edits.order_edit(order=obj, actor=f"user:{request.user}", changes=changes)
        except DomainError as exc:  # the order shipped between the check and the save
            self.message_user(request, exc.message, messages.ERROR)

    @admin.display(description=_("merged with"))
    def merged_with(self, order: Order):
        consolidation = order.consolidation  # no query when consolidation_id is null
        if consolidation is None:
            return "—"
        others = consolidation.consolidated_orders.exclude(pk=order.pk).select_related("channel")
        links = format_html_join(
            ", ",
            '<a href="{}">#{} ({}, {})</a>',
            (
                (reverse("admin:oms_order_change", args=[o.pk]), o.pk, o.channel.name, o.status)
                for o in others
            ),
        )
        return format_html("{}: {}", links, consolidation.reason)

    actions = ["release", "ship", "deliver", "cancel"]

    def has_add_permission(self, request) -> bool:
        return False  # orders come from channels and the API, with validation and routing

    @admin.action(description=_("Release to warehouse"), permissions=["change"])
    def release(self, request, queryset):
        _run(self, request, queryset, order_services.order_release, _("released"))

    @admin.action(description=_("Mark shipped"), permissions=["change"])
    def ship(self, request, queryset):
        """Each parcel needs its carrier and tracking number: ship from the order's own page."""
        if queryset.count() != 1:
            self.message_user(
                request,
                _("Ship orders one at a time: each parcel needs its carrier and tracking number."),
                messages.ERROR,
            )
            return None
        return HttpResponseRedirect(reverse("admin:oms_order_ship", args=[queryset.get().pk]))

    actions_detail = ["ship_detail", "route_again_detail"]

    @action(
        description=_("Ship with tracking numbers"), icon="local_shipping", permissions=["change"]
    )
    def ship_detail(self, request, object_id):
        return HttpResponseRedirect(reverse("admin:oms_order_ship", args=[object_id]))

    @action(description=_("Route again"), icon="alt_route", permissions=["change"])
    def route_again_detail(self, request, object_id):
        order = get_object_or_404(Order, pk=object_id)
        if order.status not in (OrderStatus.CREATED, OrderStatus.NEEDS_ATTENTION):
            self.message_user(
                request, _("Only orders waiting for routing can be routed again."), messages.ERROR
            )
        else:
            with transaction.atomic():
                order_services.order_note(
                    order=order,
                    actor=f"user:{request.user}",
                    kind="exception",
                    message=message("order.routed_again", english="routed again by staff"),
                    data={"action": "route_again"},
                )
                enqueue("routing.route_order", order.pk)
            self.message_user(request, _("Order sent to routing again."))
        return HttpResponseRedirect(reverse("admin:oms_order_change", args=[object_id]))

    def get_urls(self):
        extra = [
            path(
                "<int:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="oms_order_ship",
            )
        ]
        return extra + super().get_urls()

    def ship_view(self, request, object_id: int):
        """Ship an order: carrier and tracking number for each of its parcels, both required."""
        order = get_object_or_404(Order, pk=object_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        shipments = list(
            order.shipments.filter(status=ShipmentStatus.PENDING).select_related("warehouse")
        )
        form = ShipForm(request.POST or None, shipments=shipments)
        if request.method == "POST" and form.is_valid():
            try:
                order_services.order_ship(
                    order=order,
                    actor=f"user:{request.user}",
                    tracking_numbers=form.tracking_numbers(),
                    carriers=form.carriers(),
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Order shipped."))
                return HttpResponseRedirect(reverse("admin:oms_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ship order %(order)s") % {"order": order.external_id},
            "opts": self.model._meta,
            "order": order,
            "form": form,
            "shipments": shipments,
        }
        return TemplateResponse(request, "admin/oms/order/ship.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = Order.objects.filter(pk=object_id).first()
        panels: list[dict] = []
        if order is not None:
            for _receiver, found in order_panels.send(sender=Order, order=order):
                if isinstance(found, list):  # each receiver answers with its panels
                    panels.extend(found)
            for panel in panels:  # a panel's link shows to those allowed to follow it
                link = panel.get("link")
                if link:
                    link["allowed"] = request.user.has_perm(link.get("permission", ""))
            if order.consolidation_id:
                panels.insert(0, _merged_shipments_panel(order))
        extra_context = {**(extra_context or {}), "order_panels": panels}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Mark delivered"), permissions=["change"])
    def deliver(self, request, queryset):
        _run(self, request, queryset, order_services.order_deliver, _("delivered"))

    @admin.action(description=_("Cancel (releases stock)"), permissions=["change"])
    def cancel(self, request, queryset):
        _run(self, request, queryset, order_services.order_cancel, _("cancelled"))


class EventKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, label) for kind, label in EVENT_KINDS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class EventStatusFilter(admin.SimpleListFilter):
    title = _("to")
    parameter_name = "to_status"

    def lookups(self, request, model_admin):
        return OrderStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(to_status=self.value()) if self.value() else queryset


@admin.register(OrderEvent)
class OrderEventAdmin(EventColumns, NeverDeletedMixin, ModelAdmin):
    list_display = ["order", "at", "kind_label", "actor_label", "from_label", "to_label", "said"]
    list_select_related = ["order__merchant"]
    list_filter = [EventKindFilter, EventStatusFilter]
    search_fields = ["order__external_id", "actor", "message"]
    date_hierarchy = "at"
    # The page of one entry: its sentence in the viewer's language, and what else it stored in
    # words (the stored sentence's own code and parameters are the sentence above).
    fields = readonly_fields = [
        "order",
        "at",
        "kind_label",
        "actor_label",
        "from_label",
        "to_label",
        "said",
        "details",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("details"))
    def details(self, event: OrderEvent) -> str:
        data = event.data if isinstance(event.data, dict) else {"data": event.data}
        rest = {key: value for key, value in data.items() if key not in ("text", "msg")}
        return details_html(rest, merchant_zone(event.order.merchant_id))


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ModelAdmin):
    list_display = ["merchant", "key", "state", "response_status", "created_at"]
    list_filter = ["state", "merchant"]
    search_fields = ["key"]
    readonly_fields = [
        "merchant",
        "key",
        "fingerprint",
        "state",
        "response_status",
        "created_at",
        "locked_until",
    ]
    exclude = ["response_body"]


class LineReservationInline(ReservationInline):
    fields = readonly_fields = ("batch", "quantity", "status", "created_at", "closed_at")


@admin.register(OrderLine)
class OrderLineAdmin(NeverDeletedMixin, ModelAdmin):
    """An order line with the batches its stock is held on (FEFO picks, reservation states)."""

    list_display = ["order", "sku", "name", "quantity", "unit_price", "line_total"]
    list_filter = ["order__merchant", "order__status"]
    search_fields = ["order__external_id", "sku", "product__sku", "=order__id"]
    list_select_related = ["order"]
    readonly_fields = ["order", "sku", "name", "product", "quantity", "unit_price", "line_total"]
    inlines = [LineReservationInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Reservation)
class ReservationAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = ["line", "batch", "quantity", "status", "created_at", "closed_at"]
    list_filter = ["status", "batch__warehouse__merchant", "batch__warehouse"]
    search_fields = ["line__order__external_id", "batch__product__sku", "batch__batch_number"]
    list_select_related = ["line__order", "batch__product", "batch__warehouse"]
    readonly_fields = ["line", "batch", "quantity", "status", "created_at", "closed_at"]

    def has_add_permission(self, request) -> bool:
        return False  # stock is held by routing through services, never by hand

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Shipment)
class ShipmentAdmin(NeverDeletedMixin, ModelAdmin):
    list_display = [
        "id",
        "order",
        "warehouse",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "delivered_at",
        "consolidation",
    ]
    list_filter = ["status", "carrier", "warehouse__merchant", "warehouse"]
    search_fields = ["tracking_number", "order__external_id", "=order__id"]
    list_select_related = ["order", "warehouse"]
    readonly_fields = [
        "order",
        "consolidation",
        "warehouse",
        "status",
        "created_at",
        "shipped_at",
        "delivered_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


class ConsolidatedOrderInline(TabularInline):
    model = Order
    fk_name = "consolidation"
    verbose_name = _("merged order")
    verbose_name_plural = _("merged orders")
    extra = 0
    fields = readonly_fields = (
        "external_id",
        "channel",
        "status",
        "receiver_name",
        "total",
        "created_at",
    )
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ConsolidatedShipmentInline(TabularInline):
    model = Shipment
    fk_name = "consolidation"
    extra = 0
    fields = readonly_fields = (
        "warehouse",
        "order",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
    )
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Consolidation)
class ConsolidationAdmin(NeverDeletedMixin, ModelAdmin):
    """Merged fulfilments: which orders ship together and why. Read-only: routing writes them."""

    list_display = ["id", "merchant", "customer", "orders", "reason", "created_at"]
    list_filter = ["merchant", "created_at"]
    search_fields = ["=id", "=consolidated_orders__id", "consolidated_orders__external_id"]
    date_hierarchy = "created_at"
    list_select_related = ["merchant", "customer"]
    fields = readonly_fields = ("merchant", "customer", "reason", "rule", "created_at")
    inlines = [ConsolidatedOrderInline, ConsolidatedShipmentInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("consolidated_orders")

    @admin.display(description=_("orders"))
    def orders(self, consolidation: Consolidation) -> str:
        return ", ".join(
            f"#{pk}" for pk in sorted(o.pk for o in consolidation.consolidated_orders.all())
        )

    @admin.display(description=_("matched rule"))
    def rule(self, consolidation: Consolidation):
        data = consolidation.data or {}
        rows = [
            (_("rule"), data.get("rule", "")),
            (_("customer"), data.get("customer", "")),
            (_("window (minutes)"), data.get("window_minutes", "")),
            (_("orders"), ", ".join(f"#{pk}" for pk in data.get("orders", []))),
        ]
        merges = format_html_join(
            "",
            "<li>{}: {} {}</li>",
            (
                (m.get("at", "")[:19], f"#{m.get('order')}", m.get("reason", ""))
                for m in data.get("merges", [])
            ),
        )
        return format_html(
            "<table>{}</table><ul>{}</ul>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
            merges,
        )


@admin.register(ApiKey)
class ApiKeyAdmin(TenantLockedMixin, NeverDeletedMixin, ModelAdmin):
    locked_on_change = ("merchant",)
    list_display = ["merchant", "name", "prefix", "created_at", "revoked_at"]
    list_filter = ["merchant"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["merchant", "name", "prefix", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # issued from the merchant page, which shows the secret once

    @admin.action(description=_("Revoke selected keys"))
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        localcache.clear_all()  # this process at once; the others within the cache TTL
        self.message_user(request, _("%(n)d key(s) revoked.") % {"n": n})
