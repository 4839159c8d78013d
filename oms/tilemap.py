"""A tile-grid map of China: one square per province-level division in its rough place.

Drawn as inline SVG by ``templates/oms/province_tile_map.html``, so a page needs no map tiles,
no script and nothing downloaded at run time. Callers say what each province shows (a CSS
class, a fill colour, a tooltip) and, optionally, a route through province centres: the
customer status page draws a parcel's way (warehouse -> hub -> destination); a heat map colours
the tiles by a value per province.

The grid keeps neighbours next to each other where it can (Beijing above Hebei, Shanghai beside
Jiangsu and Zhejiang, the north-east stacked at the right edge); it is a diagram, not a
projection.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils import translation

from oms.geo import province_key

CELL = 40  # side of a tile, SVG units
GAP = 4

# short Chinese name: (column, row, ISO 3166-2:CN code, English name)
PROVINCE_GRID: dict[str, tuple[int, int, str, str]] = {
    "黑龙江": (7, 0, "HL", "Heilongjiang"),
    "内蒙古": (4, 1, "NM", "Inner Mongolia"),
    "北京": (5, 1, "BJ", "Beijing"),
    "吉林": (7, 1, "JL", "Jilin"),
    "新疆": (1, 2, "XJ", "Xinjiang"),
    "甘肃": (2, 2, "GS", "Gansu"),
    "宁夏": (3, 2, "NX", "Ningxia"),
    "山西": (4, 2, "SX", "Shanxi"),
    "河北": (5, 2, "HE", "Hebei"),
    "天津": (6, 2, "TJ", "Tianjin"),
    "辽宁": (7, 2, "LN", "Liaoning"),
    "青海": (1, 3, "QH", "Qinghai"),
    "陕西": (3, 3, "SN", "Shaanxi"),
    "河南": (4, 3, "HA", "Henan"),
    "山东": (5, 3, "SD", "Shandong"),
    "西藏": (1, 4, "XZ", "Tibet"),
    "四川": (2, 4, "SC", "Sichuan"),
    "重庆": (3, 4, "CQ", "Chongqing"),
    "湖北": (4, 4, "HB", "Hubei"),
    "安徽": (5, 4, "AH", "Anhui"),
    "江苏": (6, 4, "JS", "Jiangsu"),
    "云南": (1, 5, "YN", "Yunnan"),
    "贵州": (2, 5, "GZ", "Guizhou"),
    "湖南": (3, 5, "HN", "Hunan"),
    "江西": (4, 5, "JX", "Jiangxi"),
    "浙江": (5, 5, "ZJ", "Zhejiang"),
    "上海": (6, 5, "SH", "Shanghai"),
    "广西": (2, 6, "GX", "Guangxi"),
    "广东": (3, 6, "GD", "Guangdong"),
    "福建": (4, 6, "FJ", "Fujian"),
    "台湾": (6, 6, "TW", "Taiwan"),
    "海南": (2, 7, "HI", "Hainan"),
    "澳门": (3, 7, "MO", "Macao"),
    "香港": (4, 7, "HK", "Hong Kong"),
}
COLUMNS = 1 + max(col for col, _row, _code, _en in PROVINCE_GRID.values())
ROWS = 1 + max(row for _col, row, _code, _en in PROVINCE_GRID.values())


def grid_key(province: str) -> str:
    """The grid's key of a province given as '浙江省', '浙江' or 'Zhejiang'; '' when unknown."""
    name = province.strip()
    if name in PROVINCE_GRID:
        return name
    if name.startswith("台湾"):
        return "台湾"
    return province_key(name)


@dataclass(frozen=True)
class Tile:
    key: str
    x: int
    y: int
    label: str  # short: a Chinese name, or the ISO code in other languages
    title: str  # the full name in the active language (tooltip, screen readers)
    css_class: str = ""
    fill: str = ""
    value: str = ""  # a short figure under the label (a heat map's number)

    @property
    def cx(self) -> int:
        return self.x + CELL // 2

    @property
    def cy(self) -> int:
        """Where a route meets the tile: below its label, so the line never covers the name."""
        return self.y + CELL * 3 // 4

    @property
    def text_y(self) -> int:
        return self.y + CELL * 2 // 5 + 2

    @property
    def value_y(self) -> int:
        return self.y + CELL * 4 // 5 + 1


@dataclass(frozen=True)
class TileMap:
    tiles: list[Tile]
    width: int
    height: int
    route: list[tuple[int, int]] = field(default_factory=list)  # tile centres, in order
    travelled: int = 0  # how many legs of the route are behind the parcel already
    label: str = ""
    cell: int = CELL

    @property
    def route_points(self) -> str:
        return " ".join(f"{x},{y}" for x, y in self.route)

    @property
    def travelled_points(self) -> str:
        return " ".join(f"{x},{y}" for x, y in self.route[: self.travelled + 1])


def province_name(province: str, *, language: str | None = None) -> str:
    """A province's name in the active language ('' when the grid does not know it)."""
    key = grid_key(province)
    if not key:
        return ""
    language = language or translation.get_language() or "en"
    return key if language.startswith("zh") else PROVINCE_GRID[key][3]


def tile_map(
    *,
    classes: Mapping[str, str] | None = None,
    fills: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    route: Iterable[str] = (),
    travelled: int = 0,
    label: str = "",
) -> TileMap:
    """Every tile of the grid with what the caller wants it to show.

    ``classes``, ``fills``, ``titles`` and ``values`` are keyed by province in any form ``grid_key``
    understands; unknown provinces are ignored. ``route`` lists provinces the line passes
    through (repeats collapse), ``travelled`` how many of its legs are done.
    """
    chinese = (translation.get_language() or "en").startswith("zh")
    by_key = {
        name: {"css_class": "", "fill": "", "title": "", "value": ""} for name in PROVINCE_GRID
    }
    sources = ((classes, "css_class"), (fills, "fill"), (titles, "title"), (values, "value"))
    for source, attribute in sources:
        for province, value in (source or {}).items():
            key = grid_key(province)
            if key:
                by_key[key][attribute] = value
    tiles = []
    for name, (col, row, code, english) in PROVINCE_GRID.items():
        shown = by_key[name]
        full = name if chinese else english
        tiles.append(
            Tile(
                key=name,
                x=GAP + col * (CELL + GAP),
                y=GAP + row * (CELL + GAP),
                label=name if chinese else code,
                title=f"{full}: {shown['title']}" if shown["title"] else full,
                css_class=shown["css_class"],
                fill=shown["fill"],
                value=shown["value"],
            )
        )
    centres = {tile.key: (tile.cx, tile.cy) for tile in tiles}
    points: list[tuple[int, int]] = []
    for province in route:
        key = grid_key(province)
        if key and (not points or points[-1] != centres[key]):
            points.append(centres[key])
    return TileMap(
        tiles=tiles,
        width=GAP + COLUMNS * (CELL + GAP),
        height=GAP + ROWS * (CELL + GAP),
        route=points if len(points) > 1 else [],
        travelled=min(travelled, max(len(points) - 1, 0)),
        label=label,
    )
