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
    name = province.strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    if name in _PROVINCES:
        return _PROVINCES[name][1]
    return _BY_ENGLISH.get(name.lower().removesuffix(" province"), "")
