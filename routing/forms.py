"""The routing profile form: weights that cannot be negative, and no draft enabled unsimulated.

A negative weight is refused at its field with its own message (the sum is then not checked, as
it would be the sum of the value before). A profile that is not enabled in the database is a
draft: enabling it needs a completed simulation of exactly the configuration being enabled
(``routing.drafts``); rule changes submitted with the enabling are refused for the same reason.
"""

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from routing.drafts import not_simulated_message, simulation_for
from routing.engine.problem import FACTOR_NAMES
from routing.models import CONFIG_FIELDS, NEGATIVE_WEIGHT, RoutingProfile

TOO_HEAVY = _("A weight is a percentage: at most 100.")


def _enabled_in_database(profile: RoutingProfile) -> bool:
    return (
        profile.pk is not None
        and RoutingProfile.objects.filter(pk=profile.pk, enabled=True).exists()
    )


class RoutingProfileForm(forms.ModelForm):
    class Meta:
        model = RoutingProfile
        fields = [
            "name",
            "description",
            "merchant",
            "is_default",
            "enabled",
            "priority",
            "active_from",
            "active_until",
            *CONFIG_FIELDS,
            "measured_trade_off",
            "measured_at",
        ]
        error_messages = {
            name: {"min_value": NEGATIVE_WEIGHT, "max_value": TOO_HEAVY} for name in FACTOR_NAMES
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "enabled" in self.fields:
            # A new profile is a draft until it has been simulated.
            self.fields["enabled"].initial = False

    def enabling(self) -> bool:
        """Whether this submission turns a draft (disabled or new profile) on."""
        return bool(self.cleaned_data.get("enabled")) and not _enabled_in_database(self.instance)

    def clean(self) -> dict:
        cleaned: dict = super().clean() or self.cleaned_data
        if not self.enabling() or any(name in self.errors for name in CONFIG_FIELDS):
            return cleaned
        candidate = copy.copy(self.instance)
        for name in CONFIG_FIELDS:
            if name in cleaned:
                setattr(candidate, name, cleaned[name])
        if simulation_for(profile=self.instance, digest=candidate.config_digest()) is None:
            raise ValidationError({"enabled": not_simulated_message()})
        return cleaned


class RoutingRuleFormSet(forms.BaseInlineFormSet):
    """Rules of a draft being enabled stay as simulated: changes then wait for a new run."""

    def clean(self) -> None:
        super().clean()
        profile = self.instance
        if profile.enabled and not _enabled_in_database(profile) and self.has_changed():
            raise ValidationError(
                _(
                    "Rules changed while enabling the profile: save the changed rules on the "
                    "draft, simulate it, then enable it."
                )
            )
