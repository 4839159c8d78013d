"""What the admin pages of every app share: rows kept for the record, tenant fields locked.

- ``NeverDeletedMixin``: orders, decisions, alerts, raw payloads and logs are the record of what
  happened; nobody deletes them from admin, a superuser included (cancel or resolve instead).
- ``TenantLockedMixin``: the merchant a row belongs to, and the codes other systems know it by,
  are read-only once the row exists: moving a channel with its secret and orders to another
  merchant, or renaming a code orders refer to, is not an edit.
- ``details_html``: stored details (JSON) shown as words, never as JSON.
- ``TrimmedDecimalsMixin`` and ``ShareAsPercentField``: staff read "4 kg" and "95.5 %", never
  "4.000" or "0.955" (a decimal column's padding, a share of one).

(A foreign key to another merchant's row is refused by the models' ``clean()``, see
``oms.tenancy``.)
"""

import zoneinfo
from collections.abc import Sequence
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.overrides import FORMFIELD_OVERRIDES
from unfold.widgets import UnfoldAdminDecimalFieldWidget


class NeverDeletedMixin:
    """No delete permission for anyone, so neither the delete action nor the page exists."""

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class TenantLockedMixin:
    """``locked_on_change`` fields are read-only on an existing row (editable when adding)."""

    locked_on_change: Sequence[str] = ("merchant",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is not None:
            fields += [name for name in self.locked_on_change if name not in fields]
        return fields


# Keys of stored details staff see often, in words (others are shown humanised: "slot_start" ->
# "Slot start"). Every sentence the product writes is translated; the keys are product words.
DETAIL_WORDS = {
    "account_key": _("channel account"),
    "address": _("address"),
    "address_digest": _("address digest"),
    "admin_code": _("area code"),
    "admin_prefix": _("area code prefix"),
    "after_days": _("after days"),
    "amount": _("amount"),
    "at": _("at"),
    "building": _("building"),
    "canonical": _("normalised address"),
    "carrier": _("carrier"),
    "cause": _("cause"),
    "channel": _("channel"),
    "checked": _("checked"),
    "checklist": _("checklist"),
    "city": _("city"),
    "code": _("code"),
    "community": _("community"),
    "count": _("count"),
    "created_at": _("created at"),
    "currency": _("currency"),
    "data": _("details"),
    "decision": _("routing decision"),
    "demo": _("demo"),
    "device_id": _("device"),
    "district": _("district"),
    "duty": _("duty"),
    "eta": _("expected arrival"),
    "floor": _("floor"),
    "full": _("full name"),
    "honorific": _("honorific"),
    "last_error_text": _("last error"),
    "last_external_system": _("last external system"),
    "lead_hours": _("lead time (hours)"),
    "location": _("location"),
    "message": _("message"),
    "method": _("method"),
    "months": _("months"),
    "name": _("name"),
    "number": _("house number"),
    "outage_attempts": _("attempts during outage"),
    "params": _("parameters"),
    "passed": _("passed"),
    "phone": _("phone"),
    "phone_digest": _("phone digest"),
    "phone_masked": _("masked phone"),
    "pickup_point": _("pickup point"),
    "place": _("place"),
    "plan_version": _("plan version"),
    "previous": _("earlier attempts"),
    "products": _("products"),
    "province": _("province"),
    "record_id": _("source record"),
    "reference": _("reference"),
    "regime": _("regime"),
    "room": _("room"),
    "serial_prefix": _("serial prefix"),
    "serials": _("serial numbers"),
    "service": _("service"),
    "slot_end": _("slot end"),
    "slot_start": _("slot start"),
    "start": _("start"),
    "status": _("status"),
    "step": _("step"),
    "steps": _("steps"),
    "street": _("street"),
    "surname": _("surname"),
    "system": _("system"),
    "temperature": _("temperature"),
    "template": _("template"),
    "total": _("total"),
    "tracking_number": _("tracking number"),
    "transit_hours": _("transit hours"),
    "typical_hours": _("typical hours"),
    "unit": _("unit"),
    "valid_until": _("valid until"),
    "vat": _("VAT"),
    "visit_at": _("visit at"),
    "waits_for_confirmation": _("waits for confirmation"),
    "warehouse": _("warehouse"),
}


def _detail_key(key: str) -> str:
    word = DETAIL_WORDS.get(key)
    return str(word) if word is not None else key.replace("_", " ").strip().capitalize()


def _detail_scalar(value: Any, tz: tzinfo) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and "T" in value:
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, tz)
            return timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M")
    return str(value)


def details_html(value: Any, tz: tzinfo | None = None) -> SafeString:
    """Stored details (a JSON value) as staff read them: a list of "key: value" lines, nested
    values indented, times on the merchant's clock (``tz``), numbers to 2 decimals; no JSON."""
    tz = tz or zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if isinstance(value, dict):
        if not value:
            return format_html("{}", "—")
        rows = format_html_join(
            "",
            '<div class="flex gap-2"><dt class="font-medium min-w-32">{}</dt><dd>{}</dd></div>',
            ((_detail_key(str(k)), details_html(v, tz)) for k, v in value.items()),
        )
        return format_html('<dl class="flex flex-col gap-1">{}</dl>', rows)
    if isinstance(value, list | tuple):
        if not value:
            return format_html("{}", "—")
        if all(not isinstance(item, dict | list | tuple) for item in value):
            return format_html("{}", ", ".join(_detail_scalar(item, tz) for item in value))
        items = format_html_join("", "<li>{}</li>", ((details_html(v, tz),) for v in value))
        return format_html('<ul class="flex flex-col gap-1">{}</ul>', items)
    return format_html("{}", _detail_scalar(value, tz))


def trimmed_decimal(value: Decimal) -> str:
    """``Decimal("4.000")`` as "4", ``Decimal("26.65000")`` as "26.65": no padding zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class TrimmedDecimalWidget(UnfoldAdminDecimalFieldWidget):
    """A decimal input that shows the value without its column's padding zeros."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal):
            return trimmed_decimal(value)
        return super().format_value(value)


class TrimmedDecimalsMixin:
    """Decimal inputs show "4", not "4.000" (a weight in kg with 3 decimal places)."""

    formfield_overrides = {
        **FORMFIELD_OVERRIDES,
        models.DecimalField: {"widget": TrimmedDecimalWidget},
    }


class ShareAsPercentField(forms.FloatField):
    """A share of one (0.955) that staff read and type as a percentage (95.5).

    The model keeps the share; the form shows ``100 * share`` with at most two decimals and
    cleans what is typed back to a share, refusing anything outside 0-100 % in percent terms.
    """

    widget = UnfoldAdminDecimalFieldWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [MinValueValidator(0), MaxValueValidator(100)])
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
            return f"{100 * float(value):.2f}".rstrip("0").rstrip(".")
        return value

    def clean(self, value: Any) -> float | None:
        percent = super().clean(value)
        return None if percent is None else round(percent / 100, 6)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            typed = self.to_python(data)
        except forms.ValidationError:
            return True
        if initial in (None, "") or typed is None:
            return initial not in (None, "") or typed is not None
        return abs(100 * float(initial) - typed) > 1e-9


class SharesAsPercentMixin:
    """``share_fields`` (shares of one on the model) are edited as percentages."""

    share_fields: Sequence[str] = ()

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.share_fields:
            return ShareAsPercentField(
                label=f"{capfirst(db_field.verbose_name)} (%)",
                required=not db_field.blank,
                initial=db_field.default if db_field.has_default() else None,
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
