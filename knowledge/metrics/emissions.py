"""Token emissions from each protocol's documented schedule in the registry (no network).

- kind "halving" (Bittensor): `daily_issuance` halves each time supply crosses the next threshold
  (`halving_supply`, then half-way to `max_supply`, ...); the supply comes from cached figures when known.
- kind "inflation" (Akash): annual inflation (on chain, from the cached Akash dashboard) x total supply / 365.
- kind "table": an optional `monthly_tokens` figure (or {"YYYY-MM": tokens} table) in the registry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass
class Emission:
    """Daily token emission computed from a schedule, with what it assumed."""

    daily_tokens: float | None
    note: str
    inputs: tuple[str, ...] = ()  # cache ids (source:key) the figure used, for as-of and staleness


def halvings_passed(supply: float, first_threshold: float, max_supply: float) -> int:
    """How many halving thresholds `supply` has crossed (thresholds approach max_supply by halves)."""
    count, threshold = 0, first_threshold
    while supply >= threshold and count < 64:
        count += 1
        threshold = max_supply - (max_supply - threshold) / 2
    return count


def daily_emission(protocol: Any, supply: float | None = None, inflation: float | None = None,
                   total_supply: float | None = None, today: dt.date | None = None) -> Emission:
    """Daily emission in tokens for `protocol` per its documented schedule; None with a reason if unknown."""
    sched = dict(protocol.emission or {})
    kind = sched.get("kind", "")
    ticker = protocol.tickers[0] if protocol.tickers else protocol.id.upper()
    if kind == "halving" and sched.get("daily_issuance"):
        base = float(sched["daily_issuance"])
        first = float(sched.get("halving_supply") or 0)
        cap = float(sched.get("max_supply") or 0)
        if not first or not cap:
            return Emission(base, f"{base:,.0f} {ticker}/day per the documented schedule (no halving data)")
        if supply is None:
            return Emission(None, f"the schedule gives {base:,.0f} {ticker}/day before the first halving at "
                                  f"{first:,.0f} {ticker} supply; the current supply is not cached, so the "
                                  "current rate is unknown")
        n = halvings_passed(supply, first, cap)
        daily = base / 2 ** n
        return Emission(daily, f"{base:,.0f} {ticker}/day halved {n} time(s): supply {supply:,.0f} of "
                               f"{cap:,.0f} {ticker} (schedule: halving at {first:,.0f}, then half-way to the cap)")
    if kind == "inflation":
        if inflation is None or total_supply is None:
            return Emission(None, "inflation-based: needs the on-chain inflation rate and total supply "
                                  "(Akash Console dashboard), not cached")
        rate = inflation / 100 if inflation > 1 else inflation
        return Emission(rate * total_supply / 365, f"annual inflation {rate:.2%} x total supply "
                                                   f"{total_supply:,.0f} {ticker} / 365")
    if kind == "table":
        monthly = sched.get("monthly_tokens")
        cite = f" ({sched['source']})" if sched.get("source") else ""
        if isinstance(monthly, dict) and monthly:
            month = (today or dt.date.today()).strftime("%Y-%m")
            keys = sorted(k for k in monthly if k <= month) or sorted(monthly)
            value = float(monthly[keys[-1]])
            return Emission(value * 12 / 365, f"{value:,.0f} {ticker} a month from {keys[-1]} per the emission "
                                              f"table{cite}, x 12 / 365")
        if isinstance(monthly, (int, float)) and monthly > 0:
            return Emission(float(monthly) * 12 / 365, f"{monthly:,.0f} {ticker} a month per the emission table{cite}")
        return Emission(None, sched.get("note") or "emission table not in the registry")
    return Emission(None, sched.get("note") or "no documented emission schedule in the registry")
