"""What the customer status page says, in the customer's language, rendered at display time.

Handlers store a message *code* and its parameters on the step (``result.message_code``,
``result.message_params``: names, counts, ISO times), never a finished sentence; this module
turns them into words in the active language and the merchant's time zone when the page is
shown. The English ``result.message`` beside them is for staff logs only. Times are local and
in customer words ("tomorrow afternoon", "December 5, 14:00" / "明天下午", "12月5日 14:00").
Nothing here reads the database.
"""

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from django.utils import dateformat
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from oms.tilemap import province_name

# --- times -------------------------------------------------------------------------------------


def local(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz)


def day_time(moment: datetime | None, tz: tzinfo) -> str:
    """'December 5, 14:00' / '12月5日 14:00' in the merchant's time zone."""
    if moment is None:
        return ""
    return dateformat.format(local(moment, tz), pgettext("customer date and time", "F j, H:i"))


def day(value: date | datetime | None, tz: tzinfo | None = None) -> str:
    """'December 5, 2027' / '2027年12月5日' (a date, or a moment in the merchant's zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and tz is not None:
        value = local(value, tz)
    return dateformat.format(value, pgettext("customer date with year", "F j, Y"))


def slot_text(start: datetime, end: datetime, tz: tzinfo) -> str:
    """'Sat, December 5, 14:00–16:00' / '12月5日 星期六 14:00–16:00'."""
    first, last = local(start, tz), local(end, tz)
    return _("%(day)s, %(start)s–%(end)s") % {
        "day": dateformat.format(first, pgettext("customer weekday and date", "D, F j")),
        "start": first.strftime("%H:%M"),
        "end": last.strftime("%H:%M"),
    }


def _part_of_day(hour: int) -> str:
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def relative_when(moment: datetime, *, now: datetime, tz: tzinfo) -> str:
    """When something happens, as a customer says it: 'tomorrow afternoon', 'Monday morning'.

    Today and tomorrow by name, the next six days by weekday, later by date; always with the
    part of the day (before noon, before 18:00, evening) in the merchant's time zone.
    """
    when, today = local(moment, tz), local(now, tz).date()
    part = _part_of_day(when.hour)
    days = (when.date() - today).days
    if days == 0:
        return {
            "morning": _("this morning"),
            "afternoon": _("this afternoon"),
            "evening": _("this evening"),
        }[part]
    if days == 1:
        return {
            "morning": _("tomorrow morning"),
            "afternoon": _("tomorrow afternoon"),
            "evening": _("tomorrow evening"),
        }[part]
    if 1 < days < 7:
        weekday = dateformat.format(when, "l")
        return {
            "morning": _("%(weekday)s morning"),
            "afternoon": _("%(weekday)s afternoon"),
            "evening": _("%(weekday)s evening"),
        }[part] % {"weekday": weekday}
    date_text = dateformat.format(when, pgettext("customer date", "F j"))
    return {
        "morning": _("on %(date)s in the morning"),
        "afternoon": _("on %(date)s in the afternoon"),
        "evening": _("on %(date)s in the evening"),
    }[part] % {"date": date_text}


# --- places ------------------------------------------------------------------------------------


def place(*, city: str, province: str) -> str:
    """A warehouse's or customer's place: 'Shanghai', '苏州 (Jiangsu)' / '上海', '苏州'.

    Province-level names are translated; other city names stay as written (they are data).
    """
    as_province = province_name(city)
    if as_province:
        return as_province
    province_shown = province_name(province)
    if not city:
        return province_shown or province
    if province_shown and province_shown != city and not _is_chinese_page():
        return f"{city} ({province_shown})"
    return city


def _is_chinese_page() -> bool:
    return (get_language() or "").startswith("zh")


# --- stored step messages ----------------------------------------------------------------------


def _service_noun(service: str) -> str:
    return {
        "installation": _("Installation"),
        "hand-over": _("Hand-over"),
    }.get(service, _("Your appointment"))


def _money(amount: str, currency: str) -> str:
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError):
        return ""
    if currency in ("", "CNY"):
        return f"¥{value:,.2f}"
    return f"{value:,.2f} {currency}"


def _moment(value: str | None, tz: tzinfo) -> str:
    parsed = parse_datetime(value or "")
    return day_time(parsed, tz) if parsed else ""


def _date(value: str | None) -> str:
    parsed = parse_date(value or "")
    return day(parsed) if parsed else ""


Renderer = Callable[[dict, tzinfo], str]

MESSAGES: dict[str, Renderer] = {
    "delivery.booked": lambda p, tz: _("Booked with %(carrier)s.") % {"carrier": p["carrier"]},
    "delivery.to_pickup": lambda p, tz: (
        _("%(carrier)s delivers to the pickup point %(point)s.")
        % {"carrier": p["carrier"], "point": p["point"]}
    ),
    "appointment.booked": lambda p, tz: (
        _("%(service)s booked for %(when)s.")
        % {"service": _service_noun(p.get("service", "")), "when": _moment(p.get("start"), tz)}
    ),
    "serials.locked": lambda p, tz: (
        ngettext(
            "%(count)s serial number locked for you.",
            "%(count)s serial numbers locked for you.",
            int(p["count"]),
        )
        % {"count": p["count"]}
    ),
    "warranty.issued": lambda p, tz: (
        _("Warranty %(reference)s, valid until %(date)s.")
        % {"reference": p["reference"], "date": _date(p.get("valid_until"))}
    ),
    "tariff.estimated": lambda p, tz: (
        _("Import taxes estimated at %(amount)s.")
        % {"amount": _money(p.get("amount", ""), p.get("currency", ""))}
    ),
    "visit.planned": lambda p, tz: (
        _("Visit planned for %(when)s.") % {"when": _moment(p.get("at"), tz)}
    ),
    "inspection.passed": lambda p, tz: (
        ngettext("%(count)s check passed.", "%(count)s checks passed.", int(p["count"]))
        % {"count": p["count"]}
    ),
    "cancelled.pickup": lambda p, tz: (
        _(
            "Not needed any more: you collect your order at %(point)s. If you still want it "
            "installed at home, please contact the shop."
        )
        % {"point": p["point"]}
    ),
}


def step_message(result: dict | None, tz: tzinfo) -> str:
    """The customer sentence of a step's stored message; '' when there is none to show.

    A result without a code (written before codes existed and not migrated) shows nothing
    rather than staff English.
    """
    result = result or {}
    render = MESSAGES.get(result.get("message_code") or "")
    if render is None:
        return ""
    try:
        return render(result.get("message_params") or {}, tz)
    except (KeyError, ValueError, TypeError):
        return ""
