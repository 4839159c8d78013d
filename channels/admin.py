from django.contrib import admin

from channels.models import SalesChannel


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "merchant", "kind", "active"]
    list_filter = ["kind", "merchant", "active"]
    search_fields = ["code", "name"]
