"""Usage-vs-speculation score: 0 (speculation-driven) to 100 (valuation backed by real usage).

Score = 100 minus the points four factors take off (see factors.WEIGHTS):
valuation gap 35, explosiveness 25, momentum divergence 25, turnover 15.
Labels: >= 65 usage-backed, 40-65 mixed, 20-40 speculative, < 20 speculative-extreme.
The first WARMUP (90) calendar days have no score; each day uses only rows up to that day.

Method (all on 7-day means, logs): the valuation gap is log market cap minus a Theil-Sen log-log fit on
usage over days older than 30 (shrunk to elasticity 1 when usage barely moved), evaluated at a generous
elasticity (fit + 0.5, at least 2 while usage grows) so steep adoption is not called a premium;
explosiveness is the backward sup-ADF (Phillips-Shi-Yu) of that gap, counted only while the gap is
abnormal; momentum divergence is the 30-day market-cap return minus what usage returns explain;
turnover is volume/market cap against its own past median. Each factor's points ramp linearly from a
noise threshold learned from the past. Contributions are reported as negative points.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from knowledge.errors import BadInputError
from scoring import factors as F
from scoring.series import Series
from scoring.sustainability import MonthlyFigures, sustainability

LABELS = ((65.0, "usage-backed"), (40.0, "mixed"), (20.0, "speculative"), (-math.inf, "speculative-extreme"))


class NoUsageDataError(BadInputError):
    """There is no usage series, so no honest score can be given."""


@dataclass
class Factor:
    """One factor as reported: its raw value, points taken off the score, and a plain-English line."""

    name: str
    value: float | None
    contribution: float
    explanation: str


@dataclass
class DailyScore:
    """One day's score from data up to and including that day (None during warm-up or gaps)."""

    date: str
    score: float | None
    label: str | None
    confidence: float


@dataclass
class ScoreResult:
    """The latest score with its factors, sustainability figures beside it, and optional daily history."""

    protocol: str
    as_of: str | None
    score: float | None
    label: str | None
    confidence: float
    factors: list[Factor]
    sustainability: dict[str, Any]
    daily: list[DailyScore] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The `--json` object (exactly the documented keys)."""
        d = asdict(self)
        d.pop("note")
        return d

    def to_json(self) -> str:
        """One JSON object; NaN never appears (it becomes null)."""
        return json.dumps(_clean(self.to_dict()), ensure_ascii=False)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def label_for(score: float | None) -> str | None:
    """The chat-facing label for a score."""
    if score is None:
        return None
    return next(name for floor, name in LABELS if score >= floor)


@dataclass
class _Grid:
    """The series on a gap-free daily calendar (missing days become NaN rows)."""

    dates: list[dt.date]
    valuation: np.ndarray
    usage: np.ndarray
    volume: np.ndarray
    cap_known: bool


def _to_grid(series: Series) -> _Grid:
    start = series.dates[0]
    n = (series.dates[-1] - start).days + 1
    pos = np.array([(d - start).days for d in series.dates], dtype=int)

    def put(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.nan)
        out[pos] = values
        return out

    cap_known = bool(np.isfinite(series.market_cap).any())
    valuation = series.market_cap if cap_known else series.price  # price is a proxy when no cap is known
    dates = [start + dt.timedelta(days=i) for i in range(n)]
    return _Grid(dates, put(valuation), put(series.usage_usd), put(series.volume), cap_known)


def _confidence(grid: _Grid, p: F.Prepared, t: int) -> float:
    """0-1: lower with short history, gaps in the last 90 days, missing usage, volume or market cap."""
    history = t + 1
    f_hist = float(np.clip(0.4 + 0.6 * (history - F.WARMUP) / (365 - F.WARMUP), 0.4, 1.0))
    recent = p.raw_ok[max(0, t - 89):t + 1]
    f_gaps = float(recent.mean())
    usage_cover = float(np.isfinite(grid.usage[:t + 1]).mean())
    f_usage = 0.5 + 0.5 * usage_cover
    f_vol = 1.0 if np.isfinite(grid.volume[max(0, t - 89):t + 1]).any() else 0.85
    f_cap = 1.0 if grid.cap_known else 0.85
    return round(f_hist * f_gaps * f_usage * f_vol * f_cap, 2)


def _day_score(day: F.DayFactors | None) -> float | None:
    if day is None:
        return None
    return round(max(0.0, 100.0 - sum(day.points.values())), 1)


def _explain(day: F.DayFactors) -> list[Factor]:
    pts = {k: round(-v, 1) + 0.0 for k, v in day.points.items()}  # + 0.0 turns -0.0 into 0.0

    def fmt(x: float, spec: str = ".2f") -> str:
        return format(x, spec) if np.isfinite(x) else "n/a"

    gap_pct = (math.exp(day.gap) - 1) * 100 if np.isfinite(day.gap) else float("nan")
    return [
        Factor("valuation_gap", _num(day.gap), pts["valuation_gap"],
               f"Market cap is {fmt(gap_pct, '+.0f')}% against what usage explains from past history "
               f"(elasticity {day.elasticity:.2f}; normal range up to {fmt((math.exp(day.gap_threshold) - 1) * 100, '.0f')}%)."),
        Factor("explosiveness", _num(day.bsadf), pts["explosiveness"],
               f"Backward sup-ADF of that gap is {fmt(day.bsadf)}; above about 1 the premium is growing "
               f"explosively, as in a bubble."),
        Factor("momentum_divergence", _num(day.divergence), pts["momentum_divergence"],
               f"Over {F.MOMENTUM} days market cap outran usage by {fmt(day.divergence)} log points "
               f"(allowed noise {fmt(day.divergence_threshold)}); only price running ahead counts."),
        Factor("turnover", _num(day.turnover_ratio), pts["turnover"],
               f"Trading volume over market cap is {fmt(day.turnover_ratio)}x its own past median; "
               f"heavy turnover signals trading rather than use." if np.isfinite(day.turnover_ratio)
               else "No volume history, so turnover is not scored."),
    ]


def _num(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None


def score_series(series: Series, protocol: str = "csv", daily: bool = False,
                 emissions: MonthlyFigures | None = None, burns: MonthlyFigures | None = None) -> ScoreResult:
    """Score a series; `daily` adds each day's look-ahead-free score. NoUsageDataError without usage."""
    if not len(series):
        raise BadInputError("no rows to score")
    if not series.has_usage:
        raise NoUsageDataError(f"{protocol}: no usage data (usage_usd is empty), so no score is given")
    grid = _to_grid(series)
    p = F.prepare(grid.valuation, grid.usage, grid.volume, grid.cap_known)
    n = len(grid.dates)
    days: list[DailyScore] = []
    last: tuple[int, F.DayFactors] | None = None
    for t in range(n) if daily else range(n - 1, max(-1, n - 1 - 2 * F.SMOOTH), -1):
        day = F.day_factors(p, t)
        if day is not None and (last is None or t > last[0]):
            last = (t, day)
        if daily:
            s = _day_score(day)
            days.append(DailyScore(grid.dates[t].isoformat(), s, label_for(s), _confidence(grid, p, t)))
        elif day is not None:
            break  # the newest scorable day is all a non-daily call needs
    sus = sustainability(series, emissions=emissions, burns=burns)
    if last is None:
        reason = (f"needs {F.WARMUP} days of history" if n < F.WARMUP
                  else "the latest days lack market cap or usage figures")
        return ScoreResult(protocol, grid.dates[-1].isoformat(), None, None, 0.0, [], sus, days,
                           note=f"no score: {reason}")
    t, day = last
    score = _day_score(day)
    return ScoreResult(protocol, grid.dates[t].isoformat(), score, label_for(score), _confidence(grid, p, t),
                       _explain(day), sus, days)
