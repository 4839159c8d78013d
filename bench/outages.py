"""Routing under outages, with real workers: a hanging webhook receiver, a killed routing worker.

Each scenario gets its own PostgreSQL database and Redis db (created, migrated and seeded with
the demo by ``api_orders.prepare``; the shared servers are never stopped), gunicorn, and Celery
workers started as ``make worker`` (``-Q oms -B``) and ``make webhook-worker`` (``-Q webhooks
--concurrency 4``) do. Orders are created through ``POST /api/orders/`` by an open-loop
generator (one every 1/rate s, whatever the answers take), each with its own customer so no
two orders merge. An order's routing latency is read from the database: its ``created_at`` to
its first timeline entry out of ``created``.

**hang**: a local HTTP server on 127.0.0.1 accepts every connection and never answers; the demo
merchant subscribes to every event there (service steps finish right after routing, so each
order sends deliveries that hang for ``OMS_WEBHOOK_TIMEOUT_SECONDS``). Orders arrive at
``--rate`` for ``--seconds``; then the run waits up to ``--drain`` s for the rest to be routed.
Run twice in the same process: ``split`` (the two workers) and ``single`` (one worker with
beat consuming both queues, as before the webhook queue existed).

**kill**: a backlog of ``--backlog`` orders is created with no worker running, then the workers
start, orders keep arriving at ``--rate``, and once ``--kill-after-routed`` orders are routed
the ``oms`` worker's process group (main, pool and beat) gets SIGKILL. A fresh one (with beat,
same schedule file) starts ``--restart-delay`` s later. Arrivals go on for
``--arrivals-after-kill`` s after the kill. For every order still ``created`` at the kill: the
time from the kill to routed, and the path that routed it, from the workers' probe
(``bench/outages_probe.py``): ``redelivery`` (a ``route_ready`` message the killed worker held),
``doorbell`` (a new ``route_ready``) or ``sweeper`` (``route_order``).

    .venv/bin/python bench/outages.py                  # both scenarios
    .venv/bin/python bench/outages.py --scenario hang --seconds 60 --rate 2
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from api_orders import (  # bench/ is the script's directory: on sys.path
    API_KEY,
    CELERY,
    HOST,
    OUT,
    PYTHON,
    ROOT,
    Server,
    ServerConfig,
    _machine_busy,
    background_busy,
    bench_env,
    order_body,
    prepare,
    psql,
    redis_cmd,
    teardown,
)
from machine import describe

MERCHANT = "homeliving"  # the demo merchant API_KEY belongs to


# --- environment ----------------------------------------------------------------------------
def scenario_args(args: argparse.Namespace, db: str, redis_db: int) -> argparse.Namespace:
    """The api_orders helpers' view of one scenario: its database and Redis db."""
    return argparse.Namespace(
        db=db, redis_db=redis_db, throttle_rate="1000000/min", keep_db=args.keep_db
    )


def check_redis_db_unused(sargs: argparse.Namespace) -> None:
    keys = int(redis_cmd(sargs, "DBSIZE") or 0)
    if keys:
        raise SystemExit(
            f"Redis db {sargs.redis_db} holds {keys} keys: someone may use it; pick another"
        )


def outage_env(sargs: argparse.Namespace, probe_log: Path) -> dict[str, str]:
    return bench_env(
        sargs,
        OMS_OUTBOUND_ALLOW_ADDRESSES="127.0.0.1",  # the hanging receiver is on loopback
        BENCH_ROUTING_PROBE_LOG=str(probe_log),
        CELERY_TRACE_LOG_LEVEL="INFO",
        LOG_LEVEL="INFO",
    )


def django_shell(env: dict[str, str], code: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def install_services(env: dict[str, str]) -> None:
    """The service catalogue and templates: a routed furniture order gets its steps."""
    django_shell(env, "from orchestration.catalogue import catalogue_install; catalogue_install()")


def route_demo_backlog(sargs: argparse.Namespace) -> int:
    """Cancel the demo's own waiting orders, so only the benchmark's orders are routed."""
    return int(
        psql(
            "WITH c AS (UPDATE oms_order SET status = 'cancelled' WHERE status = 'created' "
            "RETURNING 1) SELECT count(*) FROM c",
            sargs.db,
        )
    )


# --- workers --------------------------------------------------------------------------------
@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                raise SystemExit(f"worker {self.name} exited; see {self.log_path}")
            time.sleep(0.2)
        raise SystemExit(f"worker {self.name} did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL to the whole process group: main process, pool processes and beat."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Warm, then cold shutdown, then SIGKILL; bounded waits."""
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                return
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


def start_worker(
    env: dict[str, str],
    *,
    name: str,
    queues: str,
    log_path: Path,
    beat_schedule: Path | None = None,
    concurrency: int | None = None,
) -> Worker:
    """``celery -A oms worker -Q <queues>`` as the Makefile runs it, plus the routing probe."""
    argv = [CELERY, "-A", "oms", "worker", "-Q", queues, "--hostname", f"{name}@%h"]
    argv += ["--loglevel", "INFO", "--include", "bench.outages_probe"]
    if beat_schedule is not None:
        argv += ["-B", "--schedule", str(beat_schedule)]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(name, process, log_path)
    worker.wait_ready()
    return worker


# --- a receiver that never answers ----------------------------------------------------------
class HangingReceiver:
    """Accepts every connection on 127.0.0.1 and never sends a byte back."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hooks"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)  # held open, never read from nor answered

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


# --- orders ---------------------------------------------------------------------------------
def unique_order_body(ident: str, n: int, rng: random.Random) -> bytes:
    """api_orders' order with a customer of its own (name, phone, address): no merges."""
    body = json.loads(order_body(ident, rng))
    body["receiver"]["name"] = f"顾客{n}"
    body["receiver"]["phone"] = f"+86 139 {n // 10000 % 10000:04d} {n % 10000:04d}"
    body["receiver"]["address_line"] = f"世纪大道{n}号"
    return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class Arrivals:
    """Orders POSTed open-loop at ``rate`` per second until ``stop`` is set or ``count`` sent."""

    port: int
    tag: str
    rate: float
    count: int
    first_number: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: dict = field(default_factory=dict)
    late_s: float = 0.0  # how far behind its schedule the generator fell at worst

    def run(self) -> None:
        rng = random.Random(self.tag)
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        started = time.monotonic()
        for i in range(self.count):
            due = started + i / self.rate if math.isfinite(self.rate) else time.monotonic()
            if self.stop.wait(max(0.0, due - time.monotonic())):
                break
            self.late_s = max(self.late_s, time.monotonic() - due)
            ident = f"{self.tag}-{i}"
            body = unique_order_body(ident, self.first_number + i, rng)
            headers = {
                "Authorization": f"Bearer {API_KEY}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"key-{ident}",
            }
            try:
                conn.request("POST", "/api/orders/", body, headers)
                response = conn.getresponse()
                response.read()
                status: int | str = response.status
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            self.statuses[status] = self.statuses.get(status, 0) + 1
        conn.close()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread


def routing_times(db: str, tag: str) -> dict[int, tuple[float, float | None]]:
    """order id -> (created_at, first time it left ``created``) in epoch seconds."""
    rows = psql(
        "SELECT o.id, extract(epoch FROM o.created_at), "
        "(SELECT extract(epoch FROM min(e.at)) FROM oms_orderevent e WHERE e.order_id = o.id "
        "AND e.from_status = 'created' AND e.to_status NOT IN ('', 'created')) "
        f"FROM oms_order o WHERE o.external_id LIKE '{tag}-%'",
        db,
    )
    times: dict[int, tuple[float, float | None]] = {}
    for line in rows.splitlines():
        order_id, created, routed = line.split("|")
        times[int(order_id)] = (float(created), float(routed) if routed else None)
    return times


def wait_all_routed(db: str, tag: str, timeout: float) -> dict[int, tuple[float, float | None]]:
    deadline = time.monotonic() + timeout
    while True:
        times = routing_times(db, tag)
        if all(routed is not None for _c, routed in times.values()) or time.monotonic() > deadline:
            return times
        time.sleep(1.0)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


def latency_summary(latencies: list[float], unrouted: int) -> dict:
    if not latencies:
        return {"routed": 0, "unrouted": unrouted}
    return {
        "routed": len(latencies),
        "unrouted": unrouted,
        "p50_s": round(pct(latencies, 50), 2),
        "p95_s": round(pct(latencies, 95), 2),
        "max_s": round(max(latencies), 2),
        "mean_s": round(statistics.fmean(latencies), 2),
    }


class MachineLoad:
    """Cores busy on the whole machine (this benchmark included) over a phase, and loadavg."""

    def __init__(self) -> None:
        self.busy0, self.load0 = _machine_busy(), os.getloadavg()

    def done(self) -> dict:
        busy1 = _machine_busy()
        cores = (busy1[0] - self.busy0[0]) / (busy1[1] - self.busy0[1]) * (os.cpu_count() or 1)
        return {
            "machine_busy_cores": round(cores, 2),
            "loadavg_before": [round(v, 2) for v in self.load0],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        }


# --- scenario 1: hanging receiver -----------------------------------------------------------
def subscribe_everything(env: dict[str, str], url: str) -> None:
    django_shell(
        env,
        "from oms.models import Merchant; "
        "from orchestration.services.webhooks import webhook_subscribe; "
        f"webhook_subscribe(merchant=Merchant.objects.get(code={MERCHANT!r}), "
        f"event_type='*', url={url!r})",
    )


def forget_deliveries(sargs: argparse.Namespace) -> None:
    """Between runs: the last run's pending deliveries must not load the next run's workers."""
    psql(
        "UPDATE orchestration_webhookdelivery SET state = 'gave_up', next_attempt_at = NULL "
        "WHERE state = 'pending'",
        sargs.db,
    )
    psql("UPDATE orchestration_webhooksubscription SET active = false", sargs.db)


def start_hang_workers(
    mode: str, env: dict[str, str], stamp: str, args: argparse.Namespace
) -> list[Worker]:
    schedule = OUT / f"outages-{stamp}-{mode}-beat"
    if mode == "split":
        return [
            start_worker(
                env,
                name="bench-oms",
                queues="oms",
                log_path=OUT / f"outages-{stamp}-{mode}-oms.log",
                beat_schedule=schedule,
                concurrency=args.oms_concurrency,
            ),
            start_worker(
                env,
                name="bench-webhooks",
                queues="webhooks",
                log_path=OUT / f"outages-{stamp}-{mode}-webhooks.log",
                concurrency=4,
            ),
        ]
    return [
        start_worker(
            env,
            name="bench-all",
            queues="oms,webhooks",
            log_path=OUT / f"outages-{stamp}-{mode}-all.log",
            beat_schedule=schedule,
            concurrency=args.oms_concurrency,
        )
    ]


def hang_run(
    mode: str,
    args: argparse.Namespace,
    sargs: argparse.Namespace,
    port: int,
    stamp: str,
    first_number: int,
) -> dict:
    env = outage_env(sargs, OUT / f"outages-{stamp}-{mode}-probe.jsonl")
    receiver = HangingReceiver()
    subscribe_everything(env, receiver.url)
    background = background_busy(3.0)
    workers = start_hang_workers(mode, env, stamp, args)
    tag = f"hang-{stamp}-{mode}"
    load = MachineLoad()
    try:
        arrivals = Arrivals(
            port, tag, args.rate, int(args.rate * args.seconds), first_number=first_number
        )
        arrivals.run()
        times = wait_all_routed(sargs.db, tag, args.drain)
        deliveries = psql(
            "SELECT count(*), count(*) FILTER (WHERE a.error = 'timed out') "
            "FROM orchestration_webhookattempt a JOIN orchestration_webhookdelivery d "
            "ON d.id = a.delivery_id JOIN orchestration_webhooksubscription s "
            f"ON s.id = d.subscription_id WHERE s.url = '{receiver.url}'",
            sargs.db,
        ).split("|")
    finally:
        for worker in workers:
            worker.stop()
        receiver.stop()
        forget_deliveries(sargs)
        redis_cmd(sargs, "FLUSHDB")
    latencies = [routed - created for created, routed in times.values() if routed is not None]
    unrouted = sum(1 for _c, routed in times.values() if routed is None)
    result = {
        "mode": mode,
        "workers": [" ".join(w.process.args[1:]) for w in workers],  # type: ignore[index]
        "orders": len(times),
        "answers": arrivals.statuses,
        "generator_late_max_s": round(arrivals.late_s, 2),
        "latency": latency_summary(latencies, unrouted),
        "receiver_connections": receiver.accepted,
        "webhook_attempts": int(deliveries[0]),
        "webhook_attempts_timed_out": int(deliveries[1]),
        "background_busy_cores_before": background,
        **load.done(),
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def scenario_hang(args: argparse.Namespace, stamp: str) -> dict:
    sargs = scenario_args(args, args.hang_db, args.hang_redis_db)
    check_redis_db_unused(sargs)
    prepare(sargs)
    env = outage_env(sargs, OUT / "unused")
    install_services(env)
    cancelled = route_demo_backlog(sargs)
    server = Server(ServerConfig.parse("sync:2"), env, OUT / f"outages-{stamp}-hang-gunicorn.log")
    runs = []
    try:
        server.wait_ready()
        for number, mode in enumerate(args.modes.split(",")):
            runs.append(hang_run(mode, args, sargs, server.port, stamp, number * 100_000))
    finally:
        server.stop()
        teardown(sargs)
    return {"demo_waiting_orders_cancelled": cancelled, "runs": runs}


# --- scenario 2: killed routing worker ------------------------------------------------------
def probe_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def routed_count(db: str, tag: str) -> int:
    return int(
        psql(
            f"SELECT count(*) FROM oms_order WHERE external_id LIKE '{tag}-%' "
            "AND status <> 'created'",
            db,
        )
    )


def claimed_orders(sargs: argparse.Namespace) -> list[int]:
    keys = redis_cmd(sargs, "--scan", "--pattern", "*routing:claim:*").split()
    return sorted(int(key.rsplit(":", 1)[1]) for key in keys)


def routing_path(record: dict, killed_task_ids: set[str]) -> str:
    if record["task"] == "routing.route_order":
        return "sweeper"
    if record["task"] == "routing.route_ready":
        if record["task_id"] in killed_task_ids or record["redelivered"]:
            return "redelivery"
        return "doorbell"
    return record["task"] or "unknown"


def kill_attribution(
    probe: list[dict], waiting: set[int], kill_at: float, times: dict
) -> dict[int, str]:
    """For each waiting order, the path of the last routing attempt before it was routed."""
    killed_task_ids = {r["task_id"] for r in probe if r["t"] <= kill_at}
    paths: dict[int, str] = {}
    for order_id in waiting:
        routed = times[order_id][1]
        attempts = [
            r
            for r in probe
            if r["order"] == order_id and r["t"] > kill_at and (routed is None or r["t"] <= routed)
        ]
        paths[order_id] = routing_path(attempts[-1], killed_task_ids) if attempts else "not routed"
    return paths


def scenario_kill(args: argparse.Namespace, stamp: str) -> dict:
    sargs = scenario_args(args, args.kill_db, args.kill_redis_db)
    check_redis_db_unused(sargs)
    prepare(sargs)
    probe_log = OUT / f"outages-{stamp}-kill-probe.jsonl"
    env = outage_env(sargs, probe_log)
    install_services(env)
    cancelled = route_demo_backlog(sargs)
    server = Server(ServerConfig.parse("sync:2"), env, OUT / f"outages-{stamp}-kill-gunicorn.log")
    tag = f"kill-{stamp}"
    schedule = OUT / f"outages-{stamp}-kill-beat"
    workers: list[Worker] = []
    try:
        server.wait_ready()
        backlog = Arrivals(server.port, f"{tag}-b", math.inf, args.backlog)
        backlog.run()  # no worker yet: the orders wait, one doorbell message is queued
        background = background_busy(3.0)
        load = MachineLoad()
        arrivals = Arrivals(server.port, f"{tag}-a", args.rate, 10**6, first_number=100_000)
        arrivals_thread = arrivals.start()
        oms_log = OUT / f"outages-{stamp}-kill-oms.log"
        workers.append(
            start_worker(
                env,
                name="bench-webhooks",
                queues="webhooks",
                log_path=OUT / f"outages-{stamp}-kill-webhooks.log",
                concurrency=4,
            )
        )
        first = start_worker(
            env,
            name="bench-oms",
            queues="oms",
            log_path=oms_log,
            beat_schedule=schedule,
            concurrency=args.oms_concurrency,
        )
        workers.append(first)
        while routed_count(sargs.db, tag) < args.kill_after_routed:
            time.sleep(0.05)
        first.kill()
        kill_at = time.time()
        claimed = claimed_orders(sargs)
        waiting_at_kill = {
            order_id
            for order_id, (_c, routed) in routing_times(sargs.db, tag).items()
            if routed is None or routed > kill_at
        }
        routed_before_kill = len(routing_times(sargs.db, tag)) - len(waiting_at_kill)
        in_flight = {
            r["order"]
            for r in probe_records(probe_log)
            if r["t"] <= kill_at and r["order"] in waiting_at_kill
        }
        unacked = int(redis_cmd(sargs, "HLEN", "unacked") or 0)
        bell = bool(redis_cmd(sargs, "--scan", "--pattern", "*routing:bell:*"))
        time.sleep(args.restart_delay)
        restarted_at = time.time()
        workers.append(
            start_worker(
                env,
                name="bench-oms2",
                queues="oms",
                log_path=OUT / f"outages-{stamp}-kill-oms2.log",
                beat_schedule=schedule,
                concurrency=args.oms_concurrency,
            )
        )
        ready_at = time.time()
        time.sleep(max(0.0, kill_at + args.arrivals_after_kill - time.time()))
        arrivals.stop.set()
        arrivals_thread.join(60)
        times = wait_all_routed(sargs.db, tag, args.kill_wait)
        # orders created after the kill count too: they wait like the others
        waiting = waiting_at_kill | {
            order_id
            for order_id, (created, routed) in times.items()
            if created > kill_at and created < restarted_at
        }
        paths = kill_attribution(probe_records(probe_log), waiting, kill_at, times)
        load_figures = load.done()
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
        teardown(sargs)
    after_kill = {
        order_id: times[order_id][1] - max(kill_at, times[order_id][0])
        for order_id in waiting
        if times[order_id][1] is not None
    }
    by_path: dict[str, list[float]] = {}
    for order_id, seconds in after_kill.items():
        by_path.setdefault(paths[order_id], []).append(seconds)
    result = {
        "demo_waiting_orders_cancelled": cancelled,
        "backlog_orders": args.backlog,
        "backlog_answers": backlog.statuses,
        "arrival_answers": arrivals.statuses,
        "routed_before_kill": routed_before_kill,
        "waiting_at_kill": len(waiting_at_kill),
        "being_routed_at_kill": sorted(in_flight),
        "claims_left_at_kill": claimed,
        "unacked_messages_at_kill": unacked,
        "bell_set_at_kill": bell,
        "restart_delay_s": args.restart_delay,
        "new_worker_ready_after_kill_s": round(ready_at - kill_at, 2),
        "arrivals_after_kill_s": args.arrivals_after_kill,
        "waiting_orders": len(waiting),
        "kill_to_routed": latency_summary(
            list(after_kill.values()), len(waiting) - len(after_kill)
        ),
        "by_path": {
            path: {"orders": len(v), "max_s": round(max(v), 2), "min_s": round(min(v), 2)}
            for path, v in sorted(by_path.items())
        },
        "claimed_orders_after_kill": {
            str(order_id): {
                "path": paths.get(order_id),
                "seconds": round(after_kill[order_id], 2) if order_id in after_kill else None,
            }
            for order_id in claimed
        },
        "background_busy_cores_before": background,
        **load_figures,
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


# --- main -----------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=["hang", "kill", "both"], default="both")
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="hang: seconds of arrivals")
    parser.add_argument("--drain", type=float, default=180.0, help="hang: wait for the rest")
    parser.add_argument("--modes", default="split,single", help="hang: comma list")
    parser.add_argument(
        "--oms-concurrency",
        type=int,
        default=None,
        help="pool size of the oms worker (default: Celery's, the number of CPUs, as make worker)",
    )
    parser.add_argument("--backlog", type=int, default=300, help="kill: orders before workers")
    parser.add_argument("--kill-after-routed", type=int, default=40)
    parser.add_argument("--restart-delay", type=float, default=2.0)
    parser.add_argument("--arrivals-after-kill", type=float, default=0.0)
    parser.add_argument("--kill-wait", type=float, default=300.0, help="kill: wait for routing")
    parser.add_argument("--hang-db", default="outbench_hang")
    parser.add_argument("--hang-redis-db", type=int, default=4)
    parser.add_argument("--kill-db", default="outbench_kill")
    parser.add_argument("--kill-redis-db", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report: dict = {
        "command": " ".join([".venv/bin/python", "bench/outages.py", *sys.argv[1:]]),
        "machine": describe(),
        "loadavg_before": os.getloadavg(),
    }
    try:
        if args.scenario in ("hang", "both"):
            report["hang"] = scenario_hang(args, stamp)
        if args.scenario in ("kill", "both"):
            report["kill"] = scenario_kill(args, stamp)
        report["loadavg_after"] = os.getloadavg()
    finally:
        path = OUT / f"outages-{stamp}.json"
        path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
        print(f"\nfull results: {path}")


if __name__ == "__main__":
    main()
