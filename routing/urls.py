"""Routing's API (mounted under /api/ by the project's root URLconf)."""

from django.urls import path

from routing.api import OrderRoutingViewSet, SignalViewSet
from routing.promise.api import PromiseViewSet

urlpatterns = [
    path(
        "orders/<int:order_pk>/routing/",
        OrderRoutingViewSet.as_view({"get": "list"}),
        name="order-routing",
    ),
    path("signals/", SignalViewSet.as_view({"post": "create"}), name="signals"),
    path("promise/", PromiseViewSet.as_view({"post": "create"}), name="promise"),
]
