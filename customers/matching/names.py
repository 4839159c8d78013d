"""Receiver names as evidence: how far two spellings can be one person's.

Channels spell the same person in many ways. A Douyin profile gives a pinyin handle
("zhou_dongqiang", "junjiezhao59", "Xueli Zhang"), a mini-program a nickname ("小伟", "阿伟",
"伟伟", "老王"), a courier slip an honorific ("王女士") or a masked name ("王*伟"). Each form
says something about the person, and the comparison here grades how much two forms agree:

- ``SAME``: the same written name;
- ``COMPATIBLE``: two forms that one person's name produces (the handle "zhoudongqiang" and
  周东强 through pinyin, in either name order; "小伟" and 杨强伟; "王*伟" and 王强伟);
- ``SURNAME_ONLY``: same surname, other given name (siblings, spouses who took no name);
- ``DIFFERENT``: no form of one fits the other.

A nickname or honorific fits many people, so COMPATIBLE is weak evidence; the scoring decides
what it is worth next to the phone, device, account and address. Pinyin readings come from
``pypinyin`` with every reading of a polyphonic character (单 dan/shan, 曾 zeng/ceng), and "ü"
is accepted as "v", "u" or "yu".
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from itertools import product

from pypinyin import Style, pinyin

from customers.matching.normalize import NormalizedName

_NICKNAME_PREFIXES = ("小", "阿")
_SURNAME_PREFIX = "老"
_HONORIFIC_TITLES = ("先生", "女士", "小姐", "老师", "师傅", "总", "哥", "姐")
_LATIN = re.compile(r"^[A-Z]+$")
_MASK = "*"
# Names of more readings than this are compared on the first ones only (a bound on work).
_MAX_READINGS = 16


class NameAgreement(StrEnum):
    SAME = "same"
    COMPATIBLE = "compatible"
    SURNAME_ONLY = "surname_only"
    DIFFERENT = "different"


@lru_cache(maxsize=65536)
def _char_readings(char: str) -> tuple[str, ...]:
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    found: list[str] = []
    for reading in readings[0] if readings else ():
        reading = reading.lower().replace("ü", "v")
        variants = [reading]
        if "v" in reading:
            variants += [reading.replace("v", "u"), reading.replace("v", "yu")]
        found.extend(variant for variant in variants if variant not in found)
    return tuple(found)


def _readings(text: str) -> tuple[str, ...]:
    """Every pinyin spelling of ``text`` (no tones), capped at ``_MAX_READINGS``."""
    options = [_char_readings(char) or (char,) for char in text]
    spelled = []
    for combination in product(*options):
        spelled.append("".join(combination))
        if len(spelled) >= _MAX_READINGS:
            break
    return tuple(spelled)


def _split(name: NormalizedName) -> tuple[str, str]:
    """(surname, given name) of a Chinese name."""
    return name.surname, name.full[len(name.surname) :]


@lru_cache(maxsize=65536)
def _full_spellings(surname: str, given: str) -> frozenset[str]:
    """Pinyin of a full Chinese name in both orders: "zhoudongqiang", "dongqiangzhou"."""
    spellings = set()
    for family in _readings(surname):
        for personal in _readings(given):
            spellings.add(family + personal)
            spellings.add(personal + family)
    return frozenset(spellings)


def _is_latin(name: NormalizedName) -> bool:
    return bool(_LATIN.match(name.full))


def _handle(name: NormalizedName) -> str:
    return name.full.lower()


def _nickname_chars(full: str) -> tuple[str, str] | None:
    """A nickname's (kind, character): ("given", "伟") for 伟伟, ("any", "伟") for 小伟 / 阿伟
    (小王 is as often a surname), ("surname", "王") for 老王. None for anything else."""
    if len(full) == 2 and full[0] in _NICKNAME_PREFIXES:
        return "any", full[1]
    if len(full) == 2 and full[0] == full[1]:
        return "given", full[1]
    if len(full) == 2 and full[0] == _SURNAME_PREFIX:
        return "surname", full[1]
    return None


def _honorific_surname(name: NormalizedName) -> str:
    for title in _HONORIFIC_TITLES:
        if name.full.endswith(title):
            return name.full[: -len(title)]
    return name.surname


def _masked_fits(masked: str, full: str) -> bool:
    """ "王*伟" fits 王强伟; "王**" fits any three-character name of 王; "*伟" fits ??伟 when the
    lengths agree or the mask is one star standing for several characters."""
    known = masked.replace(_MASK, "")
    if not known:
        return False
    if len(masked) == len(full):
        return all(m in (_MASK, c) for m, c in zip(masked, full, strict=True))
    # A single star for a run of characters: compare the ends.
    head, _, tail = masked.partition(_MASK)
    tail = tail.replace(_MASK, "")
    return full.startswith(head) and full.endswith(tail) and len(head) + len(tail) < len(full)


def _form_fits_full(form: NormalizedName, full: NormalizedName) -> bool:
    """Whether a partial form (nickname, honorific, masked, handle) fits a full Chinese name."""
    surname, given = _split(full)
    if _MASK in form.full:
        return _masked_fits(form.full, full.full)
    if form.honorific:
        return _honorific_surname(form) == surname
    nickname = _nickname_chars(form.full)
    if nickname is not None:
        kind, char = nickname
        if kind == "surname":
            return char == surname
        return char in given or (kind == "any" and char == surname)
    if _is_latin(form):
        return _handle(form) in _full_spellings(surname, given)
    return False


def _handle_fits_partial(handle: str, form: NormalizedName) -> bool:
    """A pinyin handle against a nickname or honorific: a surname's reading must begin or end
    the handle (either name order), a given name's character must be read somewhere in it."""
    if form.honorific:
        readings = _readings(_honorific_surname(form))
        return any(handle.startswith(r) or handle.endswith(r) for r in readings)
    nickname = _nickname_chars(form.full)
    if nickname is None:
        return False
    kind, char = nickname
    readings = _char_readings(char)
    if kind in ("surname", "any") and any(
        handle.startswith(r) or handle.endswith(r) for r in readings
    ):
        return True
    if kind == "surname":
        return False
    return any(r in handle for r in readings)


def _is_full_chinese(name: NormalizedName) -> bool:
    return (
        not _is_latin(name)
        and not name.honorific
        and _MASK not in name.full
        and _nickname_chars(name.full) is None
        and len(name.full) >= 2
    )


def _rotation(first: str, second: str) -> bool:
    return len(first) == len(second) and first in second + second


@lru_cache(maxsize=262144)
def name_agreement(first: NormalizedName, second: NormalizedName) -> NameAgreement:
    """Grade two receiver names (see the module docstring)."""
    if first.full == second.full:
        return NameAgreement.SAME
    first_full, second_full = _is_full_chinese(first), _is_full_chinese(second)
    if first_full and second_full:
        if first.surname == second.surname:
            return NameAgreement.SURNAME_ONLY
        return NameAgreement.DIFFERENT
    if first_full or second_full:
        full, form = (first, second) if first_full else (second, first)
        return NameAgreement.COMPATIBLE if _form_fits_full(form, full) else NameAgreement.DIFFERENT
    # Two partial forms: handles agree in either name order; a handle may carry a nickname's
    # or an honorific's character; two nicknames agree when they name the same character.
    if _is_latin(first) and _is_latin(second):
        return (
            NameAgreement.COMPATIBLE
            if _rotation(_handle(first), _handle(second))
            else NameAgreement.DIFFERENT
        )
    if _is_latin(first) or _is_latin(second):
        handle, form = (first, second) if _is_latin(first) else (second, first)
        return (
            NameAgreement.COMPATIBLE
            if _handle_fits_partial(_handle(handle), form)
            else NameAgreement.DIFFERENT
        )
    one, other = _nickname_chars(first.full), _nickname_chars(second.full)
    if one and other and one[1] == other[1]:
        return NameAgreement.COMPATIBLE
    if first.honorific and second.honorific:
        return (
            NameAgreement.COMPATIBLE
            if _honorific_surname(first) == _honorific_surname(second)
            else NameAgreement.DIFFERENT
        )
    return NameAgreement.DIFFERENT
