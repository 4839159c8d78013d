"""The project's root URLconf: each app's URLs, included by name (the core imports no app).

Order matters where paths overlap: the apps' ``/api/orders/...`` paths come before the core
router's ``/api/orders/<pk>/``, which would otherwise take ``merge-check`` for a primary key.
"""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

handler404 = "oms.api.errors.not_found"
handler500 = "oms.api.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("routing.urls")),
    path("api/", include("customers.urls")),
    path("api/channels/", include("channels.urls")),
    path("api/groupbuy/", include("channels.groupbuy_api")),
    path("api/", include("oms.api.urls")),
    path("", include("orchestration.urls")),
]
