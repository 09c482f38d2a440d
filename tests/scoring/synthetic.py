"""Synthetic daily paths with known ground truth: usage-driven, hype (bubble then crash), steep adoption.

Each generator is seeded by an int and draws its own variant: length, noise, elasticity, volume pattern.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from scoring.series import Series

START = dt.date(2021, 1, 1)


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    out = np.zeros(n)
    e = rng.normal(0, sigma, n)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


def _usage_base(rng: np.random.Generator, n: int, drift_per_year: float) -> np.ndarray:
    """Log daily usage: level + drift + slow AR wander + weekly cycle."""
    t = np.arange(n)
    weekly = rng.uniform(0, 0.15) * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 6))
    return np.log(rng.uniform(2e4, 5e5)) + drift_per_year * t / 365 + _ar1(rng, n, 0.97, rng.uniform(0.01, 0.04)) + weekly


def _assemble(rng: np.random.Generator, log_usage: np.ndarray, log_premium: np.ndarray, elasticity: float,
              turnover_boost: np.ndarray | None = None) -> Series:
    """Build a Series: market cap = k * usage_trend^elasticity * exp(premium); noisy daily usage; volume."""
    n = len(log_usage)
    smooth_u = np.convolve(log_usage, np.ones(7) / 7, mode="full")[:n]
    smooth_u[:7] = log_usage[:7]
    log_mcap = np.log(rng.uniform(20, 200)) + elasticity * smooth_u + log_premium
    log_mcap += rng.normal(0, rng.uniform(0.01, 0.04), n)  # daily price noise
    daily_usage = np.exp(log_usage + rng.normal(0, rng.uniform(0.05, 0.3), n))
    supply = np.full(n, rng.uniform(1e7, 1e9)) * np.exp(np.linspace(0, rng.uniform(0, 0.3), n))
    mcap = np.exp(log_mcap)
    turnover = rng.uniform(0.01, 0.08) * np.exp(rng.normal(0, rng.uniform(0.1, 0.5), n))
    if turnover_boost is not None:
        turnover = turnover * np.exp(turnover_boost)
    volume = mcap * turnover
    dates = [START + dt.timedelta(days=i) for i in range(n)]
    s = Series(dates, mcap / supply, mcap, volume, daily_usage, supply)
    if rng.random() < 0.3:  # some paths have scattered missing days
        holes = rng.random(n) < rng.uniform(0.01, 0.08)
        s.usage_usd[holes] = np.nan
        s.volume[rng.random(n) < 0.03] = np.nan
    return s


def usage_driven(seed: int) -> Series:
    """Valuation follows usage (any elasticity) with a stationary, sometimes persistent, premium."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(400, 1000))
    log_u = _usage_base(rng, n, rng.uniform(-0.6, 1.2))
    noisy = rng.random() < 0.4  # a persistent, near-random-walk premium in some paths
    premium = _ar1(rng, n, rng.uniform(0.97, 0.995), rng.uniform(0.02, 0.05)) if noisy else \
        _ar1(rng, n, rng.uniform(0.9, 0.99), rng.uniform(0.01, 0.04))
    return _assemble(rng, log_u, premium, rng.uniform(0.6, 2.2))


def hype(seed: int) -> Series:
    """A premium over usage that grows explosively (ratio-AR with rho > 1), peaks, then crashes."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(400, 1000))
    log_u = _usage_base(rng, n, rng.uniform(-0.3, 0.6))
    premium = _ar1(rng, n, rng.uniform(0.9, 0.98), rng.uniform(0.01, 0.03))
    start = int(rng.integers(150, n - 200))
    peak_level = rng.uniform(0.8, 2.5)
    rho = rng.uniform(1.02, 1.06)
    p, i, bubble = 0.05, start, np.zeros(n)
    while p < peak_level and i < n - 40:
        bubble[i] = p
        p = p * rho + abs(rng.normal(0, 0.01))
        i += 1
    crash_days = int(rng.integers(10, 40))
    crash = np.linspace(p, rng.uniform(-0.3, 0.2), crash_days)
    end = min(n, i + crash_days)
    bubble[i:end] = crash[: end - i]
    bubble[end:] = crash[-1]
    boost = bubble * rng.uniform(0.0, 1.0) if rng.random() < 0.7 else None
    if rng.random() < 0.3:  # hype often brings some real usage growth with it
        log_u = log_u + 0.3 * bubble.clip(0) / peak_level
    return _assemble(rng, log_u, premium + bubble, rng.uniform(0.6, 2.2), boost)


def steep_adoption(seed: int) -> Series:
    """Usage grows several-fold along an S-curve and price explodes with it, premium staying stationary."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(400, 1000))
    log_u = _usage_base(rng, n, rng.uniform(-0.1, 0.3))
    mid = rng.uniform(0.3, 0.85) * n
    width = rng.uniform(15, 60)
    rise = rng.uniform(1.5, 4.0)  # 4.5x to 55x more usage
    log_u = log_u + rise / (1 + np.exp(-(np.arange(n) - mid) / width))
    premium = _ar1(rng, n, rng.uniform(0.9, 0.98), rng.uniform(0.01, 0.04))
    boost = (log_u - log_u[0]) * rng.uniform(0, 0.3) if rng.random() < 0.5 else None  # excitement volume
    elasticity = rng.uniform(0.7, 2.2)
    lead = int(rng.integers(0, 15))  # markets may price adoption a few days before it shows in usage
    priced = np.concatenate([log_u[lead:], np.full(lead, log_u[-1])]) if lead else log_u
    return _assemble(rng, log_u, premium + elasticity * (priced - log_u), elasticity, boost)


GENERATORS = {"usage": usage_driven, "hype": hype, "steep": steep_adoption}
