"""Filters of the list endpoints (django-filter)."""

import django_filters
from django.db.models import Q

from oms.api.params import UTCIsoDateTimeFilter
from oms.models import InventoryBatch, Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    channel = django_filters.CharFilter(field_name="channel__code")
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    sku = django_filters.CharFilter(method="filter_sku")
    warehouse = django_filters.CharFilter(method="filter_warehouse")
    external_id = django_filters.CharFilter()

    class Meta:
        model = Order
        fields = ["status", "channel", "external_id", "region"]

    def filter_sku(self, queryset, name, value):
        # The SKU as ordered or the product's SKU now: both find an order after a rename.
        return queryset.filter(Q(lines__sku=value) | Q(lines__product__sku=value)).distinct()

    def filter_warehouse(self, queryset, name, value):
        return queryset.filter(shipments__warehouse__code=value).distinct()


class InventoryFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    batch_number = django_filters.CharFilter()
    expiring_before = django_filters.DateFilter(field_name="expiry_date", lookup_expr="lt")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")

    class Meta:
        model = InventoryBatch
        fields = ["sku", "warehouse", "batch_number"]

    def filter_in_stock(self, queryset, name, value):
        return (
            queryset.filter(available_qty__gt=0) if value else queryset.filter(available_qty__lte=0)
        )
