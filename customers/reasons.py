"""Why an identity was linked, in the reader's language.

The matching core (``customers.matching``, no Django) writes its reasons as short English
phrases ("exact key phone + name", "same phone 138****8000", "score 12 >= link 10"), and
``Identity.reasons`` stores them as a JSON list. Admin pages show them through
:func:`explain`, which recognises each phrase and renders a translatable sentence with the
phrase's values filled in. A phrase it does not know is shown as recorded, marked as such, so
nothing is hidden when the core learns a new one (a test runs the core's phrases through here).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from oms.models import ChannelKind


@dataclass(frozen=True)
class Reason:
    text: str
    recognised: bool


def _key_part(part: str) -> str:
    return {
        "phone": _("the same phone number"),
        "name": _("the same receiver name"),
        "address": _("the same address"),
        "device": _("the same device"),
        "account": _("the same channel account"),
    }.get(part.strip(), part.strip())


def _exact_key(label: str) -> str:
    parts = [_key_part(part) for part in label.split("+")]
    joined = parts[0]
    for part in parts[1:]:
        joined = _("%(first)s and %(second)s") % {"first": joined, "second": part}
    return _("Linked outright on an exact key: %(parts)s.") % {"parts": joined}


def _channel(kind: str) -> str:
    try:
        return str(ChannelKind(kind).label)
    except ValueError:
        return kind


def _address_part(label: str) -> str:
    return {
        "number": _("street number"),
        "building": _("building"),
        "unit": _("unit"),
        "room": _("room"),
    }.get(label, label)


def _conflicts(text: str) -> str:
    items = []
    for conflict in text.split(", "):
        match = re.fullmatch(r"(\w+) (.+) vs (.+)", conflict)
        if match is None:
            items.append(conflict)
            continue
        label, one, other = match.groups()
        items.append(
            _("%(part)s %(one)s instead of %(other)s")
            % {"part": _address_part(label), "one": one, "other": other}
        )
    joined = items[0] if items else ""
    for item in items[1:]:
        joined = _("%(first)s; %(second)s") % {"first": joined, "second": item}
    return joined


def _same_address(kind: str, street: str | None) -> str:
    text = {
        "address same building, same room": _("Same address: same building and same room."),
        "address same room": _("Same address: same room."),
        "same address": _("Same address."),
    }[kind]
    if street:
        text += " " + _("(street names %(similarity)s %% alike)") % {"similarity": street}
    return text


_SHARED = r"already used by (?P<customers>\d+) customers"

# (pattern, renderer): the first pattern matching the whole phrase renders it.
_PHRASES: list[tuple[re.Pattern[str], Callable[..., str]]] = [
    (re.compile(r"exact key (?P<label>.+)"), lambda label: _exact_key(label)),
    (
        re.compile(r"score (?P<score>[\d.+-]+) >= link (?P<link>[\d.+-]+)"),
        lambda score, link: (
            _("Score %(score)s reached the link threshold of %(link)s.")
            % {"score": score, "link": link}
        ),
    ),
    (
        re.compile(
            r"score (?P<score>[\d.+-]+) between review (?P<review>[\d.+-]+)"
            r" and link (?P<link>[\d.+-]+)"
        ),
        lambda score, review, link: (
            _(
                "Score %(score)s is between the review threshold %(review)s and the link "
                "threshold %(link)s: kept apart until someone reviews it."
            )
            % {"score": score, "review": review, "link": link}
        ),
    ),
    (
        re.compile(r"best score (?P<score>[\d.+-]+) < review (?P<review>[\d.+-]+)"),
        lambda score, review: (
            _("Best score %(score)s is below the review threshold %(review)s: a new customer.")
            % {"score": score, "review": review}
        ),
    ),
    (
        re.compile(r"no candidate shares a key"),
        lambda: _("No earlier record shared a phone, device, account, name or address."),
    ),
    (re.compile(r"different phones"), lambda: _("Different phone numbers.")),
    (
        re.compile(r"same phone (?P<phone>\S+), " + _SHARED),
        lambda phone, customers: (
            _("Same phone %(phone)s, but it is already used by %(customers)s customers.")
            % {"phone": phone, "customers": customers}
        ),
    ),
    (
        re.compile(
            r"same phone (?P<phone>\S+) but (?P<years>[\d.]+) years apart \(may be recycled\)"
        ),
        lambda phone, years: (
            _(
                "Same phone %(phone)s, but used %(years)s years apart (the number may have been "
                "reassigned)."
            )
            % {"phone": phone, "years": years}
        ),
    ),
    (
        re.compile(r"masked phone (?P<phone>\S+) fits"),
        lambda phone: (
            _("Masked phone %(phone)s fits (its visible digits agree).") % {"phone": phone}
        ),
    ),
    (
        re.compile(r"same phone (?P<phone>\S+)"),
        lambda phone: _("Same phone %(phone)s.") % {"phone": phone},
    ),
    (
        re.compile(r"same device (?P<device>\S+?)…?, " + _SHARED),
        lambda device, customers: (
            _("Same device %(device)s…, but it is already used by %(customers)s customers.")
            % {"device": device, "customers": customers}
        ),
    ),
    (
        re.compile(r"same device (?P<device>\S+?)…?"),
        lambda device: _("Same device %(device)s…") % {"device": device},
    ),
    (
        re.compile(r"same (?P<kind>\S+) account, " + _SHARED),
        lambda kind, customers: (
            _("Same %(channel)s account, but it is already used by %(customers)s customers.")
            % {"channel": _channel(kind), "customers": customers}
        ),
    ),
    (
        re.compile(r"same (?P<kind>\S+) account"),
        lambda kind: _("Same %(channel)s account.") % {"channel": _channel(kind)},
    ),
    (
        re.compile(r"same receiver name (?P<name>\S+)"),
        lambda name: _("Same receiver name %(name)s.") % {"name": name},
    ),
    (re.compile(r"different receiver names"), lambda: _("Different receiver names.")),
    (
        re.compile(r"receiver names are forms of one name"),
        lambda: _("Receiver names are forms of one name (pinyin, nickname or masked)."),
    ),
    (
        re.compile(r"receiver (?P<name>\S+) fits surname"),
        lambda name: _("Receiver %(name)s (a form of address) fits the surname.") % {"name": name},
    ),
    (
        re.compile(r"receiver names differ by one character"),
        lambda: _("Receiver names differ by one character."),
    ),
    (
        re.compile(r"same surname (?P<surname>\S+), other given name"),
        lambda surname: _("Same surname %(surname)s, another given name.") % {"surname": surname},
    ),
    (
        re.compile(r"addresses in different districts"),
        lambda: _("Addresses in different districts."),
    ),
    (re.compile(r"different addresses"), lambda: _("Different addresses.")),
    (
        re.compile(r"same place, (?P<conflicts>.+)"),
        lambda conflicts: (
            _("Same place, but %(conflicts)s.") % {"conflicts": _conflicts(conflicts)}
        ),
    ),
    (
        re.compile(
            r"(?P<kind>address same building, same room|address same room|same address)"
            r"(?: \(street (?P<street>\d+) %\))?"
        ),
        lambda kind, street: _same_address(kind, street),
    ),
    (
        re.compile(r"similar address \((?P<similarity>\d+) %\), unit details partly missing"),
        lambda similarity: (
            _("Similar address (%(similarity)s %% alike), building or room missing on one side.")
            % {"similarity": similarity}
        ),
    ),
    (
        re.compile(r"receiver name and address both differ"),
        lambda: _(
            "Receiver name and address both differ: the shared phone, device or account is "
            "not enough on its own."
        ),
    ),
]


def explain_one(phrase: str) -> Reason:
    """One stored phrase as a sentence in the active language (or as recorded)."""
    return _explain(get_language() or "", phrase)


@lru_cache(maxsize=4096)
def _explain(_language: str, phrase: str) -> Reason:
    """Cached per language: identities of one person repeat the same few phrases."""
    for pattern, render in _PHRASES:
        match = pattern.fullmatch(phrase.strip())
        if match is not None:
            return Reason(render(**match.groupdict()), True)
    return Reason(phrase, False)


def explain(reasons: Iterable[object] | object) -> list[Reason]:
    """The stored reasons (a JSON list of phrases) as sentences in the active language."""
    if isinstance(reasons, str):
        reasons = [reasons]
    if not isinstance(reasons, Iterable):
        return []
    return [explain_one(str(reason)) for reason in reasons if str(reason).strip()]


def explain_merge(reason: str) -> list[Reason]:
    """Why two customers were merged (``CustomerMerge.reason``), as sentences.

    The services write "review: <phrases>" when a reviewer merged, the new sighting's
    phrases joined by "; " when one sighting matched both, or a fixed note.
    """
    reason = reason.strip()
    if reason == "bridged by a new sighting":
        return [Reason(_("A new sighting matched both customers."), True)]
    if reason == "same person in an imported file":
        return [Reason(_("The same person appears twice in an imported file."), True)]
    if reason.startswith("review:"):
        head = Reason(_("A reviewer decided they are the same person."), True)
        return [head, *explain(p for p in reason[len("review:") :].split("; ") if p.strip())]
    head = Reason(_("A new sighting matched both customers."), True)
    return [head, *explain(reason.split("; "))]
