"""The routing canvas: a profile's weights as sliders, with a what-if as they move.

A page inside the admin of one routing profile (``RoutingProfileAdmin.get_urls``):

- ``canvas/``: sliders for the weights, their live total and what each means in CNY, and a
  results table (this draft, the profile in force, the nearest-warehouse rule) that a script
  (``routing/static/routing/canvas.js``) refreshes as a slider moves;
- ``canvas/what-if/``: the JSON endpoint behind it (POST, staff only): the last N orders
  replayed with the weights posted (``routing.simulation.profile_what_if``). Bad input answers
  400 with a message per field; a merchant the profile does not apply to answers 404;
- ``canvas/save/``: "save as draft": a draft profile takes the weights, an enabled one is copied
  to a new draft with them; either way the what-if is run again on the server and kept with the
  draft's version (``ProfileSimulation``), so the draft can then be enabled (``canvas/enable/``)
  and only for that configuration (``routing.drafts.profile_enable``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from rest_framework import serializers

from oms.models import Merchant
from routing.drafts import DraftNotSimulated, profile_enable, simulation_for
from routing.engine.problem import FACTOR_NAMES, MONEY_FACTORS, Prices, Weights, prices_in_cny
from routing.explaining import merchant_tz, money, percent
from routing.forms import TOO_HEAVY
from routing.models import (
    CONFIG_FIELDS,
    FACTOR_LABELS,
    NEGATIVE_WEIGHT,
    PRICE_SENTENCES,
    PROFILE_PRICES,
    ProfileSimulation,
    RoutingProfile,
)
from routing.simulation import profile_what_if

ORDER_CHOICES = (50, 100, 200, 500)
DEFAULT_ORDERS = 200
ROW_LABELS = {
    "draft": gettext_lazy("These weights"),
    "active": gettext_lazy("Profile in force"),
    "nearest": gettext_lazy("Nearest-warehouse rule"),
}
METRIC_LABELS = {
    "cost_per_order": gettext_lazy("Cost per order (¥)"),
    "on_time_rate": gettext_lazy("On time (planned, %)"),
    "splits": gettext_lazy("Split orders"),
    "to_paused": gettext_lazy("Orders to paused warehouses"),
    "unroutable": gettext_lazy("Unroutable orders"),
}


class WeightsSerializer(serializers.Serializer):
    """One whole percentage per factor, 0..100, adding up to 100."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            name: serializers.IntegerField(
                min_value=0,
                max_value=100,
                error_messages={"min_value": NEGATIVE_WEIGHT, "max_value": TOO_HEAVY},
            )
            for name in FACTOR_NAMES
        }

    def validate(self, attrs: dict) -> dict:
        total = sum(attrs.values())
        if total != 100:
            raise serializers.ValidationError(
                _("Weights must add up to 100 %% (they add up to %(t)d %%).") % {"t": total}
            )
        return attrs


class WhatIfSerializer(serializers.Serializer):
    weights = WeightsSerializer()
    orders = serializers.ChoiceField(choices=ORDER_CHOICES, default=DEFAULT_ORDERS)
    merchant = serializers.IntegerField(required=False, allow_null=True, min_value=1)


def _json_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def staff_json(view):
    """Staff only, answered in JSON (403, not a redirect to the login page); CSRF checked."""

    @login_not_required
    @never_cache
    @csrf_protect
    def wrapped(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return _json_error(403, _("Staff only: log in to the admin."))
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return _json_error(404, _("No such routing profile or merchant."))

    return wrapped


def _scope(profile: RoutingProfile, merchant_id: int | None) -> int | None:
    """The merchant whose orders are replayed; 404 for one the profile does not apply to."""
    if profile.merchant_id is not None:
        if merchant_id is not None and merchant_id != profile.merchant_id:
            raise Http404("no such merchant for this profile")
        return profile.merchant_id
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id).exists():
        raise Http404("no such merchant")
    return merchant_id


def cny_meaning(profile: RoutingProfile, weights: dict[str, int]) -> dict[str, str]:
    """What each weight means in CNY with these weights and the profile's prices."""
    prices = prices_in_cny(
        Weights(**{k: float(v) for k, v in weights.items()}).normalised(),
        Prices(**{name: float(getattr(profile, f"price_{name}")) for name in PROFILE_PRICES}),
    )
    money_weight = sum(weights[name] for name in MONEY_FACTORS)
    out: dict[str, str] = {}
    for name in FACTOR_NAMES:
        if name in MONEY_FACTORS:
            out[name] = _("Money (shipping + handling, %(w)d %%): one CNY counts as one CNY.") % {
                "w": money_weight
            }
        elif prices is None:
            out[name] = _("Money has no weight: plans ignore cost and follow the other factors.")
        else:
            out[name] = PRICE_SENTENCES[name] % {"v": f"{prices[name]:.2f}"}
    if prices is not None:
        out["scarcity"] = PRICE_SENTENCES["scarcity"] % {"v": f"{prices['scarcity']:.2f}"}
    return out


def _signed(value: float, digits: int) -> str:
    text = f"{value:+.{digits}f}"
    return "0" if float(text) == 0 else text


def present(report: dict, profile: RoutingProfile) -> dict[str, Any]:
    """The what-if as the page shows it: every value formatted, every word translated."""
    rows = {row["key"]: row for row in report["rows"]}
    table = []
    for key, label in METRIC_LABELS.items():
        cells = []
        for row_key in ("draft", "active", "nearest"):
            row = rows[row_key]
            if key == "cost_per_order":
                text = money(row[key]) if row["routed"] else "—"
            elif key == "on_time_rate":
                text = percent(row[key]) if row["routed"] else "—"
            elif key == "splits":
                text = f"{row['splits']} ({percent(row['split_rate'])} %)"
            else:
                text = str(row[key])
            cells.append(text)
        table.append({"metric": key, "label": str(label), "cells": cells})
    draft, active = rows["draft"], rows["active"]
    summary = ""
    if draft["routed"] and active["routed"]:
        summary = _(
            "Against the profile in force: cost %(cost)s ¥ an order, on time %(on_time)s "
            "points, split orders %(splits)s."
        ) % {
            "cost": _signed(draft["cost_per_order"] - active["cost_per_order"], 2),
            "on_time": _signed(100 * (draft["on_time_rate"] - active["on_time_rate"]), 1),
            "splits": _signed(draft["splits"] - active["splits"], 0),
        }
    tz = merchant_tz(profile.merchant)

    def local(text: str | None) -> str:
        if not text:
            return "—"
        moment = datetime.fromisoformat(text)
        return timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M")

    active_names = [name or str(_("built-in")) for name in report.get("active_profiles", [])]
    return {
        "orders": report["orders"],
        "heads": [str(ROW_LABELS[key]) for key in ("draft", "active", "nearest")],
        "active_profiles": ", ".join(active_names) or "—",
        "active_profiles_line": _("Profile in force: %(names)s.")
        % {"names": ", ".join(active_names) or "—"},
        "table": table,
        "summary": summary,
        "period": _("%(n)d orders from %(first)s to %(last)s, replayed in %(s)s s.")
        % {
            "n": report["orders"],
            "first": local(report.get("first_at")),
            "last": local(report.get("last_at")),
            "s": f"{report['seconds']:.2f}",
        },
        "raw": {row["key"]: row for row in report["rows"]},
    }


def _parse(request: HttpRequest) -> tuple[WhatIfSerializer, dict | None]:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return WhatIfSerializer(data={}), {"detail": [_("The body must be a JSON object.")]}
    else:  # the save form posts fields
        body = {
            "weights": {name: request.POST.get(name) for name in FACTOR_NAMES},
            "orders": request.POST.get("orders") or DEFAULT_ORDERS,
            "merchant": request.POST.get("merchant") or None,
        }
    serializer = WhatIfSerializer(data=body)
    if not serializer.is_valid():
        return serializer, serializer.errors
    return serializer, None


def what_if_view(model_admin, request: HttpRequest, object_id: int) -> HttpResponse:
    if request.method != "POST":
        return _json_error(405, _("Use POST."))
    profile = get_object_or_404(RoutingProfile.objects.select_related("merchant"), pk=object_id)
    if not model_admin.has_view_permission(request, profile):
        return _json_error(403, _("You may not view routing profiles."))
    serializer, errors = _parse(request)
    if errors is not None:
        return JsonResponse({"errors": errors}, status=400)
    data = serializer.validated_data
    scope = _scope(profile, data.get("merchant"))
    weights = dict(data["weights"])
    report = profile_what_if(
        draft=profile, last_n=int(data["orders"]), merchant_id=scope, weights=weights
    )
    return JsonResponse(
        {
            "weights": weights,
            "total": sum(weights.values()),
            "meaning": cny_meaning(profile, weights),
            "report": present(report, profile),
        }
    )


def _draft_copy(profile: RoutingProfile, weights: dict[str, int]) -> RoutingProfile:
    """A new draft with ``profile``'s configuration and rules, and ``weights``."""
    stamp = timezone.localtime(timezone.now(), merchant_tz(profile.merchant))
    base = _("%(name)s (draft %(when)s)") % {
        "name": profile.name,
        "when": stamp.strftime("%Y-%m-%d %H:%M"),
    }
    name, n = base[:80], 2
    while RoutingProfile.objects.filter(name=name).exists():
        name, n = f"{base[:75]} ({n})", n + 1
    draft = RoutingProfile(
        name=name,
        description=profile.description,
        merchant_id=profile.merchant_id,
        enabled=False,
        is_default=False,
        priority=profile.priority,
        active_from=profile.active_from,
        active_until=profile.active_until,
        **{field: getattr(profile, field) for field in CONFIG_FIELDS},
    )
    for factor, value in weights.items():
        setattr(draft, factor, value)
    setattr(draft, "_change_reason", f"draft from the routing canvas of {profile.name}")  # noqa: B010
    draft.save()
    for rule in profile.rules.all():
        rule.pk = None
        rule.id = None
        rule.profile = draft
        rule._state.adding = True
        rule.save()
    return draft


def save_view(model_admin, request: HttpRequest, object_id: int) -> HttpResponse:
    """Save the sliders as a draft and keep its what-if run with the draft's version."""
    profile = get_object_or_404(RoutingProfile.objects.select_related("merchant"), pk=object_id)
    canvas = reverse("admin:routing_routingprofile_canvas", args=[profile.pk])
    if request.method != "POST":
        return HttpResponseRedirect(canvas)
    copying = profile.enabled
    if not model_admin.has_change_permission(request, profile) or (
        copying and not model_admin.has_add_permission(request)
    ):
        messages.error(request, _("You may not change routing profiles."))
        return HttpResponseRedirect(canvas)
    serializer, errors = _parse(request)
    if errors is not None:
        messages.error(request, _("Nothing saved: %(e)s") % {"e": _flatten(errors)})
        return HttpResponseRedirect(canvas)
    data = serializer.validated_data
    scope = _scope(profile, data.get("merchant"))
    weights = dict(data["weights"])
    with transaction.atomic():
        if copying:
            draft = _draft_copy(profile, weights)
        else:
            draft = RoutingProfile.objects.select_for_update().get(pk=profile.pk)
            for factor, value in weights.items():
                setattr(draft, factor, value)
            setattr(draft, "_change_reason", "weights from the routing canvas")  # noqa: B010
            draft.save()
    report = profile_what_if(draft=draft, last_n=int(data["orders"]), merchant_id=scope)
    run = ProfileSimulation.objects.create(
        profile=draft,
        profile_version=draft.version,
        config_digest=draft.config_digest(),
        status=ProfileSimulation.Status.COMPLETED,
        orders=report["orders"],
        report=report,
        created_by=request.user if isinstance(request.user, User) else None,
    )
    messages.success(
        request,
        _(
            "Saved as draft “%(name)s”, version %(v)d, with its what-if on %(n)d orders. "
            "It can now be enabled."
        )
        % {"name": draft.name, "v": run.profile_version, "n": run.orders},
    )
    return HttpResponseRedirect(reverse("admin:routing_routingprofile_canvas", args=[draft.pk]))


def enable_view(model_admin, request: HttpRequest, object_id: int) -> HttpResponse:
    profile = get_object_or_404(RoutingProfile, pk=object_id)
    canvas = reverse("admin:routing_routingprofile_canvas", args=[profile.pk])
    if request.method != "POST":
        return HttpResponseRedirect(canvas)
    if not model_admin.has_change_permission(request, profile):
        messages.error(request, _("You may not change routing profiles."))
        return HttpResponseRedirect(canvas)
    try:
        enabled = profile_enable(profile=profile)
    except DraftNotSimulated as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(canvas)
    messages.success(
        request, _("%(p)s is enabled (version %(v)d).") % {"p": enabled, "v": enabled.version}
    )
    return HttpResponseRedirect(canvas)


def _flatten(errors: Any) -> str:
    if isinstance(errors, dict):
        return " ".join(_flatten(value) for value in errors.values())
    if isinstance(errors, list):
        return " ".join(_flatten(value) for value in errors)
    return str(errors)


def canvas_view(model_admin, request: HttpRequest, object_id: int) -> HttpResponse:
    profile = get_object_or_404(RoutingProfile.objects.select_related("merchant"), pk=object_id)
    if not model_admin.has_view_permission(request, profile):
        raise Http404("no such profile")
    weights = profile.weights_percent()
    meaning = cny_meaning(profile, weights)
    run = simulation_for(profile=profile, digest=profile.config_digest())
    can_change = model_admin.has_change_permission(request, profile)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Routing canvas: %(name)s") % {"name": profile.name},
        "opts": RoutingProfile._meta,
        "profile": profile,
        "factors": [
            {
                "name": name,
                "label": FACTOR_LABELS[name],
                "value": weights[name],
                "meaning": meaning[name],
            }
            for name in FACTOR_NAMES
        ],
        "total": sum(weights.values()),
        "scarcity": meaning.get("scarcity", ""),
        "order_choices": ORDER_CHOICES,
        "default_orders": DEFAULT_ORDERS,
        "merchants": Merchant.objects.order_by("name") if profile.merchant_id is None else [],
        "metric_labels": list(METRIC_LABELS.values()),
        "row_labels": [ROW_LABELS[key] for key in ("draft", "active", "nearest")],
        "can_save": can_change and (not profile.enabled or model_admin.has_add_permission(request)),
        "can_enable": can_change and not profile.enabled and run is not None,
        "run": run,
        "negative": NEGATIVE_WEIGHT,
    }
    return TemplateResponse(request, "admin/routing/routingprofile/canvas.html", context)
