"""Benchmark: time to score 1,000 days with the daily (look-ahead-free) history. Run: python benchmarks/bench_scoring.py"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from scoring.score import score_series
from scoring.series import Series


def synthetic(n: int = 1000, seed: int = 7) -> Series:
    """A plain random-walk market cap over noisy growing usage (speed does not depend on the shape)."""
    rng = np.random.default_rng(seed)
    usage = np.exp(np.log(1e5) + np.cumsum(rng.normal(0.002, 0.03, n)))
    mcap = np.exp(np.log(1e9) + np.cumsum(rng.normal(0.002, 0.04, n)))
    dates = [dt.date(2022, 1, 1) + dt.timedelta(days=i) for i in range(n)]
    supply = np.full(n, 1e8)
    return Series(dates, mcap / supply, mcap, mcap * 0.05, usage, supply)


def main() -> None:
    series = synthetic()
    score_series(series.head(200), daily=True)  # warm imports and caches
    start = time.perf_counter()
    result = score_series(series, daily=True)
    elapsed = time.perf_counter() - start
    scored = sum(d.score is not None for d in result.daily)
    print(f"scored 1,000 days daily ({scored} with a score) in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
