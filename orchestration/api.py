"""Merchant API of order services: webhook subscriptions and their delivery log, service steps.

Querysets are scoped to the caller's merchant, so another merchant's ids answer 404.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from oms.api.base import IdempotentPostMixin, MerchantScopedMixin
from oms.links import public_url
from oms.outbound import validate_outbound_url
from orchestration.models import (
    OrderTracking,
    ServiceStep,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)
from orchestration.services.plans import tracking_revoke
from orchestration.services.steps import step_complete
from orchestration.services.webhooks import webhook_secret_rotate, webhook_subscribe


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_type = serializers.ChoiceField(choices=WebhookEventType.choices)
    url = serializers.URLField(max_length=500)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "event_type", "url", "active", "created_at", "previous_secret_expires_at"]
        read_only_fields = ["id", "active", "created_at", "previous_secret_expires_at"]

    def validate_url(self, value: str) -> str:
        try:
            validate_outbound_url(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    """Shown once, on create and rotate: the signing secret."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookSubscriptionViewSet(
    IdempotentPostMixin,
    MerchantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.none()  # for the schema; requests use get_queryset
    ordering_fields = ["created_at", "event_type"]

    def get_queryset(self):
        return WebhookSubscription.objects.filter(merchant=self.merchant)

    def create(self, request, *args, **kwargs):
        serializer = WebhookSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhook_subscribe(merchant=self.merchant, **serializer.validated_data)
        return Response(WebhookSubscriptionWithSecretSerializer(subscription).data, status=201)

    @extend_schema(request=None, responses={200: WebhookSubscriptionWithSecretSerializer})
    def rotate_secret(self, request, *args, **kwargs):
        try:
            subscription = webhook_secret_rotate(subscription=self.get_object())
        except WebhookSubscription.DoesNotExist:
            # Deleted by a concurrent request after it was looked up: gone, as a 404 says.
            raise Http404 from None
        return Response(WebhookSubscriptionWithSecretSerializer(subscription).data)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.event_id")
    event_type = serializers.CharField(source="event.event_type")
    subscription = serializers.IntegerField(source="subscription_id")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "subscription",
            "state",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]


class WebhookDeliveryViewSet(MerchantScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return WebhookDelivery.objects.filter(subscription__merchant=self.merchant).select_related(
            "event"
        )


class ServiceStepSerializer(serializers.ModelSerializer):
    atom = serializers.CharField(source="atom.code")
    # DRF's serializer metaclass takes declared fields off the class, so this does not replace
    # Field.label as the stubs assume.
    label = serializers.CharField(source="atom.label_en")  # type: ignore[assignment]
    order = serializers.IntegerField(source="order_id")

    class Meta:
        model = ServiceStep
        fields = [
            "id",
            "order",
            "key",
            "atom",
            "label",
            "status",
            "attempts",
            "deadline",
            "eta",
            "started_at",
            "finished_at",
            "reference",
            "result",
        ]


class ServiceStepViewSet(
    IdempotentPostMixin,
    MerchantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Service steps of the merchant's orders; ``?order=<id>`` filters; complete confirms one."""

    serializer_class = ServiceStepSerializer
    queryset = ServiceStep.objects.none()
    ordering_fields = ["deadline", "position"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ServiceStep.objects.none()
        rows = ServiceStep.objects.filter(order__merchant=self.merchant).select_related("atom")
        order = self.request.query_params.get("order")
        if order is not None:
            if not order.isdigit():
                raise serializers.ValidationError({"order": ["A number."]})
            rows = rows.filter(order_id=int(order))
        return rows.order_by("order_id", "position")

    @extend_schema(request=None)
    def complete(self, request, *args, **kwargs):
        step = step_complete(step=self.get_object(), actor=self.actor)
        return Response(ServiceStepSerializer(step).data)


class OrderTrackingSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order_id")
    url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, tracking: OrderTracking) -> str | None:
        if not tracking.active:
            return None
        path = reverse("orchestration:track", args=[tracking.token])
        return public_url(path, request=self.context["request"])


class OrderTrackingViewSet(IdempotentPostMixin, MerchantScopedMixin, viewsets.GenericViewSet):
    """The customer status-page link of one of the merchant's orders (to send to the buyer).

    ``reissue`` revokes the current link and returns a new one; ``revoke`` only revokes.
    """

    serializer_class = OrderTrackingSerializer
    queryset = OrderTracking.objects.none()
    lookup_field = "order_id"

    def get_queryset(self):
        return OrderTracking.objects.filter(order__merchant=self.merchant)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None)
    def reissue(self, request, *args, **kwargs):
        tracking = tracking_revoke(tracking=self.get_object(), actor=self.actor, reissue=True)
        return Response(self.get_serializer(tracking).data)

    @extend_schema(request=None)
    def revoke(self, request, *args, **kwargs):
        tracking = tracking_revoke(tracking=self.get_object(), actor=self.actor, reissue=False)
        return Response(self.get_serializer(tracking).data)
