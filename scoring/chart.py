"""Chart: market cap against usage on a log scale, with the daily score below (PNG via matplotlib Agg)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the bot and CLI render to files, never to a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from knowledge.errors import BadInputError  # noqa: E402
from scoring.factors import trailing_mean  # noqa: E402
from scoring.score import LABELS, ScoreResult  # noqa: E402
from scoring.series import Series  # noqa: E402


# matplotlib is not thread-safe: the bot draws in worker threads, and a /score beside a /compare drew two figures
# at once, whose log-scale tick labels then broke in the shared mathtext parser ("ParseException at char 0") and
# the score went out without its chart. Drawing takes ~0.2 s, so one figure at a time costs nothing.
_DRAWING = threading.Lock()


def drawn_alone(render: Callable[..., Path]) -> Callable[..., Path]:
    """Decorator: run a chart renderer while no other thread draws."""
    @functools.wraps(render)
    def wrapper(*args, **kwargs):
        with _DRAWING:
            return render(*args, **kwargs)
    return wrapper


@drawn_alone
def render_chart(series: Series, result: ScoreResult, path: str | Path) -> Path:
    """Write the PNG to `path` and return it."""
    path = Path(path)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    try:
        dates = np.array(series.dates, dtype="datetime64[D]")
        cap = np.where(series.market_cap > 0, series.market_cap, np.nan)
        usage_year = trailing_mean(series.usage_usd, 30) * 365  # mean of known days, not a partial sum
        top.plot(dates, cap, color="tab:blue", label="market cap (USD)")
        top.plot(dates, np.where(usage_year > 0, usage_year, np.nan), color="tab:green",
                 label="usage, annualized from 30 days (USD)")
        top.set_yscale("log")
        top.legend(loc="upper left", fontsize=8)
        title = f"{result.protocol}: score {result.score if result.score is not None else 'n/a'}"
        top.set_title(title + (f" ({result.label}, confidence {result.confidence:.2f})" if result.label else ""))
        if result.daily:
            d = np.array([r.date for r in result.daily], dtype="datetime64[D]")
            s = np.array([np.nan if r.score is None else r.score for r in result.daily], dtype=float)
            bottom.plot(d, s, color="black", lw=1)
        elif result.score is not None and result.as_of:
            bottom.scatter([np.datetime64(result.as_of)], [result.score], color="black")
        for floor, _name in LABELS[:-1]:
            bottom.axhline(floor, color="grey", lw=0.5, ls="--")
        bottom.set_ylim(0, 102)
        bottom.set_ylabel("score")
        fig.autofmt_xdate()
        save_figure(fig, path)
    finally:
        plt.close(fig)
    return path


def save_figure(fig, path: str | Path) -> None:
    """Write a figure as PNG; an unwritable path is a clear BadInputError."""
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write chart ({exc.__class__.__name__})") from None
