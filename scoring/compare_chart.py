"""Comparison chart: market cap vs annualized usage per protocol (grouped bars, log scale) and the scores.

Takes a `knowledge.compare.Comparison`, its `to_json()` dict, or a list of rows with `name`,
`market_cap_usd`, `usage_annualized_usd`, `score`, `label`. Missing figures are drawn as "no data".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the bot and CLI render to files, never to a window

import matplotlib.pyplot as plt  # noqa: E402

from knowledge.errors import BadInputError  # noqa: E402
from scoring.chart import drawn_alone, save_figure  # noqa: E402

LABEL_FLOORS = (65.0, 40.0, 20.0)  # usage-backed / mixed / speculative / speculative-extreme (scoring.score)


def chart_rows(comparison_or_rows: Any) -> list[dict[str, Any]]:
    """Normalize the input to rows: name, market_cap_usd, usage_annualized_usd, score, label."""
    data = comparison_or_rows
    if hasattr(data, "to_json"):
        data = data.to_json()
    if isinstance(data, dict):
        data = data.get("protocols") or []
    rows = []
    for item in data or []:
        figures = item.get("key_figures") if isinstance(item.get("key_figures"), dict) else item
        rows.append({
            "name": str(item.get("name") or item.get("id") or "?"),
            "market_cap_usd": _pos(figures.get("market_cap_usd")),
            "usage_annualized_usd": _pos(figures.get("usage_annualized_usd")),
            "score": _finite(figures.get("score")),
            "label": figures.get("label") or "",
        })
    return rows


def _finite(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _pos(x: Any) -> float | None:
    x = _finite(x)
    return x if x is not None and x > 0 else None


def _money(x: float) -> str:
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"${x / div:.1f}{suffix}"
    return f"${x:,.0f}"


@drawn_alone
def render_comparison_chart(comparison_or_rows: Any, path: str | Path) -> Path:
    """Write the PNG to `path` and return it; what is missing is marked 'no data'."""
    path = Path(path)
    rows = chart_rows(comparison_or_rows)
    if not rows:
        raise BadInputError("nothing to chart: no protocols")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    try:
        names = [r["name"] for r in rows]
        xs = range(len(rows))
        width = 0.38
        values = [v for r in rows for v in (r["market_cap_usd"], r["usage_annualized_usd"]) if v]
        floor = min(values) / 10 if values else 1.0
        for offset, key, color, label in ((-width / 2, "market_cap_usd", "tab:blue", "market cap"),
                                          (width / 2, "usage_annualized_usd", "tab:green",
                                           "usage, annualized (30 d x 365/30)")):
            heights = [r[key] or 0.0 for r in rows]
            left.bar([x + offset for x in xs], [h if h else floor for h in heights], width,
                     color=[color if h else "none" for h in heights],
                     edgecolor=[color if h else "lightgrey" for h in heights],
                     hatch=None, label=label)
            for x, h in zip(xs, heights):
                text = _money(h) if h else "no data"
                left.text(x + offset, (h or floor) * 1.15, text, ha="center", va="bottom", fontsize=7,
                          color="black" if h else "grey", rotation=0)
        left.set_yscale("log")
        left.set_xticks(list(xs), names, fontsize=8)
        left.set_ylabel("USD (log scale)")
        left.set_title("Market cap vs usage", fontsize=10)
        left.legend(fontsize=7, loc="upper left")
        if values:
            left.set_ylim(floor * 0.8, max(values) * 8)
        else:
            left.set_ylim(0.5, 100)
            left.text(0.5, 0.5, "no figures cached", transform=left.transAxes, ha="center", color="grey")

        scores = [r["score"] for r in rows]
        right.bar(list(xs), [s if s is not None else 0 for s in scores], 0.6,
                  color=["tab:purple" if s is not None else "none" for s in scores])
        for x, r in zip(xs, rows):
            s = r["score"]
            right.text(x, (s or 0) + 2, f"{s:.0f} {r['label']}" if s is not None else "no data",
                       ha="center", va="bottom", fontsize=7, color="black" if s is not None else "grey")
        for y in LABEL_FLOORS:
            right.axhline(y, color="grey", lw=0.5, ls="--")
        right.set_ylim(0, 110)
        right.set_xticks(list(xs), names, fontsize=8)
        right.set_title("Usage-vs-speculation score (0-100)", fontsize=10)
        save_figure(fig, path)
    finally:
        plt.close(fig)
    return path
