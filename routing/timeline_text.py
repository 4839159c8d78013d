"""Routing's stored messages (timeline entries, status reasons), said when shown.

A routing entry keeps the decision it came from; its sentences are made from the decision's
facts in the viewer's language and the merchant's time zone (``routing.explaining``), so the
timeline says what the decision page says. Registered with ``oms.stored_text`` on app load.
"""

from datetime import tzinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.stored_text import register, value_text
from routing.explaining import blocking_sentence, decision_sentences
from routing.models import RoutingDecision


def _decision(params: dict) -> RoutingDecision:
    decision = (
        RoutingDecision.objects.select_related("order__merchant")
        .filter(pk=params["decision"])
        .first()
    )
    if decision is None:
        raise LookupError(params["decision"])  # said as stored
    return decision


def _explained(params: dict, tz: tzinfo) -> str:
    """The first sentence of a decision (``part: head``) or the others (``part: rest``)."""
    sentences = decision_sentences(_decision(params))
    if params.get("part") == "head":
        return sentences[0] if sentences else _("Routed.")
    return " ".join(sentences[1:])


def unroutable_text(decision: RoutingDecision) -> str:
    """Why a decision could not route its order, in the active language."""
    if decision.facts:
        sentence = blocking_sentence(decision.facts)
        if sentence:
            return sentence
    return _("Unroutable: %(why)s") % {"why": decision.reason}


def _unroutable(params: dict, tz: tzinfo) -> str:
    return unroutable_text(_decision(params))


def _not_merged(params: dict, tz: tzinfo) -> str:
    return _("Not merged with %(orders)s: %(why)s. Routed on its own.") % {
        "orders": value_text(params["orders"], tz),
        "why": value_text(params["why"], tz).rstrip(".。"),
    }


register("routing.explained", _explained)
register("routing.unroutable", _unroutable)
register("routing.not_merged", _not_merged)
register("routing.together_unroutable", gettext_lazy("together they cannot be routed"))
register(
    "routing.merge_rule",
    gettext_lazy(
        "same customer #%(customer)s, same delivery address, within %(window)s min, "
        "none released yet."
    ),
)
