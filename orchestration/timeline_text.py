"""The order services' stored messages (timeline entries, SLA alerts, step errors), said when shown.

Registered with ``oms.stored_text`` when the app loads. Step names are the atoms' labels in both
languages; a step's detail is its customer message (``customer_text``); times are local to the
merchant. See ``oms.stored_text`` for how codes and parameters are kept.
"""

from datetime import tzinfo
from typing import TYPE_CHECKING

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from oms.stored_text import Message, bilingual, message, register, value_text
from orchestration import customer_text

if TYPE_CHECKING:
    from orchestration.models import ServiceAtom


def atom_name(atom: "ServiceAtom") -> dict:
    return bilingual(atom.label_en, atom.label_zh)


def step_detail(result: dict) -> dict | None:
    """A step's customer message as a nested parameter (None when it has none)."""
    if not result.get("message_code"):
        return None
    return {
        "msg": {
            "code": "step.detail",
            "params": {
                "message_code": result["message_code"],
                "message_params": result.get("message_params") or {},
            },
        }
    }


def _detail(params: dict, tz: tzinfo) -> str:
    return customer_text.step_message(params, tz)


def _step_with_detail(done: bool):
    def render(params: dict, tz: tzinfo) -> str:
        step = value_text(params["step"], tz)
        detail = value_text(params.get("detail"), tz)
        if done:
            if detail:
                return _("%(step)s done: %(detail)s") % {"step": step, "detail": detail}
            return _("%(step)s done") % {"step": step}
        return _("%(step)s: %(detail)s") % {"step": step, "detail": detail or _("in progress")}

    return render


def _cancelled(params: dict, tz: tzinfo) -> str:
    count = int(params["count"])
    return ngettext(
        "%(count)s open service step cancelled: %(reason)s",
        "%(count)s open service steps cancelled: %(reason)s",
        count,
    ) % {"count": count, "reason": value_text(params["reason"], tz)}


def _rescheduled(params: dict, tz: tzinfo) -> str:
    start = parse_datetime(params["start"])
    return _("Customer rescheduled %(step)s to %(when)s") % {
        "step": value_text(params["step"], tz),
        "when": customer_text.day_time(start, tz),
    }


def _pickup(params: dict, tz: tzinfo) -> str:
    text = _("Customer chose pickup point %(point)s for %(step)s") % {
        "point": params["point"],
        "step": value_text(params["step"], tz),
    }
    if params.get("cancelled"):
        text += _("; home appointments cancelled: %(steps)s") % {
            "steps": value_text(params["cancelled"], tz)
        }
    return text


def _assigned(params: dict, tz: tzinfo) -> str:
    if params.get("user"):
        return _("SLA alert of %(step)s assigned to %(user)s") % {
            "step": value_text(params["step"], tz),
            "user": params["user"],
        }
    return _("SLA alert of %(step)s assigned to nobody") % {"step": value_text(params["step"], tz)}


register("step.detail", _detail)
register("step.waiting", _step_with_detail(done=False))
register("step.done", _step_with_detail(done=True))
register("step.delivered", gettext_lazy("delivered"))
register("step.confirmed_by", gettext_lazy("confirmed by %(actor)s"))
register(
    "step.retry",
    gettext_lazy("%(step)s: attempt %(attempt)s failed (%(error)s); retry in %(seconds)s s"),
)
register("step.failed", gettext_lazy("%(step)s failed after %(attempts)s attempts: %(error)s"))
register("step.no_answer", gettext_lazy("%(system)s did not answer"))
register("step.no_free_slot", gettext_lazy("no free slot"))
register("services.planned", gettext_lazy("Services planned from template %(template)s: %(steps)s"))
register("services.completed", gettext_lazy("Every service of this order is done."))
register("services.cancelled", _cancelled)
register("services.order_cancelled", gettext_lazy("order cancelled"))
register("tracking.revoked", gettext_lazy("Status-page link revoked."))
register("tracking.reissued", gettext_lazy("Status-page link revoked and a new one issued."))
register(
    "sla.breached",
    gettext_lazy(
        "%(step)s of order %(order)s is %(minutes)s min past its deadline; late party: %(party)s"
    ),
)
register("sla.cause.upstream", gettext_lazy("%(step)s (%(key)s)"))
register("sla.cause.performing", gettext_lazy("%(system)s, performing %(step)s"))
register("sla.cause.failing", gettext_lazy("%(name)s (failing: %(error)s)"))
register("sla.cause.no_worker", gettext_lazy("no worker picked up the queued step"))
register("sla.cause.name", gettext_lazy("%(name)s"))
register("exception.acknowledged", gettext_lazy("SLA alert of %(step)s acknowledged"))
register("exception.assigned", _assigned)
register("exception.retried", gettext_lazy("%(step)s retried by staff"))
register("customer.rescheduled", _rescheduled)
register("customer.pickup", _pickup)
register("parcel.scanned", gettext_lazy("Parcel %(parcel)s scanned at %(hub)s"))


def nested(text: Message | None, fallback: str) -> dict | str:
    """A message as a parameter of another (its English when there is none)."""
    return {"msg": text.stored()} if text is not None else fallback


__all__ = ["atom_name", "message", "nested", "step_detail"]
