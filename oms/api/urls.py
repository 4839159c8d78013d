from django.urls import include, path
from rest_framework.routers import DefaultRouter

from oms.api import views

router = DefaultRouter(trailing_slash=True)
router.register("orders", views.OrderViewSet, basename="order")
router.register("products", views.ProductViewSet, basename="product")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("inventory", views.InventoryViewSet, basename="inventory")
router.register("channels", views.ChannelViewSet, basename="channel")

urlpatterns = [path("", include(router.urls))]
