"""The four speculation factors, each computed for one day from data up to and including that day only.

All inputs live on a daily calendar grid (NaN on missing days). Every window here is trailing, and the
valuation fit uses only days older than FIT_LAG, so a day's factors never change when later rows arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SMOOTH = 7  # trailing days averaged for market cap, usage and volume (weekly cycles, daily noise)
WARMUP = 90  # calendar days of history before the first score
FIT_LAG = 30  # the valuation fit ignores the most recent days, so a bubble in progress is not absorbed
FIT_SPAN = 540  # at most this many days of older history feed the fit
FIT_POINTS = 60  # the fit subsamples to this many points (keeps Theil-Sen cheap)
MOMENTUM = 30  # days over which price momentum is compared with usage momentum
ADF_WINDOW = 120  # the explosiveness test looks back this far
ADF_MIN = 30  # shortest sub-window in the backward sup-ADF
ADF_STEP = 5  # start points of the backward sup-ADF are this many days apart
ELASTICITY_PRIOR = 1.0  # price/sales-like: value proportional to usage when usage barely moved
ELASTICITY_BAND = 0.5  # price must outrun usage even at elasticity +/- this to count as a premium
METCALFE = 2.0  # ...and, while usage grows, even at Metcalfe's value-grows-with-the-square elasticity

GAP_FLOOR = 0.15  # a valuation gap below this (log) is never a premium
YOUNG_GAP_EXTRA = 0.35  # ...nor below GAP_FLOOR + this while the fit has at most YOUNG_FIT_FULL days,
YOUNG_FIT_FULL, YOUNG_FIT_DONE = 60, 300  # the extra shrinking linearly to nothing at YOUNG_FIT_DONE days

# Points each factor can take off the score (they sum to 100).
WEIGHTS = {"valuation_gap": 35.0, "explosiveness": 25.0, "momentum_divergence": 25.0, "turnover": 15.0}


@dataclass
class Prepared:
    """Smoothed log series on the calendar grid, shared by every day's computation."""

    m: np.ndarray  # log of 7-day mean valuation (market cap, or price when no cap is known)
    u: np.ndarray  # log of 7-day mean daily usage in USD
    turnover: np.ndarray  # 7-day volume / 7-day market cap
    raw_ok: np.ndarray  # the day itself has both valuation and usage


@dataclass
class DayFactors:
    """One day's factor values and the points each takes off the score."""

    gap: float
    gap_threshold: float
    bsadf: float
    divergence: float
    divergence_threshold: float
    turnover_ratio: float
    elasticity: float
    points: dict[str, float]


def trailing_mean(x: np.ndarray, window: int) -> np.ndarray:
    """NaN-aware trailing mean over `window` days (NaN when the whole window is missing)."""
    ok = np.isfinite(x)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
    ccnt = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    count = ccnt[idx] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (csum[idx] - csum[lo]) / np.maximum(count, 1), np.nan)


def _log_pos(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)


def prepare(valuation: np.ndarray, usage: np.ndarray, volume: np.ndarray, cap_known: bool) -> Prepared:
    """Smooth and log the raw daily arrays."""
    mv = trailing_mean(valuation, SMOOTH)
    uv = trailing_mean(usage, SMOOTH)
    vv = trailing_mean(volume, SMOOTH)
    with np.errstate(invalid="ignore", divide="ignore"):
        turnover = vv / mv if cap_known else np.full(len(mv), np.nan)
    return Prepared(_log_pos(mv), _log_pos(uv), turnover, np.isfinite(valuation) & np.isfinite(usage))


@lru_cache(maxsize=8)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """Median of pairwise slopes, ignoring pairs whose x barely differs (robust to outliers)."""
    i, j = _pairs(len(x))
    dx, dy = x[j] - x[i], y[j] - y[i]
    keep = np.abs(dx) > 1e-3
    if keep.sum() < 10:
        return float("nan")
    return float(np.median(dy[keep] / dx[keep]))


def _mad(x: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(x - np.median(x)))) if len(x) else float("nan")


def fit_elasticity(u: np.ndarray, m: np.ndarray) -> float:
    """Robust log-log slope of valuation on usage, shrunk to the prior when usage hardly varied."""
    ok = np.isfinite(u) & np.isfinite(m)
    u, m = u[ok], m[ok]
    if len(u) < 20:
        return ELASTICITY_PRIOR
    step = max(1, len(u) // FIT_POINTS)
    us, ms = u[::-1][::step][::-1], m[::-1][::step][::-1]  # anchored on the newest point
    slope = theil_sen(us, ms)
    spread = float(np.quantile(u, 0.9) - np.quantile(u, 0.1))
    weight = min(1.0, spread / 1.0) if np.isfinite(slope) else 0.0
    b = weight * (slope if np.isfinite(slope) else 0.0) + (1 - weight) * ELASTICITY_PRIOR
    return float(np.clip(b, 0.3, 2.5))


def bsadf(g: np.ndarray) -> float:
    """Backward sup-ADF (Phillips-Shi-Yu, no augmentation lags) of a series ending today; NaN if too short."""
    x, y = g[:-1], np.diff(g)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < ADF_MIN:
        return float("nan")
    # Suffix sums give the OLS fit of y = a + d*x for every window that ends today in one pass.
    xs, ys = np.where(ok, x, 0.0)[::-1], np.where(ok, y, 0.0)[::-1]
    n = np.cumsum(ok[::-1])
    sx, sy = np.cumsum(xs), np.cumsum(ys)
    sxx, sxy, syy = np.cumsum(xs * xs), np.cumsum(xs * ys), np.cumsum(ys * ys)
    ends = np.arange(ADF_MIN - 1, len(x), ADF_STEP)
    ends = ends[n[ends] >= ADF_MIN]
    if not len(ends):
        return float("nan")
    nn = n[ends].astype(float)
    cxx = sxx[ends] - sx[ends] ** 2 / nn
    cxy = sxy[ends] - sx[ends] * sy[ends] / nn
    cyy = syy[ends] - sy[ends] ** 2 / nn
    with np.errstate(invalid="ignore", divide="ignore"):
        d = cxy / cxx
        resid = np.maximum(cyy - d * cxy, 1e-12) / (nn - 2)
        t = d / np.sqrt(resid / cxx)
    t = t[np.isfinite(t) & (cxx > 1e-12)]
    return float(t.max()) if len(t) else float("nan")


def _ramp(value: float, start: float, full: float) -> float:
    """0 at or below start, 1 at or above full, linear between."""
    if not np.isfinite(value):
        return 0.0
    return float(np.clip((value - start) / (full - start), 0.0, 1.0))


def day_factors(p: Prepared, t: int) -> DayFactors | None:
    """Factors for day index t from p[: t + 1] only; None when today or the fit lacks data."""
    if t < WARMUP - 1 or not (np.isfinite(p.m[t]) and np.isfinite(p.u[t])):
        return None
    lo, hi = max(0, t - FIT_LAG - FIT_SPAN), t - FIT_LAG + 1
    fu, fm = p.u[lo:hi], p.m[lo:hi]
    ok = np.isfinite(fu) & np.isfinite(fm)
    if ok.sum() < 20:
        return None
    fu, fm = fu[ok], fm[ok]
    b = fit_elasticity(fu, fm)
    # The premium is counted only if price leads usage even under a generous elasticity (steep adoption).
    u_ref = float(np.median(fu))
    b_cons = min(max(b + ELASTICITY_BAND, METCALFE), 3.0) if p.u[t] > u_ref else max(b - ELASTICITY_BAND, 0.2)
    resid = fm - b_cons * fu
    base = float(np.median(resid))
    scale = _mad(resid)
    gap = float(p.m[t] - b_cons * p.u[t] - base)
    # A short fit window cannot show how far a persistent premium wanders: the noise floor starts wide and
    # narrows to GAP_FLOOR as the window fills (found with an independently written path generator: usage
    # paths were called speculative right after the warm-up on a premium the fit had not seen vary yet).
    young = float(np.clip((YOUNG_FIT_DONE - len(fu)) / (YOUNG_FIT_DONE - YOUNG_FIT_FULL), 0.0, 1.0))
    gap_threshold = max(2.0 * scale, GAP_FLOOR + YOUNG_GAP_EXTRA * young)

    w0 = max(0, t - ADF_WINDOW + 1)
    g = p.m[w0:t + 1] - b_cons * p.u[w0:t + 1] - base
    stat = bsadf(g)
    # A collapsing premium is explosive too; only a growing premium counts as speculation.
    stat_for_points = stat if gap > gap_threshold else float("nan")

    div, div_threshold = float("nan"), 0.1
    if t >= MOMENTUM and np.isfinite(p.m[t - MOMENTUM]) and np.isfinite(p.u[t - MOMENTUM]):
        rm, ru = p.m[t] - p.m[t - MOMENTUM], p.u[t] - p.u[t - MOMENTUM]
        div = float(rm - b * ru - ELASTICITY_BAND * abs(ru))
        hist_m, hist_u = p.m[lo:hi], p.u[lo:hi]
        hd = (hist_m[MOMENTUM:] - hist_m[:-MOMENTUM]) - b * (hist_u[MOMENTUM:] - hist_u[:-MOMENTUM])
        hd = hd[np.isfinite(hd)]
        if len(hd) >= 20:
            div_threshold = max(2.0 * _mad(hd), 0.1)

    ratio = float("nan")
    past_turn = p.turnover[lo:hi]
    past_turn = past_turn[np.isfinite(past_turn) & (past_turn > 0)]
    if len(past_turn) >= 20 and np.isfinite(p.turnover[t]) and p.turnover[t] > 0:
        ratio = float(p.turnover[t] / np.median(past_turn))

    points = {
        "valuation_gap": WEIGHTS["valuation_gap"] * _ramp(gap, gap_threshold, gap_threshold + 0.7),
        "explosiveness": WEIGHTS["explosiveness"] * _ramp(stat_for_points, 0.5, 3.0),
        "momentum_divergence": WEIGHTS["momentum_divergence"] * _ramp(div, div_threshold, div_threshold + 0.5),
        "turnover": WEIGHTS["turnover"] * _ramp(np.log(ratio) if ratio > 0 else np.nan, np.log(1.5), np.log(6)),
    }
    return DayFactors(gap, gap_threshold, stat, div, div_threshold, ratio, b, points)
