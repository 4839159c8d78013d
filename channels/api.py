"""Channel API: signed order ingestion (no API key: the channel signs), price report, metrics.

Thin: read the raw body and headers, call one service or selector, serialize.
"""

import hashlib
import logging
import time
from datetime import datetime

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from channels import selectors, services, signing
from oms.api import throttling
from oms.api.base import MerchantScopedMixin
from oms.api.params import iso_time_param

logger = logging.getLogger(__name__)


class IngestResponseSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    external_id = serializers.CharField()
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    duplicate = serializers.BooleanField()
    inbox_id = serializers.IntegerField()


class PriceDifferenceSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    list_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    prices = serializers.DictField(child=serializers.DecimalField(max_digits=12, decimal_places=2))
    lowest = serializers.DecimalField(max_digits=12, decimal_places=2)
    highest = serializers.DecimalField(max_digits=12, decimal_places=2)


class PriceDifferencesResponse(serializers.Serializer):
    count = serializers.IntegerField()
    results = PriceDifferenceSerializer(many=True)


class ChannelMetricsSerializer(serializers.Serializer):
    channel = serializers.CharField()
    kind = serializers.CharField()
    received = serializers.IntegerField()
    parsed = serializers.IntegerField()
    failed = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    gifts_granted = serializers.IntegerField()
    gifts_refused_as_duplicate = serializers.IntegerField()
    orders = serializers.IntegerField(help_text="Orders of the channel received in the period.")
    merged_orders = serializers.IntegerField(help_text="Of those, orders in a merged fulfilment.")
    cross_channel_merged = serializers.IntegerField(
        help_text="Of those, orders merged with an order from another channel."
    )
    cross_channel_merge_rate = serializers.FloatField(
        help_text="cross_channel_merged / orders (0..1)."
    )
    customers = serializers.IntegerField(help_text="Distinct unified customers with an order.")
    multi_channel_customers = serializers.IntegerField(
        help_text="Of those, customers who also ordered on another channel in the period."
    )
    duplicate_customer_rate = serializers.FloatField(
        help_text="multi_channel_customers / customers (0..1): buyers this channel alone would "
        "count as customers of its own."
    )


class ChannelMetricsResponse(serializers.Serializer):
    results = ChannelMetricsSerializer(many=True)


class ChannelSenderThrottle(SimpleRateThrottle):
    """Deliveries per channel code and client address (``OMS_CHANNEL_INGEST_RATE``), a 429.

    The same fixed-window counter in the shared cache as the merchant API's throttle. If the
    cache is down, deliveries are let through (and the failure logged): a channel's orders
    matter more than the limit. The address is the peer's unless ``NUM_PROXIES`` says how many
    proxies in front may be trusted to write ``X-Forwarded-For``.
    """

    scope = "channel_ingest"

    def get_rate(self) -> str | None:
        return settings.OMS_CHANNEL_INGEST_RATE or None

    def allow_request(self, request, view) -> bool:
        if not self.rate:
            return True
        num_requests, duration = self.parse_rate(self.rate)
        assert num_requests is not None and duration is not None  # parsed from a non-empty rate
        address = (
            self.get_ident(request)
            if api_settings.NUM_PROXIES is not None
            else request.META.get("REMOTE_ADDR", "")
        )
        sender = f"{view.kwargs.get('code', '')}|{address}"
        digest = hashlib.blake2b(sender.encode(errors="replace"), digest_size=16).hexdigest()
        now = time.time()
        window = int(now // duration)
        self._window_ends = (window + 1) * duration
        try:
            count = throttling._count(
                f"throttle:{self.scope}:{digest}:{duration}:{window}", ttl=duration + 1
            )
        except Exception:
            logger.warning(
                "channel ingest throttle skipped: the cache is unavailable", exc_info=True
            )
            return True
        return count <= num_requests

    def wait(self) -> float:
        return max(self._window_ends - time.time(), 0.0)


def _ingest_body(result: services.IngestResult) -> dict:
    order = result.order
    return {
        "order_id": order.pk,
        "external_id": order.external_id,
        "status": order.status,
        "total": str(order.total),
        "currency": order.currency,
        "duplicate": result.duplicate,
        "inbox_id": result.message.pk,
    }


class ChannelOrderIngestView(APIView):
    """``POST /api/channels/{code}/orders``: a channel delivers one order in its native format."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ChannelSenderThrottle]
    parser_classes: list = []  # the raw body is what is signed and stored

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={201: IngestResponseSerializer, 200: IngestResponseSerializer},
        parameters=[
            OpenApiParameter(
                signing.SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of '{timestamp}.' + raw body>",
            ),
            OpenApiParameter(
                signing.TIMESTAMP_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Unix seconds; at most 5 minutes off.",
            ),
            OpenApiParameter(
                "X-Merchant",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Merchant code, when several merchants use this channel code.",
            ),
        ],
    )
    def post(self, request, code: str):
        headers = {name: value for name, value in request.headers.items()}
        try:
            body = request.body
        except RequestDataTooBig:
            # Counted by its first bytes and declared size (a 413); the rest is never read.
            services.inbox_refuse_oversized(
                code=code,
                headers=headers,
                excerpt=request.read(services.INBOX_EXCERPT_BYTES),
                size=int(request.META.get("CONTENT_LENGTH") or 0),
            )
        result = services.channel_order_ingest(code=code, body=body, headers=headers)
        return Response(
            _ingest_body(result),
            status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED,
        )


def _at(request) -> datetime:
    moment = iso_time_param(request.query_params.get("at"), name="at", default=timezone.now())
    assert moment is not None  # the default is a time
    return moment


class PriceDifferencesView(MerchantScopedMixin, APIView):
    """``GET /api/channels/price-differences``: SKUs whose effective price differs across channels."""

    @extend_schema(
        parameters=[OpenApiParameter("at", str, description="ISO time; default now")],
        responses={200: PriceDifferencesResponse},
    )
    def get(self, request):
        rows = selectors.price_differences(merchant=self.merchant, at=_at(request))
        return Response(PriceDifferencesResponse({"count": len(rows), "results": rows}).data)


class ChannelMetricsView(MerchantScopedMixin, APIView):
    """``GET /api/channels/metrics``: per channel, inbox outcomes, gifts refused as duplicates,
    cross-channel merge rate and duplicate-customer rate (see ``selectors.fusion_metrics``)."""

    @extend_schema(
        parameters=[OpenApiParameter("since", str, description="ISO time")],
        responses={200: ChannelMetricsResponse},
    )
    def get(self, request):
        since = iso_time_param(request.query_params.get("since"), name="since")
        rows = selectors.ingest_metrics(merchant=self.merchant, since=since)
        return Response(ChannelMetricsResponse({"results": rows}).data)
