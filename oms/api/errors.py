"""One exception handler for the API: domain errors to 409/422, everything as JSON.

Response shape: ``{"code": ..., "detail": ..., **details}`` for domain errors and
DRF's field map (``{"field": ["message"]}``) for validation errors.

The database out of reach (refused, closed under us, restarting) is a 503 with
``Retry-After``, not a 500: the request did nothing and may be sent again. API views answer it
here, JSON; everything else (middleware, admin, the status page) through the root 500 handler,
JSON under ``/api/`` and a plain page elsewhere.
"""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from oms.exceptions import DomainError
from oms.idempotency import IdempotencyError

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
_UNAVAILABLE_BODY = {
    "code": "database_unavailable",
    "detail": "The service cannot reach its database; retry shortly.",
}


def exception_handler(exc, context):
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error("database unavailable: %s: %s", type(exc).__name__, exc)
        response = Response(_UNAVAILABLE_BODY, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
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
    """Root 500 handler: JSON under /api/, HTML elsewhere; the cause is in the server log.

    Django calls it while handling the exception, so ``sys.exc_info()`` names it: the database
    out of reach answers 503 with ``Retry-After`` instead.
    """
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        response: HttpResponse
        if _is_api(request):
            response = JsonResponse(_UNAVAILABLE_BODY, status=503)
        else:
            response = HttpResponse(
                "Service temporarily unavailable; please try again shortly.",
                content_type="text/plain; charset=utf-8",
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": "Internal error; it has been logged."}, status=500
        )
    return defaults.server_error(request)
