"""Sustainability figures reported beside the score (never mixed into it): emissions vs usage, burn vs mint."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scoring.series import Series


@dataclass
class MonthlySeries:
    """Monthly USD figures (emissions or burns): first-of-month dates and values, NaN where unknown."""

    months: list[dt.date]
    usd: np.ndarray
    source: str = ""
    tokens: np.ndarray = field(default_factory=lambda: np.array([]))

    def latest_on_or_before(self, day: dt.date) -> tuple[dt.date, float] | None:
        """The newest month starting on or before `day` with a known USD figure."""
        for month, value in sorted(zip(self.months, self.usd), reverse=True):
            if month <= day and math.isfinite(value):
                return month, float(value)
        return None

    def sum_between(self, first: dt.date, last: dt.date) -> float:
        """Sum of known monthly values with first <= month <= last (NaN if none)."""
        vals = [v for m, v in zip(self.months, self.usd) if first <= m <= last and math.isfinite(v)]
        return float(sum(vals)) if vals else float("nan")


MonthlyFigures = MonthlySeries


def _r(x: float, digits: int = 4) -> float | None:
    return round(float(x), digits) if x is not None and math.isfinite(x) else None


def sustainability(series: Series, emissions: MonthlySeries | None = None, burns: MonthlySeries | None = None,
                   take_rate: float | None = None) -> dict[str, Any]:
    """Figures as of the last row: 30-day usage, emissions in USD, their ratio, burn/mint, annualized P/S."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    as_of = series.dates[-1]
    recent = np.array([(as_of - d).days < 30 for d in series.dates])
    usage = series.usage_usd[recent]
    known = usage[np.isfinite(usage)]
    usage_30d = float(known.mean() * 30) if len(known) else float("nan")  # missing days filled at the mean
    out["usage_usd_30d"] = _r(usage_30d, 2)
    caps = series.market_cap[np.isfinite(series.market_cap)]
    mcap = float(caps[-1]) if len(caps) else float("nan")
    out["market_cap"] = _r(mcap, 2)
    out["p_s_annualized"] = _r(mcap / (usage_30d * 365 / 30)) if usage_30d > 0 else None
    if take_rate is not None and math.isfinite(usage_30d):
        out["take_revenue_usd_30d"] = _r(usage_30d * take_rate, 2)
    if emissions is not None:
        hit = emissions.latest_on_or_before(as_of)
        if hit:
            month, value = hit
            per_30d = value * 30 / calendar.monthrange(month.year, month.month)[1]
            out["emissions_usd_30d"] = _r(per_30d, 2)
            out["emissions_month"] = month.strftime("%Y-%m")
            out["emissions_to_usage"] = _r(per_30d / usage_30d) if usage_30d > 0 else None
            if (as_of - month).days > 62:
                notes.append(f"emission figure is from {month:%Y-%m}, older than the data")
            if emissions.source:
                notes.append(f"emissions: {emissions.source}")
            if burns is not None:
                first = dt.date(month.year - 1, month.month, 1)
                mint = emissions.sum_between(first, month)
                burn = burns.sum_between(first, month)
                out["burn_to_mint"] = _r(burn / mint) if mint > 0 and math.isfinite(burn) else None
        else:
            notes.append("no emission figure on or before the last row")
    ratio = out.get("emissions_to_usage")
    if ratio is not None:
        notes.append(f"emissions are {ratio:.1f}x usage revenue" + (" (subsidised demand)" if ratio > 1 else ""))
    if out["usage_usd_30d"] is None:
        notes.append("no usage in the last 30 days")
    out["note"] = "; ".join(notes) if notes else "usage and valuation only (no emission data given)"
    return out
