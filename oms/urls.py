from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from customers.api import MergeCheckViewSet
from routing.api import OrderRoutingViewSet, SignalViewSet

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/orders/<int:order_pk>/routing/",
        OrderRoutingViewSet.as_view({"get": "list"}),
        name="order-routing",
    ),
    path("api/signals/", SignalViewSet.as_view({"post": "create"}), name="signals"),
    path(
        "api/orders/merge-check/", MergeCheckViewSet.as_view({"post": "create"}), name="merge-check"
    ),
    path("api/channels/", include("channels.urls")),
    path("api/groupbuy/", include("channels.groupbuy_api")),
    path("api/", include("oms.api.urls")),
    path("", include("orchestration.urls")),
]
