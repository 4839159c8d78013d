from django.contrib import admin

from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "phone_masked", "merchant", "vip", "created_at"]
    list_filter = ["merchant", "vip"]
    search_fields = ["display_name", "=id"]
