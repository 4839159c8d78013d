"""Routing explanations for people: stored as facts, said at display time.

A decision keeps the facts of its explanation (``facts_of``): the trade-off against the best
runner-up, the warehouses that held part of the order, exclusions with reason codes and values,
why an unroutable order could not be planned, and what a CNY is worth in objective units. This
module turns them into sentences in the active language (English or Simplified Chinese) with
times in the merchant's time zone. Names staff typed - warehouses, SKUs, rule names, status
reasons, channel names - are shown as typed; every word the product adds is translated.
Decisions stored before the facts existed show their stored English text.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from oms.models import Region
from routing.engine.explain import Explanation

FACTS_VERSION = 1

# Short names of factor groups, as a sentence names them ("lateness weighs more ...").
FACTOR_SHORT = {
    "money": gettext_lazy("cost"),
    "stock": gettext_lazy("stock freshness"),
    "status": gettext_lazy("warehouse status"),
    "capacity": gettext_lazy("warehouse capacity"),
    "carrier_saturation": gettext_lazy("carrier saturation"),
    "weather": gettext_lazy("weather"),
    "courier_load": gettext_lazy("courier load"),
    "lateness": gettext_lazy("lateness"),
    "splits": gettext_lazy("splits"),
    "distance": gettext_lazy("distance"),
    "certainty": gettext_lazy("delivery certainty"),
    "scarcity": gettext_lazy("scarcity of stock later orders will want"),
}
TEMPERATURE = {"chilled": gettext_lazy("chilled"), "frozen": gettext_lazy("frozen")}
COUNTED_REASONS = ("out of stock", "capacity full", "not serving region")
COUNTED_LABELS = {
    "out of stock": gettext_lazy("None of the order's SKUs in stock"),
    "capacity full": gettext_lazy("No capacity left today"),
    "not serving region": gettext_lazy("Not shipping to the region"),
}


def _json_time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def facts_of(explanation: Explanation, *, weights: dict[str, int] | None = None) -> dict:
    """The facts a decision stores for its explanation (JSON-ready; see module docstring)."""
    rejected = []
    for rejection in explanation.rejected:
        row = asdict(rejection)
        row["since"] = _json_time(rejection.since)
        rejected.append(row)
    return {
        "v": FACTS_VERSION,
        "chosen": list(explanation.winner.node_codes) if explanation.winner else [],
        "labels": dict(explanation.labels),
        "trade_off": asdict(explanation.trade_off) if explanation.trade_off else None,
        "partial": [asdict(candidate) for candidate in explanation.partial],
        "rejected": rejected,
        "blocking": asdict(explanation.blocking) if explanation.blocking else None,
        "money_price": explanation.money_price,
        "money_objective": explanation.money_objective,
        "high_value_floor": explanation.high_value_floor,
        "weights": weights or {},
        "lead": None,
        "carriers": [asdict(choice) for choice in explanation.carriers],
    }


def stored_facts(facts: dict) -> dict:
    """The facts as a decision keeps them: its rejections already have a column of their own."""
    return {key: value for key, value in facts.items() if key != "rejected"}


def with_rejections(decision: Any) -> dict:
    """A stored decision's facts with its rejections put back (see ``stored_facts``)."""
    return {**decision.facts, "rejected": decision.rejected or []}


def merge_lead(order_created_at: datetime, companions: list[tuple[int, str, datetime]]) -> dict:
    """The facts of "merged with order #12 (Douyin shop) received 3 minutes earlier"."""
    others = []
    for order_id, channel, created_at in companions:
        seconds = (order_created_at - created_at).total_seconds()
        others.append(
            {
                "order": order_id,
                "channel": channel,
                "minutes": round(abs(seconds) / 60),
                "earlier": seconds >= 0,
            }
        )
    return {"kind": "merged", "orders": others}


# Formatting ------------------------------------------------------------------------------


def plan_label(label: str) -> str:
    """A stored candidate's label ("Shanghai DC via Express A + ...") in the viewer's language.

    The engine (no Django) writes "<warehouse> via <service>" per warehouse, joined by " + ";
    names stay as typed and the joining word is translated here, at display time.
    """
    parts = []
    for part in label.split(" + "):
        warehouse, via, service = part.rpartition(" via ")
        parts.append(
            _("%(warehouse)s via %(service)s") % {"warehouse": warehouse, "service": service}
            if via
            else part
        )
    return " + ".join(parts)


def money(value: float) -> str:
    """CNY to the fen, without a sign (the sentence says dearer or cheaper)."""
    return f"{abs(value):.2f}"


def hours(value: float) -> str:
    """Hours as staff read them: whole hours from 10 h, one decimal below."""
    value = abs(value)
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")


def percent(share: float) -> str:
    """A share (0..1) as a percentage with at most one decimal."""
    return f"{100 * share:.1f}".removesuffix(".0")


def milliseconds(value: float) -> str:
    return f"{value:.2f}"


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    separator = pgettext("list separator", ", ")
    return _("%(first)s and %(second)s") % {
        "first": separator.join(items[:-1]),
        "second": items[-1],
    }


def _label(facts: dict, code: str) -> str:
    return facts.get("labels", {}).get(code) or code


def _local(moment: str | None, tz: zoneinfo.ZoneInfo) -> str:
    if not moment:
        return ""
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is None:  # the engine got a naive time: it is UTC, as Django stores it
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
    return parsed.astimezone(tz).strftime("%m-%d %H:%M")


# Sentences -------------------------------------------------------------------------------


def _deltas(trade: dict) -> list[str]:
    parts = []
    cost = trade["cost_delta"]
    if cost >= 0.005:
        parts.append(_("¥%(v)s dearer") % {"v": money(cost)})
    elif cost <= -0.005:
        parts.append(_("¥%(v)s cheaper") % {"v": money(cost)})
    delta_h = trade["hours_delta"]
    if delta_h <= -0.5:
        parts.append(_("%(h)s h sooner") % {"h": hours(delta_h)})
    elif delta_h >= 0.5:
        parts.append(_("%(h)s h later") % {"h": hours(delta_h)})
    points = trade["certainty_delta"]
    if points >= 1:
        parts.append(_("%(p)s points more certain") % {"p": f"{points:.0f}"})
    elif points <= -1:
        parts.append(_("%(p)s points less certain") % {"p": f"{-points:.0f}"})
    return parts


def _weighs_more(trade: dict) -> str:
    """Why the winner won although worse on something: what spoke for it, in CNY."""
    favour = [(group, value) for group, value in trade["favour"]]
    against = [(group, value) for group, value in trade["against"]]
    if not favour or not against:
        return ""
    gain = sum(value for _group, value in favour)
    loss = sum(value for _group, value in against)
    # Name the factors that made most of the difference (a tenth of the gain or more).
    named = [str(FACTOR_SHORT.get(g, g)) for g, v in favour if v >= 0.1 * gain][:2]
    return ngettext(
        "%(factors)s weighs more in this profile (¥%(gain)s for, ¥%(loss)s against)",
        "%(factors)s weigh more in this profile (¥%(gain)s for, ¥%(loss)s against)",
        len(named),
    ) % {"factors": _and(named), "gain": money(gain), "loss": money(loss)}


def _head(facts: dict) -> str:
    chosen = facts["chosen"]
    names = " + ".join(_label(facts, code) for code in chosen)
    trade = facts.get("trade_off")
    if len(chosen) > 1:
        head = _("Split into %(n)d shipments (%(w)s)") % {"n": len(chosen), "w": names}
    else:
        head = _("%(w)s chosen") % {"w": names}
    if trade is None:
        if len(chosen) > 1:
            return _("%(head)s: no single warehouse can ship every line.") % {"head": head}
        return _("%(head)s: the only warehouse able to ship the order.") % {"head": head}
    parts = _deltas(trade)
    if not parts and trade["favour"]:
        group, value = trade["favour"][0]
        parts.append(
            _("better on %(factor)s (¥%(v)s)")
            % {"factor": FACTOR_SHORT.get(group, group), "v": money(value)}
        )
    other = trade["other_label"]
    if parts:
        sentence = _("%(head)s: %(deltas)s than %(other)s") % {
            "head": head,
            "deltas": pgettext("list separator", ", ").join(parts),
            "other": other,
        }
    else:
        sentence = _("%(head)s: scores just ahead of %(other)s") % {"head": head, "other": other}
    if facts.get("money_objective"):
        floor = facts.get("high_value_floor")
        if floor is not None:
            sentence += _(
                "; high-value order: the lowest cost with delivery certainty of at least %(p)s %%"
            ) % {"p": percent(floor)}
    elif (
        trade["cost_delta"] >= 0.005
        or trade["hours_delta"] >= 0.5
        or trade["certainty_delta"] <= -1
    ):
        # Worse on something the sentence shows: say what outweighed it.
        reason = _weighs_more(trade)
        if reason:
            sentence += pgettext("clause separator", "; ") + reason
    return sentence + pgettext("sentence end", ".")


def carrier_sentence(facts: dict, choice: dict) -> str:
    """The carrier service of one shipment, what it was chosen over and why, in words."""
    from routing.models import SERVICE_LEVELS

    levels = dict(SERVICE_LEVELS)
    values = {
        "w": _label(facts, choice["node_code"]),
        "s": choice["service_label"],
        "level": levels.get(choice["level"], choice["level"]),
        "o": choice.get("other_label", ""),
    }
    if not choice.get("other_service"):
        sentence = (
            _("Carrier from %(w)s: %(s)s (%(level)s), the only service there for this order")
            % values
        )
    else:
        parts = _deltas(
            {
                "cost_delta": choice["cost"] - choice["other_cost"],
                "hours_delta": choice["hours"] - choice["other_hours"],
                "certainty_delta": 0,
            }
        )
        values["deltas"] = (
            pgettext("list separator", ", ").join(parts) if parts else _("the same price and time")
        )
        sentence = _("Carrier from %(w)s: %(s)s (%(level)s) over %(o)s: %(deltas)s") % values
        if choice.get("other_down_weighted"):
            sentence += (
                pgettext("clause separator", "; ") + _("%(o)s is down-weighted by a rule") % values
            )
    if choice.get("preferred"):
        sentence += pgettext("clause separator", "; ") + _(
            "the customer usually ships with %(c)s, preferred at up to ¥%(p)s more"
        ) % {"c": choice["carrier"], "p": money(choice["premium"])}
    return sentence + pgettext("sentence end", ".")


def blocking_sentence(facts: dict) -> str:
    """Why an unroutable order could not be planned ('' when the facts do not say)."""
    return _blocking(facts)


def _blocking(facts: dict) -> str:
    block = facts.get("blocking") or {}
    kind = block.get("kind")
    if kind == "stock":
        kind_word = TEMPERATURE.get(block.get("temperature", ""), "")
        sku = f"{kind_word} {block['sku']}" if kind_word else block["sku"]
        sentence = _(
            "Unroutable: only %(a)d of %(q)d units of %(sku)s at warehouses able to ship"
        ) % {"a": block["available"], "q": block["quantity"], "sku": sku}
        if block.get("excluded"):
            sentence += _("; excluded: %(w)s") % {
                "w": pgettext("list separator", ", ").join(
                    _label(facts, code) for code in block["excluded"]
                )
            }
        return sentence + pgettext("sentence end", ".")
    if kind == "region":
        region = dict(Region.choices).get(block.get("region", ""), block.get("region", ""))
        return _("Unroutable: no active warehouse ships to %(r)s.") % {"r": region}
    if kind == "capacity":
        return _("Unroutable: the eligible warehouses have no capacity left today for the order.")
    return ""


def rejection_sentence(facts: dict, row: dict, tz: zoneinfo.ZoneInfo) -> str:
    """One excluded warehouse and why (reason codes the engine writes; others as stored)."""
    name = _label(facts, row["node_code"])
    reason = row["reason"]
    if "note" not in row:  # stored before reasons kept their facts: the stored words
        return _("%(w)s excluded: %(detail)s.") % {"w": name, "detail": row.get("detail") or reason}
    if reason == "paused":
        since = _local(row.get("since"), tz)
        note = row.get("note", "")
        values = {"w": name, "note": note, "t": since}
        if note and since:
            return _("%(w)s excluded: paused (%(note)s) since %(t)s.") % values
        if note:
            return _("%(w)s excluded: paused (%(note)s).") % values
        if since:
            return _("%(w)s excluded: paused since %(t)s.") % values
        return _("%(w)s excluded: paused.") % values
    if reason == "excluded by rule":
        return _("%(w)s excluded by the rule “%(rule)s”.") % {"w": name, "rule": row.get("note")}
    if reason == "no cold chain":
        return _("%(w)s excluded: it cannot ship chilled or frozen lines.") % {"w": name}
    if reason == "certainty too low" and row.get("value") is not None:
        return _(
            "%(w)s excluded: delivery certainty %(v)s %% is below the %(min)s %% required."
        ) % {"w": name, "v": percent(row["value"]), "min": percent(row["limit"])}
    if reason == "out of stock":
        return _("%(w)s excluded: none of the order's SKUs in stock.") % {"w": name}
    if reason == "capacity full":
        return _("%(w)s excluded: no capacity left today.") % {"w": name}
    if reason == "not serving region":
        region = dict(Region.choices).get(row.get("note", ""), row.get("note", ""))
        return _("%(w)s excluded: does not ship to %(r)s.") % {"w": name, "r": region}
    return f"{name}: {row.get('detail') or reason}"


def _counted(facts: dict) -> str:
    counts: dict[str, int] = {}
    for row in facts.get("rejected", []):
        if row["reason"] in COUNTED_REASONS:
            counts[row["reason"]] = counts.get(row["reason"], 0) + 1
    if not counts:
        return ""
    words = {
        "out of stock": lambda n: ngettext(
            "%(n)d warehouse with none of the SKUs in stock",
            "%(n)d warehouses with none of the SKUs in stock",
            n,
        ),
        "capacity full": lambda n: ngettext(
            "%(n)d warehouse with no capacity left today",
            "%(n)d warehouses with no capacity left today",
            n,
        ),
        "not serving region": lambda n: ngettext(
            "%(n)d warehouse not shipping to the region",
            "%(n)d warehouses not shipping to the region",
            n,
        ),
    }
    parts = [words[reason](n) % {"n": n} for reason, n in counts.items()]
    return _("Also excluded: %(parts)s.") % {"parts": pgettext("list separator", ", ").join(parts)}


PARTIAL_NAMED = 3


def partial_held(candidate: dict) -> str:
    """The lines a partial candidate held, "MILK 2 of 2, TEA 1 of 3" (lines it lacked left out)."""
    return pgettext("list separator", ", ").join(
        _("%(sku)s %(a)d of %(q)d")
        % {"sku": line["sku"], "a": line["available"], "q": line["quantity"]}
        for line in candidate["lines"]
        if line["available"] > 0
    )


def partial_sentence(facts: dict) -> str:
    """ "Held part of the order: Chengdu DC (FRE-0058 2 of 2), ... and 2 more." """
    candidates = facts.get("partial", [])
    if not candidates:
        return ""
    named = pgettext("list separator", ", ").join(
        _("%(w)s (%(held)s)")
        % {"w": _label(facts, candidate["node_code"]), "held": partial_held(candidate)}
        for candidate in candidates[:PARTIAL_NAMED]
    )
    more = len(candidates) - PARTIAL_NAMED
    if more > 0:
        return ngettext(
            "Held part of the order: %(named)s and %(n)d more warehouse.",
            "Held part of the order: %(named)s and %(n)d more warehouses.",
            more,
        ) % {"named": named, "n": more}
    return _("Held part of the order: %(named)s.") % {"named": named}


def _lead(facts: dict) -> str:
    lead = facts.get("lead")
    if not lead or lead.get("kind") != "merged":
        return ""
    parts = []
    for other in lead["orders"]:
        minutes = ngettext("%(n)d minute", "%(n)d minutes", other["minutes"]) % {
            "n": other["minutes"]
        }
        template = (
            _("order #%(id)s (%(channel)s) received %(minutes)s earlier")
            if other["earlier"]
            else _("order #%(id)s (%(channel)s) received %(minutes)s later")
        )
        parts.append(
            template % {"id": other["order"], "channel": other["channel"], "minutes": minutes}
        )
    return _("Merged with %(orders)s: same customer, same delivery address.") % {
        "orders": _and(parts)
    }


def render(facts: dict, *, tz: zoneinfo.ZoneInfo, outcome: str = "routed") -> list[str]:
    """The explanation's sentences from its facts, in the active language (see module doc)."""
    sentences = [_lead(facts)]
    if facts.get("chosen"):
        sentences.append(_head(facts))
        sentences += [carrier_sentence(facts, choice) for choice in facts.get("carriers", [])]
    elif outcome == "unroutable":
        sentences.append(_blocking(facts))
    for row in facts.get("rejected", []):
        if row["reason"] not in COUNTED_REASONS:
            sentences.append(rejection_sentence(facts, row, tz))
    sentences.append(_counted(facts))
    sentences.append(partial_sentence(facts))
    return [s for s in sentences if s]


BUILT_IN_PROFILE = "built-in"  # the profile name a decision keeps when no profile was active


def profile_label(decision: Any) -> str:
    """'Balanced (default) v3'; the built-in weights by a translated name."""
    name = decision.profile_name
    if name == BUILT_IN_PROFILE:
        name = _("built-in weights")
    version = f" v{decision.profile_version}" if decision.profile_version else ""
    return f"{name}{version}"


def merchant_tz(merchant: Any) -> zoneinfo.ZoneInfo:
    """The merchant's time zone (Asia/Shanghai, the deployment's, when it names none)."""
    name = getattr(merchant, "time_zone", "") or settings.TIME_ZONE or "Asia/Shanghai"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def decision_sentences(decision: Any) -> list[str]:
    """A stored decision's explanation in the active language; stored text for old ones."""
    if not decision.facts:
        return [line for line in decision.explanation.splitlines() if line]
    return render(
        with_rejections(decision), tz=merchant_tz(decision.order.merchant), outcome=decision.outcome
    )


_NOTES = (
    (
        re.compile(r"^high-value: lowest cost with delivery certainty >= (\d+)%$"),
        gettext_lazy(
            "High-value order: the lowest cost with delivery certainty of at least %s %%."
        ),
    ),
    (
        re.compile(
            r"^high-value: no plan reaches delivery certainty (\d+)%; weighted objective used$"
        ),
        gettext_lazy(
            "High-value order: no plan reaches delivery certainty of %s %%; "
            "the profile's weights decided."
        ),
    ),
    (
        re.compile(r"^solver (.+)$"),
        gettext_lazy("The solver stopped (%s): the best plan found by the fallback was used."),
    ),
)


def note_sentence(note: str) -> str:
    """An engine note in the active language (unknown notes as stored)."""
    for pattern, template in _NOTES:
        match = pattern.match(note)
        if match:
            return str(template) % match.group(1)
    return note
