"""Normalisers for the identity fields of an order: phone, receiver name and Chinese address.

Everything is first folded with Unicode NFKC (full-width digits, letters and brackets become
ASCII). Phones become E.164 via ``phonenumbers`` (default region CN, so "+86", "0086", "86..."
and bare national numbers agree), are looked up by a keyed HMAC-SHA256 (a plain hash of an
11-digit mobile number is reversed by enumerating ~10^10 candidates in minutes) and shown
masked. Addresses lose their province/city/district prefix to an administrative code
(:mod:`customers.matching.divisions`), get Chinese numerals before unit markers turned into
digits, their building/unit/room forms ("5号楼", "5栋", "5幢", "5#", "5-2-301") parsed into
fields, and produce a canonical string whose keyed hash is an exact-match key.

``normalize_phone`` and ``mask_phone`` are the project's only phone normaliser and masker:
channels and orchestration import them from here. They live in the matching core because it
needs them and imports no Django (any ``oms`` module would load Django through the Celery app
in ``oms/__init__.py``), and every app that handles a phone may import ``customers``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from customers.matching.divisions import load_admin_divisions
from customers.matching.keyed import keyed_hash

DEFAULT_REGION = "CN"


def fold_width(text: str) -> str:
    """NFKC-fold ``text`` (full-width -> half-width) and drop all whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


# --- phone ---------------------------------------------------------------------------------

_EXTENSION = re.compile(r"转|ext|x|#", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-().]")
_CN_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1\d{10})$")


@dataclass(frozen=True, slots=True)
class NormalizedPhone:
    """A phone number in E.164 form with its display mask ("138****5678", see ``mask_phone``)."""

    e164: str
    masked: str


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, default_region: str = DEFAULT_REGION) -> NormalizedPhone | None:
    """Parse ``raw`` to E.164, or return None when it is not a valid number.

    A number with an extension ("转1234") or asterisks is refused: platforms' relay numbers,
    switchboards and masked numbers are shared by many buyers, so they must not act as an
    identity key. "86" followed by an 11-digit mobile number without a plus sign is read as
    the country code, which ``phonenumbers`` already does for CN.
    """
    text = fold_width(raw or "")
    if _EXTENSION.search(text) or "*" in text:
        # A relay number with an extension (platforms' privacy numbers, "170xxxx转1234"), a
        # switchboard extension or a masked number is shared by many people: not a key.
        return None
    if not any(char.isdigit() for char in text):
        return None
    mobile = _CN_MOBILE.match(_SEPARATORS.sub("", text)) if default_region == "CN" else None
    if mobile:
        # Fast path for the common case (a Chinese mobile in any of its usual spellings):
        # building the number directly skips phonenumbers' parser, ~5x slower than this.
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(mobile.group(1)))
    else:
        try:
            number = phonenumbers.parse(text, default_region)
        except phonenumbers.NumberParseException:
            return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return NormalizedPhone(e164=e164, masked=_mask(number, default_region))


def mask_phone(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """The one display form of a phone number, for pages, messages, payloads, logs and admin.

    A valid number shows its national number with the middle hidden, as Chinese shops and
    couriers print it ("+86 138-1234-5678" -> "138****5678"); a number of another country
    keeps its country code ("+1 650 253 0000" -> "+1 650***0000"). Anything that is not a
    valid number (a relay number with an extension, a number masked already, noise) keeps only
    its last two digits, so no raw number is ever shown.
    """
    phone = normalize_phone(raw or "", default_region)
    if phone is not None:
        return phone.masked
    digits = "".join(char for char in fold_width(raw or "") if char.isdigit())
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


_MASKED_MOBILE = re.compile(r"^(?:\+?86)?(1\d{2})\*{4}(\d{4})$")


def masked_phone_form(raw: str) -> str:
    """The mask of a mobile number a channel gave masked already ("138****5678"), else "".

    Such a number has no digest to look up by, but its visible digits still agree or
    disagree with a full number's mask (partial evidence for matching).
    """
    match = _MASKED_MOBILE.match(_SEPARATORS.sub("", fold_width(raw or "")))
    return f"{match.group(1)}****{match.group(2)}" if match else ""


def _mask(number: phonenumbers.PhoneNumber, default_region: str) -> str:
    national = str(number.national_number)
    if len(national) <= 4:
        hidden = "*" * len(national)
    else:
        keep_head = 3 if len(national) >= 10 else 2
        hidden = national[:keep_head] + "*" * (len(national) - keep_head - 4) + national[-4:]
    if number.country_code == phonenumbers.country_code_for_region(default_region):
        return hidden
    return f"+{number.country_code} {hidden}"


def phone_digest(e164: str, key: bytes) -> str:
    """Keyed lookup hash of an E.164 number (what the database stores and indexes)."""
    return keyed_hash(e164, key, purpose="phone")


# --- receiver name -------------------------------------------------------------------------

_NAME_NOISE = re.compile(
    r"[()\[\]（）【】<>].*?[()\[\]（）【】<>]|[\s\d,.;:!?'\"，。；：！？、/\\|_-]"
)
_HONORIFICS = ("先生", "女士", "小姐", "老师", "师傅", "总", "哥", "姐")
_COMPOUND_SURNAMES = frozenset(
    {
        *("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯", "尉迟"),
        *("公孙", "长孙", "宇文", "轩辕", "端木", "南宫", "独孤", "西门", "呼延", "澹台", "钟离"),
    }
)


@dataclass(frozen=True, slots=True)
class NormalizedName:
    """A receiver name: the cleaned full form, its surname and whether it was honorific-only.

    "张先生" gives full "张先生", surname "张", honorific True: it says who the surname is
    but not which member of the family.
    """

    full: str
    surname: str
    honorific: bool


@lru_cache(maxsize=65536)
def normalize_name(raw: str) -> NormalizedName | None:
    """Clean a receiver name (width, spaces, bracketed notes, digits) and split its surname."""
    text = _NAME_NOISE.sub("", unicodedata.normalize("NFKC", raw or "")).replace("•", "·")
    if not text:
        return None
    text = text.upper() if text.isascii() else text
    honorific = False
    for title in _HONORIFICS:
        if text.endswith(title) and 1 <= len(text) - len(title) <= 2:
            honorific = True
            break
    surname = text[:2] if text[:2] in _COMPOUND_SURNAMES else text[:1]
    return NormalizedName(full=text, surname=surname, honorific=honorific)


# --- Chinese numerals ----------------------------------------------------------------------

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_DIGITS |= {"七": 7, "八": 8, "九": 9}
_POWERS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_POWERS)
# A numeral is converted only where it counts something: before a unit marker, after 第 or
# at the very end (a room: "...二单元三零一"), so place names ("三里屯", "五一路") keep theirs.
_UNIT_MARKERS = "号楼|号|栋|幢|座|单元|室|房|层|楼|弄|段|巷|期|区|街|排|组|门|户|#"
_NUMERAL_RUN = re.compile(
    rf"第([{_NUMERAL_CHARS}]+)|([{_NUMERAL_CHARS}]+)(?=(?:{_UNIT_MARKERS})|$)"
)


def chinese_numeral_value(numeral: str) -> int:
    """Value of a Chinese numeral: positional ("二十一" -> 21) or digit by digit ("一二零一")."""
    if not any(char in _POWERS for char in numeral):
        return int("".join(str(_DIGITS[char]) for char in numeral))
    total = current = 0
    for char in numeral:
        if char in _DIGITS:
            current = _DIGITS[char]
        else:
            total += (current or 1) * _POWERS[char]  # "十二": a bare 十 means one ten
            current = 0
    return total + current


def numerals_to_digits(text: str) -> str:
    """Replace Chinese numerals that count units ("三号楼", "十二层", "第五") with digits."""

    def replace(match: re.Match[str]) -> str:
        numeral = match.group(1) or match.group(2)
        return str(chinese_numeral_value(numeral))

    return _NUMERAL_RUN.sub(replace, text)


# --- address -------------------------------------------------------------------------------

_TRADITIONAL = str.maketrans("號樓單門區東語廣場臺", "号楼单门区东语广场台")
# Bracketed text and a trailing clause without digits ("，电话联系") are delivery notes; a
# comma followed by more address ("88号，SOHO现代城3号楼") is not.
_DELIVERY_NOTES = re.compile(r"[(\[{【（].*?[)\]}】）]|[,，;；][^\d０-９]*$")
_PUNCTUATION = re.compile(r"[^\w#\-]")
_DASHES = re.compile(r"[‐‑‒–—―−~～]")
_ABBREVIATIONS = (
    ("经济技术开发区", "经开区"),
    ("高新技术产业开发区", "高新区"),
    ("高新技术开发区", "高新区"),
    ("工业园区", "工业园"),
    ("号院", "号"),
    ("小区", ""),
)
_TOWNSHIP = re.compile(r"^[^\d路街道巷]{2,6}?(街道|镇|乡)(?![路街道巷])")
_ROAD = re.compile(
    r"^(.*?(?:大道|大街|路|街|道|巷|胡同)(?:\d+段|[东西南北中]段)?)(?=\d|[^路街道巷段]|$)"
)
_LANE = re.compile(r"(\d+)弄")
_STREET_NUMBER = re.compile(r"(\d+)号(?!楼|房)")
_BUILDING = re.compile(r"([A-Z]?\d+[A-Z]?|[A-Z])(?:号楼|栋|幢|座|#楼|#|号馆|楼(?=\d+单元))")
_UNIT = re.compile(r"(\d+)(?:单元|单(?=\d))")
_FLOOR = re.compile(r"(\d+)(?:层|楼)(?=\d|$)")
_ROOM = re.compile(r"(\d+)(?:室|房|户|号房)")
_TRIPLE = re.compile(r"(\d+)-(\d+)-(\d+)")
_PAIR = re.compile(r"(\d+)-(\d+)")
_TRAILING_DIGITS = re.compile(r"(\d{3,5})$")


@dataclass(frozen=True, slots=True)
class NormalizedAddress:
    """A Chinese address split into an administrative code and the parts below it.

    ``admin_prefix`` is the significant part of ``admin_code`` (see
    :func:`customers.matching.divisions.significant_prefix`); ``place`` is the text of the
    street, number and community, the part compared fuzzily; ``canonical`` is the string an
    exact-match key is hashed from. Empty fields mean "not given".
    """

    admin_code: str
    admin_prefix: str
    street: str
    number: str
    community: str
    building: str
    unit: str
    floor: str
    room: str
    place: str
    canonical: str


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    match = None
    for match in pattern.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    return match


def _take(pattern: re.Pattern[str], text: str) -> tuple[str, str]:
    """Remove the last match of ``pattern`` from ``text``; return (group 1, rest)."""
    matches = list(pattern.finditer(text))
    if not matches:
        return "", text
    last = matches[-1]
    return last.group(1).lstrip("0") or "0", text[: last.start()] + text[last.end() :]


@lru_cache(maxsize=65536)
def normalize_address(raw: str) -> NormalizedAddress:
    """Normalise a free-text Chinese address into a :class:`NormalizedAddress`.

    Order matters: width folding and delivery notes first, then the administrative prefix
    (before numerals are converted, since "六盘水" and "十堰" are names), then numerals,
    abbreviations, the township, and finally the structured parts from the most specific
    (room) outwards; what precedes the first number is the street and what remains after
    the number is the community name.
    """
    text = _DELIVERY_NOTES.sub("", unicodedata.normalize("NFKC", raw or ""))
    text = _DASHES.sub("-", "".join(text.split())).translate(_TRADITIONAL).upper()
    admin = load_admin_divisions().resolve(text)
    detail = _PUNCTUATION.sub("", numerals_to_digits(admin.rest))
    for long_form, short_form in _ABBREVIATIONS:
        detail = detail.replace(long_form, short_form)
    detail = _TOWNSHIP.sub("", detail)

    building = unit = room = ""
    triple = _TRIPLE.search(detail)
    if triple:
        building, unit, room = (part.lstrip("0") or "0" for part in triple.groups())
        detail = detail[: triple.start()] + detail[triple.end() :]
    room_found, detail = _take(_ROOM, detail) if not room else ("", detail)
    room = room or room_found
    unit_found, detail = _take(_UNIT, detail) if not unit else ("", detail)
    unit = unit or unit_found
    building_found, detail = _take(_BUILDING, detail) if not building else ("", detail)
    building = building or building_found
    pair = _PAIR.search(detail)
    if pair:
        first, second = pair.groups()
        first = first.lstrip("0") or "0"
        if building and not room and (unit or len(second) <= 2):
            # After a building: "12-04" is floor 12, room 04 (the room "1204"); with three
            # or more digits after the dash it is unit-room ("2-1502").
            room = first + second if len(second) <= 2 else second.lstrip("0") or "0"
            if len(second) > 2:
                unit = unit or first
        elif building:
            unit, room = unit or first, room or second.lstrip("0") or "0"
        else:
            building, room = first, room or second.lstrip("0") or "0"
        detail = detail[: pair.start()] + detail[pair.end() :]
    floor, detail = _take(_FLOOR, detail)
    lane_match = _last(_LANE, detail)
    if lane_match and not building:
        # Shanghai "123弄5号301室": the 号 after a lane number is a building.
        inner = _STREET_NUMBER.search(detail, lane_match.end())
        if inner:
            building = inner.group(1).lstrip("0") or "0"
            detail = detail[: inner.start()] + detail[inner.end() :]
    number_match = lane_match or _last(_STREET_NUMBER, detail)
    if not room:
        trailing = _TRAILING_DIGITS.search(detail)
        after_number = number_match is None or (
            trailing is not None and trailing.start() >= number_match.end()
        )
        if trailing and after_number and (building or unit or floor or number_match):
            room = trailing.group(1)
            detail = detail[: trailing.start()]
    # The place keeps its written order, so a street whose marker is misspelt ("张江话572号")
    # still compares well with the correct spelling.
    place = detail.replace("-", "").replace("#", "")
    lane, rest = _take(_LANE, place)
    street_number, rest = _take(_STREET_NUMBER, rest)
    number = f"{lane}弄" if lane else (f"{street_number}号" if street_number else "")
    road = _ROAD.match(rest)
    street = road.group(1) if road else ""
    community = rest[len(street) :]
    if street or number:
        canonical = "|".join((admin.prefix, street, number, building, unit, room))
    else:
        canonical = "|".join((admin.prefix, community, building, unit, room))
    return NormalizedAddress(
        admin_code=admin.code,
        admin_prefix=admin.prefix,
        street=street,
        number=number,
        community=community,
        building=building,
        unit=unit,
        floor=floor,
        room=room,
        place=place,
        canonical=canonical,
    )


def address_digest(address: NormalizedAddress, key: bytes) -> str:
    """Keyed exact-match hash of a normalised address ("" when it has no place and no room)."""
    if not (address.place or address.room):
        return ""
    return keyed_hash(address.canonical, key, purpose="address")
