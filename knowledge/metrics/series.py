"""The daily series scoring reads, built from cached histories: CoinGecko market_chart (price, market cap,
volume) and usage in USD (Akash Console daily spend, or DefiLlama daily fees), NaN where a day is missing."""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.metrics import cache

if TYPE_CHECKING:
    from knowledge.protocols import Registry
    from knowledge.store import Store

log = logging.getLogger(__name__)


def _day_ms(ms: float) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).date()


def _day_s(seconds: float) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).date()


def _by_day(points: list[list[Any]], to_day) -> dict[dt.date, float]:
    out: dict[dt.date, float] = {}
    for ts, value in points:
        out[to_day(float(ts))] = float(value)  # the last point of a day wins (CoinGecko adds a "now" point)
    return out


def usage_history(store: "Store", protocol: Any) -> tuple[dict[dt.date, float], str]:
    """Daily usage in USD and where it came from, by the protocol's usage_sources order."""
    for name in protocol.usage_sources:
        if name == "akash_console":
            got = cache.read(store, "akash_console", f"spend:{protocol.id}")
            if got and got[0].get("points"):
                return {dt.date.fromisoformat(d): float(v) for d, v in got[0]["points"]}, "Akash Console daily spend"
        if name in {"defillama_fees", "defillama"}:
            got = cache.read(store, "defillama", f"fees:{protocol.id}")
            if got and got[0].get("chart"):
                return _by_day(got[0]["chart"], _day_s), "DefiLlama daily fees"
    return {}, ""


def load_series(store: "Store", protocol_id: str, registry: "Registry | None" = None):
    """A `scoring.series.Series` for `protocol_id` from the cache, or None when no price history is cached."""
    from scoring.series import Series

    if registry is None:
        from knowledge.protocols import load_registry

        registry = load_registry(store)
    protocol = registry.get(protocol_id)
    got = cache.read(store, "coingecko", f"chart:{protocol.id}")
    if not got or not got[0].get("prices"):
        return None
    chart = got[0]
    price = _by_day(chart["prices"], _day_ms)
    mcap = _by_day(chart.get("market_caps", []), _day_ms)
    volume = _by_day(chart.get("total_volumes", []), _day_ms)
    usage, usage_source = usage_history(store, protocol)
    dates = sorted(price)
    col = lambda table: np.array([table.get(d, math.nan) for d in dates], dtype=float)  # noqa: E731
    p, m = col(price), col(mcap)
    m[~(m > 0)] = np.nan  # CoinGecko reports 0 for days without a market cap
    with np.errstate(divide="ignore", invalid="ignore"):
        supply = np.where((p > 0) & np.isfinite(m), m / p, np.nan)
    source = "CoinGecko market_chart" + (f" + {usage_source}" if usage_source else "")
    return Series(dates, p, m, col(volume), col(usage), supply, source=source)
