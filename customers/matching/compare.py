"""Comparators: what two fingerprints agree and disagree on, as named signals with reasons.

Each comparator looks at one field of two :class:`~customers.matching.records.Fingerprint`
and returns at most one :class:`Evidence` whose ``signal`` is a key into the rule weights
(:class:`~customers.matching.score.MatchRules`) and whose ``detail`` is the sentence shown
to staff. Comparators never decide; they describe. Names are graded by :mod:`.names` (same,
a form of the same name through pinyin, nickname, honorific or mask, same surname only,
different); two full Chinese names are compared character by character, since homophones such
as 伟/薇 are exactly what siblings share. Addresses are compared by administrative prefix, a
fuzzy ratio of the street/number/community text (rapidfuzz) and strict equality of building,
unit and room. A sighting marked ``carrier_proxy`` (a group-buy leader's phone on a member's
order) is compared on its receiver only; one marked ``named_other`` (a relative named as
receiver) gives no credit for agreeing with its name; one marked ``receiver_linked`` (filed on
its name and flat alone) lends its phone, device and account to no one ordering under another
name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from customers.matching.divisions import prefixes_compatible
from customers.matching.names import NameAgreement, name_agreement
from customers.matching.normalize import NormalizedAddress, NormalizedName
from customers.matching.records import Fingerprint


class Signal(StrEnum):
    """The kinds of agreement a pair can show; each has a weight in the rules."""

    PHONE_SAME = "phone_same"
    PHONE_SAME_LONG_GAP = "phone_same_long_gap"
    PHONE_DIFFERENT = "phone_different"
    PHONE_SHARED = "phone_shared"
    PHONE_PARTIAL = "phone_partial"
    DEVICE_SAME = "device_same"
    DEVICE_SHARED = "device_shared"
    ACCOUNT_SAME = "account_same"
    ACCOUNT_SHARED = "account_shared"
    NAME_SAME = "name_same"
    NAME_SIMILAR = "name_similar"
    NAME_COMPATIBLE = "name_compatible"
    NAME_HONORIFIC = "name_honorific"
    NAME_SURNAME_ONLY = "name_surname_only"
    NAME_DIFFERENT = "name_different"
    ADDRESS_SAME = "address_same"
    ADDRESS_SIMILAR = "address_similar"
    ADDRESS_NEIGHBOUR = "address_neighbour"
    ADDRESS_DIFFERENT = "address_different"
    ADMIN_DIFFERENT = "admin_different"
    RECEIVER_MISMATCH = "receiver_mismatch"


# A receiver agrees when the name or the address does. A name agrees when it is the same or
# one of its forms (a pinyin handle, a nickname, an honorific, a masked form) fits; shared
# surnames and one-character differences do not count, since relatives share them.
_NAME_AGREES = frozenset({Signal.NAME_SAME, Signal.NAME_COMPATIBLE, Signal.NAME_HONORIFIC})
_ADDRESS_AGREES = frozenset({Signal.ADDRESS_SAME, Signal.ADDRESS_SIMILAR})


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal observed on a pair, with the human-readable reason."""

    signal: Signal
    detail: str


@dataclass(frozen=True, slots=True)
class CompareSettings:
    """Tunables of the comparators (part of the editable rules)."""

    phone_recycle_days: int = 365
    address_similarity: float = 85.0
    # With number, building, unit and room all equal, a lower street similarity suffices.
    dwelling_similarity: float = 50.0
    # A phone, device or account already filed under this many customers is shared (a group
    # leader's phone, a family tablet used by many): it no longer identifies one person.
    shared_carrier_customers: int = 3
    # A phone, device or account already used to order for this many other customers whose
    # name and address both differ from a sighting's is a proxy's on that sighting.
    proxy_receivers: int = 2


def mask_name(name: NormalizedName) -> str:
    """Show the surname only: "张伟" -> "张*", so reasons do not spell out full names."""
    return name.surname + "*" * max(len(name.full) - len(name.surname), 1)


def _shared_note(customers: int) -> str:
    return f"already used by {customers} customers"


def compare_phone(
    first: Fingerprint, second: Fingerprint, settings: CompareSettings, customers: int = 1
) -> Evidence | None:
    """Same or different phone digest; masked phones agree partially.

    "Same" is weakened to PHONE_SAME_LONG_GAP when the two uses are far apart (numbers are
    recycled) and to PHONE_SHARED when ``customers`` (how many customers the phone is
    already filed under) reaches ``settings.shared_carrier_customers``. A masked phone
    ("138****5678") has no digest: when its visible digits agree with the other side's, the
    pair shows PHONE_PARTIAL, evidence that a device, account or room can complete.
    """
    if not first.phone_digest or not second.phone_digest:
        if not first.phone_masked or not second.phone_masked:
            return None
        if first.phone_masked == second.phone_masked:
            return Evidence(Signal.PHONE_PARTIAL, f"masked phone {first.phone_masked} fits")
        return Evidence(Signal.PHONE_DIFFERENT, "different phones")
    if first.phone_digest != second.phone_digest:
        return Evidence(Signal.PHONE_DIFFERENT, "different phones")
    if customers >= settings.shared_carrier_customers:
        return Evidence(
            Signal.PHONE_SHARED, f"same phone {first.phone_masked}, {_shared_note(customers)}"
        )
    if first.created_at and second.created_at:
        gap_days = abs((first.created_at - second.created_at).days)
        if gap_days >= settings.phone_recycle_days:
            years = gap_days / 365.25
            return Evidence(
                Signal.PHONE_SAME_LONG_GAP,
                f"same phone {first.phone_masked} but {years:.1f} years apart (may be recycled)",
            )
    return Evidence(Signal.PHONE_SAME, f"same phone {first.phone_masked}")


def compare_device(
    first: Fingerprint, second: Fingerprint, settings: CompareSettings, customers: int = 1
) -> Evidence | None:
    """Same device id (shared when filed under many customers); a different one says little."""
    if not first.device_id or first.device_id != second.device_id:
        return None
    if customers >= settings.shared_carrier_customers:
        detail = f"same device {first.device_id[:8]}…, {_shared_note(customers)}"
        return Evidence(Signal.DEVICE_SHARED, detail)
    return Evidence(Signal.DEVICE_SAME, f"same device {first.device_id[:8]}…")


def compare_account(
    first: Fingerprint, second: Fingerprint, settings: CompareSettings, customers: int = 1
) -> Evidence | None:
    """Same channel account (e.g. the same Douyin user id), shared when used by many."""
    if not first.account_key or first.account_key != second.account_key:
        return None
    if customers >= settings.shared_carrier_customers:
        detail = f"same {first.channel} account, {_shared_note(customers)}"
        return Evidence(Signal.ACCOUNT_SHARED, detail)
    return Evidence(Signal.ACCOUNT_SAME, f"same {first.channel} account")


def compare_names(first: NormalizedName | None, second: NormalizedName | None) -> Evidence | None:
    """Grade two receiver names from same to different (see :mod:`.names`).

    A pinyin handle, nickname or masked form that fits the other name is compatible, an
    honorific that fits its surname too (weakly: it fits the whole family). One substitution
    in a name of three or more characters is a likely typo (similar); in a two-character name
    it is as likely a sibling (张伟/张薇), so it counts as surname only.
    """
    if first is None or second is None:
        return None
    agreement = name_agreement(first, second)
    if agreement is NameAgreement.SAME and not first.honorific:
        return Evidence(Signal.NAME_SAME, f"same receiver name {mask_name(first)}")
    if agreement is NameAgreement.SAME or (
        agreement is NameAgreement.COMPATIBLE and (first.honorific or second.honorific)
    ):
        return Evidence(
            Signal.NAME_HONORIFIC,
            f"receiver {first.full if first.honorific else second.full} fits surname",
        )
    if agreement is NameAgreement.COMPATIBLE:
        return Evidence(Signal.NAME_COMPATIBLE, "receiver names are forms of one name")
    if agreement is NameAgreement.DIFFERENT:
        return Evidence(Signal.NAME_DIFFERENT, "different receiver names")
    if (
        len(first.full) == len(second.full) >= 3
        and Levenshtein.distance(first.full, second.full) == 1
    ):
        return Evidence(Signal.NAME_SIMILAR, "receiver names differ by one character")
    return Evidence(Signal.NAME_SURNAME_ONLY, f"same surname {first.surname}, other given name")


def _unit_conflicts(first: NormalizedAddress, second: NormalizedAddress) -> list[str]:
    conflicts = []
    for label, one, other in (
        ("number", first.number, second.number),
        ("building", first.building, second.building),
        ("unit", first.unit, second.unit),
        ("room", first.room, second.room),
    ):
        if one and other and one != other:
            conflicts.append(f"{label} {one} vs {other}")
    return conflicts


def compare_addresses(
    first: Fingerprint, second: Fingerprint, settings: CompareSettings
) -> Evidence | None:
    """Grade two addresses: same room, similar, neighbour (same place, other unit), different.

    The place (street, number, community) must match, either exactly on street and number or
    by a fuzzy ratio over its text; then building/unit/room decide. A room on one side only
    makes the pair similar, never the same.
    """
    one, other = first.address, second.address
    if (
        one is None
        or other is None
        or not (one.place or one.room)
        or not (other.place or other.room)
    ):
        return None
    if first.address_digest and first.address_digest == second.address_digest:
        return Evidence(Signal.ADDRESS_SAME, _same_detail(one))
    if not prefixes_compatible(one.admin_prefix, other.admin_prefix):
        return Evidence(Signal.ADMIN_DIFFERENT, "addresses in different districts")
    exact_place = bool(one.street and one.number) and (one.street, one.number) == (
        other.street,
        other.number,
    )
    similarity = 100.0 if exact_place else fuzz.ratio(one.place, other.place)
    if similarity < settings.address_similarity and _same_flat(one, other):
        # One side left out the street or shortened the compound ("天悦华府" for
        # "金地天悦华府"): the shorter place text inside the longer one, same flat.
        shorter, longer = sorted((one.community or one.place, other.place), key=len)
        if shorter:
            similarity = max(similarity, fuzz.partial_ratio(shorter, longer))
    if similarity < settings.address_similarity and not (
        _same_dwelling_numbers(one, other) and similarity >= settings.dwelling_similarity
    ):
        return Evidence(Signal.ADDRESS_DIFFERENT, "different addresses")
    conflicts = _unit_conflicts(one, other)
    if conflicts:
        return Evidence(Signal.ADDRESS_NEIGHBOUR, "same place, " + ", ".join(conflicts))
    # Same only when both name the room, or neither does and the place text is identical
    # with buildings given on both sides or neither.
    both_rooms = bool(one.room) and bool(other.room)
    house_level = not one.room and not other.room and bool(one.building) == bool(other.building)
    if both_rooms or (house_level and similarity == 100.0):
        street_note = "" if similarity == 100.0 else f" (street {similarity:.0f} %)"
        return Evidence(Signal.ADDRESS_SAME, _same_detail(one) + street_note)
    return Evidence(
        Signal.ADDRESS_SIMILAR, f"similar address ({similarity:.0f} %), unit details partly missing"
    )


def _same_flat(one: NormalizedAddress, other: NormalizedAddress) -> bool:
    """Both name building and room, and they (and the unit, where both give one) agree."""
    return (
        bool(one.building and one.room)
        and (one.building, one.room) == (other.building, other.room)
        and (not one.unit or not other.unit or one.unit == other.unit)
    )


def _same_dwelling_numbers(one: NormalizedAddress, other: NormalizedAddress) -> bool:
    """Same street number, building, unit and room: a typo'd street name still matches."""
    return bool(one.number and one.room) and (one.number, one.building, one.unit, one.room) == (
        other.number,
        other.building,
        other.unit,
        other.room,
    )


def _same_detail(address: NormalizedAddress) -> str:
    if address.room:
        return "address same building, same room" if address.building else "address same room"
    return "same address"


def receivers_disagree(first: Fingerprint, second: Fingerprint, settings: CompareSettings) -> bool:
    """Both the receiver name and the address of two sightings are known and disagree."""
    name = compare_names(first.name, second.name)
    if name is None or name.signal in _NAME_AGREES:
        return False
    address = compare_addresses(first, second, settings)
    return address is not None and address.signal not in _ADDRESS_AGREES


def compare(
    first: Fingerprint,
    second: Fingerprint,
    settings: CompareSettings,
    carrier_customers: Mapping[str, int] | None = None,
) -> tuple[Evidence, ...]:
    """All evidence on a pair, strongest keys first (the order reasons are shown in).

    ``carrier_customers`` gives, for "phone", "device" and "account" of ``first``, how many
    customers that value is already filed under (see the shared-carrier signals). Besides
    one signal per field it adds RECEIVER_MISMATCH when both names and both addresses are
    known and neither agrees: the phone, device or account then belongs to someone ordering
    for another person (a group leader, a relative's tablet, a recycled number) and must not
    carry the link on its own.
    """
    spread = carrier_customers or {}
    name = compare_names(first.name, second.name)
    if (first.named_other or second.named_other) and name and name.signal in _NAME_AGREES:
        # A sighting filed for someone else (a relative named as receiver): its name is not
        # its customer's, so agreeing with it is no evidence (disagreeing still is).
        name = None
    address = compare_addresses(first, second, settings)
    # A sighting filed on its receiver alone (``receiver_linked``) whose phone, device or
    # account now order under another name: they are that other person's, not its customer's.
    other_buyer = (first.receiver_linked or second.receiver_linked) and (
        name is not None and name.signal not in _NAME_AGREES
    )
    carriers: list[Evidence | None] = (
        []
        if first.carrier_proxy or second.carrier_proxy or other_buyer
        else [
            compare_phone(first, second, settings, spread.get("phone", 1)),
            compare_device(first, second, settings, spread.get("device", 1)),
            compare_account(first, second, settings, spread.get("account", 1)),
        ]
    )
    found = [*carriers, name, address]
    if (
        name is not None
        and address is not None
        and name.signal not in _NAME_AGREES
        and address.signal not in _ADDRESS_AGREES
    ):
        found.append(Evidence(Signal.RECEIVER_MISMATCH, "receiver name and address both differ"))
    return tuple(evidence for evidence in found if evidence is not None)
