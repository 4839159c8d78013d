"""Who changed a row, for django-simple-history.

API callers are merchant keys, not Django users; history rows then record no user (the API
key is not a ``User``), while changes made in admin record the staff member.
"""

from django.contrib.auth import get_user_model


def history_user(instance=None, request=None, **kwargs):
    user = getattr(request, "user", None)
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None
