"""Customer matching judged on identity sets the project did not write.

For each set directory (the family of ``../shared/bench-data/identity-dev/``: an
``observations_blind.csv`` input and the answer in ``observations.csv``), this script does what
a user does: a fresh database and merchant, ``manage.py import_identities`` on the blind file,
``manage.py export_customers``, and then scores the exported clustering pairwise against the
answer. In the same run it scores what a user would do instead, on the same file:

- "same phone": records whose normalised phone agrees are one customer;
- "same phone or same account": the union of equal phones and equal channel accounts.

Pairwise precision = true pairs among predicted same-customer pairs, recall = predicted
among true pairs (all pairs, including those that share no phone, device or account).

    .venv/bin/python bench/identity_sets.py                        # the shared sample, SQLite
    .venv/bin/python bench/identity_sets.py --database-url postgres://postgres@127.0.0.1:5432/bench_identity
    .venv/bin/python bench/identity_sets.py DIR [DIR ...] --out bench/RESULTS-identity.md
    .venv/bin/python bench/identity_sets.py --rules '{"name_address_key": true}'
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "bench-data" / "identity-dev"
MERCHANT = "identity-bench"


def pairs_of(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    found = set()
    for members in groups.values():
        for first, second in itertools.combinations(sorted(members), 2):
            found.add((first, second))
    return found


def score(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    true_positive = len(predicted & truth)
    precision = true_positive / len(predicted) if predicted else 1.0
    recall = true_positive / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": true_positive,
        "fp": len(predicted - truth),
        "fn": len(truth - predicted),
    }


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, first: str, second: str) -> None:
        self.parent[self.find(first)] = self.find(second)


def baseline(rows: list[dict[str, str]], *, with_account: bool) -> set[tuple[str, str]]:
    """Clusters of "same normalised phone" (and, optionally, "or same channel account")."""
    sys.path.insert(0, str(ROOT))
    from customers.matching import normalize_phone

    sets = UnionFind()
    first_of: dict[str, str] = {}
    for row in rows:
        record = row["record_id"]
        sets.find(record)
        keys = []
        phone = normalize_phone(row["phone"])
        if phone:
            keys.append("phone:" + phone.e164)
        if with_account and row["channel_account_id"].strip():
            keys.append(f"account:{row['channel']}:{row['channel_account_id'].strip()}")
        for key in keys:
            if key in first_of:
                sets.union(record, first_of[key])
            else:
                first_of[key] = record
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[sets.find(row["record_id"])].append(row["record_id"])
    return pairs_of(groups)


def manage(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def run_set(directory: Path, database_url: str | None, rules: str = "") -> dict[str, object]:
    with (directory / "observations.csv").open(encoding="utf-8") as handle:
        answer = list(csv.DictReader(handle))
    by_person: dict[str, list[str]] = defaultdict(list)
    for row in answer:
        by_person[row["person_id"]].append(row["record_id"])
    truth = pairs_of(by_person)

    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        env["DATABASE_URL"] = database_url or f"sqlite:///{scratch}/identity.sqlite3"
        env.setdefault("OMS_DEMO_DATA", "1")
        if database_url and database_url.startswith("postgres"):
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','oms.settings');"
                    "django.setup();from django.core.management import call_command;"
                    "call_command('flush',interactive=False,verbosity=0)",
                ],
                cwd=ROOT,
                env=env,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        manage("migrate", "--noinput", env=env)
        manage(
            "shell",
            "-c",
            "from oms.models import Merchant;"
            f"Merchant.objects.get_or_create(code={MERCHANT!r}, defaults={{'name': 'Identity bench'}})",
            env=env,
        )
        if rules:
            # The rules in force for everyone, as an admin stores them (the matcher's JSON).
            manage(
                "shell",
                "-c",
                "import json;from customers.models import MatchRuleSet;"
                "MatchRuleSet.objects.filter(merchant__isnull=True).delete();"
                f"MatchRuleSet.objects.create(merchant=None, rules=json.loads({rules!r}))",
                env=env,
            )
        import_seconds = manage(
            "import_identities",
            str(directory / "observations_blind.csv"),
            "--merchant",
            MERCHANT,
            "--no-progress",
            env=env,
        )
        exported = Path(scratch) / "customers.csv"
        manage("export_customers", str(exported), "--merchant", MERCHANT, env=env)
        with exported.open(encoding="utf-8") as handle:
            clusters: dict[str, list[str]] = defaultdict(list)
            for row in csv.DictReader(handle):
                clusters[row["customer_id"]].append(row["record_id"])
    return {
        "set": directory.name,
        "records": len(answer),
        "persons": len(by_person),
        "true_pairs": len(truth),
        "import_seconds": import_seconds,
        "matcher": score(pairs_of(clusters), truth),
        "phone": score(baseline(answer, with_account=False), truth),
        "phone_or_account": score(baseline(answer, with_account=True), truth),
    }


def render(results: list[dict[str, object]], command: str) -> str:
    lines = [
        "# Customer matching on independent identity sets",
        "",
        f"Command: `{command}`",
        "",
        "Load average at the end of the run: "
        + ", ".join(f"{value:.2f}" for value in os.getloadavg()),
        "",
        "| set | records | true pairs | matcher | precision | recall | F1 | TP | FP | FN | import s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for label, key in (
            ("**import_identities / export_customers**", "matcher"),
            ("same phone", "phone"),
            ("same phone or same account", "phone_or_account"),
        ):
            figures = result[key]
            assert isinstance(figures, dict)
            seconds = f"{result['import_seconds']:.1f}" if key == "matcher" else ""
            lines.append(
                f"| {result['set']} | {result['records']} | {result['true_pairs']} | {label} | "
                f"{figures['precision']:.4f} | {figures['recall']:.4f} | {figures['f1']:.4f} | "
                f"{figures['tp']} | {figures['fp']} | {figures['fn']} | {seconds} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=[DEFAULT_SET])
    parser.add_argument("--database-url", help="default: a scratch SQLite file per set")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    parser.add_argument(
        "--rules", default="", help="matching rules JSON in force (default: the built-in rules)"
    )
    args = parser.parse_args()
    results = [run_set(directory, args.database_url, args.rules) for directory in args.sets]
    table = render(results, "python " + " ".join(sys.argv))
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
