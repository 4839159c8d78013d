"""URLs of channel ingestion and reports (mounted under /api/channels/)."""

from django.urls import path, re_path

from channels.api import ChannelMetricsView, ChannelOrderIngestView, PriceDifferencesView

urlpatterns = [
    path("price-differences", PriceDifferencesView.as_view(), name="channel-price-differences"),
    path("metrics", ChannelMetricsView.as_view(), name="channel-metrics"),
    re_path(
        r"^(?P<code>[-a-zA-Z0-9_]{1,40})/orders/?$",
        ChannelOrderIngestView.as_view(),
        name="channel-order-ingest",
    ),
]
