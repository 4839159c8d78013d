"""Province to region, in both Chinese and English names, for routing partitions and reports."""

from oms.models import Region

_PROVINCES: dict[str, tuple[str, str]] = {
    # Chinese name: (English name, region)
    "上海": ("Shanghai", Region.EAST),
    "江苏": ("Jiangsu", Region.EAST),
    "浙江": ("Zhejiang", Region.EAST),
    "安徽": ("Anhui", Region.EAST),
    "福建": ("Fujian", Region.EAST),
    "江西": ("Jiangxi", Region.EAST),
    "山东": ("Shandong", Region.EAST),
    "北京": ("Beijing", Region.NORTH),
    "天津": ("Tianjin", Region.NORTH),
    "河北": ("Hebei", Region.NORTH),
    "山西": ("Shanxi", Region.NORTH),
    "内蒙古": ("Inner Mongolia", Region.NORTH),
    "广东": ("Guangdong", Region.SOUTH),
    "广西": ("Guangxi", Region.SOUTH),
    "海南": ("Hainan", Region.SOUTH),
    "香港": ("Hong Kong", Region.SOUTH),
    "澳门": ("Macao", Region.SOUTH),
    "河南": ("Henan", Region.CENTRAL),
    "湖北": ("Hubei", Region.CENTRAL),
    "湖南": ("Hunan", Region.CENTRAL),
    "重庆": ("Chongqing", Region.WEST),
    "四川": ("Sichuan", Region.WEST),
    "贵州": ("Guizhou", Region.WEST),
    "云南": ("Yunnan", Region.WEST),
    "西藏": ("Tibet", Region.WEST),
    "陕西": ("Shaanxi", Region.WEST),
    "甘肃": ("Gansu", Region.WEST),
    "青海": ("Qinghai", Region.WEST),
    "宁夏": ("Ningxia", Region.WEST),
    "新疆": ("Xinjiang", Region.WEST),
    "辽宁": ("Liaoning", Region.NORTHEAST),
    "吉林": ("Jilin", Region.NORTHEAST),
    "黑龙江": ("Heilongjiang", Region.NORTHEAST),
}
_SUFFIXES = ("省", "市", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区")
_BY_ENGLISH = {english.lower(): region for english, region in _PROVINCES.values()}


def region_for_province(province: str) -> str:
    """Region of a province given as '浙江省', '浙江' or 'Zhejiang'; '' when unknown."""
    key = _province_key(province)
    return _PROVINCES[key][1] if key else ""


# Coordinates of each province's capital: a destination point good enough for distance scoring
# when the channel sends no geocode.
_CAPITALS: dict[str, tuple[float, float]] = {
    "上海": (31.23, 121.47),
    "江苏": (32.06, 118.80),
    "浙江": (30.27, 120.15),
    "安徽": (31.82, 117.23),
    "福建": (26.07, 119.30),
    "江西": (28.68, 115.86),
    "山东": (36.65, 117.12),
    "北京": (39.90, 116.40),
    "天津": (39.13, 117.20),
    "河北": (38.04, 114.51),
    "山西": (37.87, 112.55),
    "内蒙古": (40.84, 111.75),
    "广东": (23.13, 113.26),
    "广西": (22.82, 108.32),
    "海南": (20.04, 110.20),
    "香港": (22.32, 114.17),
    "澳门": (22.20, 113.55),
    "河南": (34.75, 113.63),
    "湖北": (30.59, 114.31),
    "湖南": (28.23, 112.94),
    "重庆": (29.56, 106.55),
    "四川": (30.57, 104.07),
    "贵州": (26.65, 106.63),
    "云南": (25.04, 102.71),
    "西藏": (29.65, 91.13),
    "陕西": (34.34, 108.94),
    "甘肃": (36.06, 103.83),
    "青海": (36.62, 101.78),
    "宁夏": (38.49, 106.23),
    "新疆": (43.83, 87.62),
    "辽宁": (41.80, 123.43),
    "吉林": (43.82, 125.32),
    "黑龙江": (45.80, 126.53),
}
_CHINESE_BY_ENGLISH = {english.lower(): chinese for chinese, (english, _r) in _PROVINCES.items()}


def _province_key(province: str) -> str:
    name = province.strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return (
        name
        if name in _PROVINCES
        else _CHINESE_BY_ENGLISH.get(name.lower().removesuffix(" province"), "")
    )


def province_key(province: str) -> str:
    """The short Chinese name of a province given in any of its forms; '' when unknown."""
    return _province_key(province)


def province_keys() -> tuple[str, ...]:
    """Every province's short Chinese name."""
    return tuple(_PROVINCES)


def city_key(city: str) -> str:
    """A city name without spaces or a trailing 市 ('杭州市' and '杭州' are one city)."""
    name = city.strip()
    return name[:-1] if name.endswith("市") and len(name) > 1 else name


def province_english(province: str) -> str:
    """The English name of a province given in any of its forms; '' when unknown."""
    key = _province_key(province)
    return _PROVINCES[key][0] if key else ""


def province_point(province: str) -> tuple[float, float] | None:
    """Latitude and longitude of the province's capital; None when the province is unknown."""
    return _CAPITALS.get(_province_key(province))


def region_point(region: str) -> tuple[float, float] | None:
    """Mean position of the provincial capitals of ``region``."""
    points = [
        _CAPITALS[name]
        for name, (_english, r) in _PROVINCES.items()
        if r == region and name in _CAPITALS
    ]
    if not points:
        return None
    return (
        sum(lat for lat, _ in points) / len(points),
        sum(lon for _, lon in points) / len(points),
    )
