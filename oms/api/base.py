"""What every merchant API view shares: the caller's merchant, size limits, idempotent POSTs."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from rest_framework import exceptions

from oms import idempotency
from oms.api.auth import principal_of
from oms.models import IdempotencyRecord, Merchant

if TYPE_CHECKING:
    # The mixins are combined with DRF views; type them against the view they extend.
    from rest_framework.views import APIView as _ViewBase
else:
    _ViewBase = object

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class MerchantScopedMixin(_ViewBase):
    """Scope querysets to the caller's merchant so other tenants' ids answer 404."""

    @property
    def merchant(self) -> Merchant:
        return principal_of(self.request).merchant

    @property
    def actor(self) -> str:
        return str(self.request.user)


class IdempotentPostMixin(_ViewBase):
    """``Idempotency-Key`` on POST: replay, 409 in flight, 422 reused (see ``oms.idempotency``)."""

    idempotency_header = "HTTP_IDEMPOTENCY_KEY"
    _idempotency_record: IdempotencyRecord | None

    def initial(self, request, *args, **kwargs):
        self._idempotency_record = None
        if request.method in BODY_METHODS:
            length = request.META.get("CONTENT_LENGTH") or "0"
            if length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise RequestDataTooBig()
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        key = request.META.get(self.idempotency_header)
        if request.method != "POST" or not key:
            return
        if len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": ["At most 255 characters."]})
        claimed = idempotency.begin(
            merchant=principal_of(request).merchant,
            key=key,
            request_fingerprint=idempotency.fingerprint(
                method=request.method, path=request.path, body=request._request.body
            ),
        )
        if isinstance(claimed, idempotency.Replay):
            raise _ReplayResponse(claimed)
        self._idempotency_record = claimed

    @property
    def claimed_idempotency_key(self) -> str:
        """The request's ``Idempotency-Key`` when this request holds its claim, else ``""``."""
        record = getattr(self, "_idempotency_record", None)
        return record.key if record is not None else ""

    def handle_exception(self, exc):
        if isinstance(exc, _ReplayResponse):
            response = HttpResponse(
                exc.replay.body, status=exc.replay.status, content_type=exc.replay.content_type
            )
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            return super().handle_exception(exc)
        except Exception:
            record = getattr(self, "_idempotency_record", None)
            if record is not None:
                idempotency.abandon(record=record)
                self._idempotency_record = None
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            idempotency.finish(
                record=record,
                status=response.status_code,
                body=response.content,
                content_type=response.get("Content-Type", "application/json"),
            )
            self._idempotency_record = None
        return response


class _ReplayResponse(Exception):
    def __init__(self, replay: idempotency.Replay) -> None:
        self.replay = replay
