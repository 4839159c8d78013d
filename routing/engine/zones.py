"""Rate-card zones: how far a parcel travels, in the steps Chinese express price lists use."""

from __future__ import annotations

# Zone 1 is within the province; zones 2-5 start beyond these distances between the origin
# and the destination province's capital (km).
ZONE_LIMITS_KM = (600.0, 1200.0, 2000.0)
ZONES = (1, 2, 3, 4, 5)


def zone(km: float, same_province: bool) -> int:
    """Rate-card zone 1..5 of a lane."""
    if same_province:
        return 1
    return 2 + sum(1 for limit in ZONE_LIMITS_KM if km > limit)
