"""Identity-resolution benchmark of the pure matching core (no database).

Generates a seeded dataset with ground truth (``customers.matching.generate``), resolves every
observation in time order with :class:`IncrementalResolver`, and reports pairwise precision
and recall, the pairwise confusion matrix, false merges per hard-negative kind, review count
and throughput; two naive baselines run on the same data in the same process: exact phone
only, and the union of exact phone / device / address keys. ``--latency N`` also loads N
observations and times single ``resolve`` calls against them (p50/p99).

    .venv/bin/python bench/matching_quality.py                      # 20,000 observations
    .venv/bin/python bench/matching_quality.py --count 100000 --latency 100000
    .venv/bin/python bench/matching_quality.py --rules '{"name_address_key": true}'
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from customers.matching.blocking import IncrementalResolver, resolve
from customers.matching.generate import (
    HARD_NEGATIVE_KINDS,
    GeneratedDataset,
    generate_observations,
)
from customers.matching.records import Fingerprint, fingerprint
from customers.matching.score import MatchRules

KEY = b"bench-hmac-key-not-secret"


def pairs(size: int) -> int:
    return size * (size - 1) // 2


def confusion(assignments: dict[str, str], person_of: dict[str, str]) -> dict[str, int]:
    """Pairwise TP/FP/FN/TN of a clustering against the truth, from a contingency table."""
    cluster_sizes = Counter(assignments.values())
    person_sizes = Counter(person_of.values())
    cell_sizes = Counter((assignments[record], person_of[record]) for record in assignments)
    true_positive = sum(pairs(size) for size in cell_sizes.values())
    predicted = sum(pairs(size) for size in cluster_sizes.values())
    actual = sum(pairs(size) for size in person_sizes.values())
    total = pairs(len(assignments))
    return {
        "TP": true_positive,
        "FP": predicted - true_positive,
        "FN": actual - true_positive,
        "TN": total - predicted - actual + true_positive,
    }


def false_merges_by_kind(
    assignments: dict[str, str], dataset: GeneratedDataset
) -> dict[str, tuple[int, int]]:
    """kind -> (person pairs wrongly merged, record pairs wrongly merged).

    A merged pair of people is labelled with its planted relation; unplanted pairs with the
    same name in the same district are natural namesakes; the rest are "other".
    """
    members: dict[str, Counter[str]] = defaultdict(Counter)
    for record, customer in assignments.items():
        members[customer][dataset.person_of[record]] += 1
    result: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for counts in members.values():
        if len(counts) < 2:
            continue
        for first, second in combinations(sorted(counts), 2):
            kind = dataset.relations.get(frozenset((first, second)))
            if kind is None:
                same_name = dataset.person_names[first] == dataset.person_names[second]
                same_place = dataset.person_counties[first] == dataset.person_counties[second]
                kind = "namesake (not planted)" if same_name and same_place else "other"
            result[kind][0] += 1
            result[kind][1] += counts[first] * counts[second]
    return {kind: (people, records) for kind, (people, records) in result.items()}


def key_union_baseline(
    fingerprints: Iterable[Fingerprint], key_of: Callable[[Fingerprint], list[str]]
) -> dict[str, str]:
    """Cluster by union-find over exact keys (the naive matcher's behaviour)."""
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    owner: dict[str, str] = {}
    for record in fingerprints:
        parent[record.record_id] = record.record_id
        for key in key_of(record):
            if key in owner:
                parent[find(record.record_id)] = find(owner[key])
            else:
                owner[key] = record.record_id
    return {record: find(record) for record in parent}


def phone_only(record: Fingerprint) -> list[str]:
    return [record.phone_digest] if record.phone_digest else []


def any_key(record: Fingerprint) -> list[str]:
    keys = []
    if record.phone_digest:
        keys.append("p" + record.phone_digest)
    if record.device_id:
        keys.append("d" + record.device_id)
    if record.address_digest:
        keys.append("a" + record.address_digest)
    return keys


def metrics_row(label: str, matrix: dict[str, int]) -> str:
    precision = matrix["TP"] / max(matrix["TP"] + matrix["FP"], 1)
    recall = matrix["TP"] / max(matrix["TP"] + matrix["FN"], 1)
    return (
        f"| {label} | {precision:.4%} | {recall:.4%} | {matrix['TP']:,} | {matrix['FP']:,} "
        f"| {matrix['FN']:,} | {matrix['TN']:,} |"
    )


def run_quality(count: int, seed: int, rules: MatchRules | None = None) -> None:
    started = time.perf_counter()
    dataset = generate_observations(count, seed=seed)
    generated = time.perf_counter() - started
    observations = dataset.observations

    cpu_started = time.process_time()
    started = time.perf_counter()
    fingerprints = [fingerprint(observation, key=KEY) for observation in observations]
    normalised = time.perf_counter() - started

    resolver = IncrementalResolver(rules)
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    for record in fingerprints:
        outcomes[resolver.add(record).outcome] += 1
    resolved = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    assignments = resolver.assignments()

    people = len(set(dataset.person_of.values()))
    print(
        f"## Identity resolution: {len(observations):,} observations, {people:,} people, seed {seed}\n"
    )
    print(
        f"Generated in {generated:.1f} s. Planted relations: {dict(Counter(dataset.relations.values()))}; "
        f"group-proxy orders: {sum(1 for kind in dataset.kind_of.values() if kind == 'group_proxy')}.\n"
    )
    print("| matcher | pairwise precision | pairwise recall | TP | FP | FN | TN |")
    print("|---|---|---|---|---|---|---|")
    core = confusion(assignments, dataset.person_of)
    phone = confusion(key_union_baseline(fingerprints, phone_only), dataset.person_of)
    union = confusion(key_union_baseline(fingerprints, any_key), dataset.person_of)
    print(metrics_row(f"customers.matching (rules {'given' if rules else 'default'})", core))
    print(metrics_row("baseline: exact phone only", phone))
    print(metrics_row("baseline: exact phone or device or address", union))
    print()
    print("False merges per kind (person pairs / record pairs wrongly put together):\n")
    print("| kind | core | phone only | phone/device/address |")
    print("|---|---|---|---|")
    per_kind = [
        false_merges_by_kind(assignments, dataset),
        false_merges_by_kind(key_union_baseline(fingerprints, phone_only), dataset),
        false_merges_by_kind(key_union_baseline(fingerprints, any_key), dataset),
    ]
    kinds = [*HARD_NEGATIVE_KINDS, "namesake (not planted)", "other"]
    for kind in kinds:
        cells = [
            f"{table.get(kind, (0, 0))[0]} / {table.get(kind, (0, 0))[1]}" for table in per_kind
        ]
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print()
    outcome_counts = {outcome.value: count for outcome, count in outcomes.items()}
    print(
        f"Outcomes: {outcome_counts}; reviews flagged: {len(resolver.reviews)}; "
        f"customers: {len(set(assignments.values())):,} (true people {people:,}).\n"
    )
    total = normalised + resolved
    print(
        f"Throughput (wall clock): normalise {len(observations) / normalised:,.0f} obs/s, "
        f"resolve+index {len(observations) / resolved:,.0f} obs/s, end to end "
        f"{len(observations) / total:,.0f} obs/s ({total:.2f} s; CPU time of this process "
        f"{cpu_seconds:.2f} s = {len(observations) / cpu_seconds:,.0f} obs/s per core); "
        f"comparisons {resolver.comparisons:,} "
        f"({resolver.comparisons / len(observations):.1f} per observation).\n"
    )


def run_latency(size: int, seed: int, probes: int = 2000, freeze: bool = False) -> None:
    dataset = generate_observations(size + probes, seed=seed)
    fingerprints = [fingerprint(observation, key=KEY) for observation in dataset.observations]
    stored, probe_records = fingerprints[:-probes], fingerprints[-probes:]
    resolver = IncrementalResolver()
    started = time.perf_counter()
    resolver.add_all(stored)
    loaded = time.perf_counter() - started
    if freeze:
        gc.collect()
        gc.freeze()  # long-lived index: keep the cyclic collector from rescanning it
    timings = []
    comparisons = []
    for record in probe_records:
        begin = time.perf_counter()
        decision = resolve(record, resolver.index, resolver.rules)
        timings.append((time.perf_counter() - begin) * 1000)
        comparisons.append(decision.comparisons)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    frozen = " (gc.freeze after loading)" if freeze else ""
    print(f"## Single resolve against {len(stored):,} stored identities (in memory){frozen}\n")
    print(
        f"Loaded {len(stored):,} observations through the resolver in {loaded:.1f} s "
        f"({len(stored) / loaded:,.0f} obs/s). {probes} probes (the last observations of the "
        f"stream, resolve only): p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {timings[-1]:.3f} ms; "
        f"comparisons per probe: median {statistics.median(comparisons):.0f}, "
        f"max {max(comparisons)} of {len(stored):,} stored. Peak memory of the process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--latency", type=int, default=0, help="stored identities for the latency run"
    )
    parser.add_argument("--latency-only", action="store_true", help="skip the quality run")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() the loaded index")
    parser.add_argument(
        "--rules",
        default="",
        help="rules as the JSON an admin stores (MatchRules.from_mapping), e.g. name_address_key",
    )
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load}\n"
    )
    rules = MatchRules.from_mapping(json.loads(args.rules)) if args.rules else None
    if rules is not None:
        print(f"Rules: defaults with {args.rules}\n")
    if not args.latency_only:
        run_quality(args.count, args.seed, rules)
    if args.latency:
        run_latency(args.latency, args.seed, freeze=args.gc_freeze)


if __name__ == "__main__":
    main()
