"""Calls into engine parts written elsewhere (metrics, scoring, compare), imported lazily; shared by the
Discord cogs and the console chat.

When a part is missing or fails, the caller gets `NotAvailableError` with a short message; the trace goes
to the log, never to the user.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
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
        raise NotAvailableError(f"{feature} is not available right now.") from None


def as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return result
    if hasattr(result, "to_json"):
        return result.to_json()
    return dict(vars(result))


def current_metrics(engine: Any, protocol: str) -> list[Any]:
    """Live figures for one protocol (MetricValue list)."""
    fn = _import("knowledge.metrics.service", "current_metrics", "Metrics")
    pid = engine.registry.get(protocol).id
    return list(_call("Metrics", fn, engine.store, engine.registry, pid))


def score(engine: Any, protocol: str, chart_dir: str | None = None) -> tuple[dict[str, Any], Path | None]:
    """(score JSON, chart path or None) for one protocol."""
    load_series = _import("knowledge.metrics.service", "load_series", "Scoring")
    score_series = _import("scoring.score", "score_series", "Scoring")
    pid = engine.registry.get(protocol).id
    series = _call("Scoring", load_series, engine.store, engine.registry, pid)
    result = _call("Scoring", score_series, series, pid)
    data = as_dict(result)
    chart = None
    try:
        render_chart = _import("scoring.chart", "render_chart", "Charts")
        path = Path(chart_dir or tempfile.mkdtemp(prefix="desk-chart-")) / f"score-{pid}.png"
        render_chart(series, result, path)
        chart = path if path.exists() else None
    except Exception:  # noqa: BLE001 - the score is still worth sending without its chart
        log.exception("score chart for %s failed", pid)
    return data, chart


def compare(engine: Any, ids: list[str]) -> tuple[dict[str, Any], Path | None]:
    """(comparison JSON, chart path or None) for up to three protocols."""
    fn = _import("knowledge.compare", "compare_protocols", "Comparison")
    pids = [engine.registry.get(i).id for i in ids]
    data = as_dict(_call("Comparison", fn, engine, pids))
    chart = data.get("chart") or data.get("chart_path")
    path = Path(chart) if chart else None
    return data, (path if path is not None and path.exists() else None)
