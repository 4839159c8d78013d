"""Seeded generator of realistic order observations with ground truth, and the CSV format.

:func:`generate_observations` draws people (Chinese names, one or two phones, devices that
change over time, channel accounts, a home in a real district of a large city) and emits
their orders across six channels over three years, each rendered with the noise real order
data has: phone formats (+86, 0086, dashes, spaces, full-width digits), address variants
(province/city/district written in full, abbreviated or left out; 号楼/栋/幢/#/dashes;
Chinese numerals; delivery notes; a typo in the road or estate name; estate name dropped),
honorific or misspelt receiver names, missing and all-zero device ids. It also plants the hard
negatives that make matching hard and labels them, so false merges can be counted per kind:

- ``family``: relatives at one address (often one surname, separate phones);
- ``shared_device``: relatives who also order from one family tablet;
- ``roommates``: unrelated people at one address;
- ``namesake``: a second person with the same name in the same district;
- ``neighbour``: a person one room away in the same building;
- ``recycled_phone``: a person given another's number a year or more after its last use;
- ``group_proxy``: a group-buying leader ordering for a member with the leader's phone,
  device and account but the member's name and address (the order is the member's); the
  label covers leader-member pairs and pairs of members of one leader.

``customers.importing_csv.write_observations_csv`` writes them as the ``import_identities``
CSV, with :meth:`GeneratedDataset.truth_columns` as extra columns that the reader ignores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import combinations

from customers.matching.divisions import COUNTY, load_admin_divisions
from customers.matching.records import Observation

HARD_NEGATIVE_KINDS = (
    "family",
    "shared_device",
    "roommates",
    "namesake",
    "neighbour",
    "recycled_phone",
    "group_proxy",
)
CHANNELS = ("douyin", "wechat_mp", "tmall", "pos", "b2b", "group_buy")
_CHANNEL_WEIGHTS = (30, 30, 20, 12, 3, 5)
_CHANNELS_WITH_DEVICE = frozenset({"douyin", "wechat_mp", "group_buy"})
START = datetime(2023, 1, 1)
END = datetime(2025, 12, 31)
ZERO_IDFA = "00000000-0000-0000-0000-000000000000"

# Cities whose districts people live in; 朝阳区/鼓楼区/西湖区 recur across them on purpose.
_CITY_CODES = (
    ("310000", 14), ("110000", 12), ("440300", 9), ("440100", 9), ("330100", 8),
    ("510100", 7), ("320100", 6), ("420100", 6), ("500000", 5), ("320500", 5),
    ("610100", 4), ("120000", 4), ("430100", 3), ("410100", 3), ("370200", 3),
    ("220100", 2), ("350100", 2), ("360100", 2),
)  # fmt: skip
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方")
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬鹏辉鑫宇浩凯健俊帆旭宁龙林欢"
    "阳建亮成佳婷雪琳晶颖倩慧莉梅丹蕾薇欣怡晨博文斌飞波宏志海峰新春兰凤洁琴云莲荣爱妮雯嘉子梓涵"
    "轩睿然悦彤诗雨思一奕泽宸铭昊航皓哲"
)


def _two_char_words(text: str) -> tuple[str, ...]:
    return tuple(text[index : index + 2] for index in range(0, len(text), 2))


_ROAD_STEMS = _two_char_words(
    "人民中山解放建设和平新华文化学府长江黄河东风青年光明胜利幸福朝晖花园科技创业金融"
    "世纪滨江湖滨望江江南天目莫干凤起延安淮海南京漕溪张江锦绣龙华深南滨河迎宾友谊团结"
    "振兴育才工农红旗五四复兴体育银河星光翠微丽泽宝山金桥高新软件"
)
_ESTATE_STEMS = _two_char_words(
    "阳光金色翠湖锦绣碧桂万科绿地华润保利龙湖世纪东方名都御景江南海棠桂花紫荆玉兰香樟"
    "枫林云栖星河君悦蓝湾天悦融创招商中海金地滨江九龙紫金静安雅苑"
)
_ESTATE_SUFFIXES = ("花园", "小区", "家园", "公寓", "苑", "华庭", "新村", "城", "府", "湾")
_TYPO_CHARS = "路璐陆露禄园圆元源苑城成诚程呈华花化话画湖胡户虎沪金今津锦进"
_NOTES = ("(放门口)", "（放快递柜）", "，电话联系", "(工作日送)", "【送货上门】", " 请放驿站")
_NUMERALS = "零一二三四五六七八九"
# Common characters are common: weight 1 / (rank + 8) gives a long tail like real names.
# 王/李/张 each ~7 % of people, as in China's census.
_SURNAME_WEIGHTS = tuple(1.0 / (rank + 5) for rank in range(len(_SURNAMES)))
_GIVEN_WEIGHTS = tuple(1.0 / (rank + 8) for rank in range(len(_GIVEN)))
_MOBILE_PREFIXES = tuple(str(prefix) for prefix in (*range(130, 140), 150, 151, 152, 153))
_MOBILE_PREFIXES += tuple(
    str(prefix) for prefix in (*range(155, 160), 166, 177, *range(180, 190), 198, 199)
)


@dataclass(slots=True)
class Home:
    """A dwelling: district code, place parts and the unit fields."""

    county_code: str
    road: str
    number: int
    lane: bool
    estate: str
    building: int
    unit: int
    room: int


@dataclass(slots=True)
class Person:
    """A generated person and the identifiers they order with."""

    person_id: str
    name: str
    gender: str
    homes: list[tuple[datetime, Home]]
    phones: list[str]
    second_phone_share: float
    devices: list[tuple[datetime, str]]
    accounts: dict[str, str]
    active_from: datetime
    active_to: datetime
    orders: int
    shared_device: str = ""
    leader_of: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GeneratedDataset:
    """Observations in time order with their ground truth.

    ``person_of`` and ``kind_of`` are keyed by record id (kind "" for an ordinary order);
    ``relations`` labels each planted hard-negative pair of person ids with its kind.
    """

    observations: tuple[Observation, ...]
    person_of: dict[str, str]
    kind_of: dict[str, str]
    relations: dict[frozenset[str], str]
    person_names: dict[str, str]
    person_counties: dict[str, str]

    def truth_columns(self) -> dict[str, dict[str, str]]:
        """The ground truth as extra CSV columns, each a value per record id."""
        return {"truth_person_id": self.person_of, "truth_kind": self.kind_of}


class _Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.divisions = load_admin_divisions()
        self.counties: list[str] = []
        self.county_weights: list[float] = []
        for city_code, weight in _CITY_CODES:
            districts = [d.code for d in self.divisions.children(city_code) if d.level == COUNTY]
            for code in districts:
                self.counties.append(code)
                self.county_weights.append(weight / len(districts))
        self.roads: dict[str, list[str]] = {}
        self.used_phones: set[str] = set()
        self.used_homes: set[tuple[str, str, int, int, int, int]] = set()
        self.persons: list[Person] = []
        self.relations: dict[frozenset[str], str] = {}
        self.observations: list[tuple[datetime, Observation, str, str]] = []
        self._device_serial = 0

    # -- people ------------------------------------------------------------------------------

    def name(self, surname: str | None = None) -> tuple[str, str]:
        rnd = self.random
        if surname is None:
            surname = rnd.choice(_COMPOUND) if rnd.random() < 0.02 else self.surname()
        given_length = 1 if rnd.random() < 0.35 else 2
        given = "".join(self.given_char() for _ in range(given_length))
        return surname + given, rnd.choice("MF")

    def surname(self) -> str:
        return self.random.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]

    def given_char(self) -> str:
        return self.random.choices(_GIVEN, _GIVEN_WEIGHTS)[0]

    def phone(self) -> str:
        while True:
            prefix = self.random.choice(_MOBILE_PREFIXES)
            number = prefix + "".join(self.random.choice("0123456789") for _ in range(8))
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def device(self) -> str:
        self._device_serial += 1
        if self.random.random() < 0.5:
            return f"{self.random.getrandbits(64):016x}"  # Android id
        value = f"{self.random.getrandbits(128):032X}"
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"  # IDFA

    def road(self, county: str) -> str:
        roads = self.roads.get(county)
        if roads is None:
            stems = self.random.sample(_ROAD_STEMS, 14)
            roads = [
                stem
                + self.random.choice(("", "", "东", "西", "南", "北"))
                + self.random.choice(("路", "路", "路", "街", "大道"))
                for stem in stems
            ]
            self.roads[county] = roads
        return self.random.choice(roads)

    def home(self, county: str | None = None) -> Home:
        rnd = self.random
        while True:
            county_code = county or rnd.choices(self.counties, self.county_weights)[0]
            lane = county_code.startswith("31") and rnd.random() < 0.6
            house = rnd.random() < 0.06  # a house or shop at a street number, no flats
            home = Home(
                county_code=county_code,
                road=self.road(county_code),
                number=rnd.randint(1, 999),
                lane=lane,
                estate="" if house else rnd.choice(_ESTATE_STEMS) + rnd.choice(_ESTATE_SUFFIXES),
                building=0 if house else rnd.randint(1, 30),
                unit=rnd.randint(1, 6) if not house and rnd.random() < 0.7 else 0,
                room=0 if house else rnd.randint(1, 33) * 100 + rnd.randint(1, 4),
            )
            key = (home.county_code, home.road, home.number, home.building, home.unit, home.room)
            if key not in self.used_homes:
                self.used_homes.add(key)
                return home

    def person(
        self,
        *,
        name: str | None = None,
        surname: str | None = None,
        home: Home | None = None,
        phone: str | None = None,
        active_from: datetime = START,
        active_to: datetime = END,
        avoid_names: frozenset[str] | set[str] = frozenset(),
    ) -> Person:
        rnd = self.random
        generated_name, gender = self.name(surname)
        while generated_name in avoid_names:  # no household has two members of one name
            generated_name, gender = self.name(surname)
        phones = [phone or self.phone()]
        if rnd.random() < 0.12:
            phones.append(self.phone())
        home = home or self.home()
        homes = [(active_from, home)]
        if rnd.random() < 0.05:  # moved within the city
            moved_at = active_from + (active_to - active_from) * rnd.uniform(0.3, 0.8)
            homes.append((moved_at, self.home(home.county_code if rnd.random() < 0.5 else None)))
        devices = [(active_from, self.device())]
        moment = active_from
        while True:
            moment += timedelta(days=rnd.randint(300, 700))  # a new handset every year or two
            if moment >= active_to:
                break
            devices.append((moment, self.device()))
        if rnd.random() < 0.08:  # tracking-limited iPhone
            devices = [(start, ZERO_IDFA) for start, _ in devices]
        person = Person(
            person_id=f"P{len(self.persons) + 1:06d}",
            name=name or generated_name,
            gender=gender,
            homes=homes,
            phones=phones,
            second_phone_share=rnd.uniform(0.2, 0.5) if len(phones) > 1 else 0.0,
            devices=devices,
            accounts={
                channel: f"{channel[:2]}_{rnd.getrandbits(40):x}"
                for channel in CHANNELS
                if rnd.random() < 0.8
            },
            active_from=active_from,
            active_to=active_to,
            orders=min(1 + int(rnd.expovariate(1 / 3.0)), 40),
        )
        self.persons.append(person)
        return person

    def relate(self, first: Person, second: Person, kind: str) -> None:
        self.relations[frozenset((first.person_id, second.person_id))] = kind

    # -- rendering ---------------------------------------------------------------------------

    def render_phone(self, number: str) -> str:
        rnd = self.random
        form = rnd.random()
        if form < 0.45:
            text = number
        elif form < 0.55:
            text = f"{number[:3]} {number[3:7]} {number[7:]}"
        elif form < 0.63:
            text = f"{number[:3]}-{number[3:7]}-{number[7:]}"
        elif form < 0.75:
            text = "+86 " + number
        elif form < 0.8:
            text = "+86-" + f"{number[:3]}-{number[3:7]}-{number[7:]}"
        elif form < 0.87:
            text = "0086" + number
        elif form < 0.92:
            text = "86" + number
        else:
            text = number
        if rnd.random() < 0.06:
            text = text.translate(_FULL_WIDTH)
        if rnd.random() < 0.005:  # a mistyped digit
            position = rnd.randrange(3, len(number))
            text = number[:position] + rnd.choice("0123456789") + number[position + 1 :]
        return text

    def render_name(self, name: str, gender: str) -> str:
        roll = self.random.random()
        if roll < 0.04:
            surname = name[:2] if name[:2] in _COMPOUND else name[0]
            return surname + ("先生" if gender == "M" else self.random.choice(("女士", "小姐")))
        if roll < 0.05:
            position = self.random.randrange(1, len(name))
            return name[:position] + self.random.choice(_GIVEN) + name[position + 1 :]
        if roll < 0.07:
            return name[0] + " " + name[1:]
        return name

    def numeral(self, value: int) -> str:
        if value < 10:
            return _NUMERALS[value]
        if value < 20:
            return "十" + (_NUMERALS[value % 10] if value % 10 else "")
        return _NUMERALS[value // 10] + "十" + (_NUMERALS[value % 10] if value % 10 else "")

    def render_admin(self, county_code: str) -> str:
        rnd = self.random
        county = self.divisions.get(county_code)
        assert county is not None
        city = self.divisions.get(county.parent)
        province = self.divisions.get(city.parent) if city and city.parent else city
        municipality = city is not None and city.level == 1

        def pick(code: str, full: str) -> str:
            aliases = self.divisions.aliases(code)
            return rnd.choice(aliases) if aliases and rnd.random() < 0.3 else full

        form = rnd.random()
        parts: list[str] = []
        if municipality and city is not None:  # municipality implies city; this tells mypy
            if form < 0.85:
                parts.append(pick(city.code, city.name))
            if form < 0.97 or not parts:
                parts.append(pick(county.code, county.name))
            return "".join(parts)
        if form < 0.55 and province is not None:
            parts.append(pick(province.code, province.name))
        if form < 0.95 and city is not None:
            parts.append(pick(city.code, city.name))
        if form > 0.04 or not parts:
            parts.append(pick(county.code, county.name))
        return "".join(parts)

    def render_address(self, home: Home) -> str:
        rnd = self.random
        road = home.road
        estate = home.estate
        if rnd.random() < 0.05:
            road = self.typo(road)
        if estate and rnd.random() < 0.05:
            estate = self.typo(estate)
        if estate.endswith("小区") and rnd.random() < 0.3:
            estate = estate[:-2]
        building = str(home.building)
        unit = str(home.unit) if home.unit else ""
        room = str(home.room)
        if rnd.random() < 0.08:
            building = self.numeral(home.building)
            unit = self.numeral(home.unit) if home.unit else ""
        number = f"{home.number}弄" if home.lane else f"{home.number}号"
        place = road + number + ("" if rnd.random() < 0.2 else estate)
        form = rnd.random()
        if not home.room:
            units = ""
        elif form < 0.12 and home.unit and building.isdigit() and unit.isdigit():
            units = f"{building}-{unit}-{room}"
        else:
            marker = rnd.choice(("号楼", "号楼", "栋", "幢", "#"))
            if home.lane and rnd.random() < 0.5:
                marker = "号"
            units = (
                building
                + marker
                + (unit + "单元" if unit else "")
                + room
                + rnd.choice(("室", "室", "", "房"))
            )
        address = self.render_admin(home.county_code) + place + units
        if rnd.random() < 0.06:
            address += rnd.choice(_NOTES)
        if rnd.random() < 0.05:
            address = address.translate(_FULL_WIDTH)
        if rnd.random() < 0.1:
            cut = rnd.randrange(1, len(address))
            address = address[:cut] + " " + address[cut:]
        return address

    def typo(self, text: str) -> str:
        position = self.random.randrange(len(text))
        return text[:position] + self.random.choice(_TYPO_CHARS) + text[position + 1 :]

    # -- orders ------------------------------------------------------------------------------

    def emit(
        self, person: Person, when: datetime, kind: str = "", proxy_for: Person | None = None
    ) -> None:
        rnd = self.random
        channel = (
            "group_buy" if proxy_for is not None else rnd.choices(CHANNELS, _CHANNEL_WEIGHTS)[0]
        )
        orderer = person
        recipient = proxy_for or person
        phone = orderer.phones[0]
        if len(orderer.phones) > 1 and rnd.random() < orderer.second_phone_share:
            phone = orderer.phones[1]
        device = ""
        if channel in _CHANNELS_WITH_DEVICE and rnd.random() < 0.9:
            device = next(dev for start, dev in reversed(orderer.devices) if start <= when)
            if orderer.shared_device and channel != "group_buy" and rnd.random() < 0.4:
                device = orderer.shared_device
        home = next(
            (h for start, h in reversed(recipient.homes) if start <= when), recipient.homes[0][1]
        )
        observation = Observation(
            record_id="",
            channel=channel,
            channel_account_id=orderer.accounts.get(channel, "") if rnd.random() < 0.95 else "",
            device_id=device,
            phone=self.render_phone(phone) if rnd.random() < 0.98 else "",
            receiver_name=self.render_name(recipient.name, recipient.gender),
            address=self.render_address(home),
            created_at=when,
        )
        truth = recipient.person_id
        self.observations.append((when, observation, truth, kind))

    def order_times(self, person: Person, count: int) -> list[datetime]:
        span = (person.active_to - person.active_from).total_seconds()
        return sorted(
            person.active_from + timedelta(seconds=int(self.random.uniform(0, span)))
            for _ in range(count)
        )


_FULL_WIDTH = str.maketrans("0123456789-+ ", "０１２３４５６７８９－＋　")


def generate_observations(count: int = 20_000, *, seed: int = 7) -> GeneratedDataset:
    """Generate at least ``count`` observations (seeded, so reproducible) with ground truth.

    People are drawn until their orders reach ``count``; a share of them is paired with a
    hard negative (relative, roommate, namesake, neighbour, recycled-number successor) and a
    few become group-buying leaders who order for members.
    """
    generator = _Generator(seed)
    total_orders = 0
    leaders: list[Person] = []
    while total_orders < count:
        person = generator.person()
        group, is_leader = _draw_group(generator, person)
        if is_leader:
            leaders.append(person)
        for member in group:
            for moment in generator.order_times(member, member.orders):
                generator.emit(member, moment)
                total_orders += 1
    _emit_group_proxy_orders(generator, leaders)
    return _dataset(generator)


def _draw_group(generator: _Generator, person: Person) -> tuple[list[Person], bool]:
    """``person`` and the hard negatives drawn for them (one roll picks the kind), and whether
    ``person`` becomes a group-buying leader instead."""
    rnd = generator.random
    group = [person]
    roll = rnd.random()
    home = person.homes[0][1]
    if roll < 0.15:
        _add_relatives(generator, group, home)
    elif roll < 0.20:
        for _ in range(rnd.randint(1, 2)):
            mate = generator.person(home=home, avoid_names={member.name for member in group})
            mate.homes = list(person.homes)
            for other in group:
                generator.relate(other, mate, "roommates")
            group.append(mate)
    elif roll < 0.24:
        namesake = generator.person(name=person.name, home=generator.home(home.county_code))
        generator.relate(person, namesake, "namesake")
        group.append(namesake)
    elif roll < 0.32:
        group.append(_neighbour(generator, person, home))
    elif roll < 0.35:
        person.active_to = START + timedelta(days=rnd.randint(120, 330))
        successor = generator.person(
            phone=person.phones[0],
            active_from=person.active_to + timedelta(days=rnd.randint(365, 700)),
        )
        generator.relate(person, successor, "recycled_phone")
        group.append(successor)
    elif roll < 0.36:
        return group, True
    return group, False


def _add_relatives(generator: _Generator, group: list[Person], home: Home) -> None:
    """One or two relatives at the same home (mostly the same surname), sometimes sharing a
    tablet with the whole family."""
    rnd = generator.random
    person = group[0]
    same_surname = rnd.random() < 0.7
    tablet = generator.device() if rnd.random() < 0.35 else ""
    for _ in range(rnd.randint(1, 2)):
        relative = generator.person(
            surname=person.name[:1] if same_surname else None,
            home=home,
            avoid_names={member.name for member in group},
        )
        relative.homes = list(person.homes)
        generator.relate(person, relative, "shared_device" if tablet else "family")
        for other in group[1:]:
            generator.relate(other, relative, "shared_device" if tablet else "family")
        group.append(relative)
    if tablet:
        for member in group:
            member.shared_device = tablet


def _neighbour(generator: _Generator, person: Person, home: Home) -> Person:
    """Someone next door or one floor away, related to ``person`` as a neighbour."""
    rnd = generator.random
    if home.room:
        room = home.room + rnd.choice((-1, 1, 100, -100))
        neighbour_home = replace(home, room=room if room > 100 else home.room + 1)
    else:
        neighbour_home = replace(home, number=home.number + rnd.choice((1, 2)))
    neighbour = generator.person(home=neighbour_home)
    generator.relate(person, neighbour, "neighbour")
    return neighbour


def _emit_group_proxy_orders(generator: _Generator, leaders: list[Person]) -> None:
    """Group leaders order for members picked among other people (members may also order
    themselves; that is the point)."""
    rnd = generator.random
    for leader in leaders:
        members = rnd.sample(generator.persons, min(rnd.randint(5, 15), len(generator.persons)))
        for member in members:
            if member is leader:
                continue
            generator.relate(leader, member, "group_proxy")
            for moment in generator.order_times(leader, rnd.randint(1, 3)):
                generator.emit(leader, moment, kind="group_proxy", proxy_for=member)
        # Two members of one leader share the leader's phone in their orders too.
        for first, second in combinations([m for m in members if m is not leader], 2):
            generator.relations.setdefault(
                frozenset((first.person_id, second.person_id)), "group_proxy"
            )


def _dataset(generator: _Generator) -> GeneratedDataset:
    """The emitted observations in time order, numbered, with their ground truth."""
    generator.observations.sort(key=lambda item: item[0])
    observations = []
    person_of: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    for index, (_, observation, person_id, kind) in enumerate(generator.observations, start=1):
        record_id = f"R{index:07d}"
        observations.append(_with_record_id(observation, record_id))
        person_of[record_id] = person_id
        kind_of[record_id] = kind
    return GeneratedDataset(
        observations=tuple(observations),
        person_of=person_of,
        kind_of=kind_of,
        relations=generator.relations,
        person_names={person.person_id: person.name for person in generator.persons},
        person_counties={
            person.person_id: person.homes[0][1].county_code for person in generator.persons
        },
    )


def _with_record_id(observation: Observation, record_id: str) -> Observation:
    return Observation(
        record_id=record_id,
        channel=observation.channel,
        channel_account_id=observation.channel_account_id,
        device_id=observation.device_id,
        phone=observation.phone,
        receiver_name=observation.receiver_name,
        address=observation.address,
        created_at=observation.created_at,
    )
