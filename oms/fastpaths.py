"""The order API's fast paths: shortcuts through framework internals, behind one setting.

Each function here makes the order create cheaper by reaching past a framework's public API
(DRF's declared fields, Django's prefetch caches and SQL compiler, the Redis cache backend's
client). Each caller keeps the plain path next to it, written with public API only, and takes
the fast one only while ``OMS_API_FAST_PATHS`` is on (the default):

| fast path | caller (plain path) |
|---|---|
| ``validated_without_serializer_tree`` | ``OrderViewSet.create``: ``OrderCreateSerializer`` |
| ``order_representation`` | ``OrderSerializer.to_representation``: ``ModelSerializer``'s |
| ``insert_order_in_one_statement`` | ``order_create``: ``save`` + ``bulk_create`` + ``save`` |
| ``attach_new_order_rows`` | ``order_create``: ``prefetch_related_objects`` |
| ``count_in_window`` | ``MerchantKeyThrottle``: ``cache.incr`` / ``cache.add`` |

``tests/oms/api/test_fast_paths.py`` runs the order API both ways and holds the answers equal,
so a framework upgrade that breaks a shortcut shows there; ``OMS_API_FAST_PATHS=0`` is the way
out until it is fixed. The figures in the docstrings are CPU on PostgreSQL + Redis: per order
create when each was introduced (``bench/RESULTS-api.md``), and per call with the setting on
and off (2026-12-04, shared 2-core machine at load 6-9, medians). All together, in-process:
6.1-7.2 vs 13.2-14.0 ms CPU and 4 vs 8 SQL statements per order create; through gunicorn
(``bench/api_orders.py --configs sync:4,sync:4:plain``): 7.7-8.3 vs 16.6-18.0 ms of
gunicorn CPU per order.
"""

from collections.abc import Callable, Sized
from functools import cache
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db.backends.base.base import BaseDatabaseWrapper
from rest_framework import serializers
from rest_framework.fields import empty

from oms.models import Order, OrderEvent, OrderLine


def enabled() -> bool:
    """Whether the callers take the fast paths (``OMS_API_FAST_PATHS``, read on every call)."""
    return settings.OMS_API_FAST_PATHS


# --- validation -------------------------------------------------------------------------------
def validated_without_serializer_tree(
    serializer_class: type[serializers.Serializer],
    data: object,
    *,
    finish: Callable[[dict], dict],
) -> dict | None:
    """``validated_data`` of a well-formed request, or ``None`` when anything is off.

    Skips: building a serializer per request. DRF deep-copies every declared field (nested
    serializers and their fields included) for each serializer instance; this runs the class's
    own declared field objects (``_declared_fields``, private) on the JSON, recursing into
    nested serializers and lists of them, then ``finish(attrs)``, which must do what the
    class's ``validate_<field>`` methods and ``validate`` do. It never says why: on ``None``
    the caller runs the full serializer, which answers with the field messages. Nested classes
    with validation of their own are never taken apart (always ``None``).

    Bought: in-process CPU per create 8.4 -> 5.8 ms (2026-11-30). On vs off (2026-12-04):
    1.2-1.4 vs 2.1 ms CPU per valid body, the SKU query included.
    """
    try:
        attrs = _run_declared_fields(serializer_class, data)
        return None if attrs is None else finish(attrs)
    except serializers.ValidationError:
        return None


def _run_declared_fields(serializer_class: type[Any], data: object) -> dict | None:
    if not isinstance(data, dict):
        return None
    attrs = {}
    for name, field in serializer_class._declared_fields.items():
        value = _run_field(field, data.get(name, empty))
        if value is _DECLINE:
            return None
        if value is not empty:
            attrs[name] = value
    return attrs


_DECLINE = object()


def _run_field(field: Any, value: object) -> object:
    """The field's validated value, ``empty`` to leave it out, or ``_DECLINE``."""
    if value is empty:
        if field.required:
            return _DECLINE
        if field.default is empty:
            return empty
        return field.default() if callable(field.default) else field.default
    if value is None:
        return None if field.allow_null else _DECLINE
    nested: dict | list[dict] | None
    if isinstance(field, serializers.ListSerializer):
        nested = _run_list(field, value)
    elif isinstance(field, serializers.BaseSerializer):
        plain = _validates_by_fields_only(type(field))
        nested = _run_declared_fields(type(field), value) if plain else None
    else:
        return field.run_validation(value)
    return _DECLINE if nested is None else nested


def _run_list(field: Any, value: object) -> list[dict] | None:
    child = type(field.child)
    if not isinstance(value, list) or not _validates_by_fields_only(child):
        return None
    if not value and not field.allow_empty:
        return None
    if field.max_length is not None and len(value) > field.max_length:
        return None
    if field.min_length is not None and len(value) < field.min_length:
        return None
    items = []
    for item in value:
        parsed = _run_declared_fields(child, item)
        if parsed is None:
            return None
        items.append(parsed)
    return items


def _validates_by_fields_only(serializer_class: type[Any]) -> bool:
    """No ``validate``, ``validate_<field>``, validators or renamed/read-only fields."""
    known = _FIELDS_ONLY.get(serializer_class)
    if known is None:
        base = serializers.Serializer
        known = _FIELDS_ONLY[serializer_class] = (
            serializer_class.validate is base.validate
            and not any(
                name.startswith("validate_") for name in set(dir(serializer_class)) - set(dir(base))
            )
            and not getattr(getattr(serializer_class, "Meta", None), "validators", None)
            and all(
                field.source in (None, name) and not field.read_only
                for name, field in serializer_class._declared_fields.items()
            )
        )
    return known


_FIELDS_ONLY: dict[type, bool] = {}


# --- rendering --------------------------------------------------------------------------------
_MONEY = serializers.DecimalField(max_digits=14, decimal_places=2)
_DATETIME = serializers.DateTimeField()


def _moment(value):
    return None if value is None else _DATETIME.to_representation(value)


def order_representation(order: Order, *, receiver: dict) -> dict:
    """``OrderSerializer``'s output for ``order``, its declared fields written out by hand.

    Skips: ``ModelSerializer`` building (model introspection, deep copies) its fields and its
    nested serializers' fields for every instance it renders. ``receiver`` is the serializer's
    own ``get_receiver(order)``. Reads ``order.lines`` (their SKU and name as ordered) and
    ``order.fulfilment_shipments`` with their warehouses, as the generic rendering does.

    Bought: the first profile (2026-11-25) put the generic rendering at 3.0 ms of an order
    create. On vs off (2026-12-04): 0.11 vs 2.2 ms CPU per order rendered.
    """
    money, moment = _MONEY.to_representation, _moment
    return {
        "id": order.pk,
        "external_id": order.external_id,
        "channel": order.channel.code,
        "status": order.status,
        "status_reason": order.status_reason,
        "customer": order.customer_id,
        "consolidation": order.consolidation_id,
        "receiver": receiver,
        "region": order.region,
        "currency": order.currency,
        "subtotal": money(order.subtotal),
        "shipping_fee": money(order.shipping_fee),
        "discount_total": money(order.discount_total),
        "total": money(order.total),
        "placed_at": moment(order.placed_at),
        "promised_at": moment(order.promised_at),
        "created_at": moment(order.created_at),
        "updated_at": moment(order.updated_at),
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "line_total": money(line.line_total),
            }
            for line in order.lines.all()
        ],
        "shipments": [
            {
                "id": shipment.pk,
                "warehouse": shipment.warehouse.code,
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "status": shipment.status,
                "shipped_at": moment(shipment.shipped_at),
                "delivered_at": moment(shipment.delivered_at),
            }
            for shipment in order.fulfilment_shipments
        ],
    }


# --- the order insert -------------------------------------------------------------------------
def insert_order_in_one_statement(
    connection: BaseDatabaseWrapper, order: Order, lines: list[OrderLine], event: OrderEvent
) -> None:
    """PostgreSQL: insert the order, its lines and its first event in one round trip.

    Skips: the ORM's three inserts (``save``, ``bulk_create``, ``save``). Three chained
    ``INSERT``s in one raw statement (the lines and the event take the order's new id from the
    first). Columns and values come from the models exactly as ``save`` would produce them
    (``pre_save`` fills ``auto_now`` fields, ``get_db_prep_save`` adapts types), so the
    statement follows the models; none of the three has save signals or history. Sets the new
    ids and marks the rows saved (``_state``, private). Raises ``IntegrityError`` as the ORM
    would; ``violated_constraint`` names the constraint.

    Bought: in-process CPU per create 5.2 -> 4.5 ms and two PostgreSQL round trips fewer
    (2026-11-30). On vs off (2026-12-04), with ``attach_new_order_rows``: ``order_create``
    1.9 vs 5.2-5.9 ms CPU, 1 statement vs 5.
    """
    quote = connection.ops.quote_name

    def columns_and_values(obj) -> tuple[list[str], list]:
        columns, values = [], []
        for field in obj._meta.concrete_fields:
            if field.primary_key or field.name == "order":
                continue
            columns.append(quote(field.column))
            values.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        return columns, values

    def insert(model, columns: list[str], rows: Sized, *, child: bool) -> str:
        marks = "(" + ("(SELECT id FROM o), " if child else "") + ", ".join(["%s"] * len(columns))
        head = f"INSERT INTO {quote(model._meta.db_table)} ("
        head += f"{quote('order_id')}, " if child else ""
        return f"{head}{', '.join(columns)}) VALUES {', '.join([marks + ')'] * len(rows))}"

    order_columns, order_values = columns_and_values(order)
    line_rows = [columns_and_values(line) for line in lines]
    line_columns = line_rows[0][0]
    event_columns, event_values = columns_and_values(event)
    statement = (
        f"WITH o AS ({insert(type(order), order_columns, [order_values], child=False)} "
        "RETURNING id), "
        f"l AS ({insert(type(lines[0]), line_columns, line_rows, child=True)} RETURNING id), "
        f"e AS ({insert(type(event), event_columns, [event_values], child=True)} RETURNING id) "
        "SELECT (SELECT id FROM o), ARRAY(SELECT id FROM l ORDER BY id), (SELECT id FROM e)"
    )
    params = order_values + [v for _columns, values in line_rows for v in values] + event_values
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        order.pk, line_ids, event.pk = cursor.fetchone()
    # Ids come from one sequence in insertion order, as Django's own bulk insert relies on.
    for line, line_id in zip(lines, line_ids, strict=True):
        line.pk, line.order_id = line_id, order.pk
        line._state.adding = False
    order._state.adding = event._state.adding = False
    event.order_id = order.pk


def violated_constraint(exc: Exception) -> str | None:
    """The name of the PostgreSQL constraint an ``IntegrityError`` reports, if any."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def attach_new_order_rows(order: Order, *, lines: list[OrderLine]) -> None:
    """Give the caller the new order's lines (and no shipments yet) without another query.

    Skips: the two queries ``prefetch_related_objects`` would make to read back the lines (with
    their products) and the shipments just written. Fills Django's prefetch cache by hand
    (``_prefetched_objects_cache``, ``_result_cache``, ``_prefetch_done``, private) with the
    same shape ``prefetch_related`` leaves: querysets whose result cache is filled.

    Bought: two SELECTs per create (the re-read of the new order it replaced took three and
    was the largest step of the first profile, 2026-11-25); its CPU is in the figure of
    ``insert_order_in_one_statement``.
    """
    prefetched = {}
    for name, rows in (("lines", lines), ("shipments", [])):
        queryset = getattr(order, name).all()
        queryset._result_cache, queryset._prefetch_done = list(rows), True
        prefetched[name] = queryset
    # Django's private prefetch cache, which the stubs do not declare.
    order._prefetched_objects_cache = prefetched  # type: ignore[attr-defined]


# --- the throttle -----------------------------------------------------------------------------
def count_in_window(key: str, *, ttl: int) -> int | None:
    """Add one to a throttle window's counter on Redis and return it; ``None`` on other caches.

    Skips: Django's ``cache.incr``, which asks Redis ``EXISTS`` before ``INCRBY``. Takes the
    default cache's own pooled (thread-safe) Redis client (``_cache``, private) and sends
    ``SET key 0 EX ttl NX`` and ``INCR key`` in one pipelined round trip, on the key the cache
    makes of ``key``, so the plain path (``cache.incr`` / ``cache.add``) counts the same
    counter.

    Bought: in-process CPU per create 5.8 -> 5.2 ms and one Redis round trip (2026-11-30).
    On vs off (2026-12-04): 0.2 vs 0.35-0.4 ms CPU per request.
    """
    client = _redis_client()
    if client is None:
        return None
    full_key = caches["default"].make_and_validate_key(key)
    pipe = client.pipeline(transaction=False)
    pipe.set(full_key, 0, ex=ttl, nx=True)
    pipe.incr(full_key)
    return pipe.execute()[1]


@cache
def _redis_client():
    backend = caches["default"]
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None
