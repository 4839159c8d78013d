"""Database benchmarks of the customer master: initial import and resolve latency at 1M identities.

Targets (issue): ``import_identities`` loads 100,000 observations in <= 2 minutes, and
``customer_resolve`` of one incoming order against 1,000,000 stored identities on PostgreSQL
has p99 <= 10 ms.

Steps, all in a dedicated PostgreSQL database (``--db``, created here and dropped at the end):

1. Import. ``generate_observations(N, seed)`` (cached as CSV in ``bench/out/``), first
   ``--import-rows`` rows, timed end to end as ``manage.py import_identities FILE --merchant
   CODE --no-progress`` in a subprocess (wall, rows/s, the child's CPU and peak RSS); the
   same on a fresh SQLite file for comparison (``--no-sqlite`` skips it).
2. 1,000,000 identities. The imported rows are read back and replicated into ``--identities``
   rows: copy 0 is each imported row as stored, copies 1..k-1 are the same person re-keyed
   (phone digest, device id and channel account re-hashed per copy; street, street number
   and community replaced, so the address digest and unit signature differ; name, district,
   building/unit/room, dates kept), each copy under its own new customer. Ids interleave the
   copies in time order (id = row * k + copy), so the imported rows are spread over the id
   range as returning customers would be. Loaded with COPY (identities, their blocking keys
   from ``blocking_keys`` and customers), then ``VACUUM ANALYZE``.
3. Baseline. A second merchant gets the first ``--baseline`` rows through the real importer
   (``identities_import``), same table, same run.
4. Probes. Variants of stored people (must LINK), brand-new people, and relatives at a stored
   address (hard negatives: must not LINK), resolved against both merchants, interleaved:
   the read-only part ``resolve(fingerprint, DatabaseCandidates(merchant), rules)`` and the
   full ``customer_resolve`` inside a transaction that is rolled back (the table stays at
   1M), with SQL statements counted; a breakdown of the read-only part (SQL, JSON decoding,
   ``fingerprint_from_dict``, scoring); ``EXPLAIN (ANALYZE, BUFFERS)`` of the candidate query
   of the hottest and a median probe; finally a few committed resolves (commit included).

    .venv/bin/python bench/customers_db.py                        # 1,000,000 / 100,000
    .venv/bin/python bench/customers_db.py --identities 200000 --import-rows 20000 --probes 300
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import platform
import random
import re
import resource
import subprocess
import sys
import threading
import time
import unicodedata
import zlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from customers.matching import address_digest, mask_phone  # noqa: E402 - the pure core
from customers.matching.normalize import NormalizedAddress  # noqa: E402

MAIN_CODE = "bench-mdm"
BASELINE_CODE = "bench-mdm-base"

# Replacement streets and estates of the re-keyed copies (so a copy lives elsewhere).
_STREET_STEMS = "长风金沙梧桐银杏松江临平古墩文一莲花香山玉泉清泉白云青山碧水松林枫叶桃源杏林梨园竹溪兰亭荷塘菊苑"
_ESTATE_STEMS = "嘉和瑞丰恒盛康乐富华鸿福泰和安居景泰裕华和美乐居永安欣悦"
_COPY_STREETS = tuple(_STREET_STEMS[i : i + 2] + "路" for i in range(0, len(_STREET_STEMS), 2))
_COPY_ESTATES = tuple(_ESTATE_STEMS[i : i + 2] + "家园" for i in range(0, len(_ESTATE_STEMS), 2))
_FAMILY_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红玲"


# --- environment ------------------------------------------------------------------------------


def pg_admin(sql: str, *, host: str, port: int) -> None:
    import psycopg2

    conn = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def machine_note() -> dict[str, Any]:
    note: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
    }
    try:
        note["postgres"] = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        note["postgres"] = "?"
    return note


def percentiles(values: list[float]) -> dict[str, float]:
    """Nearest-rank p50/p95/p99/max of ``values`` in milliseconds."""
    ordered = sorted(values)
    if not ordered:
        return {}

    def rank(q: float) -> float:
        return ordered[max(math.ceil(q * len(ordered)) - 1, 0)] * 1000

    return {
        "n": len(ordered),
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": ordered[-1] * 1000,
        "mean": sum(ordered) / len(ordered) * 1000,
    }


def fmt_pct(stats: dict[str, float]) -> str:
    return " | ".join(f"{stats[k]:.2f}" for k in ("p50", "p95", "p99", "max", "mean"))


# --- step 1: data and import ---------------------------------------------------------------


def observations_csv(rows: int, seed: int) -> Path:
    """The first ``rows`` generated observations as an import CSV (cached in bench/out)."""
    from customers.importing_csv import write_observations_csv
    from customers.matching.generate import generate_observations

    path = OUT / f"mdm-observations-s{seed}-{rows}.csv"
    if path.exists():
        print(f"reusing {path.relative_to(ROOT)}", flush=True)
        return path
    started = time.perf_counter()
    dataset = generate_observations(rows, seed=seed)
    generated = time.perf_counter() - started
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with partial.open("w", encoding="utf-8", newline="") as out:
        write_observations_csv(out, dataset.observations[:rows])
    partial.rename(path)
    print(f"generated {len(dataset.observations)} observations in {generated:.1f} s", flush=True)
    return path


def read_csv(path: Path, limit: int | None = None) -> list:
    from customers.importing_csv import RowError, read_observations_csv

    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in read_observations_csv(handle) if not isinstance(row, RowError)]
    rows = rows[:limit] if limit else rows
    return [aware(row) for row in rows]


def aware(observation):
    """CSV times without an offset are local time, as ``import_identities`` reads them."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")  # oms.settings.TIME_ZONE
    stamp: datetime | None = observation.created_at
    if stamp is None or stamp.tzinfo is not None:
        return observation
    return replace(observation, created_at=stamp.replace(tzinfo=zone))


def timed_command(command: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run ``command`` (cwd = repo root), return wall seconds, child CPU and peak RSS."""
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{text[-3000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "output": text.strip().splitlines()[-1] if text.strip() else "",
    }


def import_run(path: Path, rows: int, env: dict[str, str], label: str) -> dict[str, Any]:
    command = [
        PYTHON,
        "manage.py",
        "import_identities",
        str(path),
        "--merchant",
        MAIN_CODE,
        "--no-progress",
    ]
    load_before = os.getloadavg()[0]
    result = timed_command(command, env, OUT / f"mdm-import-{label}.log")
    result.update(rows=rows, rows_per_s=rows / result["wall_s"], load1_before=load_before)
    result["load1_after"] = os.getloadavg()[0]
    print(
        f"import {label}: {rows} rows in {result['wall_s']:.1f} s "
        f"({result['rows_per_s']:.0f} rows/s, child CPU {result['cpu_s']:.1f} s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB)\n  {result['output']}",
        flush=True,
    )
    return result


def sqlite_import(path: Path, rows: int) -> dict[str, Any]:
    database = OUT / "mdm-bench.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SQLITE_PATH"] = str(database)
    try:
        timed_command(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            env,
            OUT / "mdm-sqlite-migrate.log",
        )
        timed_command(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                f"from oms.models import Merchant; Merchant.objects.create(code={MAIN_CODE!r}, "
                "name='bench')",
            ],
            env,
            OUT / "mdm-sqlite-merchant.log",
        )
        return import_run(path, rows, env, "sqlite")
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)


def scratch_import(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The import timed into a fresh database ``<db>_import`` (dropped afterwards).

    Used with ``--reuse-db``: the 1M database stays as it is and the import still starts
    from an empty customer master, as an initial load does.
    """
    scratch = f"{args.db}_import"
    pg_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', host=args.host, port=args.port)
    pg_admin(f'CREATE DATABASE "{scratch}"', host=args.host, port=args.port)
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://postgres@{args.host}:{args.port}/{scratch}"
    try:
        timed_command(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            env,
            OUT / "mdm-scratch-migrate.log",
        )
        timed_command(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                f"from oms.models import Merchant; Merchant.objects.create(code={MAIN_CODE!r}, "
                "name='bench')",
            ],
            env,
            OUT / "mdm-scratch-merchant.log",
        )
        return import_run(path, args.import_rows, env, "postgres")
    finally:
        pg_admin(
            f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', host=args.host, port=args.port
        )


def database_ready(args: argparse.Namespace) -> bool:
    """Does ``--db`` exist and hold the loaded 1M and baseline merchants?"""
    import psycopg2

    try:
        conn = psycopg2.connect(host=args.host, port=args.port, user="postgres", dbname=args.db)
    except psycopg2.OperationalError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT m.code, (SELECT count(*) FROM customers_identity i "
                "WHERE i.merchant_id = m.id) FROM oms_merchant m WHERE m.code IN (%s, %s)",
                [MAIN_CODE, BASELINE_CODE],
            )
            counts = dict(cur.fetchall())
    except psycopg2.Error:
        return False
    finally:
        conn.close()
    print(f"{args.db}: identities per merchant {counts}", flush=True)
    return counts.get(MAIN_CODE, 0) >= args.identities


def baseline_ready(merchant, rows: int) -> bool:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE fingerprint->>'created_at' ~ '[+-]\\d\\d:\\d\\d$') "
            "FROM customers_identity WHERE merchant_id = %s",
            [merchant.pk],
        )
        total, aware_times = cur.fetchone()
    return total >= rows and aware_times == total


def baseline_import(merchant, observations: list) -> dict[str, Any]:
    """The baseline merchant's identities, through the real importer into an empty merchant."""
    from django.db import connection

    from customers.importing import identities_import

    delete_merchant_customers(merchant)
    started = time.perf_counter()
    report = identities_import(merchant=merchant, observations=observations)
    with connection.cursor() as cur:
        cur.execute("ANALYZE customers_identity")
        cur.execute("ANALYZE customers_identitykey")
    result = {
        "rows": len(observations),
        "s": time.perf_counter() - started,
        "linked": report.linked,
        "new": report.new,
        "review": report.review,
    }
    print(f"baseline merchant: {len(observations)} identities in {result['s']:.1f} s", flush=True)
    return result


def rolled_back_leftovers(*merchants) -> None:
    """Remove what an earlier run's committed probes stored, so every run starts alike."""
    from django.db import connection, transaction

    ids = [m.pk for m in merchants]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT id, customer_id FROM customers_identity "
            "WHERE merchant_id = ANY(%s) AND record_id LIKE 'probe-%%'",
            [ids],
        )
        rows = cur.fetchall()
        if not rows:
            return
        identity_ids = [row[0] for row in rows]
        customer_ids = sorted({row[1] for row in rows})
        cur.execute("DELETE FROM customers_identitykey WHERE identity_id = ANY(%s)", [identity_ids])
        cur.execute("DELETE FROM customers_reviewitem WHERE identity_id = ANY(%s)", [identity_ids])
        cur.execute("DELETE FROM customers_identity WHERE id = ANY(%s)", [identity_ids])
        cur.execute(
            "DELETE FROM customers_customer c WHERE c.id = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM customers_identity i WHERE i.customer_id = c.id)",
            [customer_ids],
        )
    print(f"removed {len(identity_ids)} identities left by earlier committed probes", flush=True)


# --- step 2: 1,000,000 identities ----------------------------------------------------------


def _copy_text(value: Any) -> str:
    """One field in COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _rehash(value: str, copy: int, length: int) -> str:
    return hashlib.sha256(f"copy{copy}:{value}".encode()).hexdigest()[:length]


_MASKED = re.compile(r"^(\d{3})\*{4}(\d{4})$")


def rekeyed(data: dict[str, Any], copy: int, key: bytes) -> dict[str, Any]:
    """Copy ``copy`` of a stored fingerprint: another person with the same name and district.

    Phone digest, device id and account are re-hashed per copy (distinct blocking keys, same
    sharing pattern as the original within the copy); the address moves to another street,
    street number and estate in the same district (new address digest and unit signature),
    keeping building/unit/room.
    """
    result = dict(data)
    result["record_id"] = f"{data['record_id']}.{copy}"
    if data["phone_digest"]:
        result["phone_digest"] = _rehash(data["phone_digest"], copy, 64)
    masked = _MASKED.match(data.get("phone_masked") or "")
    if masked:
        # Another person has another number: the visible last four digits move per copy (the
        # masked-phone blocking key then collides only as often as real masks do).
        suffix = (int(masked.group(2)) + 7919 * copy) % 10000
        moved = mask_phone(f"{masked.group(1)}0000{suffix:04d}")
        result["phone_masked"] = moved if _MASKED.match(moved) else data["phone_masked"]
    if data["device_id"]:
        result["device_id"] = _rehash(data["device_id"], copy, 16)
    if data["account_key"]:
        result["account_key"] = f"{data['account_key']}.{copy}"
    address = data.get("address")
    if address:
        moved = dict(address)
        if moved["street"]:
            index = zlib.crc32(moved["street"].encode()) + copy
            moved["street"] = _COPY_STREETS[index % len(_COPY_STREETS)]
        if moved["number"]:
            moved["number"] = re.sub(
                r"\d+", lambda m: str(int(m.group()) + 1000 * copy), moved["number"]
            )
        if moved["community"]:
            index = zlib.crc32(moved["community"].encode()) + copy
            moved["community"] = _COPY_ESTATES[index % len(_COPY_ESTATES)]
        if moved["place"]:
            moved["place"] = moved["street"] + moved["number"] + moved["community"]
        parts = (
            (moved["street"], moved["number"])
            if (moved["street"] or moved["number"])
            else (moved["community"],)
        )
        moved["canonical"] = "|".join(
            (moved["admin_prefix"], *parts, moved["building"], moved["unit"], moved["room"])
        )
        result["address"] = moved
        result["address_digest"] = address_digest(NormalizedAddress(**moved), key)
    return result


def dict_keys(data: dict[str, Any]) -> list[str]:
    """``blocking_keys`` computed on the JSON form (checked against the core on a sample)."""
    keys = []
    if data["phone_digest"]:
        keys.append("phone:" + data["phone_digest"])
    if data["phone_masked"] and not data["phone_masked"].startswith("+"):
        keys.append("pmask:" + data["phone_masked"])
    if data["device_id"]:
        keys.append("device:" + data["device_id"])
    if data["account_key"]:
        keys.append("account:" + data["account_key"])
    address, name = data.get("address"), data.get("name")
    if data["address_digest"]:
        keys.append("address:" + data["address_digest"])
    if address and address["room"]:
        keys.append(
            f"unit:{address['admin_prefix'][:2]}|{address['number']}|{address['building']}"
            f"|{address['unit']}|{address['room']}"
        )
    if name and address and address["admin_prefix"] and not name["honorific"]:
        keys.append(f"name:{address['admin_prefix'][:2]}|{name['full']}")
    return keys


IDENTITY_COLUMNS = (
    "id, merchant_id, customer_id, record_id, channel, account_key, device_id, phone_digest, "
    "phone_masked, name, fingerprint, observed_at, outcome, score, reasons, created_at"
)


def build_identities(merchant, total: int) -> dict[str, Any]:
    """Replace the merchant's imported identities by ``total`` rows replicated from them."""
    from django.db import connection, transaction

    from customers.matching import blocking_keys, fingerprint_from_dict
    from customers.services import matching_key

    key = matching_key(merchant)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT customer_id, record_id, channel, account_key, device_id, phone_digest, "
            "phone_masked, name, fingerprint::text, observed_at, outcome, score, reasons::text, "
            "created_at FROM customers_identity WHERE merchant_id = %s ORDER BY id",
            [merchant.pk],
        )
        base = cur.fetchall()
        cur.execute(
            "SELECT id, display_name, phone_masked, created_at FROM customers_customer "
            "WHERE merchant_id = %s ORDER BY id",
            [merchant.pk],
        )
        customers = cur.fetchall()
        cur.execute("SELECT coalesce(max(id), 0) FROM customers_customer")
        next_customer = cur.fetchone()[0] + 1
    copies = math.ceil(total / len(base))
    new_customer: dict[tuple[int, int], int] = {}
    customer_buffer = io.StringIO()
    for copy in range(1, copies):
        for customer_id, display_name, phone_masked, created_at in customers:
            new_customer[(copy, customer_id)] = next_customer
            customer_buffer.write(
                f"{next_customer}\t{merchant.pk}\t{_copy_text(display_name)}\t"
                f"{_copy_text(phone_masked)}\tf\t\\N\t{created_at.isoformat()}\n"
            )
            next_customer += 1

    key_count = 0
    written = 0
    copy_s = 0.0
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        # Rows are consistent by construction: skip the per-row foreign-key triggers (the
        # usual bulk-load setting; needs the superuser the bench connects as).
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("TRUNCATE customers_identity, customers_identitykey, customers_reviewitem")
        customer_buffer.seek(0)
        cur.copy_expert(
            "COPY customers_customer (id, merchant_id, display_name, phone_masked, vip, "
            "merged_into_id, created_at) FROM STDIN",
            customer_buffer,
        )
        identity_buffer, key_buffer = io.StringIO(), io.StringIO()

        def flush() -> None:
            nonlocal copy_s
            copy_started = time.perf_counter()
            identity_buffer.seek(0)
            key_buffer.seek(0)
            cur.copy_expert(
                f"COPY customers_identity ({IDENTITY_COLUMNS}) FROM STDIN", identity_buffer
            )
            cur.copy_expert(
                "COPY customers_identitykey (merchant_id, identity_id, key) FROM STDIN", key_buffer
            )
            identity_buffer.seek(0)
            identity_buffer.truncate()
            key_buffer.seek(0)
            key_buffer.truncate()
            copy_s += time.perf_counter() - copy_started

        for index, row in enumerate(base):
            (customer_id, record_id, channel, _account, _device, _phone, _masked, name) = row[:8]
            fingerprint_text, observed_at, outcome, score, reasons, created_at = row[8:]
            data = json.loads(fingerprint_text)
            for copy in range(copies):
                identity_id = index * copies + copy + 1
                if identity_id > total:
                    break
                if copy == 0:
                    record, text, customer = data, fingerprint_text, customer_id
                else:
                    record = rekeyed(data, copy, key)
                    text = json.dumps(record, ensure_ascii=False)
                    customer = new_customer[(copy, customer_id)]
                identity_buffer.write(
                    "\t".join(
                        (
                            str(identity_id),
                            str(merchant.pk),
                            str(customer),
                            _copy_text(record["record_id"]),
                            _copy_text(channel),
                            _copy_text(record["account_key"]),
                            _copy_text(record["device_id"]),
                            _copy_text(record["phone_digest"]),
                            _copy_text(record["phone_masked"]),
                            _copy_text(name),
                            _copy_text(text),
                            observed_at.isoformat() if observed_at else "\\N",
                            _copy_text(outcome),
                            repr(float(score)),
                            _copy_text(reasons),
                            created_at.isoformat(),
                        )
                    )
                    + "\n"
                )
                keys = dict_keys(record)
                if index < 500:
                    assert keys == list(blocking_keys(fingerprint_from_dict(record))), record
                for blocking_key in keys:
                    key_buffer.write(f"{merchant.pk}\t{identity_id}\t{_copy_text(blocking_key)}\n")
                    key_count += 1
                written += 1
            if index % 5000 == 4999:
                flush()
        flush()
        for table in ("customers_identity", "customers_customer"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    loaded = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE customers_identity")
        cur.execute("VACUUM ANALYZE customers_identitykey")
        cur.execute("VACUUM ANALYZE customers_customer")
    vacuumed = time.perf_counter() - started - loaded
    stats = {
        "base_rows": len(base),
        "copies": copies,
        "identities": written,
        "keys": key_count,
        "keys_per_identity": key_count / written,
        "customers": len(customers) * copies,
        "load_s": loaded,
        "copy_s": copy_s,
        "vacuum_analyze_s": vacuumed,
    }
    print(
        f"built {written} identities ({key_count} keys, {key_count / written:.2f}/identity, "
        f"{stats['customers']} customers) in {loaded:.1f} s (COPY {copy_s:.1f} s) + VACUUM ANALYZE {vacuumed:.1f} s",
        flush=True,
    )
    return stats


def table_stats(merchant) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('customers_identity')), "
            "pg_size_pretty(pg_total_relation_size('customers_identitykey')), "
            "pg_size_pretty(pg_relation_size('identity_key_recent_idx'))"
        )
        identity_size, key_size, index_size = cur.fetchone()
        cur.execute(
            "SELECT key, count(*) FROM customers_identitykey WHERE merchant_id = %s "
            "GROUP BY key ORDER BY 2 DESC LIMIT 8",
            [merchant.pk],
        )
        hottest = cur.fetchall()
        cur.execute(
            "SELECT count(*), count(DISTINCT key) FROM customers_identitykey WHERE merchant_id = %s",
            [merchant.pk],
        )
        keys, distinct = cur.fetchone()
        cur.execute(
            "SELECT split_part(key, ':', 1) AS kind, count(*) AS postings, count(DISTINCT key), "
            "max(n) FROM (SELECT key, count(*) OVER (PARTITION BY key) AS n "
            "FROM customers_identitykey WHERE merchant_id = %s) k GROUP BY kind ORDER BY kind",
            [merchant.pk],
        )
        kinds = cur.fetchall()
    return {
        "identity_table": identity_size,
        "key_table": key_size,
        "key_index": index_size,
        "keys": keys,
        "distinct_keys": distinct,
        "by_kind": [
            {"kind": kind, "postings": postings, "distinct": d, "max_per_key": top}
            for kind, postings, d, top in kinds
        ],
        "hottest": [(k[:40], n) for k, n in hottest],
    }


# --- step 4: probes --------------------------------------------------------------------------


@dataclass
class Probe:
    kind: str  # link | new | family
    observation: Any
    expect_link: bool | None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def _digits_phone(raw: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw))
    return digits[-11:] if len(digits) >= 11 else ""


def make_probes(stored: list, count: int, seed: int) -> list[Probe]:
    """Half variants of stored people, a quarter new people, a quarter relatives at their address."""
    from customers.matching.generate import generate_observations

    rng = random.Random(seed)
    n_link = count // 2
    n_family = count // 4
    n_new = count - n_link - n_family
    probes: list[Probe] = []
    usable = [o for o in stored if o.phone and o.receiver_name and o.address]
    for index, original in enumerate(rng.sample(usable, n_link)):
        number = _digits_phone(original.phone)
        phone = (
            (f"+86 {number}" if index % 2 else f"{number[:3]}-{number[3:7]}-{number[7:]}")
            if number
            else original.phone
        )
        address = original.address + "(放门口)" if index % 3 == 0 else " " + original.address
        probes.append(
            Probe(
                "link",
                replace(
                    original,
                    record_id=f"probe-link-{index}",
                    phone=phone,
                    address=address,
                    created_at=original.created_at + timedelta(days=20),
                ),
                True,
            )
        )
    for index, original in enumerate(rng.sample(usable, n_family)):
        name = original.receiver_name.strip()
        surname = name[:1]
        given = name[1:]
        while given == name[1:]:
            given = "".join(rng.choice(_FAMILY_GIVEN) for _ in range(rng.choice((1, 2))))
        probes.append(
            Probe(
                "family",
                replace(
                    original,
                    record_id=f"probe-family-{index}",
                    channel_account_id=f"fa_{rng.getrandbits(40):x}",
                    device_id="",
                    phone="139" + "".join(rng.choice("0123456789") for _ in range(8)),
                    receiver_name=surname + given,
                    created_at=original.created_at + timedelta(days=30),
                ),
                False,
            )
        )
    fresh = generate_observations(n_new, seed=seed + 1000).observations[:n_new]
    for index, observation in enumerate(fresh):
        probes.append(
            Probe("new", aware(replace(observation, record_id=f"probe-new-{index}")), False)
        )
    rng.shuffle(probes)
    return probes


class OverallCapCandidates:
    """The candidate query before the per-key caps, kept to compare outcomes and latency.

    The 256 newest identities sharing any key, whatever the key: a common name holding more
    than that (420 at 1M) can push an older phone match out. Built with the ORM, as it was.
    """

    limit = 256

    def __init__(self, merchant) -> None:
        self.merchant = merchant

    def candidates(self, keys):
        from customers.matching import fingerprint_from_dict
        from customers.models import Identity, IdentityKey

        if not keys:
            return []
        rows = Identity.objects.filter(
            pk__in=IdentityKey.objects.filter(merchant=self.merchant, key__in=list(keys))
            .order_by("-identity_id")
            .values("identity_id")[: self.limit]
        ).values_list("fingerprint", "customer_id")
        return [(fingerprint_from_dict(data), str(customer_id)) for data, customer_id in rows]


class ListSource:
    def __init__(self, rows: list) -> None:
        self.rows = rows

    def candidates(self, keys):
        return self.rows


class QueryCounter:
    """``connection.execute_wrapper`` that counts statements (savepoints apart)."""

    def __init__(self) -> None:
        self.queries = 0
        self.savepoints = 0

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            self.savepoints += 1
        else:
            self.queries += 1
        return execute(sql, params, many, context)


def measure(probes: list[Probe], merchants: dict[str, Any], warmup: int) -> None:
    """Read-only and full resolve of every probe against every merchant, interleaved."""
    from django.db import connection, transaction

    from customers.matching import blocking_keys, fingerprint, resolve
    from customers.services import DatabaseCandidates, customer_resolve, matching_key, rules_for

    keys = {label: matching_key(m) for label, m in merchants.items()}
    rules = {label: rules_for(m)[0] for label, m in merchants.items()}
    resolve_in_transaction = customer_resolve.__wrapped__
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        server = f"/proc/{cur.fetchone()[0]}/schedstat"
    client = f"/proc/self/task/{threading.get_native_id()}/schedstat"

    for probe in probes[:warmup]:
        for label, merchant in merchants.items():
            record = fingerprint(probe.observation, key=keys[label])
            resolve(record, DatabaseCandidates(merchant), rules[label])
            resolve(record, OverallCapCandidates(merchant), rules[label])

    for number, probe in enumerate(probes, start=1):
        for label, merchant in merchants.items():
            result: dict[str, Any] = {}
            started = time.perf_counter()
            record = fingerprint(probe.observation, key=keys[label])
            fingerprinted = time.perf_counter()
            decision = resolve(record, DatabaseCandidates(merchant), rules[label])
            done = time.perf_counter()
            result["fingerprint_s"] = fingerprinted - started
            result["read_s"] = done - fingerprinted
            result["read_outcome"] = decision.outcome.value
            result["candidates"] = decision.comparisons
            result["keys"] = len(blocking_keys(record))
            started = time.perf_counter()
            old = resolve(record, OverallCapCandidates(merchant), rules[label])
            result["read_old_s"] = time.perf_counter() - started
            result["read_old_outcome"] = old.outcome.value
            result["candidates_old"] = old.comparisons

            counter = QueryCounter()
            with transaction.atomic(), connection.execute_wrapper(counter):
                client_before, server_before = schedstat(client), schedstat(server)
                started, cpu_started = time.perf_counter(), time.thread_time()
                # The function inside its @transaction.atomic: the outer block is its
                # transaction, as when a worker calls it, without a savepoint pair around it.
                _customer, _identity, full = resolve_in_transaction(
                    merchant=merchant, observation=probe.observation
                )
                result["full_s"] = time.perf_counter() - started
                result["full_cpu_s"] = time.thread_time() - cpu_started
                client_after, server_after = schedstat(client), schedstat(server)
                transaction.set_rollback(True)
            result["full_server_cpu_s"] = (server_after[0] - server_before[0]) / 1e9
            result["full_total_cpu_s"] = (
                result["full_server_cpu_s"] + (client_after[0] - client_before[0]) / 1e9
            )
            result["full_runqueue_s"] = (
                server_after[1] - server_before[1] + client_after[1] - client_before[1]
            ) / 1e9
            result["full_outcome"] = full.outcome.value
            result["merges"] = len(full.merge_customer_ids)
            result["queries"] = counter.queries
            result["savepoints"] = counter.savepoints
            probe.results[label] = result
        if number % 200 == 0:
            print(f"  {number}/{len(probes)} probes", flush=True)


def schedstat(path: str) -> tuple[int, int]:
    """(ns on a CPU, ns waiting for one) of a thread or process, from the Linux scheduler.

    Read for this thread and for the PostgreSQL backend serving it (same machine), so a
    resolution's CPU on both sides and its time in run queues are known: on a busy machine
    the wall time is mostly the latter.
    """
    try:
        with open(path) as handle:
            running, waiting, _slices = handle.read().split()
    except OSError:
        return 0, 0
    return int(running), int(waiting)


def round_trips(count: int) -> dict[str, float]:
    """``SELECT 1`` round trips: what one statement costs on this machine right now."""
    from django.db import connection

    timings = []
    with connection.cursor() as cur:
        for _ in range(count):
            started = time.perf_counter()
            cur.execute("SELECT 1")
            cur.fetchone()
            timings.append(time.perf_counter() - started)
    return percentiles(timings)


def breakdown(probes: list[Probe], merchants: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Split the read-only part: SQL round trip, JSON decoding, from_dict, scoring."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.matching import blocking_keys, fingerprint, fingerprint_from_dict, resolve
    from customers.services import DatabaseCandidates, matching_key, rules_for

    parts: dict[str, dict[str, list[float]]] = {}
    for label, merchant in merchants.items():
        key = matching_key(merchant)
        rules = rules_for(merchant)[0]
        timings: dict[str, list[float]] = {"sql": [], "json": [], "from_dict": [], "score": []}
        for probe in probes:
            record = fingerprint(probe.observation, key=key)
            keys = blocking_keys(record)
            with CaptureQueriesContext(connection) as captured:
                list(DatabaseCandidates(merchant).candidates(keys))
            if not captured.captured_queries:
                continue
            sql = captured.captured_queries[-1]["sql"]
            with connection.cursor() as cur:
                t0 = time.perf_counter()
                cur.execute(sql)
                rows = cur.fetchall()
                t1 = time.perf_counter()
            decoded = [(json.loads(d) if isinstance(d, str) else d, c) for d, c, *_rest in rows]
            t2 = time.perf_counter()
            candidates = [(fingerprint_from_dict(d), str(c)) for d, c in decoded]
            t3 = time.perf_counter()
            resolve(record, ListSource(candidates), rules)
            t4 = time.perf_counter()
            timings["sql"].append(t1 - t0)
            timings["json"].append(t2 - t1)
            timings["from_dict"].append(t3 - t2)
            timings["score"].append(t4 - t3)
        parts[label] = {name: percentiles(values) for name, values in timings.items()}
    return parts


def explain(probe: Probe, merchant) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.matching import blocking_keys, fingerprint
    from customers.services import DatabaseCandidates, matching_key

    record = fingerprint(probe.observation, key=matching_key(merchant))
    with CaptureQueriesContext(connection) as captured:
        list(DatabaseCandidates(merchant).candidates(blocking_keys(record)))
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    return f"-- {sql}\n{plan}"


def committed(merchant, count: int, seed: int) -> dict[str, dict[str, float]]:
    """``customer_resolve`` of new people with its own commit (WAL flush included)."""
    from django.db import connection

    from customers.matching.generate import generate_observations
    from customers.services import customer_resolve

    fresh = generate_observations(count, seed=seed + 2000).observations[:count]
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        server = f"/proc/{cur.fetchone()[0]}/schedstat"
    client = f"/proc/self/task/{threading.get_native_id()}/schedstat"
    timings, cpu = [], []
    for index, observation in enumerate(fresh):
        observation = aware(replace(observation, record_id=f"probe-commit-{index}"))
        client_before, server_before = schedstat(client), schedstat(server)
        started = time.perf_counter()
        customer_resolve(merchant=merchant, observation=observation)
        timings.append(time.perf_counter() - started)
        client_after, server_after = schedstat(client), schedstat(server)
        cpu.append((client_after[0] - client_before[0] + server_after[0] - server_before[0]) / 1e9)
    return {"wall": percentiles(timings), "cpu_both_sides": percentiles(cpu)}


def db_quality(count: int, seed: int) -> dict[str, Any]:
    """Matching quality of the database path: ``customer_resolve`` one sighting at a time.

    ``bench/matching_quality.py`` measures the pure core with its in-memory index; this runs
    the same labelled data (``generate_observations(count, seed)``, in time order) through
    ``customer_resolve`` on PostgreSQL (candidates from ``DatabaseCandidates``, per-key caps,
    merges in the database) into an empty merchant, and scores the stored customers against
    the truth next to the in-memory resolver on the same fingerprints. The merchant's rows
    are deleted afterwards.
    """
    from django.db import connection

    from customers.matching import IncrementalResolver, fingerprint
    from customers.matching.generate import generate_observations
    from customers.models import Identity
    from customers.services import customer_resolve, matching_key
    from oms.models import Merchant

    sys.path.insert(0, str(ROOT / "bench"))
    from matching_quality import confusion

    def rates(matrix: dict[str, int]) -> dict[str, float]:
        return {
            "precision": matrix["TP"] / max(matrix["TP"] + matrix["FP"], 1),
            "recall": matrix["TP"] / max(matrix["TP"] + matrix["FN"], 1),
            **matrix,
        }

    dataset = generate_observations(count, seed=seed)
    observations = [aware(o) for o in dataset.observations]
    merchant, _new = Merchant.objects.get_or_create(
        code="bench-mdm-quality", defaults={"name": "bench MDM quality"}
    )
    delete_merchant_customers(merchant)
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    for observation in observations:
        _customer, _identity, decision = customer_resolve(
            merchant=merchant, observation=observation
        )
        outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1
    elapsed = time.perf_counter() - started
    stored = dict(
        Identity.objects.filter(merchant=merchant).values_list("record_id", "customer_id")
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM customers_customermerge WHERE merchant_id = %s", [merchant.pk]
        )
        merges = cur.fetchone()[0]
    delete_merchant_customers(merchant)
    key = matching_key(merchant)
    resolver = IncrementalResolver()
    resolver.add_all(fingerprint(o, key=key) for o in observations)
    result = {
        "observations": len(observations),
        "people": len(set(dataset.person_of.values())),
        "seed": seed,
        "database": rates(confusion(stored, dataset.person_of)),
        "in_memory": rates(confusion(resolver.assignments(), dataset.person_of)),
        "outcomes": outcomes,
        "merges": merges,
        "resolve_s": elapsed,
    }
    print(
        f"quality, database path: precision {result['database']['precision']:.4%}, recall "
        f"{result['database']['recall']:.4%} ({len(observations)} resolves in {elapsed:.0f} s); "
        f"in memory: {result['in_memory']['precision']:.4%} / {result['in_memory']['recall']:.4%}",
        flush=True,
    )
    return result


def delete_merchant_customers(merchant) -> None:
    """Delete every customer-master row of ``merchant`` (bench merchants only)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        for sql in (
            "DELETE FROM customers_identitykey WHERE merchant_id = %s",
            "DELETE FROM customers_reviewitem WHERE identity_id IN "
            "(SELECT id FROM customers_identity WHERE merchant_id = %s)",
            "DELETE FROM customers_historicalidentity WHERE merchant_id = %s",
            "DELETE FROM customers_identity WHERE merchant_id = %s",
            "DELETE FROM customers_customermerge WHERE merchant_id = %s",
            "DELETE FROM customers_historicalcustomer WHERE merchant_id = %s",
            "UPDATE customers_customer SET merged_into_id = NULL WHERE merchant_id = %s",
            "DELETE FROM customers_customer WHERE merchant_id = %s",
        ):
            cur.execute(sql, [merchant.pk])


def summarize(probes: list[Probe], labels: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for label in labels:
        results = [p.results[label] for p in probes]
        hot = [r for r in results if r["candidates"] >= 200]
        outcomes: dict[str, dict[str, int]] = {}
        for probe in probes:
            by_kind = outcomes.setdefault(probe.kind, {})
            outcome = probe.results[label]["full_outcome"]
            by_kind[outcome] = by_kind.get(outcome, 0) + 1
        queries = sorted(r["queries"] for r in results)
        summary[label] = {
            "read": percentiles([r["read_s"] for r in results]),
            "read_old": percentiles([r["read_old_s"] for r in results]),
            "full_cpu": percentiles([r["full_cpu_s"] for r in results]),
            "full_server_cpu": percentiles([r["full_server_cpu_s"] for r in results]),
            "full_total_cpu": percentiles([r["full_total_cpu_s"] for r in results]),
            "full_runqueue": percentiles([r["full_runqueue_s"] for r in results]),
            "old_outcome_changes": {
                kind: sum(
                    1
                    for p in probes
                    if p.kind == kind
                    and p.results[label]["read_old_outcome"] != p.results[label]["read_outcome"]
                )
                for kind in sorted({p.kind for p in probes})
            },
            "old_outcomes": {
                kind: {
                    outcome: sum(
                        1
                        for p in probes
                        if p.kind == kind and p.results[label]["read_old_outcome"] == outcome
                    )
                    for outcome in ("link", "review", "new")
                }
                for kind in sorted({p.kind for p in probes})
            },
            "candidates_old_max": max(r["candidates_old"] for r in results),
            "candidates_old_mean": sum(r["candidates_old"] for r in results) / len(results),
            "full": percentiles([r["full_s"] for r in results]),
            "fingerprint": percentiles([r["fingerprint_s"] for r in results]),
            "read_hot": percentiles([r["read_s"] for r in hot]) if hot else {},
            "candidates": {
                "mean": sum(r["candidates"] for r in results) / len(results),
                "p50": percentiles([r["candidates"] for r in results])["p50"] / 1000,
                "p99": percentiles([r["candidates"] for r in results])["p99"] / 1000,
                "max": max(r["candidates"] for r in results),
                "at_least_200": len(hot),
            },
            "queries": {
                "min": queries[0],
                "median": queries[len(queries) // 2],
                "max": queries[-1],
                "by_outcome": {
                    outcome: sorted({r["queries"] for r in results if r["full_outcome"] == outcome})
                    for outcome in {r["full_outcome"] for r in results}
                },
                "savepoints": sorted({r["savepoints"] for r in results}),
            },
            "outcomes": outcomes,
            "by_kind": {
                kind: {
                    "read": percentiles(
                        [p.results[label]["read_s"] for p in probes if p.kind == kind]
                    ),
                    "full": percentiles(
                        [p.results[label]["full_s"] for p in probes if p.kind == kind]
                    ),
                }
                for kind in sorted({p.kind for p in probes})
            },
        }
    return summary


# --- main ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--identities", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument(
        "--baseline", type=int, default=10_000, help="identities of the baseline merchant"
    )
    parser.add_argument("--probes", type=int, default=1200)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--committed", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", default="oms_bench_mdm")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument(
        "--no-sqlite", action="store_true", help="skip the SQLite import comparison"
    )
    parser.add_argument("--only-import", action="store_true", help="stop after the import")
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="reuse --db when it already holds the 1M and baseline merchants (kept by an "
        "earlier --keep-db run): skip the import, the build and the baseline, only migrate and "
        "probe; implies --keep-db. With --import, the import is measured in a scratch database.",
    )
    parser.add_argument(
        "--import",
        dest="measure_import",
        action="store_true",
        help="with --reuse-db: also time the import, into the scratch database DB_import",
    )
    parser.add_argument(
        "--quality",
        type=int,
        default=0,
        metavar="N",
        help="also score customer_resolve on N labelled observations (seed 7) against the truth",
    )
    args = parser.parse_args()
    if args.db in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to use database {args.db!r}")
    if args.reuse_db:
        args.keep_db = True
    return args


def main() -> int:
    args = parse_args()
    began = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report: dict[str, Any] = {"args": vars(args), "machine_start": machine_note()}
    print(f"machine: {report['machine_start']}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)

    csv_path = observations_csv(args.import_rows, args.seed)
    stored = read_csv(csv_path)
    assert len(stored) == args.import_rows, (len(stored), args.import_rows)

    reused = args.reuse_db and database_ready(args)
    if args.reuse_db and not reused:
        print(f"{args.db}: no loaded 1M data set, building it", flush=True)
    if not reused:
        pg_admin(
            f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)', host=args.host, port=args.port
        )
        pg_admin(f'CREATE DATABASE "{args.db}"', host=args.host, port=args.port)
    os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:{args.port}/{args.db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "oms.settings"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)
        merchants = load_merchants(args, report, csv_path, reused=reused)
        if merchants is None:  # --only-import
            print(json.dumps({k: report[k] for k in report if k.startswith("import")}, indent=1))
            return 0
        main_merchant, baseline_merchant = merchants

        # 3. baseline merchant through the real importer (again if an earlier run stored it
        # with naive times, or not at all)
        if not baseline_ready(baseline_merchant, args.baseline):
            report["baseline_import"] = baseline_import(baseline_merchant, stored[: args.baseline])
        report["tables"] = table_stats(main_merchant)
        report["tables_baseline"] = table_stats(baseline_merchant)
        if args.probes:
            run_probes(args, report, stored, main_merchant, baseline_merchant)
        if args.committed:
            report["committed_1M"] = committed(main_merchant, args.committed, args.seed)
        if args.quality:
            report["quality_db"] = db_quality(args.quality, seed=7)
        report["machine_end"] = machine_note()
        report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        connection.close()
    finally:
        if not args.keep_db:
            drop_database(args)
    report["total_s"] = time.perf_counter() - began

    result_path = OUT / f"customers_db-{stamp}.json"
    result_path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print_report(report)
    print(f"\nwritten {result_path.relative_to(ROOT)}; total {report['total_s']:.0f} s")
    return 0


def load_merchants(
    args: argparse.Namespace, report: dict[str, Any], csv_path: Path, *, reused: bool
) -> tuple[Any, Any] | None:
    """The 1M and the baseline merchant: found again in a reused database (the import timed
    in a scratch one with ``--import``), else created, the CSV imported (1.) and the 1M
    identities built (2.). None when ``--only-import`` stops after the import."""
    from oms.models import Merchant

    if reused:
        main_merchant = Merchant.objects.get(code=MAIN_CODE)
        baseline_merchant, _new = Merchant.objects.get_or_create(
            code=BASELINE_CODE, defaults={"name": "bench MDM baseline"}
        )
        rolled_back_leftovers(main_merchant, baseline_merchant)
        if args.measure_import:
            report["import_pg"] = scratch_import(csv_path, args)
            if not args.no_sqlite:
                report["import_sqlite"] = sqlite_import(csv_path, args.import_rows)
        if args.only_import:
            return None
        report["build"] = {"reused": args.db}
        return main_merchant, baseline_merchant
    main_merchant = Merchant.objects.create(code=MAIN_CODE, name="bench MDM 1M")
    baseline_merchant = Merchant.objects.create(code=BASELINE_CODE, name="bench MDM baseline")

    # 1. import
    env = dict(os.environ)
    report["import_pg"] = import_run(csv_path, args.import_rows, env, "postgres")
    if not args.no_sqlite:
        report["import_sqlite"] = sqlite_import(csv_path, args.import_rows)
    if args.only_import:
        return None

    # 2. 1M identities
    report["build"] = build_identities(main_merchant, args.identities)
    return main_merchant, baseline_merchant


def run_probes(
    args: argparse.Namespace,
    report: dict[str, Any],
    stored: list,
    main_merchant: Any,
    baseline_merchant: Any,
) -> None:
    """4. probes (variants of people stored in both merchants: the first --baseline rows)."""
    probes = make_probes(stored[: args.baseline], args.probes, args.seed)
    merchants = {"1M": main_merchant, "10k": baseline_merchant}
    started = time.perf_counter()
    report["machine_probes"] = machine_note()
    report["select1_before"] = round_trips(500)
    measure(probes, merchants, args.warmup)
    report["probe_s"] = time.perf_counter() - started
    report["select1_after"] = round_trips(500)
    report["summary"] = summarize(probes, list(merchants))
    report["breakdown"] = breakdown(probes, merchants)
    hottest = max(probes, key=lambda p: p.results["1M"]["candidates"])
    ordered = sorted(probes, key=lambda p: p.results["1M"]["read_s"])
    median = ordered[len(ordered) // 2]
    report["explain_hot"] = explain(hottest, main_merchant)
    report["explain_median"] = explain(median, main_merchant)
    report["slowest"] = [
        {"kind": p.kind, **{k: v for k, v in p.results["1M"].items()}}
        for p in sorted(probes, key=lambda p: -p.results["1M"]["full_s"])[:10]
    ]


def drop_database(args: argparse.Namespace) -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # Django may not be set up yet
        pass
    pg_admin(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)', host=args.host, port=args.port)


def print_report(report: dict[str, Any]) -> None:
    print("\n## import_identities (subprocess, end to end)")
    for label in ("import_pg", "import_sqlite"):
        if label in report:
            r = report[label]
            print(
                f"- {label}: {r['rows']} rows, {r['wall_s']:.1f} s wall, {r['rows_per_s']:.0f} rows/s, "
                f"child CPU {r['cpu_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                f"load1 {r['load1_before']:.2f}->{r['load1_after']:.2f}"
            )
    print(f"\n## stored identities: {report['build']}")
    print(f"tables: {report['tables']}")
    if "summary" in report:
        print_probes(report)
    if "committed_1M" in report:
        committed_run = report["committed_1M"]
        print(f"\n## committed customer_resolve at 1M (ms): {fmt_pct(committed_run['wall'])}")
        print(
            f"   CPU, both sides (ms):                   {fmt_pct(committed_run['cpu_both_sides'])}"
        )
    if "quality_db" in report:
        quality = report["quality_db"]
        print(
            f"\n## matching quality, customer_resolve on PostgreSQL ({quality['observations']} "
            f"observations, seed {quality['seed']}): database {quality['database']}; "
            f"in memory {quality['in_memory']}; outcomes {quality['outcomes']}, "
            f"merges {quality['merges']}"
        )
    if "explain_hot" in report:
        print("\n## EXPLAIN ANALYZE, hottest probe\n" + report["explain_hot"])
        print("\n## EXPLAIN ANALYZE, median probe\n" + report["explain_median"])
    print(
        f"\nmachine at start {report['machine_start']['loadavg']}, end {report['machine_end']['loadavg']}"
    )


def print_probes(report: dict[str, Any]) -> None:
    print("\n## resolve latency (ms): p50 | p95 | p99 | max | mean")
    for label, s in report["summary"].items():
        print(f"- {label} read-only (candidates + resolve): {fmt_pct(s['read'])}")
        print(f"- {label} read-only, old overall-cap query: {fmt_pct(s['read_old'])}")
        print(f"- {label} customer_resolve thread CPU:      {fmt_pct(s['full_cpu'])}")
        print(f"- {label} customer_resolve backend CPU:     {fmt_pct(s['full_server_cpu'])}")
        print(f"- {label} customer_resolve CPU, both sides: {fmt_pct(s['full_total_cpu'])}")
        print(f"- {label} customer_resolve run-queue wait:  {fmt_pct(s['full_runqueue'])}")
        print(f"- {label} customer_resolve (rolled back):   {fmt_pct(s['full'])}")
        print(f"- {label} fingerprint only:                 {fmt_pct(s['fingerprint'])}")
        if s["read_hot"]:
            print(f"- {label} read-only, >=200 candidates:     {fmt_pct(s['read_hot'])}")
        for kind, k in s["by_kind"].items():
            print(f"    {kind:<7} read {fmt_pct(k['read'])} / full {fmt_pct(k['full'])}")
        print(f"  candidates {s['candidates']}; queries {s['queries']}")
        print(f"  outcomes {s['outcomes']}")
        print(
            f"  old overall-cap query: outcomes {s['old_outcomes']}, differing {s['old_outcome_changes']}, "
            f"candidates mean {s['candidates_old_mean']:.1f} max {s['candidates_old_max']}"
        )
    one, base = report["summary"]["1M"], report["summary"]["10k"]
    for part in ("read", "full"):
        print(
            f"ratio 1M/10k {part}: p50 {one[part]['p50'] / base[part]['p50']:.2f}x, "
            f"p99 {one[part]['p99'] / base[part]['p99']:.2f}x"
        )
    print(f"\nSELECT 1 round trip (ms) before probes: {fmt_pct(report['select1_before'])}")
    print(f"SELECT 1 round trip (ms) after probes:  {fmt_pct(report['select1_after'])}")
    print("\n## read-only breakdown (ms): p50 | p95 | p99 | max | mean")
    for label, parts in report["breakdown"].items():
        for name, stats in parts.items():
            print(f"- {label} {name:<9} {fmt_pct(stats)}")


if __name__ == "__main__":
    raise SystemExit(main())
