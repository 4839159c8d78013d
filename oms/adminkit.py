"""What the admin pages of every app share: rows kept for the record, tenant fields locked.

- ``NeverDeletedMixin``: orders, decisions, alerts, raw payloads and logs are the record of what
  happened; nobody deletes them from admin, a superuser included (cancel or resolve instead).
- ``TenantLockedMixin``: the merchant a row belongs to, and the codes other systems know it by,
  are read-only once the row exists: moving a channel with its secret and orders to another
  merchant, or renaming a code orders refer to, is not an edit.

(A foreign key to another merchant's row is refused by the models' ``clean()``, see
``oms.tenancy``.)
"""

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest


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
