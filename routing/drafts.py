"""Draft routing profiles: simulate a version on recent real orders, then enable it.

A profile saved disabled is a draft. ``profile_simulate`` replays recent orders with it (the
what-if of ``routing.simulation``) and keeps the run with the profile's version and the
fingerprint of its configuration. ``profile_enable`` enables a draft only when a completed run
exists for exactly the configuration being enabled; the profile form applies the same check
through ``simulation_for``.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from oms.exceptions import DomainError
from routing.models import ProfileSimulation, RoutingProfile
from routing.simulation import profile_what_if


class DraftNotSimulated(DomainError):
    code = "draft_not_simulated"


def simulation_for(*, profile: RoutingProfile, digest: str) -> ProfileSimulation | None:
    """The latest completed run of ``profile`` with configuration ``digest`` (None: none)."""
    if profile.pk is None:
        return None
    return (
        ProfileSimulation.objects.filter(
            profile=profile, config_digest=digest, status=ProfileSimulation.Status.COMPLETED
        )
        .order_by("-created_at", "-id")
        .first()
    )


def not_simulated_message() -> str:
    return _(
        "Simulate this version before enabling it: no completed simulation of this exact "
        "configuration exists. Save the draft disabled, run “Simulate on the last 200 real "
        "orders”, then enable it."
    )


def profile_simulate(*, profile: RoutingProfile, last_n: int = 200, user=None) -> ProfileSimulation:
    """Replay the last ``last_n`` orders with ``profile`` and keep the run with its version."""
    report = profile_what_if(draft=profile, last_n=last_n)
    return ProfileSimulation.objects.create(
        profile=profile,
        profile_version=profile.version,
        config_digest=profile.config_digest(),
        status=ProfileSimulation.Status.COMPLETED,
        orders=report["orders"],
        report=report,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


@transaction.atomic
def profile_enable(*, profile: RoutingProfile) -> RoutingProfile:
    """Enable a draft whose configuration has a completed simulation; else DraftNotSimulated."""
    locked = RoutingProfile.objects.select_for_update().get(pk=profile.pk)
    if locked.enabled:
        return locked
    if simulation_for(profile=locked, digest=locked.config_digest()) is None:
        raise DraftNotSimulated(not_simulated_message(), profile=locked.pk)
    locked.enabled = True
    setattr(locked, "_change_reason", "enabled after simulation")  # noqa: B010 (simple-history)
    locked.save()
    return locked
