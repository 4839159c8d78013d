"""URLs of order services: the customer status page, staff boards, orchestration API."""

from django.urls import path

from orchestration import api, views

app_name = "orchestration"

urlpatterns = [
    path("track/<str:token>/", views.track, name="track"),
    path("track/<str:token>/steps/<int:step_id>/change/", views.track_change, name="track-change"),
    path("track/<str:token>/confirm/<int:request_id>/", views.track_confirm, name="track-confirm"),
    path("ops/sla/", views.sla_board, name="sla-board"),
    path("ops/dashboard/", views.ops_dashboard, name="ops-dashboard"),
    path("ops/exceptions/", views.ops_exceptions, name="ops-exceptions"),
    path("ops/exceptions/act/", views.ops_exception_act, name="ops-exception-act"),
    path(
        "ops/orders/<int:order_id>/webhooks/", views.ops_order_webhooks, name="ops-order-webhooks"
    ),
    path(
        "api/webhooks/",
        api.WebhookSubscriptionViewSet.as_view({"get": "list", "post": "create"}),
        name="webhook-list",
    ),
    path(
        "api/webhooks/deliveries/",
        api.WebhookDeliveryViewSet.as_view({"get": "list"}),
        name="webhook-delivery-list",
    ),
    path(
        "api/webhooks/<int:pk>/",
        api.WebhookSubscriptionViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="webhook-detail",
    ),
    path(
        "api/webhooks/<int:pk>/rotate-secret/",
        api.WebhookSubscriptionViewSet.as_view({"post": "rotate_secret"}),
        name="webhook-rotate",
    ),
    path(
        "api/service-steps/",
        api.ServiceStepViewSet.as_view({"get": "list"}),
        name="service-step-list",
    ),
    path(
        "api/service-steps/<int:pk>/",
        api.ServiceStepViewSet.as_view({"get": "retrieve"}),
        name="service-step-detail",
    ),
    path(
        "api/service-steps/<int:pk>/complete/",
        api.ServiceStepViewSet.as_view({"post": "complete"}),
        name="service-step-complete",
    ),
    path(
        "api/order-tracking/<int:order_id>/",
        api.OrderTrackingViewSet.as_view({"get": "retrieve"}),
        name="order-tracking",
    ),
    path(
        "api/order-tracking/<int:order_id>/reissue/",
        api.OrderTrackingViewSet.as_view({"post": "reissue"}),
        name="order-tracking-reissue",
    ),
    path(
        "api/order-tracking/<int:order_id>/revoke/",
        api.OrderTrackingViewSet.as_view({"post": "revoke"}),
        name="order-tracking-revoke",
    ),
]
