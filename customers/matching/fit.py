"""Fit the matcher's weights to a merchant's own records: Fellegi-Sunter with EM.

Each candidate pair (two records sharing a blocking key, the pairs the resolver itself
compares) becomes a *comparison vector*: one level per field, taken from the signals
:func:`~customers.matching.compare.compare` reports (phone, device, account, name, address,
receiver mismatch; a field with no signal is at its "absent" level). Expectation-maximisation
then estimates, without any labels, the share ``lambda`` of matches among the pairs and, per
level, ``m`` (its probability among matches) and ``u`` (among non-matches), assuming the
fields independent given the class. Identical vectors are counted once with their
multiplicity, so an iteration costs the number of distinct vectors (a few hundred), not the
number of pairs.

The weight of a level is ``log2(m / u)``. :class:`~customers.matching.score.MatchRules` has no
weight for an absent field, so each field's absent weight is subtracted from its levels and
the sum of the absent weights moves into the thresholds: every score shifts by the same
constant and every decision stays the Fellegi-Sunter one. The link threshold is the score
whose posterior probability of a match, with the fitted ``lambda``, is ``link_posterior``
(0.99 by default); the review threshold the one at ``review_posterior``. Exact keys and
comparator settings are kept from the rules the fit starts from.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from customers.matching.blocking import blocking_keys
from customers.matching.compare import Evidence, Signal, compare
from customers.matching.records import Fingerprint
from customers.matching.score import MatchRules

ABSENT = "absent"

# The fields of a comparison vector and their levels (the signals compare() reports for the
# field), strongest agreement first. One more level, ABSENT, ends each field.
FIELDS: tuple[tuple[str, tuple[Signal, ...]], ...] = (
    (
        "phone",
        (
            Signal.PHONE_SAME,
            Signal.PHONE_SAME_LONG_GAP,
            Signal.PHONE_SHARED,
            Signal.PHONE_PARTIAL,
            Signal.PHONE_DIFFERENT,
        ),
    ),
    ("device", (Signal.DEVICE_SAME, Signal.DEVICE_SHARED)),
    ("account", (Signal.ACCOUNT_SAME, Signal.ACCOUNT_SHARED)),
    (
        "name",
        (
            Signal.NAME_SAME,
            Signal.NAME_COMPATIBLE,
            Signal.NAME_HONORIFIC,
            Signal.NAME_SIMILAR,
            Signal.NAME_SURNAME_ONLY,
            Signal.NAME_DIFFERENT,
        ),
    ),
    (
        "address",
        (
            Signal.ADDRESS_SAME,
            Signal.ADDRESS_SIMILAR,
            Signal.ADDRESS_NEIGHBOUR,
            Signal.ADDRESS_DIFFERENT,
            Signal.ADMIN_DIFFERENT,
        ),
    ),
    ("receiver", (Signal.RECEIVER_MISMATCH,)),
)

_LEVEL_OF: Mapping[Signal, tuple[int, int]] = {
    signal: (field_index, level)
    for field_index, (_name, signals) in enumerate(FIELDS)
    for level, signal in enumerate(signals)
}

Vector = tuple[int, ...]


def level_counts() -> tuple[int, ...]:
    """Levels per field, the absent level included."""
    return tuple(len(signals) + 1 for _name, signals in FIELDS)


def comparison_vector(evidence: Iterable[Evidence]) -> Vector:
    """The level of each field shown by ``evidence`` (the last level, absent, if none)."""
    vector = [len(signals) for _name, signals in FIELDS]
    for item in evidence:
        position = _LEVEL_OF.get(item.signal)
        if position is not None:
            vector[position[0]] = position[1]
    return tuple(vector)


@dataclass(frozen=True, slots=True)
class EMResult:
    """What EM estimated: per field, per level, ``m`` and ``u``; ``lambda_`` the match share."""

    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    lambda_: float
    iterations: int
    converged: bool
    log_likelihood: float

    def match_weight(self, vector: Vector) -> float:
        """log2 of the likelihood ratio of a vector: the sum of its levels' weights."""
        return sum(math.log2(self.m[f][level] / self.u[f][level]) for f, level in enumerate(vector))

    def posterior(self, vector: Vector) -> float:
        """P(match | vector)."""
        odds = self.lambda_ / (1 - self.lambda_) * math.exp2(self.match_weight(vector))
        return odds / (1 + odds)


def _normalised(row: Sequence[float]) -> tuple[float, ...]:
    total = sum(row)
    return tuple(value / total for value in row)


def em_fit(
    patterns: Mapping[Vector, int],
    levels: Sequence[int],
    *,
    m: Sequence[Sequence[float]],
    u: Sequence[Sequence[float]],
    lambda_: float,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
    smoothing: float = 0.5,
) -> EMResult:
    """Fellegi-Sunter EM over comparison vectors counted by ``patterns``.

    ``m``, ``u`` and ``lambda_`` are the starting point. Each iteration computes every
    vector's posterior match probability (E) and re-estimates the parameters from the
    expected counts (M); ``smoothing`` adds that many pseudo-observations to each level of
    each class, so a level never seen among the matches gets a small ``m``, not zero (whose
    weight would be minus infinity). Stops when no parameter moves more than ``tolerance``.
    """
    current_m = [_normalised(row) for row in m]
    current_u = [_normalised(row) for row in u]
    share = min(max(lambda_, 1e-6), 1 - 1e-6)
    total = sum(patterns.values())
    items = list(patterns.items())
    log_likelihood = -math.inf
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (reported after the loop)
        expected_m = [[smoothing] * count for count in levels]
        expected_u = [[smoothing] * count for count in levels]
        matched = 0.0
        log_likelihood = 0.0
        for vector, count in items:
            match_likelihood = share
            other_likelihood = 1 - share
            for f, level in enumerate(vector):
                match_likelihood *= current_m[f][level]
                other_likelihood *= current_u[f][level]
            evidence = match_likelihood + other_likelihood
            log_likelihood += count * math.log(evidence)
            posterior = match_likelihood / evidence
            weight_m, weight_u = count * posterior, count * (1 - posterior)
            matched += weight_m
            for f, level in enumerate(vector):
                expected_m[f][level] += weight_m
                expected_u[f][level] += weight_u
        new_m = [_normalised(row) for row in expected_m]
        new_u = [_normalised(row) for row in expected_u]
        new_share = min(max(matched / total, 1e-6), 1 - 1e-6) if total else share
        change = max(
            abs(new_share - share),
            *(
                abs(a - b)
                for old, new in zip(current_m, new_m, strict=True)
                for a, b in zip(old, new, strict=True)
            ),
            *(
                abs(a - b)
                for old, new in zip(current_u, new_u, strict=True)
                for a, b in zip(old, new, strict=True)
            ),
        )
        current_m, current_u, share = new_m, new_u, new_share
        if change < tolerance:
            converged = True
            break
    return EMResult(
        m=tuple(current_m),
        u=tuple(current_u),
        lambda_=share,
        iterations=iteration,
        converged=converged,
        log_likelihood=log_likelihood,
    )


def candidate_pairs(
    records: Sequence[Fingerprint], max_per_key: int = 64
) -> Iterator[tuple[int, int]]:
    """Index pairs (later, earlier) of records sharing a blocking key, each pair once.

    Records are taken in the given (arrival) order and each is paired with the newest
    ``max_per_key`` earlier records under each of its keys: the pairs the resolver compares.
    """
    postings: dict[str, deque[int]] = {}
    for index, record in enumerate(records):
        partners: set[int] = set()
        for key in blocking_keys(record):
            posting = postings.get(key)
            if posting is None:
                posting = postings[key] = deque(maxlen=max_per_key)
            partners.update(posting)
            posting.append(index)
        for partner in sorted(partners):
            yield index, partner


def carrier_spread(
    records: Sequence[Fingerprint], customer_of: Mapping[str, str]
) -> dict[tuple[str, str], int]:
    """(carrier kind, value) -> how many customers of ``customer_of`` use that phone, device
    or account: what makes a group leader's phone "shared" when pairs are compared."""
    customers: dict[tuple[str, str], set[str]] = {}
    for record in records:
        customer = customer_of.get(record.record_id, record.record_id)
        for kind, value in (
            ("phone", record.phone_digest),
            ("device", record.device_id),
            ("account", record.account_key),
        ):
            if value:
                customers.setdefault((kind, value), set()).add(customer)
    return {carrier: len(ids) for carrier, ids in customers.items()}


def comparison_patterns(
    records: Sequence[Fingerprint],
    rules: MatchRules,
    *,
    customer_of: Mapping[str, str] | None = None,
    max_per_key: int = 64,
) -> Counter[Vector]:
    """The comparison vectors of all candidate pairs of ``records``, counted.

    Flags a past resolution set on a record (``named_other``, ``carrier_proxy``,
    ``receiver_linked``) are cleared: the fit looks at what the records say, not at what
    earlier rules made of them.
    """
    plain = [
        replace(record, named_other=False, carrier_proxy=False, receiver_linked=False)
        for record in records
    ]
    spread = carrier_spread(plain, customer_of or {})
    patterns: Counter[Vector] = Counter()
    for later, earlier in candidate_pairs(plain, max_per_key):
        first = plain[later]
        carriers = {
            kind: spread.get((kind, value), 1)
            for kind, value in (
                ("phone", first.phone_digest),
                ("device", first.device_id),
                ("account", first.account_key),
            )
            if value
        }
        evidence = compare(first, plain[earlier], rules.compare, carriers)
        patterns[comparison_vector(evidence)] += 1
    return patterns


@dataclass(frozen=True, slots=True)
class FittedRules:
    """A fit's result: the rules mapping to store and what it was estimated from."""

    weights: dict[str, float]
    link_threshold: float
    review_threshold: float
    em: EMResult
    pairs: int
    distinct_vectors: int
    kept_default: tuple[str, ...]
    level_pairs: dict[str, float] = field(default_factory=dict)

    def rules_mapping(self, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON a rule set stores (``MatchRules.from_mapping`` accepts it).

        Comparator settings of ``base`` are kept; weights and thresholds are the fit's.
        """
        data = {key: value for key, value in dict(base or {}).items() if key != "weights"}
        data.update(
            weights=dict(self.weights),
            link_threshold=round(self.link_threshold, 3),
            review_threshold=round(self.review_threshold, 3),
        )
        return data

    def report(self) -> dict[str, Any]:
        """Plain data for staff: m, u and weight per level, lambda, pairs, iterations."""
        levels = []
        for f, (name, signals) in enumerate(FIELDS):
            for level, label in enumerate([*(s.value for s in signals), ABSENT]):
                m, u = self.em.m[f][level], self.em.u[f][level]
                levels.append(
                    {
                        "field": name,
                        "level": label,
                        "m": round(m, 6),
                        "u": round(u, 6),
                        "log2_m_u": round(math.log2(m / u), 3),
                        "pairs": round(self.level_pairs.get(f"{name}:{label}", 0.0)),
                    }
                )
        return {
            "lambda": round(self.em.lambda_, 6),
            "iterations": self.em.iterations,
            "converged": self.em.converged,
            "log_likelihood": round(self.em.log_likelihood, 3),
            "pairs": self.pairs,
            "distinct_vectors": self.distinct_vectors,
            "kept_default": list(self.kept_default),
            "levels": levels,
        }


def _starting_point(
    patterns: Mapping[Vector, int], rules: MatchRules
) -> tuple[list[list[float]], list[list[float]]]:
    """``u`` from the level frequencies (most pairs are non-matches) and ``m`` from them tilted
    by the starting rules' weights (``m / u = 2 ** weight``): EM starts on the side of the
    labels it should find, not on the mirror solution."""
    levels = level_counts()
    frequency = [[1.0] * count for count in levels]
    for vector, count in patterns.items():
        for f, level in enumerate(vector):
            frequency[f][level] += count
    m_start, u_start = [], []
    for f, (_name, signals) in enumerate(FIELDS):
        u_row = list(_normalised(frequency[f]))
        weights = [rules.weights.get(signal, 0.0) for signal in signals] + [0.0]
        # Starting weights are capped so that no level starts as certain.
        m_row = [u * math.exp2(max(min(w, 8.0), -8.0)) for u, w in zip(u_row, weights, strict=True)]
        m_start.append(list(_normalised(m_row)))
        u_start.append(u_row)
    return m_start, u_start


def fit_rules(
    patterns: Mapping[Vector, int],
    start: MatchRules,
    *,
    link_posterior: float = 0.99,
    review_posterior: float = 0.5,
    min_level_pairs: float = 5.0,
    max_weight: float = 20.0,
    initial_lambda: float = 0.1,
) -> FittedRules:
    """Estimate m/u by EM from counted comparison vectors and turn them into rules.

    A level the pairs show fewer than ``min_level_pairs`` times in either class keeps its
    weight from ``start`` (so does every signal outside :data:`FIELDS`): EM cannot estimate
    it. Weights are clipped to ``max_weight`` either way.
    """
    levels = level_counts()
    m_start, u_start = _starting_point(patterns, start)
    em = em_fit(patterns, levels, m=m_start, u=u_start, lambda_=initial_lambda)
    total = sum(patterns.values())
    match_share = [[0.0] * count for count in levels]
    other_share = [[0.0] * count for count in levels]
    for vector, count in patterns.items():
        posterior = em.posterior(vector)
        for f, level in enumerate(vector):
            match_share[f][level] += count * posterior
            other_share[f][level] += count * (1 - posterior)
    weights: dict[str, float] = {
        signal.value: float(weight) for signal, weight in start.weights.items()
    }
    kept: list[str] = []
    shift = 0.0
    level_pairs: dict[str, float] = {}
    for f, (name, signals) in enumerate(FIELDS):
        absent_weight = math.log2(em.m[f][-1] / em.u[f][-1])
        shift += absent_weight
        level_pairs[f"{name}:{ABSENT}"] = match_share[f][-1] + other_share[f][-1]
        for level, signal in enumerate(signals):
            level_pairs[f"{name}:{signal.value}"] = match_share[f][level] + other_share[f][level]
            if min(match_share[f][level], other_share[f][level]) < min_level_pairs:
                kept.append(signal.value)
                continue
            weight = math.log2(em.m[f][level] / em.u[f][level]) - absent_weight
            weights[signal.value] = round(max(min(weight, max_weight), -max_weight), 3)
    prior = math.log2(em.lambda_ / (1 - em.lambda_))

    def threshold(posterior: float) -> float:
        # Full Fellegi-Sunter weight w links at posterior p when prior + w >= log2(p / (1-p));
        # the stored score is w minus the absent weights (``shift``).
        return math.log2(posterior / (1 - posterior)) - prior - shift

    return FittedRules(
        weights=weights,
        link_threshold=threshold(link_posterior),
        review_threshold=threshold(review_posterior),
        em=em,
        pairs=total,
        distinct_vectors=len(patterns),
        kept_default=tuple(kept),
        level_pairs=level_pairs,
    )


def fit_records(
    records: Sequence[Fingerprint],
    start: MatchRules,
    *,
    customer_of: Mapping[str, str] | None = None,
    max_per_key: int = 64,
    link_posterior: float = 0.99,
    review_posterior: float = 0.5,
) -> FittedRules:
    """Compare the candidate pairs of ``records`` (arrival order) and fit rules to them."""
    patterns = comparison_patterns(records, start, customer_of=customer_of, max_per_key=max_per_key)
    return fit_rules(
        patterns, start, link_posterior=link_posterior, review_posterior=review_posterior
    )
