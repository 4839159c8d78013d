"""What the admin pages of every app share: rows kept for the record, tenant fields locked.

- ``NeverDeletedMixin``: orders, decisions, alerts, raw payloads and logs are the record of what
  happened; nobody deletes them from admin, a superuser included (cancel or resolve instead).
- ``TenantLockedMixin``: the merchant a row belongs to, and the codes other systems know it by,
  are read-only once the row exists: moving a channel with its secret and orders to another
  merchant, or renaming a code orders refer to, is not an edit.
- ``TrimmedDecimalsMixin`` and ``ShareAsPercentField``: staff read "4 kg" and "95.5 %", never
  "4.000" or "0.955" (a decimal column's padding, a share of one).

(A foreign key to another merchant's row is refused by the models' ``clean()``, see
``oms.tenancy``.)
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils.text import capfirst
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
