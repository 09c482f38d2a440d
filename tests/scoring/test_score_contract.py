"""Score contract: warm-up, no look-ahead, no usage -> no score, confidence, labels, JSON keys."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import factors as F
from scoring.score import NoUsageDataError, label_for, score_series
from scoring.series import Series
from tests.scoring.synthetic import hype, usage_driven


def test_labels_follow_documented_thresholds():
    assert [label_for(s) for s in (100, 65, 64.9, 40, 39.9, 20, 19.9, 0)] == [
        "usage-backed", "usage-backed", "mixed", "mixed", "speculative", "speculative",
        "speculative-extreme", "speculative-extreme"]


def test_warm_up_days_are_null_and_later_days_scored():
    result = score_series(usage_driven(5), daily=True)
    assert all(d.score is None and d.label is None for d in result.daily[: F.WARMUP - 1])
    assert all(d.score is not None for d in result.daily[F.WARMUP + 10:F.WARMUP + 40])
    assert all(0 <= d.score <= 100 for d in result.daily if d.score is not None)


def test_short_history_gives_no_score_rather_than_a_guess():
    result = score_series(usage_driven(5).head(60))
    assert result.score is None and result.label is None and result.confidence == 0.0


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), cut=st.integers(100, 380), kind=st.sampled_from([usage_driven, hype]))
def test_no_look_ahead_appending_rows_never_changes_earlier_days(seed, cut, kind):
    full = kind(seed)
    a = score_series(full.head(cut), daily=True).daily
    b = score_series(full, daily=True).daily[:cut]
    assert [(d.date, d.score, d.label, d.confidence) for d in a] == [(d.date, d.score, d.label, d.confidence) for d in b]


def test_latest_score_equals_the_last_daily_value():
    result = score_series(hype(11), daily=True)
    assert result.score == result.daily[-1].score and result.as_of == result.daily[-1].date


def test_no_usage_series_raises_clear_error():
    s = usage_driven(3)
    s.usage_usd[:] = np.nan
    with pytest.raises(NoUsageDataError, match="no usage data"):
        score_series(s)


def test_confidence_falls_with_gaps_short_history_and_missing_usage():
    base = usage_driven(21)
    full = score_series(base).confidence
    short = score_series(base.head(150)).confidence
    gappy = usage_driven(21)
    rng = np.random.default_rng(0)
    holes = rng.random(len(gappy)) < 0.4
    holes[-1] = False  # keep the last day scorable
    gappy.usage_usd[holes] = np.nan
    assert short < full
    assert score_series(gappy).confidence < full


def test_json_has_exactly_the_contract_keys():
    obj = json.loads(score_series(hype(2), protocol="x", daily=True).to_json())
    assert set(obj) == {"protocol", "as_of", "score", "label", "confidence", "factors", "sustainability", "daily"}
    assert {f["name"] for f in obj["factors"]} == {"valuation_gap", "explosiveness", "momentum_divergence", "turnover"}
    for f in obj["factors"]:
        assert set(f) == {"name", "value", "contribution", "explanation"} and f["explanation"]
    assert set(obj["daily"][0]) == {"date", "score", "label", "confidence"}
    # Contributions are the points taken off: the score is 100 plus their (non-positive) sum.
    assert obj["score"] == pytest.approx(max(0.0, 100 + sum(f["contribution"] for f in obj["factors"])), abs=0.3)


def test_missing_days_in_the_calendar_are_tolerated():
    s = usage_driven(8)
    keep = [i for i in range(len(s)) if i % 9 != 4]  # drop every ninth day entirely
    dates = [s.dates[i] for i in keep]
    thin = Series(dates, s.price[keep], s.market_cap[keep], s.volume[keep], s.usage_usd[keep],
                  s.circulating_supply[keep])
    result = score_series(thin, daily=True)
    assert len(result.daily) == (s.dates[-1] - s.dates[0]).days + 1  # one row per calendar day
    assert result.score is not None


def test_price_only_without_market_cap_still_scores_with_lower_confidence():
    s = usage_driven(9)
    with_cap = score_series(s).confidence
    s2 = Series(s.dates, s.price, np.full(len(s), np.nan), s.volume, s.usage_usd, np.full(len(s), np.nan))
    result = score_series(s2)
    assert result.score is not None and result.confidence < with_cap
    assert dt.date.fromisoformat(result.as_of) == s.dates[-1]
