"""The score separates hype from usage-driven paths and does not call steep adoption speculative."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.score import score_series
from tests.scoring.synthetic import hype, steep_adoption, usage_driven


def lowest_daily(series) -> float:
    result = score_series(series, daily=True)
    scores = [d.score for d in result.daily if d.score is not None]
    assert scores, "every synthetic path is long enough to be scored"
    return min(scores)


def auc(positives: list[float], negatives: list[float]) -> float:
    """P(a usage path's lowest score > a hype path's lowest score), ties counting half."""
    pos, neg = np.array(positives)[:, None], np.array(negatives)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


@pytest.fixture(scope="module")
def lows() -> dict[str, list[float]]:
    # Seeds start far from the ones used while tuning (0-300) so this is closer to held-out data.
    return {
        "usage": [lowest_daily(usage_driven(1000 + i)) for i in range(30)],
        "hype": [lowest_daily(hype(2000 + i)) for i in range(30)],
        "steep": [lowest_daily(steep_adoption(3000 + i)) for i in range(20)],
    }


def test_auc_of_lowest_daily_score_separates_hype_from_usage(lows):
    value = auc(lows["usage"], lows["hype"])
    print(f"AUC usage-vs-hype = {value:.3f}")
    assert value >= 0.9


def test_steep_adoption_is_rarely_called_speculative(lows):
    speculative = sum(score < 40 for score in lows["steep"])
    print(f"steep adoption called speculative on {speculative}/{len(lows['steep'])} paths")
    assert speculative <= len(lows["steep"]) // 10


def test_hype_paths_reach_a_speculative_label_on_most_paths(lows):
    assert sum(score < 40 for score in lows["hype"]) >= 0.8 * len(lows["hype"])
