"""The customer master's API (mounted under /api/ by the project's root URLconf)."""

from django.urls import path

from customers.api import MergeCheckViewSet

urlpatterns = [
    path("orders/merge-check/", MergeCheckViewSet.as_view({"post": "create"}), name="merge-check"),
]
