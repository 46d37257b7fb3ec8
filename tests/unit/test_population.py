"""Estimates for all traffic from spot checks drawn with unequal probabilities."""
import random

import pytest

from core.population import all_traffic, escaped


def test_strata_are_weighed_by_their_size_not_by_how_often_they_were_checked():
    # 900 wide-margin auto-approvals checked at 10 % (9 of 90 wrong), 100 narrow ones all checked (none wrong).
    e = escaped({"0.1": 900, "1": 100}, {"0.1": (90, 9), "1": (100, 0)})
    assert e.rate == pytest.approx(0.09) and e.population == 1000 and (e.checks, e.flagged) == (190, 9)
    assert e.low < 0.09 < e.high and e.low > 0.03
    assert 9 / 190 < e.low  # the unweighted share of flags would understate it


def test_a_stratum_without_a_verdict_is_reported_not_guessed():
    e = escaped({"0.05": 400, "0.15": 50}, {"0.05": (20, 0)})
    assert e.population == 400 and e.uncovered == 50 and e.rate == 0.0
    assert 0.1 < e.high < 0.25  # 0 of 20 still allows a real rate well above zero
    assert escaped({"0.05": 10}, {}).rate is None


def test_all_traffic_counts_reviews_as_decided_and_auto_approvals_as_estimated():
    auto = escaped({"0.1": 1000}, {"0.1": (100, 9)})
    total = all_traffic(reviewed=100, wrong_reviewed=20, auto=auto)
    assert total.rate == pytest.approx((20 + 90) / 1100) and total.population == 1100
    assert total.low < total.rate < total.high
    only_reviewed = all_traffic(50, 5, escaped({}, {}))
    assert only_reviewed.rate == 0.1 and only_reviewed.population == 50
    assert all_traffic(0, 0, escaped({}, {})).rate is None


def test_the_interval_covers_the_truth_about_as_often_as_it_says():
    rng, covered, runs = random.Random(5), 0, 300
    for _ in range(runs):
        strata, verdicts, wrong, total = {}, {}, 0, 0
        for p, n, error in ((0.05, 2000, 0.01), (0.15, 300, 0.06), (1.0, 20, 0.2)):
            key = f"{p:g}"
            errors = [rng.random() < error for _ in range(n)]
            drawn = [e for e in errors if rng.random() < p]
            strata[key], verdicts[key] = n, (len(drawn), sum(drawn))
            wrong, total = wrong + sum(errors), total + n
        e = escaped(strata, verdicts)
        covered += e.low <= wrong / total <= e.high
    assert covered / runs >= 0.9
