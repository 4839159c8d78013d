"""Resolve the province / city / district prefix of a Chinese address to an administrative code.

The table (``data/admin_divisions.tsv``, 3,416 rows) is generated from JioNLP's location
dictionary by ``data/build_admin_divisions.py``; see that script for provenance. Matching is a
greedy left-to-right walk: at each position the longest full name or alias of a division that
lies *below* what has been resolved so far is taken (full names beat aliases of equal length).
A surface form shared by several divisions in the current context (朝阳区 is in Beijing and in
Changchun) stops the walk rather than guessing, so the code stays at the last certain level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("data") / "admin_divisions.tsv"

PROVINCE, CITY, COUNTY = 1, 2, 3
# A short alias followed by one of these is a road or a place, not the division:
# "长宁路" is a road in 长宁区, "朝阳门" a gate.
_NOT_AFTER_ALIAS = frozenset("路街道巷弄门桥村镇乡里湖山园苑")
_ADMIN_SUFFIXES = frozenset("省市区县旗盟州")


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division: six-digit code, level (1-3), parent code and name."""

    code: str
    level: int
    parent: str
    name: str


@dataclass(frozen=True, slots=True)
class AdminMatch:
    """The resolved administrative prefix of an address and the text left after it.

    ``code`` is the most specific code resolved ("" when none); ``prefix`` is its significant
    part (2 digits for a province or municipality, 4 for a city, 6 for a county), so two
    addresses are administratively compatible when one prefix starts the other.
    """

    code: str
    level: int
    prefix: str
    names: tuple[str, ...]
    rest: str


def significant_prefix(code: str, level: int) -> str:
    """Return the digits of ``code`` that identify it at ``level`` ("310000", 1 -> "31")."""
    if not code:
        return ""
    return code[: {PROVINCE: 2, CITY: 4, COUNTY: 6}[level]]


def prefixes_compatible(first: str, second: str) -> bool:
    """True when neither significant prefix contradicts the other ("31" vs "310115")."""
    if not first or not second:
        return True
    return first.startswith(second) or second.startswith(first)


class AdminDivisions:
    """In-memory index of division names and aliases, with the greedy prefix resolver."""

    def __init__(self, divisions: list[Division], aliases: dict[str, list[str]]) -> None:
        self._by_code = {division.code: division for division in divisions}
        self._aliases = aliases
        self._children: dict[str, list[str]] = {}
        for division in divisions:
            if division.parent:
                self._children.setdefault(division.parent, []).append(division.code)
        # surface form -> [(code, is_alias)]
        self._surfaces: dict[str, list[tuple[str, bool]]] = {}
        for division in divisions:
            self._surfaces.setdefault(division.name, []).append((division.code, False))
            for alias in aliases.get(division.code, []):
                if len(alias) >= 2 and alias != division.name:
                    self._surfaces.setdefault(alias, []).append((division.code, True))
        # first character -> surface lengths starting with it, longest first: the walk
        # then tries only lengths that exist instead of every length up to the longest.
        lengths: dict[str, set[int]] = {}
        for surface in self._surfaces:
            lengths.setdefault(surface[0], set()).add(len(surface))
        self._lengths = {char: sorted(found, reverse=True) for char, found in lengths.items()}

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Division | None:
        return self._by_code.get(code)

    def aliases(self, code: str) -> list[str]:
        """Short names of a division ("浦东新区" -> ["浦东"])."""
        return list(self._aliases.get(code, []))

    def children(self, code: str) -> list[Division]:
        """Divisions directly below ``code``, in code order."""
        return [self._by_code[child] for child in sorted(self._children.get(code, []))]

    def _is_below(self, code: str, ancestor: str) -> bool:
        division = self._by_code[code]
        while division.parent and division.parent != division.code:
            if division.parent == ancestor:
                return True
            division = self._by_code[division.parent]
        return False

    def _candidates(self, text: str, pos: int, context: Division | None) -> tuple[int, list[str]]:
        """Longest surface at ``pos`` naming divisions below ``context``: (length, codes)."""
        for length in self._lengths.get(text[pos : pos + 1], ()):
            if pos + length > len(text):
                continue
            entries = self._surfaces.get(text[pos : pos + length])
            if not entries:
                continue
            following = text[pos + length : pos + length + 1]
            usable: list[tuple[str, bool]] = []
            for code, is_alias in entries:
                if context is not None and not self._is_below(code, context.code):
                    continue
                if is_alias and following in _NOT_AFTER_ALIAS:
                    continue
                usable.append((code, is_alias))
            if not usable:
                continue
            codes = [code for code, is_alias in usable if not is_alias] or [c for c, _ in usable]
            if len(codes) > 1:
                # "南昌" names the city and its county: take the city, the walk goes on.
                top = min(self._by_code[code].level for code in codes)
                codes = [code for code in codes if self._by_code[code].level == top]
            return length, codes
        return 0, []

    def resolve(self, text: str) -> AdminMatch:
        """Resolve the administrative prefix of ``text`` (already NFKC-normalised).

        Stops at the first position where nothing below the current division matches, or
        after a name shared by several divisions, which is consumed and resolved only as far
        as the divisions agree (their common ancestor). A repeated name ("上海上海市") is
        consumed.
        """
        pos = 0
        resolved: Division | None = None
        names: list[str] = []
        while pos < len(text) and (resolved is None or resolved.level < COUNTY):
            length, codes = self._candidates(text, pos, resolved)
            if resolved is not None and not codes:
                # "上海上海市..." or "北京市北京市..." repeat the municipality.
                repeat = self._repeat_length(text, pos, resolved)
                if repeat:
                    pos += repeat
                    continue
            if not codes:
                break
            if len(codes) > 1:
                # 朝阳区 (Beijing or Changchun): keep what they share, drop the name, stop.
                shared = self._common_ancestor(codes)
                if shared is not None and (
                    resolved is None or self._is_below(shared, resolved.code)
                ):
                    resolved = self._by_code[shared]
                    names.append(resolved.name)
                pos += length
                break
            resolved = self._by_code[codes[0]]
            names.append(resolved.name)
            pos += length
            if pos < len(text) and text[pos] in _ADMIN_SUFFIXES and length < len(resolved.name):
                pos += 1  # alias written with its suffix: "浦东区"
        if resolved is None:
            return AdminMatch(code="", level=0, prefix="", names=(), rest=text[pos:])
        return AdminMatch(
            code=resolved.code,
            level=resolved.level,
            prefix=significant_prefix(resolved.code, resolved.level),
            names=tuple(names),
            rest=text[pos:],
        )

    def _common_ancestor(self, codes: list[str]) -> str | None:
        def chain(code: str) -> list[str]:
            ancestors = []
            division = self._by_code[code]
            while division.parent and division.parent != division.code:
                ancestors.append(division.parent)
                division = self._by_code[division.parent]
            return ancestors

        shared = set(chain(codes[0]))
        for code in codes[1:]:
            shared &= set(chain(code))
        deepest = [code for code in chain(codes[0]) if code in shared]
        return deepest[0] if deepest else None

    def _repeat_length(self, text: str, pos: int, resolved: Division) -> int:
        for surface in (resolved.name, resolved.name.rstrip("市省")):
            if len(surface) >= 2 and text.startswith(surface, pos):
                return len(surface)
        return 0


def parse_table(lines: list[str]) -> tuple[list[Division], dict[str, list[str]]]:
    """Parse the TSV lines (comments start with '#') into divisions and their aliases."""
    divisions: list[Division] = []
    aliases: dict[str, list[str]] = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        code, level, parent, name, alias_field = line.rstrip("\n").split("\t")
        divisions.append(Division(code=code, level=int(level), parent=parent, name=name))
        aliases[code] = [alias for alias in alias_field.split("/") if alias]
    return divisions, aliases


@lru_cache(maxsize=1)
def load_admin_divisions() -> AdminDivisions:
    """Load the bundled division table once per process (~10 ms)."""
    divisions, aliases = parse_table(TABLE_PATH.read_text(encoding="utf-8").splitlines())
    return AdminDivisions(divisions, aliases)
