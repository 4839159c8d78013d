"""One tenant per row: a foreign key never points at another merchant's row.

Each model whose foreign keys could cross merchants checks them in ``clean()`` with
``same_merchant``; admin forms (and ``full_clean``) show a failure as a field error.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def same_merchant(merchant_id: int | None, **related: Any) -> None:
    """Raise ``ValidationError`` naming each related row that belongs to another merchant.

    ``related`` maps a field name to the row it points at (or None); a row without a
    ``merchant_id`` is compared through itself only if it is a merchant.
    """
    if merchant_id is None:
        return
    errors = {
        name: _("This belongs to another merchant.")
        for name, row in related.items()
        if row is not None and getattr(row, "merchant_id", merchant_id) != merchant_id
    }
    if errors:
        raise ValidationError(errors)
