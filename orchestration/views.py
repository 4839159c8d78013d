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
from datetime import date

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from oms.exceptions import DomainError
from oms.models import Order
from oms.selectors import status_reasons_text
from orchestration import customer_text, dashboards
from orchestration.models import (
    InterventionKind,
    InterventionRequest,
    PickupPoint,
    ServiceStep,
    SlaAlert,
    WebhookDelivery,
    WebhookEvent,
)
from orchestration.selectors import status_page, tracking_by_token
from orchestration.services.exceptions import (
    exceptions_queue,
    order_route_again,
    sla_alert_acknowledge,
    sla_alert_assign,
    step_retry,
)
from orchestration.services.interventions import (
    home_steps_after,
    intervention_confirm,
    intervention_request,
    pickup_points_near,
)
from orchestration.services.webhooks import webhook_resend

# The public pages run no script and load nothing from elsewhere; their one stylesheet is inline.
STATUS_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The staff boards load scripts from this site only and run none inline (the charts read their
# data from a json_script tag). The admin theme's Alpine.js evaluates its attribute expressions,
# hence 'unsafe-eval'; inline styles are the theme's and the tile map's.
STAFF_BOARD_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
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
    context = {
        **admin.site.each_context(request),
        "title": _("SLA board"),
        **dashboards.sla_board(days=days),
    }
    return _staff_board(render(request, "orchestration/sla_board.html", context))


def _staff_board(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = STAFF_BOARD_CSP
    return response


@staff_member_required
def ops_dashboard(request: HttpRequest) -> HttpResponse:
    days = _int_param(request, "days", 30, 1, 180)
    context = dashboards.ops_dashboard(
        days=days,
        merchant_id=_int_param(request, "merchant", 0, 0, 10**12) or None,
        channel_id=_int_param(request, "channel", 0, 0, 10**12) or None,
        day=_date_param(request, "day"),
    )
    return _staff_board(
        render(
            request,
            "orchestration/ops_dashboard.html",
            {**admin.site.each_context(request), "title": _("Operations dashboard"), **context},
        )
    )


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "")
    return min(max(int(raw), low), high) if raw.isdigit() else default


def _date_param(request, name: str) -> date | None:
    """An ISO date from the query string; None when absent or not a date."""
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


@staff_member_required
def ops_exceptions(request: HttpRequest) -> HttpResponse:
    """The exceptions queue: orders needing attention, failed steps, open SLA alerts."""
    queue = exceptions_queue(limit=50)
    reasons = status_reasons_text(queue.orders)
    context = {
        "orders": [(order, reasons.get(order.pk, order.status_reason)) for order in queue.orders],
        **admin.site.each_context(request),
        "title": _("Exceptions"),
        "queue": queue,
        "staff": get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .order_by("username"),
        "can_change_alerts": request.user.has_perm("orchestration.change_slaalert"),
        "can_change_steps": request.user.has_perm("orchestration.change_servicestep"),
        "can_change_orders": request.user.has_perm("oms.change_order"),
    }
    return render(request, "orchestration/exceptions.html", context)


@staff_member_required
@require_http_methods(["POST"])
def ops_exception_act(request: HttpRequest) -> HttpResponse:
    """One action from the queue (POST): acknowledge, assign, retry or route again."""
    action = request.POST.get("action", "")
    target = request.POST.get("id", "")
    if not target.isdigit():
        raise Http404
    user = request.user
    if not isinstance(user, AbstractBaseUser):  # staff_member_required let no one else in
        raise PermissionDenied
    if action in ("acknowledge", "assign", "retry_alert"):
        if not user.has_perm("orchestration.change_slaalert"):
            raise PermissionDenied
        alert = get_object_or_404(SlaAlert.objects.select_related("step", "order"), pk=target)
        if action == "acknowledge":
            sla_alert_acknowledge(alert=alert, user=user)
            messages.success(request, _("Alert acknowledged."))
        elif action == "assign":
            assignee_id = request.POST.get("assignee", "")
            assignee = (
                get_object_or_404(get_user_model(), pk=assignee_id, is_staff=True)
                if assignee_id.isdigit()
                else None
            )
            sla_alert_assign(alert=alert, assignee=assignee, user=user)
            messages.success(request, _("Alert assigned."))
        else:
            step_retry(step=alert.step, user=user)
            messages.success(request, _("Step retried."))
    elif action == "retry_step":
        if not user.has_perm("orchestration.change_servicestep"):
            raise PermissionDenied
        step_retry(step=get_object_or_404(ServiceStep, pk=target), user=user)
        messages.success(request, _("Step retried."))
    elif action == "route_again":
        if not user.has_perm("oms.change_order"):
            raise PermissionDenied
        order_route_again(order=get_object_or_404(Order, pk=target), user=user)
        messages.success(
            request, _("Order sent to routing again; it leaves this list once it is routed.")
        )
    else:
        raise Http404
    return redirect(reverse("orchestration:ops-exceptions"))


@staff_member_required
@require_http_methods(["GET", "POST"])
def ops_order_webhooks(request: HttpRequest, order_id: int) -> HttpResponse:
    """Re-send one of an order's webhooks: a past delivery, or its latest event.

    Staff who may change orders may do it (as the order page's other actions); the choice is
    posted, the delivery queued (``webhook_resend``), and staff go back to the order's page.
    """
    if not request.user.has_perm("oms.change_order"):
        raise PermissionDenied
    order = get_object_or_404(Order.objects.select_related("merchant"), pk=order_id)
    deliveries = list(
        WebhookDelivery.objects.filter(event__order=order)
        .select_related("event", "subscription")
        .order_by("-event__created_at", "-pk")[:50]
    )
    error = ""
    if request.method == "POST":
        choice = request.POST.get("delivery", "")
        chosen = None
        if choice != "latest":
            if not choice.isdigit():
                raise Http404
            chosen = get_object_or_404(WebhookDelivery, pk=choice, event__order=order)
        try:
            queued = webhook_resend(
                order=order, actor=f"user:{request.user.get_username()}", delivery=chosen
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d webhook queued to be sent again.",
                    "%(count)d webhooks queued to be sent again.",
                    len(queued),
                )
                % {"count": len(queued)},
            )
            return redirect(reverse("admin:oms_order_change", args=[order.pk]))
    context = {
        **admin.site.each_context(request),
        "title": _("Re-send a webhook of order %(order)s") % {"order": order.external_id},
        "order": order,
        "deliveries": deliveries,
        "latest_event": WebhookEvent.objects.filter(order=order)
        .order_by("-created_at", "-pk")
        .first(),
        "error": error,
        "tz": order.merchant.tzinfo,
    }
    return render(
        request, "orchestration/order_webhooks.html", context, status=400 if error else 200
    )
