"""One exception handler for the API: domain errors to 409/422, everything as JSON.

Response shape: ``{"code": ..., "detail": ..., **details}`` for domain errors and
DRF's field map (``{"field": ["message"]}``) for validation errors.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from oms.exceptions import DomainError
from oms.idempotency import IdempotencyError

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            {"code": exc.code, "detail": exc.message, **exc.details}, status=exc.http_status
        )
    if isinstance(exc, IdempotencyError):
        return Response({"code": exc.code, "detail": str(exc)}, status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "code": "payload_too_large",
                "detail": "The request body is larger than this API accepts.",
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        return Response(
            {"code": "not_found", "detail": "Not found."}, status=status.HTTP_404_NOT_FOUND
        )
    return drf_exception_handler(exc, context)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """Root 404 handler: JSON under /api/ (an unknown route is an API error too), HTML elsewhere."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """Root 500 handler: JSON under /api/, HTML elsewhere; the cause is in the server log."""
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": "Internal error; it has been logged."}, status=500
        )
    return defaults.server_error(request)
