"""Server-rendered pages: the customer status page (no login) and the staff boards.

The status page is reached only through its random token; every response carries
``Referrer-Policy: no-referrer`` (the token must not leak to other sites through links),
``Cache-Control: no-store`` and ``X-Robots-Tag: noindex``. An unknown or revoked token is a
plain 404 that says nothing about whether the order exists.

The two POST views are exempt from Django's CSRF check on purpose: with ``no-referrer`` browsers
send ``Origin: null`` on form posts, which the origin check refuses. They need no token: a
forged cross-site post would have to know the 192-bit token in the URL (then the attacker holds
the link anyway), and nothing changes before the one-time code from the phone on record is typed.
"""

import functools

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from oms.exceptions import DomainError
from orchestration import customer_text, dashboards
from orchestration.models import InterventionKind, InterventionRequest, PickupPoint, ServiceStep
from orchestration.selectors import status_page, tracking_by_token
from orchestration.services.interventions import (
    home_steps_after,
    intervention_confirm,
    intervention_request,
    pickup_points_near,
)

# The public pages run no script and load nothing from elsewhere; their one stylesheet is inline.
STATUS_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _private(response: HttpResponse) -> HttpResponse:
    """Headers of every customer page, found or not: no referrer, no caching, no indexing."""
    response["Content-Security-Policy"] = STATUS_PAGE_CSP
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


class UnknownLink(Exception):
    """The token names no live tracking link (mistyped, revoked, or not a token at all)."""


def _tracking_or_404(token: str):
    tracking = tracking_by_token(token)
    if tracking is None:
        raise UnknownLink(token)
    return tracking


def _unknown_link(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "orchestration/track_unknown.html", status=404))


def _chosen_language(request: HttpRequest) -> str:
    """The language picked with the page's switcher (``?lang=zh-hans``), if it is one we have."""
    wanted = request.GET.get("lang", "")
    return wanted if wanted in dict(settings.LANGUAGES) else ""


def _customer_page(view):
    """An unknown token or step answers a 404 page with the same private headers as a known one.

    The language is the browser's (``Accept-Language``, through ``LocaleMiddleware``) unless the
    customer picked one with the switcher; the pick is kept in the language cookie, so the
    confirmation page and later visits follow it.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        chosen = _chosen_language(request)
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = translation.get_language()
        try:
            response = view(request, *args, **kwargs)
        except (UnknownLink, Http404):
            response = _unknown_link(request)
        if chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=request.is_secure(),
                httponly=True,
            )
        return response

    return wrapper


def _render_page(request, tracking, *, error: str = "", status: int = 200, notice: str = ""):
    context = status_page(tracking=tracking)
    context["error"] = error
    context["notice"] = notice or (
        _("Your change is confirmed.") if request.GET.get("changed") == "1" else ""
    )
    if any("pickup" in view.interventions for view in context["steps"]):
        context["pickup_points"] = pickup_points_near(order=tracking.order)
    return _private(render(request, "orchestration/track.html", context, status=status))


@_customer_page
@require_http_methods(["GET", "HEAD"])
def track(request: HttpRequest, token: str) -> HttpResponse:
    tracking = _tracking_or_404(token)
    return _render_page(request, tracking)


@_customer_page
@csrf_exempt
@require_http_methods(["POST"])
def track_change(request: HttpRequest, token: str, step_id: int) -> HttpResponse:
    """Ask for a change; the confirmation code goes to the phone on record."""
    tracking = _tracking_or_404(token)
    step = (
        ServiceStep.objects.select_related("atom", "order")
        .filter(pk=step_id, order_id=tracking.order_id)
        .first()
    )
    if step is None:
        raise Http404("Unknown step")
    kind = request.POST.get("kind", "")
    value = request.POST.get("slot" if kind == InterventionKind.RESCHEDULE else "pickup_point", "")
    try:
        change = intervention_request(tracking=tracking, step=step, kind=kind, value=value)
    except DomainError as exc:
        return _render_page(request, tracking, error=exc.message, status=400)
    return _private(redirect(reverse("orchestration:track-confirm", args=[token, change.pk])))


@_customer_page
@csrf_exempt
@require_http_methods(["GET", "POST"])
def track_confirm(request: HttpRequest, token: str, request_id: int) -> HttpResponse:
    tracking = _tracking_or_404(token)
    change = (
        InterventionRequest.objects.select_related("step__atom")
        .filter(pk=request_id, tracking=tracking)
        .first()
    )
    if change is None:
        raise Http404("Unknown request")
    error = ""
    # A used, expired or locked link says so (no code is asked for again); only a pending
    # change takes a code.
    if request.method == "POST" and change.state == InterventionRequest.State.PENDING:
        try:
            intervention_confirm(request=change, code=request.POST.get("code", ""))
        except DomainError as exc:
            error = exc.message
        else:
            return _private(redirect(reverse("orchestration:track", args=[token]) + "?changed=1"))
        change.refresh_from_db()
    tz = tracking.order.merchant.tzinfo
    point = (
        PickupPoint.objects.filter(pk=change.payload.get("pickup_point_id")).first()
        if change.kind == InterventionKind.PICKUP
        else None
    )
    context = {
        "tracking": tracking,
        "change": change,
        "error": error,
        "phone": status_page_phone(tracking),
        "when": _slot_words(change.payload, tz),
        "point": point,
        "point_name": point.name if point else change.payload.get("pickup_point", ""),
        "cancels": (
            [step.atom.label for step in home_steps_after(change.step)]
            if point and change.state == InterventionRequest.State.PENDING
            else []
        ),
        "confirmed_at": customer_text.day_time(change.confirmed_at, tz),
    }
    return _private(
        render(request, "orchestration/confirm.html", context, status=400 if error else 200)
    )


def _slot_words(payload: dict, tz) -> str:
    start = parse_datetime(payload.get("slot_start") or "")
    end = parse_datetime(payload.get("slot_end") or "")
    return customer_text.slot_text(start, end, tz) if start and end else ""


def status_page_phone(tracking) -> str:
    from customers.matching import mask_phone

    return mask_phone(tracking.order.receiver_phone)


@staff_member_required
def sla_board(request: HttpRequest) -> HttpResponse:
    days = _int_param(request, "days", 14, 1, 90)
    return render(request, "orchestration/sla_board.html", dashboards.sla_board(days=days))


@staff_member_required
def ops_dashboard(request: HttpRequest) -> HttpResponse:
    days = _int_param(request, "days", 30, 1, 180)
    context = dashboards.ops_dashboard(
        days=days,
        merchant_id=_int_param(request, "merchant", 0, 0, 10**12) or None,
        channel_id=_int_param(request, "channel", 0, 0, 10**12) or None,
    )
    return render(request, "orchestration/ops_dashboard.html", context)


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "")
    return min(max(int(raw), low), high) if raw.isdigit() else default
