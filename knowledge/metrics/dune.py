"""Dune (saved query results): needs DUNE_API_KEY and a query mapping; otherwise the mapped metrics say
"not configured".

The mapping is the `dune_queries` setting (COMPUTE_DESK_DUNE_QUERIES):

    protocol:metric=query_id[:column],...      e.g.  render:burns_30d=3456789:burned_usd

`metric` is one of the metric names in `values.METRICS` that come from a source (not the computed ones);
the figure is `column` of the result's first row (without a column: the only column, else the column named
like the metric). Bad entries are ignored with one warning line. A mapped figure replaces the other
sources' figure for that metric; while Dune has nothing for it, the other source's figure (if any) stays.

API: GET https://api.dune.com/api/v1/query/{query_id}/results with header X-Dune-API-Key (latest results
of the saved query; no execution is started).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from knowledge.metrics.http import FetchPolicy, ShapeError, fetch_json
from knowledge.metrics.shape import need_dict, need_list, number
from knowledge.metrics.sources import Job, base_url

log = logging.getLogger(__name__)

SOURCE = "dune"
DEFAULT_BASE = "https://api.dune.com"
PAGE_URL = "https://dune.com"
COMPLETED = "QUERY_STATE_COMPLETED"
NOT_FOR_DUNE = {"emissions_daily", "emissions_daily_usd", "p_f", "p_s"}  # computed here, not fetched

_ENTRY_RE = re.compile(r"^([a-z][a-z0-9_-]{1,31}):([a-z][a-z0-9_]*)=([1-9][0-9]{0,11})(?::([A-Za-z0-9_]{1,64}))?$")


@dataclass(frozen=True)
class DuneQuery:
    """One mapped metric: protocol id, metric name, Dune query id and the result column (None: inferred)."""

    protocol: str
    metric: str
    query_id: int
    column: str | None = None

    @property
    def key(self) -> str:
        """The cache key: a changed query or column is a different entry."""
        return f"{self.metric}:{self.protocol}={self.query_id}" + (f":{self.column}" if self.column else "")

    @property
    def url(self) -> str:
        return f"{PAGE_URL}/queries/{self.query_id}"


def _known_metrics() -> set[str]:
    from knowledge.metrics.values import METRICS

    return set(METRICS) - NOT_FOR_DUNE


def parse_queries(spec: str) -> tuple[tuple[DuneQuery, ...], tuple[str, ...]]:
    """(valid mappings, rejected entries with the reason) from `protocol:metric=query_id[:column],...`."""
    known = _known_metrics()
    good: list[DuneQuery] = []
    bad: list[str] = []
    seen: set[tuple[str, str]] = set()
    for raw in (spec or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        m = _ENTRY_RE.match(entry)
        if not m:
            bad.append(f"{entry!r} (expected protocol:metric=query_id[:column])")
            continue
        protocol, metric, qid, column = m.groups()
        if metric not in known:
            bad.append(f"{entry!r} (unknown metric {metric!r})")
            continue
        if (protocol, metric) in seen:
            bad.append(f"{entry!r} (duplicate {protocol}:{metric}; the first one is used)")
            continue
        seen.add((protocol, metric))
        good.append(DuneQuery(protocol, metric, int(qid), column))
    return tuple(good), tuple(bad)


@lru_cache(maxsize=8)
def _queries(spec: str) -> tuple[DuneQuery, ...]:
    good, bad = parse_queries(spec)
    if bad:  # once per distinct setting value (cached), not on every refresh
        log.warning("COMPUTE_DESK_DUNE_QUERIES: ignoring %d bad entr%s: %s", len(bad),
                    "y" if len(bad) == 1 else "ies", "; ".join(bad))
    return good


def queries_for(protocol: Any, settings: Any) -> list[DuneQuery]:
    """The mappings of one protocol from the settings (bad entries dropped, warned about once)."""
    return [q for q in _queries(str(getattr(settings, "dune_queries", "") or "")) if q.protocol == protocol.id]


def configured(settings: Any) -> bool:
    """True when a Dune key is set (each metric also needs a mapping)."""
    return bool(getattr(settings, "dune_api_key", ""))


def validate_results(data: Any, column: str | None, metric: str) -> dict[str, Any]:
    """/api/v1/query/{id}/results: a completed execution with rows and column names; one number out."""
    body = need_dict(data, "results")
    if body.get("state") != COMPLETED:
        raise ShapeError(f"results.state: expected {COMPLETED}, got {str(body.get('state'))[:40]!r}")
    execution_id = body.get("execution_id")
    if not isinstance(execution_id, str) or not execution_id:
        raise ShapeError("results.execution_id: missing")
    result = need_dict(body.get("result"), "results.result")
    rows = need_list(result.get("rows"), "results.result.rows")
    meta = need_dict(result.get("metadata"), "results.result.metadata")
    names = need_list(meta.get("column_names"), "results.result.metadata.column_names")
    if not names or not all(isinstance(n, str) for n in names):
        raise ShapeError("results.result.metadata.column_names: expected a non-empty list of names")
    if not rows:
        raise ShapeError("results.result.rows: empty")
    for i, row in enumerate(rows):
        need_dict(row, f"results.result.rows[{i}]")
    if column is None:
        column = names[0] if len(names) == 1 else metric if metric in names else None
        if column is None:
            raise ShapeError(f"several columns and none named {metric!r}: name one in the mapping")
    if column not in names or column not in rows[0]:
        raise ShapeError(f"column {column!r} not in the result")
    value = number(rows[0][column], f"rows[0].{column}", required=True, nonneg=False)
    ended = body.get("execution_ended_at")
    return {"value": value, "column": column, "execution_id": execution_id,
            "executed_at": ended if isinstance(ended, str) else "", "rows": len(rows)}


def jobs(protocol: Any, settings: Any) -> list[Job]:
    """One job per mapped metric of this protocol, only when a key is set."""
    if not configured(settings):
        return []
    base = base_url(settings, SOURCE, DEFAULT_BASE)
    key = settings.dune_api_key
    out = []
    for q in queries_for(protocol, settings):

        async def fetch(client: httpx.AsyncClient, policy: FetchPolicy, q: DuneQuery = q) -> dict[str, Any]:
            payload = await fetch_json(client, f"{base}/api/v1/query/{q.query_id}/results", None,
                                       {"X-Dune-API-Key": key},
                                       lambda data: validate_results(data, q.column, q.metric),
                                       policy=policy, source=SOURCE, secrets=[key])
            return {**payload, "query_id": q.query_id}

        out.append(Job(SOURCE, q.key, fetch))
    return out


def overlay(values: dict[str, Any], protocol: Any, entries: dict[tuple[str, str], Any], settings: Any) -> None:
    """Put the mapped Dune figures into `values` ({metric: MetricValue}, from `values.build_values`).

    A cached Dune figure replaces the metric's other figure. Without one, the other source's figure stays
    (with a note on why Dune gave nothing); with no other figure, the metric says 'not configured' (no key)
    or 'unavailable' (with Dune's error).
    """
    from knowledge.metrics.values import METRICS, NOT_CONFIGURED, UNAVAILABLE, MetricValue, _stale_note, _unit, iso

    for q in queries_for(protocol, settings):
        entry = entries.get((SOURCE, q.key))
        d = METRICS[q.metric]
        other = values.get(q.metric)
        if entry is not None and entry.ok and isinstance(entry.payload, dict):
            p = entry.payload
            note = f"Dune query {q.query_id}, column {p.get('column', q.column or '')}"
            if p.get("executed_at"):
                note += f" (query run {str(p['executed_at'])[:19]}Z)"
            if entry.stale:
                note += "; " + _stale_note(entry)
            values[q.metric] = MetricValue(
                protocol=protocol.id, name=q.metric, value=float(p["value"]), unit=_unit(q.metric, protocol),
                as_of=iso(entry.fetched_at), source="Dune", url=q.url, stale=entry.stale, age_s=entry.age_s,
                note=note, status=entry.status, label=d.label, cache_id=f"{SOURCE}:{q.key}")
            continue
        if not configured(settings):
            status, why = NOT_CONFIGURED, f"Dune needs an API key: set DUNE_API_KEY (query {q.query_id} is mapped)"
        else:
            status = UNAVAILABLE
            why = (entry.error if entry is not None and entry.error else "Dune: nothing cached yet")
        if other is not None and other.available:
            other.note = "; ".join(x for x in (other.note, f"Dune query {q.query_id}: {status}") if x)
            continue
        values[q.metric] = MetricValue(
            protocol=protocol.id, name=q.metric, value=status, unit="", as_of="", source="Dune",
            url=q.url if status == UNAVAILABLE else "", note=why, status=status, label=d.label)
