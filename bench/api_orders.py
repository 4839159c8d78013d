"""Order creation through the merchant HTTP API under gunicorn, PostgreSQL and Redis.

Creates a dedicated PostgreSQL database (``oms_bench``) and uses a dedicated Redis db (14), so
Celery is not eager: ``POST /api/orders/`` only rings the merchant's routing doorbell, which
queues one ``routing.route_ready`` task while it is set (no worker runs unless ``--with-worker``,
so the orders stay ``created``; every 201 is checked to have left its order in the database). Migrates, seeds the demo data, starts gunicorn on a free loopback port for
each server config, warms up, then drives ``--clients`` closed-loop keep-alive HTTP/1.1 clients
(asyncio, one process) for ``--seconds``: first the baseline ``GET /api/channels/`` (same auth,
throttle and middleware, one small list query), then the order ``POST`` with a unique
``external_id`` and ``Idempotency-Key`` and 1-3 lines. Every latency is recorded; any non-2xx
answer (any non-201 for the POST) is an error. The generator's own CPU and the machine's CPU
split (gunicorn, postgres, redis, generator, everything else) are measured per phase.

Where time goes, two ways: ``--inprocess N`` runs N order creates sequentially through Django's
test client in a subprocess with every SQL statement and the main steps timed (queries per
request and their share); ``--profile`` attaches py-spy (from ``--py-spy``, a separate venv) to
one gunicorn worker during the order phase and splits the samples by step.

    .venv/bin/python bench/api_orders.py --seconds 20 --clients 32

A config with ``:plain`` (``--configs sync:4,sync:4:plain``) serves with ``OMS_API_FAST_PATHS=0``,
so one run compares the order API with and without its fast paths (``oms/fastpaths.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
HOST = "127.0.0.1"
API_KEY = "oms_demo_homeliving_key"  # seed_demo's fixed demo key (demo data only)
CHANNEL = "douyin"
SKUS = [f"HOM-{n:04d}" for n in range(1, 101)]
PROVINCES = [
    ("上海", "上海"),
    ("浙江", "杭州"),
    ("北京", "北京"),
    ("广东", "深圳"),
    ("四川", "成都"),
]


# --- environment ----------------------------------------------------------------------------
def bench_env(args: argparse.Namespace, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@{HOST}:5432/{args.db}",
        "REDIS_URL": f"redis://{HOST}:6379/{args.redis_db}",
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "OMS_API_THROTTLE_RATE": args.throttle_rate,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(extra)
    return env


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", HOST, "-U", "postgres", "-d", db, "-Atqc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def redis_cmd(args: argparse.Namespace, *words: str) -> str:
    return subprocess.run(
        ["redis-cli", "-h", HOST, "-p", "6379", "-n", str(args.redis_db), *words],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def prepare(args: argparse.Namespace) -> None:
    if args.db in {"test", "postgres", "oms", "template0", "template1"}:
        raise SystemExit(f"refusing to use database {args.db!r}; pick a dedicated one")
    psql(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{args.db}"')
    redis_cmd(args, "FLUSHDB")
    env = bench_env(args)
    t0 = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    for seed in ("seed_demo", "seed_routing_demo"):  # core demo, then lanes and live orders
        subprocess.run(
            [PYTHON, "manage.py", seed], cwd=ROOT, env=env, check=True, capture_output=True
        )
    redis_cmd(args, "FLUSHDB")  # the demo's live orders enqueued routing tasks; start empty
    print(f"database {args.db} migrated and seeded in {time.perf_counter() - t0:.1f}s")


def teardown(args: argparse.Namespace) -> None:
    redis_cmd(args, "FLUSHDB")
    if not args.keep_db:
        psql(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


def reset_throttle(args: argparse.Namespace) -> None:
    """Drop the throttle history so each phase starts with the same (empty) sliding window."""
    for key in redis_cmd(args, "--scan", "--pattern", "*throttle*").split():
        redis_cmd(args, "DEL", key)


# --- requests -------------------------------------------------------------------------------
def order_body(external_id: str, rng: random.Random) -> bytes:
    province, city = rng.choice(PROVINCES)
    lines = [
        {"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(SKUS, rng.randint(1, 3))
    ]
    return json.dumps(
        {
            "channel": CHANNEL,
            "external_id": external_id,
            "receiver": {
                "name": "张伟",
                "phone": "+86 138 0000 0000",
                "province": province,
                "city": city,
                "district": "浦东新区",
                "address_line": "世纪大道100号3号楼1201室",
            },
            "lines": lines,
            "shipping_fee": "10.00",
        },
        ensure_ascii=False,
    ).encode()


def http_request(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {HOST}",
        f"Authorization: Bearer {API_KEY}",
        "Accept: application/json",
        "Connection: keep-alive",
    ]
    if body or method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class RequestFactory:
    def __init__(self, kind: str, run_tag: str, seed: int) -> None:
        self.kind, self.run_tag, self.n = kind, run_tag, 0
        self.rng = random.Random(seed)

    def __call__(self) -> bytes:
        self.n += 1
        if self.kind == "get":
            return http_request("GET", "/api/channels/")
        ident = f"{self.run_tag}-{self.n}"
        return http_request(
            "POST",
            "/api/orders/",
            order_body(ident, self.rng),
            {"Idempotency-Key": f"key-{ident}"},
        )


# --- load generator -------------------------------------------------------------------------
@dataclass
class PhaseResult:
    name: str
    wall: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # successful requests only
    statuses: collections.Counter = field(default_factory=collections.Counter)
    error_bodies: dict = field(default_factory=dict)
    generator_cpu_s: float = 0.0
    cpu: dict = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            if not lat:
                return float("nan")
            return lat[min(len(lat), max(1, math.ceil(p / 100 * len(lat)))) - 1]  # nearest rank

        cpu_ms = {
            k: round(v * 1000 / self.ok, 2) for k, v in self.cpu.get("cpu_s", {}).items() if self.ok
        }
        return {
            "phase": self.name,
            "wall_s": round(self.wall, 2),
            "ok": self.ok,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "throughput_per_s": round(self.ok / self.wall, 1) if self.wall else 0.0,
            "p50_ms": round(pct(50), 1),
            "p90_ms": round(pct(90), 1),
            "p99_ms": round(pct(99), 1),
            "max_ms": round(lat[-1], 1) if lat else None,
            "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
            "generator_cpu_core_share": round(self.generator_cpu_s / self.wall, 3)
            if self.wall
            else 0,
            "cpu_cores": self.cpu.get("cores", {}),
            "cpu_ms_per_ok_request": cpu_ms,
            "error_bodies": self.error_bodies,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, close, body


async def _client(
    port: int,
    factory: RequestFactory,
    deadline: float,
    budget: list[int],
    result: PhaseResult,
    ok_status: int,
    timeout: float,
) -> None:
    reader = writer = None
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        if writer is None:
            reader, writer = await asyncio.open_connection(HOST, port)
        payload = factory()
        started = time.perf_counter()
        try:
            writer.write(payload)
            status, close, body = await asyncio.wait_for(_read_response(reader), timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.statuses[type(exc).__name__] += 1
            writer.close()
            reader = writer = None
            continue
        elapsed_ms = (time.perf_counter() - started) * 1000
        result.statuses[status] += 1
        if status == ok_status:
            result.latencies_ms.append(elapsed_ms)
        elif len(result.error_bodies.setdefault(status, [])) < 3:
            result.error_bodies[status].append(body[:300].decode(errors="replace"))
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run_phase(
    name: str,
    port: int,
    kind: str,
    seconds: float,
    clients: int,
    max_requests: int,
    run_tag: str,
    watch: CpuWatch | None = None,
) -> PhaseResult:
    result = PhaseResult(name)
    ok_status = 201 if kind == "post" else 200
    budget = [max_requests]

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _client(
                    port,
                    RequestFactory(kind, f"{run_tag}-c{i}", seed=i),
                    deadline,
                    budget,
                    result,
                    ok_status,
                    timeout=30.0,
                )
                for i in range(clients)
            )
        )

    if watch:
        watch.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(main())
    result.wall = time.perf_counter() - t0
    result.generator_cpu_s = time.process_time() - cpu0
    if watch:
        result.cpu = watch.stop(result.wall)
    return result


# --- CPU accounting (Linux /proc) -----------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _machine_busy() -> tuple[float, float]:
    parts = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / TICK, sum(parts[:8]) / TICK


class CpuWatch:
    """CPU seconds of gunicorn, postgres, redis, this process and all else over one phase."""

    def __init__(self, db: str, server_pids: callable, worker_pid: callable | None = None) -> None:
        self.db, self.server_pids, self.worker_pid = db, server_pids, worker_pid

    def _groups(self) -> dict[str, set[int]]:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        postgres = {p for p in pids if _comm(p) == "postgres"}
        ours = {p for p in postgres if f" {self.db} " in _cmdline(p)}
        shared = {p for p in postgres if _cmdline(p).count(" ") <= 4 or "process" in _cmdline(p)}
        groups: dict[str, set[int]] = {
            "gunicorn": set(self.server_pids()),
            "postgres": ours,  # backends connected to the bench database
            "postgres_shared": shared - ours,  # postmaster, WAL writer, checkpointer, ...
            "redis": {p for p in pids if _comm(p).startswith("redis-server")},
            "generator": {os.getpid()},
            "celery_worker": set(self.worker_pid()) if self.worker_pid else set(),
        }
        return groups

    def _sample(self) -> dict[str, float]:
        return {name: sum(_proc_cpu(p) for p in pids) for name, pids in self._groups().items()}

    def start(self) -> None:
        # postgres backends are born with the server's connections, so sample groups at start
        self.before, self.busy0 = self._sample(), _machine_busy()

    def stop(self, wall: float) -> dict:
        after, busy1 = self._sample(), _machine_busy()
        busy = busy1[0] - self.busy0[0]
        total = busy1[1] - self.busy0[1]
        used = {k: after.get(k, 0.0) - self.before.get(k, 0.0) for k in after}
        shares = {k: round(v / wall, 2) for k, v in used.items()}  # in cores
        shares["machine_busy"] = round(busy / total * (os.cpu_count() or 1), 2)
        shares["other"] = round(shares["machine_busy"] - sum(v for v in used.values()) / wall, 2)
        return {"cores": shares, "cpu_s": {k: round(v, 2) for k, v in used.items()}}


def wait_quiet(max_seconds: float, below: float) -> None:
    """Wait (bounded) until other work on the machine uses less than ``below`` cores."""
    deadline = time.time() + max_seconds
    while True:
        busy = background_busy(2.0)
        if busy < below or time.time() > deadline:
            print(f"background load {busy} cores; starting")
            return
        print(f"background load {busy} cores; waiting for a quieter machine")


def background_busy(seconds: float = 3.0) -> float:
    """Cores busy on the machine while the benchmark itself is idle (other people's work)."""
    before = _machine_busy()
    time.sleep(seconds)
    after = _machine_busy()
    return round((after[0] - before[0]) / (after[1] - before[1]) * (os.cpu_count() or 1), 2)


# --- gunicorn -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ServerConfig:
    worker_class: str  # sync | gthread
    workers: int
    threads: int = 1
    connections: int = 0  # gunicorn --worker-connections (0: its default, 1000)
    fast_paths: bool = True  # OMS_API_FAST_PATHS of the server (oms/fastpaths.py)

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        """``gthread:2x8`` (2 workers x 8 threads), ``gthread:2x4:c16`` or ``sync:4``.

        A ``:plain`` suffix (``sync:4:plain``) runs the server with the fast paths off.
        """
        plain = text.endswith(":plain")
        kind, _, rest = text.removesuffix(":plain").partition(":")
        shape, _, connections = rest.partition(":c")
        workers, _, threads = shape.partition("x")
        return cls(kind, int(workers), int(threads or 1), int(connections or 0), not plain)

    def argv(self, port: int) -> list[str]:
        argv = [
            GUNICORN,
            "oms.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
            "--backlog",
            "256",
            "--keep-alive",
            "30",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        if self.worker_class == "gthread":
            argv += ["--threads", str(self.threads)]
        if self.connections:
            argv += ["--worker-connections", str(self.connections)]
        return argv

    def __str__(self) -> str:
        limit = f", {self.connections} conn/worker" if self.connections else ""
        limit += "" if self.fast_paths else ", fast paths off"
        if self.worker_class == "gthread":
            return f"gthread {self.workers}w x {self.threads}t{limit}"
        return f"{self.worker_class} {self.workers}w{limit}"


class Server:
    def __init__(self, config: ServerConfig, env: dict[str, str], log: Path) -> None:
        self.config, self.port = config, free_port()
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            config.argv(self.port),
            cwd=ROOT,
            env={**env, "OMS_API_FAST_PATHS": "1" if config.fast_paths else "0"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [self.proc.pid, *map(int, children.read_text().split())]
        except OSError:
            return [self.proc.pid]

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"gunicorn exited with {self.proc.returncode}; see {self.log.name}"
                )
            if len(self.pids()) == 1 + self.config.workers:
                try:
                    with socket.create_connection((HOST, self.port), timeout=1) as sock:
                        sock.sendall(http_request("GET", "/api/channels/"))
                        if b" 200 " in sock.recv(64):
                            return
                except OSError:
                    pass
            time.sleep(0.2)
        raise SystemExit("gunicorn did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# --- py-spy profile of one worker -------------------------------------------------------------
CATEGORIES = [  # (label, function, file suffix): the frame nearest the leaf decides
    ("routing doorbell (on_commit: one cache SET NX)", "enqueue_routing", "routing/receivers.py"),
    ("auth: API key lookup", "authenticate", "oms/api/auth.py"),
    ("throttle (one Redis round trip)", "allow_request", "oms/api/throttling.py"),
    ("idempotency begin", "begin", "oms/idempotency.py"),
    ("idempotency fingerprint", "fingerprint", "oms/idempotency.py"),
    ("idempotency finish (store response)", "finish", "oms/idempotency.py"),
    ("validate (fast path, SKU query)", "validated_fast", "oms/api/serializers.py"),
    ("validate (full serializer)", "is_valid", "rest_framework/serializers.py"),
    ("order_create service (insert order/lines/event, commit)", "order_create", "orders.py"),
    ("serialize OrderSerializer", "data", "rest_framework/serializers.py"),
    ("JSON render", "render", "rest_framework/renderers.py"),
    ("DRF initial (other: content negotiation, perms)", "initial", "rest_framework/views.py"),
    ("view dispatch (other)", "dispatch", "rest_framework/views.py"),
    ("Django middleware/handler (other)", "get_response", "django/core/handlers/base.py"),
    ("gunicorn/WSGI (parse, write)", "handle_request", "gunicorn/workers/gthread.py"),
    ("gunicorn/WSGI (parse, write)", "handle", "gunicorn/workers/gthread.py"),
    ("gunicorn/WSGI (parse, write)", "handle_request", "gunicorn/workers/sync.py"),
    ("gunicorn/WSGI (parse, write)", "handle", "gunicorn/workers/sync.py"),
]
DB_LEAF = ("psycopg2", "_execute", "execute", "commit", "_commit", "cursor", "_cursor")


def _frame(text: str) -> tuple[str, str]:
    """``Class.method (path/file.py)`` -> (``method``, ``path/file.py``)."""
    name, _, rest = text.partition(" (")
    return name.rsplit(".", 1)[-1], rest.rstrip(")")


def classify_stacks(path: Path) -> dict:
    """Split py-spy raw samples (root;...;leaf count) into the request's steps and DB wait."""
    by_cat: collections.Counter = collections.Counter()
    db_by_cat: collections.Counter = collections.Counter()
    total = in_request = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame(f) for f in stack.split(";")]
        if not any(
            name in {"handle_request", "handle"} and "gunicorn/workers" in file
            for name, file in frames
        ):
            continue  # idle thread or the arbiter loop, not a request
        in_request += count
        label = "other"
        for name, file in reversed(frames):
            hit = next(
                (c for c, fn, suffix in CATEGORIES if fn == name and file.endswith(suffix)), None
            )
            if hit:
                label = hit
                break
        by_cat[label] += count
        in_db = any(
            (n in DB_LEAF and ("django/db/backends" in f or "psycopg2" in f))
            for n, f in frames[-4:]
        )
        if in_db:
            db_by_cat[label] += count
    return {
        "samples_total": total,
        "samples_in_request": in_request,
        "by_step": {k: v for k, v in by_cat.most_common()},
        "db_wait_by_step": dict(db_by_cat.most_common()),
    }


def profile_worker(
    py_spy: str, pid: int, seconds: float, out: Path, idle: bool
) -> subprocess.Popen:
    argv = [py_spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw"]
    argv += ["--nolineno", "--nonblocking", "-o", str(out)]
    if idle:
        argv.append("--idle")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- in-process step timing and SQL count -------------------------------------------------------
def inprocess(n: int) -> None:
    """Run ``n`` order creates via Django's test client; time SQL per step (subprocess mode)."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from rest_framework import renderers

    import routing.receivers
    from oms import idempotency
    from oms.api import auth, serializers, throttling, views

    state = threading.local()
    state.label = "outside DRF dispatch (middleware, WSGI, test client)"
    state.stack = []  # [label, seconds spent in timed callees]
    inclusive: collections.Counter = collections.Counter()
    exclusive: collections.Counter = collections.Counter()
    sql_n: collections.Counter = collections.Counter()
    sql_t: collections.Counter = collections.Counter()
    sql_kinds: collections.Counter = collections.Counter()

    def timed(owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*a, **kw):
            return step(label, original, *a, **kw)

        setattr(owner, name, wrapper)

    def step(label: str, function, *a, **kw):
        previous, state.label = state.label, label
        frame = [label, 0.0]
        state.stack.append(frame)
        started = time.perf_counter()
        try:
            return function(*a, **kw)
        finally:
            elapsed = time.perf_counter() - started
            state.stack.pop()
            inclusive[label] += elapsed
            exclusive[label] += elapsed - frame[1]
            if state.stack:
                state.stack[-1][1] += elapsed
            state.label = previous

    class TimedTask:
        def __init__(self, task) -> None:
            self.task = task

        def delay(self, *a, **kw):
            return step("celery enqueue (kombu publish to Redis)", self.task.delay, *a, **kw)

    timed(views.OrderViewSet, "dispatch", "DRF dispatch (other)")
    timed(views.OrderViewSet, "create", "view create: glue")
    timed(auth.ApiKeyAuthentication, "authenticate", "auth")
    timed(throttling.MerchantKeyThrottle, "allow_request", "throttle")
    timed(idempotency, "begin", "idempotency begin")
    timed(idempotency, "fingerprint", "idempotency fingerprint")
    timed(idempotency, "finish", "idempotency finish")
    timed(serializers.OrderCreateSerializer, "validated_fast", "validate (fast path)")
    timed(serializers.OrderCreateSerializer, "is_valid", "validate (full serializer)")
    timed(views, "order_create", "order_create service")
    timed(serializers.OrderSerializer, "to_representation", "serialize")
    timed(renderers.JSONRenderer, "render", "JSON render")
    routing.receivers.route_order = TimedTask(routing.receivers.route_order)

    def sql_wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_n[state.label] += 1
            sql_t[state.label] += time.perf_counter() - started
            words = sql.split()
            table = next((w for w in words if w.startswith('"')), "")
            if words[0] in {"SAVEPOINT", "RELEASE", "ROLLBACK"}:
                table = ""  # savepoint names are unique per call
            sql_kinds[f"{state.label}: {words[0]} {table}".strip()] += 1

    client = Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
    rng = random.Random(7)
    tag = f"inproc-{os.getpid()}"
    cpu_times: list[float] = []

    def one(i: int) -> float:
        body = order_body(f"{tag}-{i}", rng)
        cpu0 = time.process_time()
        started = time.perf_counter()
        response = client.post(
            "/api/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"{tag}-{i}"
        )
        elapsed = time.perf_counter() - started
        cpu_times.append(time.process_time() - cpu0)
        assert response.status_code == 201, response.content[:300]
        return elapsed

    for i in range(20):  # warm up connections, caches, code paths
        one(-i - 1)
    inclusive.clear()
    exclusive.clear()
    cpu_times.clear()
    times = []
    with connection.execute_wrapper(sql_wrapper):
        for i in range(n):
            times.append(one(i))
    total = sum(times)
    exclusive["outside DRF dispatch (middleware, WSGI, test client)"] = (
        total - inclusive["DRF dispatch (other)"]
    )
    # the GET baseline's queries, for comparison
    get_n = collections.Counter()

    def count_get(execute, sql, params, many, context):
        get_n[sql.split()[0]] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_get):
        for _ in range(n):
            assert client.get("/api/channels/").status_code == 200
    print(
        json.dumps(
            {
                "requests": n,
                "request_ms": total / n * 1000,
                "request_ms_median": statistics.median(times) * 1000,
                "request_cpu_ms": sum(cpu_times) / n * 1000,
                "request_cpu_ms_median": statistics.median(cpu_times) * 1000,
                "exclusive_ms": {k: v / n * 1000 for k, v in exclusive.most_common()},
                "inclusive_ms": {k: v / n * 1000 for k, v in inclusive.most_common()},
                "sql_per_request": sum(sql_n.values()) / n,
                "sql_ms_per_request": sum(sql_t.values()) / n * 1000,
                "sql_by_step": {
                    k: {"queries": sql_n[k] / n, "ms": sql_t[k] / n * 1000} for k in sql_n
                },
                "sql_statements": {k: v / n for k, v in sorted(sql_kinds.items())},
                "get_channels_sql_per_request": sum(get_n.values()) / n,
            }
        )
    )


# --- orchestration ----------------------------------------------------------------------------
def fmt_row(config: str, s: dict) -> str:
    cores = s["cpu_cores"]
    return (
        f"| {config} | {s['phase']} | {s['throughput_per_s']} | {s['p50_ms']} | {s['p90_ms']} | "
        f"{s['p99_ms']} | {s['max_ms']} | {s['ok']} | {s['errors']} | "
        f"{s['generator_cpu_core_share']} | {cores.get('gunicorn')} | {cores.get('postgres')} | "
        f"{cores.get('other')} | {s['cpu_ms_per_ok_request'].get('gunicorn')} |"
    )


TABLE_HEAD = (
    "| server | phase | req/s | p50 ms | p90 ms | p99 ms | max ms | ok | errors | generator "
    "cores | gunicorn cores | postgres cores | other cores | gunicorn CPU ms/req |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=50_000, help="cap per phase")
    parser.add_argument(
        "--configs",
        default="sync:3,sync:4,gthread:2x4,gthread:2x4:c16,gthread:2x8",
        help="comma list: gthread:WORKERSxTHREADS or sync:WORKERS",
    )
    parser.add_argument("--throttle-rate", default="1000000/min")
    parser.add_argument(
        "--no-throttle-run",
        action="store_true",
        help="repeat the first config without the throttle",
    )
    parser.add_argument(
        "--with-worker", action="store_true", help="repeat the first config with a Celery worker"
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=0, help="wait up to N s for other load to drop"
    )
    parser.add_argument("--quiet-below", type=float, default=0.3, help="cores, for --wait-quiet")
    parser.add_argument("--db", default="oms_bench")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--inprocess", type=int, default=200, help="sequential creates to time SQL (0: skip)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="extra run of the first config with py-spy"
    )
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/spyenv/bin/py-spy")
    parser.add_argument("--inprocess-child", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.inprocess_child:
        inprocess(args.inprocess_child)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report: dict = {
        "command": " ".join([".venv/bin/python", "bench/api_orders.py", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()},
        "runs": [],
    }
    prepare(args)
    try:
        if args.wait_quiet:
            wait_quiet(args.wait_quiet, args.quiet_below)
        if args.inprocess:
            report["inprocess"] = inprocess_in_child(args)
        for index, (config, variant, extra_env) in enumerate(run_plan(args)):
            report["runs"].append(measure_config(args, stamp, index, config, variant, extra_env))
        report["machine"]["loadavg_after"] = os.getloadavg()
    finally:
        teardown(args)
        path = OUT / f"api_orders-{stamp}.json"
        path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
        print(f"\nfull results: {path}")


def inprocess_in_child(args: argparse.Namespace) -> dict:
    """The sequential in-process creates (``--inprocess``), run in a child process."""
    child = subprocess.run(
        [PYTHON, __file__, "--inprocess-child", str(args.inprocess)],
        cwd=ROOT,
        env=bench_env(args),
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1, ensure_ascii=False))
    redis_cmd(args, "FLUSHDB")
    return result


def run_plan(args: argparse.Namespace) -> list[tuple[ServerConfig, str, dict[str, str]]]:
    """(server config, variant, extra environment) of every run: the configs, then the extra
    runs of the first config the flags ask for."""
    plan: list[tuple[ServerConfig, str, dict[str, str]]] = [
        (ServerConfig.parse(c), "", {}) for c in args.configs.split(",") if c
    ]
    if args.no_throttle_run:
        plan.append((plan[0][0], "no throttle", {"BENCH_NO_THROTTLE": "1"}))
    if args.with_worker:
        plan.append((plan[0][0], "with celery worker", {}))
    if args.profile:  # separate run, so py-spy does not perturb the headline figures
        plan.append((plan[0][0], "py-spy attached", {}))
    return plan


def start_celery_worker(env: dict[str, str], stamp: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            CELERY,
            "-A",
            "oms",
            "worker",
            "-c",
            "1",
            "-Q",
            "oms",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=(OUT / f"celery-{stamp}.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def measure_config(
    args: argparse.Namespace,
    stamp: str,
    index: int,
    config: ServerConfig,
    variant: str,
    extra_env: dict[str, str],
) -> dict:
    """Start the server (and the worker, for that variant), measure the GET and POST phases,
    print the table rows and stop everything again."""
    label = f"{config}" + (f" ({variant})" if variant else "")
    env = bench_env(args, **extra_env)
    worker = start_celery_worker(env, stamp) if variant == "with celery worker" else None
    idle_busy = background_busy()
    server = Server(config, env, OUT / f"gunicorn-{stamp}-{index}.log")
    try:
        server.wait_ready()
        run = measure_phases(args, server, worker, f"b{stamp}-{index}", stamp, variant)
        run = {
            "config": label,
            "gunicorn_argv": " ".join(config.argv(server.port)[1:]),
            "background_busy_cores_before": idle_busy,
            **run,
        }
        print_run(label, server.port, idle_busy, run)
        return run
    finally:
        server.stop()
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        redis_cmd(args, "FLUSHDB")


def measure_phases(
    args: argparse.Namespace,
    server: Server,
    worker: subprocess.Popen | None,
    tag: str,
    stamp: str,
    variant: str,
) -> dict:
    """Warm up, then the GET and the POST phase; the orders stored and routing messages
    queued are checked against the answers."""

    def worker_pids(worker=worker) -> list[int]:
        if worker is None:
            return []
        kids = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
        try:
            return [worker.pid, *map(int, kids.read_text().split())]
        except OSError:
            return [worker.pid]

    watch = CpuWatch(args.db, server.pids, worker_pids)
    run_phase("warmup", server.port, "post", args.warmup, args.clients, 5000, f"{tag}-w")
    run_phase("warmup", server.port, "get", args.warmup, args.clients, 5000, f"{tag}-w")
    reset_throttle(args)
    get = run_phase(
        "GET /api/channels/",
        server.port,
        "get",
        args.seconds,
        args.clients,
        args.max_requests,
        f"{tag}-g",
        watch,
    )
    reset_throttle(args)
    queued_before = int(redis_cmd(args, "LLEN", "oms") or 0)
    profilers = []
    if variant == "py-spy attached":
        worker_pid = server.pids()[1]
        for idle in (True,):  # wall clock: DB waits count, idle pool threads do not
            out = OUT / f"pyspy-{stamp}-{'wall' if idle else 'cpu'}.txt"
            profilers.append(
                (out, profile_worker(args.py_spy, worker_pid, args.seconds, out, idle))
            )
        time.sleep(0.5)
    post = run_phase(
        "POST /api/orders/",
        server.port,
        "post",
        args.seconds,
        args.clients,
        args.max_requests,
        f"{tag}-p",
        watch,
    )
    run: dict = {"phases": [get.summary(), post.summary()]}
    created = int(
        psql(
            f"SELECT count(*) FROM oms_order WHERE external_id LIKE '{tag}-p-%'",
            args.db,
        )
    )
    run["orders_in_db"] = created
    # Routing is requested through the merchant's doorbell: one route_ready message
    # while the bell is set (no worker runs here, so it stays set), not one per order.
    run["routing_tasks_queued"] = int(redis_cmd(args, "LLEN", "oms") or 0) - queued_before
    run["routing_tasks_waiting_total"] = int(redis_cmd(args, "LLEN", "oms") or 0)
    run["routing_bell_set"] = bool(redis_cmd(args, "--scan", "--pattern", "*routing:bell:*"))
    if created != post.ok:
        raise SystemExit(f"{post.ok} orders answered 201 but {created} are stored")
    run["ratio_post_vs_get"] = {
        "throughput": round(
            post.summary()["throughput_per_s"] / max(get.summary()["throughput_per_s"], 1e-9),
            3,
        ),
        "p50": round(post.summary()["p50_ms"] / get.summary()["p50_ms"], 2),
        "p99": round(post.summary()["p99_ms"] / get.summary()["p99_ms"], 2),
    }
    for out, proc in profilers:
        try:
            proc.wait(args.seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if out.exists():
            run.setdefault("py_spy", {})[out.name] = classify_stacks(out)
    return run


def print_run(label: str, port: int, idle_busy: float, run: dict) -> None:
    print(f"\n== {label}: port {port}, background busy {idle_busy} cores")
    print(TABLE_HEAD)
    for phase in run["phases"]:
        print(fmt_row(label, phase))
    print(
        "ratios POST/GET",
        run["ratio_post_vs_get"],
        "orders in db",
        run["orders_in_db"],
        "routing messages queued in phase / waiting in all",
        run["routing_tasks_queued"],
        run["routing_tasks_waiting_total"],
        "bell set",
        run["routing_bell_set"],
    )
    if "py_spy" in run:
        print(json.dumps(run["py_spy"], indent=1))


if __name__ == "__main__":
    main()
