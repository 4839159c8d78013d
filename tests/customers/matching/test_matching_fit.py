"""The EM of the matching core: it recovers known m and u, and its rules are calibrated."""

import math
import random

from customers.matching import MatchRules, Observation, fingerprint
from customers.matching.compare import Evidence, Signal
from customers.matching.fit import (
    FIELDS,
    candidate_pairs,
    comparison_vector,
    em_fit,
    fit_rules,
    level_counts,
)
from customers.matching.whatif import compare_rule_sets, merges_and_splits

# Three fields with 3, 2 and 4 levels: the truth the sample is drawn from.
TRUE_M = ((0.80, 0.15, 0.05), (0.70, 0.30), (0.60, 0.25, 0.10, 0.05))
TRUE_U = ((0.05, 0.15, 0.80), (0.10, 0.90), (0.02, 0.08, 0.30, 0.60))
TRUE_LAMBDA = 0.2


def _draw(rng, probabilities):
    return rng.choices(range(len(probabilities)), weights=probabilities)[0]


def _sample(count, seed):
    rng = random.Random(seed)
    patterns = {}
    for _ in range(count):
        table = TRUE_M if rng.random() < TRUE_LAMBDA else TRUE_U
        vector = tuple(_draw(rng, row) for row in table)
        patterns[vector] = patterns.get(vector, 0) + 1
    return patterns


def test_em_recovers_known_m_u_and_lambda_from_unlabelled_vectors():
    patterns = _sample(40_000, seed=11)
    flat = [[1 / len(row)] * len(row) for row in TRUE_M]
    start_m = [[0.5, 0.3, 0.2], [0.6, 0.4], [0.4, 0.3, 0.2, 0.1]]

    result = em_fit(patterns, [3, 2, 4], m=start_m, u=flat, lambda_=0.5)

    assert result.converged
    assert abs(result.lambda_ - TRUE_LAMBDA) < 0.015
    for fitted, true in ((result.m, TRUE_M), (result.u, TRUE_U)):
        for fitted_row, true_row in zip(fitted, true, strict=True):
            for estimate, value in zip(fitted_row, true_row, strict=True):
                assert abs(estimate - value) < 0.03


def test_the_link_threshold_sits_at_the_chosen_posterior():
    patterns = {
        (0, 0, 0, 0, 0, 1): 300,  # same phone, device, account, name, address
        (4, 2, 2, 5, 3, 0): 900,  # everything differs, receiver mismatch
        (0, 2, 2, 0, 0, 1): 150,
        (4, 2, 2, 0, 0, 1): 120,
        (4, 0, 2, 5, 0, 1): 60,
        (0, 2, 2, 5, 3, 0): 50,
    }
    fitted = fit_rules(patterns, MatchRules(), link_posterior=0.99, review_posterior=0.5)
    rules = MatchRules.from_mapping(fitted.rules_mapping())
    prior = math.log2(fitted.em.lambda_ / (1 - fitted.em.lambda_))
    shift = sum(math.log2(fitted.em.m[f][-1] / fitted.em.u[f][-1]) for f in range(len(FIELDS)))
    # Stored score + absent weights + prior = log-odds: 0.99 at the link threshold.
    odds = math.exp2(rules.link_threshold + shift + prior)
    assert abs(odds / (1 + odds) - 0.99) < 1e-3
    assert rules.review_threshold < rules.link_threshold
    assert rules.exact_keys == MatchRules().exact_keys


def test_a_comparison_vector_has_one_level_per_field_and_absent_for_the_rest():
    vector = comparison_vector(
        [Evidence(Signal.PHONE_SAME, ""), Evidence(Signal.NAME_COMPATIBLE, "")]
    )
    assert len(vector) == len(FIELDS)
    assert vector[0] == 0 and vector[3] == 1
    assert [level for f, level in enumerate(vector) if f not in (0, 3)] == [
        count - 1 for f, count in enumerate(level_counts()) if f not in (0, 3)
    ]


def _record(record_id, phone, name, address):
    observation = Observation(record_id, "douyin", "", "", phone, name, address, None)
    return fingerprint(observation, key=b"test")


def test_candidate_pairs_are_bounded_per_key():
    records = [
        _record(f"r{n}", "13800138000", f"名{n}", f"上海市浦东新区路{n}号") for n in range(10)
    ]
    pairs = list(candidate_pairs(records, max_per_key=3))
    assert len(pairs) == 0 + 1 + 2 + 3 * 7  # the 4th record on meet only the newest 3
    assert all(later > earlier for later, earlier in pairs)


def test_comparing_rule_sets_counts_merges_and_splits():
    place = "北京市朝阳区建国路88号5号楼2单元301室"
    records = [
        _record("p1", "13800138000", "张伟", "上海 上海 浦东新区 世纪大道100号"),
        _record("p2", "13800138000", "小伟", "上海 上海 浦东新区 世纪大道100号"),
        _record("q1", "13900000001", "李娜", place),
        _record("q2", "13900000002", "李娜", place),
    ]
    draft = MatchRules.from_mapping(
        {
            "weights": {"name_compatible": -20, "phone_different": 0},
            "link_threshold": 9.5,
            "review_threshold": 5,
        }
    )
    comparison = compare_rule_sets(records, MatchRules(), draft)
    assert (comparison.merges, comparison.splits) == (1, 1)
    assert (comparison.pairs_joined, comparison.pairs_parted) == (1, 1)
    changes = {item.change: item for item in comparison.examples}
    assert changes["split"].names == ("小*", "张*")
    assert changes["split"].phones == ("138****8000", "138****8000")
    assert "same phone 138****8000" in changes["split"].reasons
    assert changes["merge"].score_after == 10 and changes["merge"].score_before == 7
    assert merges_and_splits({"a": "1", "b": "1"}, {"a": "1", "b": "2"}) == (0, 1)
