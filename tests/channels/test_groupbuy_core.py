"""The group-buying merge core, without a database: grouping, totals, ordering, purity."""

import random
import subprocess
import sys
from pathlib import Path

from channels.groupbuy.core import (
    LEADER_PROXY,
    MEMBER_DIRECT,
    STORE_PICKUP,
    GroupOrder,
    Line,
    SkuInfo,
    merge,
    rank_skus,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = {
    "MILK": SkuInfo("MILK", "鲜牛奶", "dairy", "", 1),
    "EGGS": SkuInfo("EGGS", "鸡蛋", "eggs", "", 2),
    "RICE": SkuInfo("RICE", "大米", "grain", "A-01-1", 3),
    "APPLE": SkuInfo("APPLE", "苹果", "fruit", "", 4),
}


def order(order_id, point, kind, lines, *, leader="L-1", member="", warehouse=1):
    return GroupOrder(
        order_id=order_id,
        external_id=f"GB{order_id:04d}",
        pickup_point_id=point,
        pickup_point_name=f"Point {point}",
        leader_id=leader,
        leader_name=f"Leader {leader}",
        order_type=kind,
        member_name=member or f"member {order_id}",
        member_phone_masked="138****0000",
        lines=tuple(Line(sku, qty) for sku, qty in lines),
        warehouse_id=warehouse,
    )


ORDERS = [
    order(1, "PP-2", MEMBER_DIRECT, [("MILK", 2), ("EGGS", 1)], member="王芳"),
    order(2, "PP-1", LEADER_PROXY, [("MILK", 1)], member="李娜"),
    order(3, "PP-1", STORE_PICKUP, [("RICE", 1), ("APPLE", 3)], member="赵敏"),
    order(4, "PP-1", MEMBER_DIRECT, [("MILK", 2), ("MILK", 1)], member="陈静"),
    order(5, "PP-1", LEADER_PROXY, [("EGGS", 2)], member="张伟"),
    order(6, "PP-1", MEMBER_DIRECT, [("APPLE", 1)], warehouse=2, member="周杰"),
]


def test_all_three_order_types_of_a_pickup_point_are_merged_into_one_group():
    waves = merge(ORDERS, CATALOGUE)
    assert [w.warehouse_id for w in waves] == [1, 2]
    first = waves[0]
    assert [g.pickup_point_id for g in first.groups] == ["PP-1", "PP-2"]
    point = first.groups[0]
    assert sorted(point.order_ids) == [2, 3, 4, 5]
    assert dict(point.orders_by_type) == {LEADER_PROXY: 2, STORE_PICKUP: 1, MEMBER_DIRECT: 1}
    assert point.leader_id == "L-1" and point.order_count == 4


def test_quantities_sum_per_pickup_point_and_per_wave():
    first = merge(ORDERS, CATALOGUE)[0]
    point = {line.sku: (line.quantity, line.orders) for line in first.groups[0].lines}
    # Order 4 names MILK on two lines: 3 units, one order asking.
    assert point == {"MILK": (4, 2), "EGGS": (2, 1), "RICE": (1, 1), "APPLE": (3, 1)}
    wave = {line.sku: (line.quantity, line.orders) for line in first.lines}
    assert wave == {"MILK": (6, 3), "EGGS": (3, 2), "RICE": (1, 1), "APPLE": (3, 1)}
    assert first.unit_count == sum(q for q, _ in wave.values()) == 13
    assert first.order_count == 5


def test_pick_path_puts_located_skus_first_then_category_and_sku():
    first = merge(ORDERS, CATALOGUE)[0]
    assert [line.sku for line in first.lines] == ["RICE", "MILK", "EGGS", "APPLE"]
    assert rank_skus(["ZZZ", "MILK"], CATALOGUE) == {"ZZZ": 0, "MILK": 1}  # category "" first


def test_distribution_lists_proxy_orders_under_the_leader_then_members_then_store_pickup():
    point = merge(ORDERS, CATALOGUE)[0].groups[0]
    entries = [(d.order.order_id, d.order.order_type, d.store_pickup) for d in point.distribution]
    assert entries == [
        (5, LEADER_PROXY, False),  # 张伟 before 李娜 in code-point order
        (2, LEADER_PROXY, False),
        (4, MEMBER_DIRECT, False),
        (3, STORE_PICKUP, True),
    ]
    store = point.distribution[-1]
    assert [line.sku for line in store.lines] == ["RICE", "APPLE"]


def test_output_is_the_same_whatever_order_the_orders_arrive_in():
    expected = merge(ORDERS, CATALOGUE)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = ORDERS[:]
        rng.shuffle(shuffled)
        assert merge(shuffled, CATALOGUE) == expected


def test_unknown_warehouse_comes_last_and_unknown_skus_still_sort():
    waves = merge(
        [order(9, "PP-9", MEMBER_DIRECT, [("NEW", 1)], warehouse=None), *ORDERS], CATALOGUE
    )
    assert [w.warehouse_id for w in waves] == [1, 2, None]
    assert waves[-1].lines[0].sku == "NEW" and waves[-1].lines[0].product_id is None


def test_nothing_in_nothing_out():
    assert merge([], CATALOGUE) == ()


def test_the_core_imports_no_django():
    script = (
        "import importlib, sys\n"
        "importlib.import_module('channels.groupbuy.core')\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
    text = (REPO_ROOT / "channels" / "groupbuy" / "core.py").read_text()
    assert "import django" not in text and "from django" not in text
