"""Calls into engine parts written elsewhere (metrics, scoring, compare), imported lazily; shared by the
Discord cogs and the console chat.

When a part is missing or fails, the caller gets `NotAvailableError` with a short message; the trace goes
to the log, never to the user.
"""

from __future__ import annotations

import importlib
import json
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any

from knowledge.errors import ComputeDeskError

log = logging.getLogger(__name__)


class NotAvailableError(ComputeDeskError):
    """A feature whose engine part is not installed yet or failed (compare, metrics, score)."""


def _import(module: str, name: str, feature: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        log.info("%s is not available: %s.%s missing", feature, module, name)
        raise NotAvailableError(f"{feature} is not available yet.") from None


def _call(feature: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ComputeDeskError:
        raise
    except Exception as exc:  # noqa: BLE001
        log.error("%s failed", feature, exc_info=exc)
        raise NotAvailableError(f"{feature} is not available right now ({_reason(exc)}).") from None


def _reason(exc: BaseException) -> str:
    """A short, safe reason: the exception's class, never its message (which may hold paths or keys)."""
    return f"internal error: {exc.__class__.__name__}"


def as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return result
    if hasattr(result, "to_json"):
        data = result.to_json()
        return json.loads(data) if isinstance(data, str) else data
    return dict(vars(result))


def _chart_path(chart_dir: str | Path | None, name: str) -> Path:
    folder = Path(chart_dir) if chart_dir else Path(tempfile.gettempdir()) / "compute-desk-charts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}-{uuid.uuid4().hex[:10]}.png"


def _refresh(engine: Any, pids: list[str]) -> None:
    """Fetch figures older than the TTL first (fresh entries cost no request); failures serve the cache."""
    if not getattr(engine.settings, "metrics_on_ask", True):
        return
    try:
        from knowledge.metrics.service import refresh_metrics

        refresh_metrics(engine.store, engine.registry, pids, engine.settings)
    except Exception:  # noqa: BLE001 - cached (stale) figures are still worth showing
        log.exception("metrics refresh for %s failed", ", ".join(pids))


def current_metrics(engine: Any, protocol: str, refresh: bool = True) -> list[Any]:
    """Figures for one protocol (MetricValue list): numbers with as of/source/stale, or 'unavailable'."""
    fn = _import("knowledge.metrics.service", "current_metrics", "Metrics")
    pid = engine.registry.get(protocol).id
    return list(_call("Metrics", fn, engine.store, engine.registry, pid, engine.settings,
                      refresh=refresh and getattr(engine.settings, "metrics_on_ask", True)))


def score(engine: Any, protocol: str, chart_dir: str | None = None,
          refresh: bool = True) -> tuple[dict[str, Any], Path | None]:
    """(score dict, chart path or None) for one protocol.

    The dict is ScoreResult.to_dict() without the daily rows, plus `missing` (what is not cached) and
    `source` (the cached series). Without cached price history or usage, `score` is None and `missing`
    says why.
    """
    load_series = _import("knowledge.metrics.service", "load_series", "Scoring")
    score_series = _import("scoring.score", "score_series", "Scoring")
    pid = engine.registry.get(protocol).id
    if refresh:
        _refresh(engine, [pid])
    series = _call("Scoring", load_series, engine.store, engine.registry, pid)
    if series is None or not series.has_usage:
        p = engine.registry.get(pid)
        what = ("no price history cached (CoinGecko market_chart)" if series is None else
                f"no usage data cached (usage sources: {', '.join(p.usage_sources) or 'none in the registry'})")
        return {"protocol": pid, "score": None, "label": None, "confidence": 0.0, "as_of": None, "factors": [],
                "sustainability": {}, "note": f"no score: {what}", "missing": [f"missing: score ({what})"],
                "source": ""}, None
    result = _call("Scoring", score_series, series, protocol=pid, daily=True)
    data = as_dict(result)
    data.pop("daily", None)
    data["note"] = getattr(result, "note", "")
    data["missing"] = [f"missing: score ({result.note})"] if result.score is None else []
    data["source"] = series.source
    chart = None
    try:
        render_chart = _import("scoring.chart", "render_chart", "Charts")
        path = _chart_path(chart_dir, f"score-{pid}")
        render_chart(series, result, path)
        chart = path if path.exists() else None
    except Exception:  # noqa: BLE001 - the score is still worth sending without its chart
        log.exception("score chart for %s failed", pid)
    return data, chart


def compare(engine: Any, ids: list[str], chart_dir: str | None = None,
            refresh: bool = True) -> tuple[dict[str, Any], Path | None]:
    """(comparison JSON, chart path or None) for one to three protocols."""
    fn = _import("knowledge.compare", "compare_protocols", "Comparison")
    pids = [engine.registry.get(i).id for i in ids]
    if refresh:
        _refresh(engine, pids)
    data = as_dict(_call("Comparison", fn, engine, pids))
    chart = None
    try:
        render = _import("scoring.compare_chart", "render_comparison_chart", "Charts")
        path = _chart_path(chart_dir, "compare")
        render(data, path)
        chart = path if path.exists() else None
    except Exception:  # noqa: BLE001 - the comparison is still worth sending without its chart
        log.exception("comparison chart failed")
    return data, chart
