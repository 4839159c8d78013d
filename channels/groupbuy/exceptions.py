"""Domain exceptions of group-buying waves; ``oms.api.errors`` maps them to responses."""

from oms.exceptions import DomainError


class WaveConflict(DomainError):
    """Another wave build claimed orders this one read; nothing was written (409)."""

    code = "wave_conflict"
