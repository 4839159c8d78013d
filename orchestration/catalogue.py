"""The standard atom catalogue and templates, installed by ``seed_services`` (and tests).

Installing twice changes nothing that exists already: rows are found by code and only created
when missing, so staff edits made in admin survive a re-run.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction

from orchestration.models import PickupPoint, ServiceAtom, ServiceTemplate, TemplateStep

ATOMS = [
    # code, English, Chinese, handler, SLA, may intervene, external system, parameters
    (
        "delivery",
        "Home delivery",
        "送货上门",
        "delivery_dispatch",
        timedelta(hours=48),
        True,
        "carrier",
        {"transit_hours": 36, "typical_hours": 36},
    ),
    (
        "cold-delivery",
        "Cold-chain delivery",
        "冷链配送",
        "delivery_dispatch",
        timedelta(hours=24),
        True,
        "cold-chain carrier",
        {
            "temperature": "chilled",
            "transit_hours": 12,
            "carrier": "Polar Lantern Cold Chain",
            "typical_hours": 12,
        },
    ),
    (
        "climate-transport",
        "Climate-controlled transport",
        "恒温运输",
        "delivery_dispatch",
        timedelta(hours=72),
        False,
        "climate-controlled haulier",
        {"temperature": "climate", "transit_hours": 48, "carrier": "Volt Logistics"},
    ),
    (
        "installation",
        "Installation appointment",
        "上门安装",
        "appointment_booking",
        timedelta(hours=96),
        True,
        "installer network",
        {"service": "installation", "lead_hours": 24, "typical_hours": 48},
    ),
    (
        "handover",
        "Personal hand-over at the delivery centre",
        "交付中心专属交车",
        "appointment_booking",
        timedelta(hours=72),
        True,
        "",
        {
            "service": "hand-over",
            "location": "delivery centre",
            "lead_hours": 24,
            "typical_hours": 48,
        },
    ),
    (
        "battery-lock",
        "Battery serial locked at the factory",
        "工厂锁定电池序列号",
        "serial_lock",
        timedelta(hours=2),
        False,
        "factory MES",
        {"serial_prefix": "BAT", "typical_hours": 1},
    ),
    (
        "inspection",
        "Pre-delivery inspection",
        "交付前检测",
        "inspection",
        timedelta(hours=24),
        False,
        "",
        {"checklist": ["battery health", "charging", "exterior", "documents"], "typical_hours": 8},
    ),
    (
        "tariff",
        "Import duty estimate",
        "跨境税费预估",
        "tariff_estimate",
        timedelta(hours=1),
        False,
        "customs broker",
        {"typical_hours": 0.2},
    ),
    (
        "ewarranty",
        "Electronic warranty",
        "电子保修卡",
        "ewarranty",
        timedelta(hours=1),
        False,
        "",
        {"months": 24, "typical_hours": 0.1},
    ),
    (
        "after-sales",
        "After-sales follow-up visit",
        "售后回访",
        "after_sales_visit",
        timedelta(days=45),
        True,
        "",
        {"after_days": 30, "typical_hours": 720},
    ),
]

# (key, atom code, depends on, parameter overrides)
_TemplateStepSpec = tuple[str, str, str, dict[str, Any]]

TEMPLATES: list[tuple[str, str, str, str, int, list[_TemplateStepSpec]]] = [
    # code, name, category, temperature, priority, [(key, atom, depends_on, overrides)]
    (
        "furniture-home",
        "Furniture: delivery, installation, warranty",
        "furniture",
        "",
        5,
        [
            ("delivery", "delivery", "", {}),
            ("ewarranty", "ewarranty", "", {}),
            ("installation", "installation", "delivery", {}),
            ("after-sales", "after-sales", "installation", {}),
        ],
    ),
    (
        "ev-battery",
        "EV battery: serial lock, climate transport, hand-over",
        "ev",
        "",
        10,
        [
            ("battery-lock", "battery-lock", "", {}),
            ("tariff", "tariff", "", {}),
            ("inspection", "inspection", "battery-lock", {}),
            ("climate-transport", "climate-transport", "inspection, tariff", {}),
            ("handover", "handover", "climate-transport", {}),
            ("ewarranty", "ewarranty", "handover", {"months": 96}),
            ("after-sales", "after-sales", "handover", {"after_days": 90}),
        ],
    ),
    (
        "fresh-cold",
        "Fresh: cold-chain delivery",
        "fresh",
        "",
        5,
        [
            ("cold-delivery", "cold-delivery", "", {}),
        ],
    ),
]

PICKUP_POINTS = [
    ("sh-lujiazui", "陆家嘴自提点 Lujiazui pickup", "上海", "世纪大道88号", 31.2397, 121.4998),
    ("sh-xujiahui", "徐家汇自提柜 Xujiahui locker", "上海", "漕溪北路1号", 31.1950, 121.4370),
    ("bj-guomao", "国贸自提点 Guomao pickup", "北京", "建国门外大街1号", 39.9087, 116.4605),
    ("gz-tianhe", "天河自提柜 Tianhe locker", "广州", "天河路208号", 23.1322, 113.3268),
    ("hz-xihu", "西湖自提点 West Lake pickup", "杭州", "湖滨路20号", 30.2590, 120.1640),
]


@transaction.atomic
def catalogue_install() -> dict[str, int]:
    """Create missing atoms, templates (with their steps) and pickup points; returns counts."""
    created = {"atoms": 0, "templates": 0, "pickup_points": 0}
    atoms = {}
    for code, en, zh, handler, sla, intervene, system, params in ATOMS:
        atom, new = ServiceAtom.objects.get_or_create(
            code=code,
            defaults={
                "label_en": en,
                "label_zh": zh,
                "handler": handler,
                "sla": sla,
                "customer_may_intervene": intervene,
                "external_system": system,
                "parameters": params,
                "max_attempts": 5,
                "backoff_seconds": 30,
            },
        )
        atoms[code] = atom
        created["atoms"] += new
    for code, name, category, temperature, priority, steps in TEMPLATES:
        template, new = ServiceTemplate.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "match_category": category,
                "match_temperature_class": temperature,
                "priority": priority,
            },
        )
        created["templates"] += new
        if new:
            for position, (key, atom_code, depends_on, overrides) in enumerate(steps):
                TemplateStep.objects.create(
                    template=template,
                    key=key,
                    atom=atoms[atom_code],
                    depends_on=depends_on,
                    parameters=overrides,
                    position=position,
                )
    for code, name, city, address, lat, lon in PICKUP_POINTS:
        _point, new = PickupPoint.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "city": city,
                "address": address,
                "latitude": lat,
                "longitude": lon,
                "opening_hours": "09:00–21:00",
            },
        )
        created["pickup_points"] += new
    return created
