"""The metrics cache in the store: validated payloads with `fetched_at`, TTL reads, stale serving.

`get_or_fetch` never raises for a source failure: a fresh entry costs no request; a failed refresh serves
the last good payload marked stale with its age; nothing cached and the source down gives status
'unavailable' with the reason.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from knowledge.errors import SourceUnavailableError

if TYPE_CHECKING:
    from knowledge.store import Store

log = logging.getLogger(__name__)

FAILURE_PREFIX = "failure:"  # rows `failure:<key>` remember the last failed refresh of `<key>`


@dataclass
class CacheEntry:
    """One cached payload as served: fresh, stale (with age) or unavailable (payload None)."""

    source: str
    key: str
    payload: Any
    fetched_at: float | None
    status: str  # fresh | stale | unavailable
    age_s: float | None = None
    error: str = ""
    requested: bool = False  # whether this read made a request

    @property
    def stale(self) -> bool:
        return self.status == "stale"

    @property
    def ok(self) -> bool:
        return self.payload is not None


def read(store: "Store", source: str, key: str) -> tuple[Any, float] | None:
    """(payload, fetched_at) for one cached entry, or None."""
    row = store.conn.execute(
        "SELECT payload, fetched_at FROM metrics_cache WHERE source=? AND key=?", (source, key)
    ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0]), float(row[1])
    except (TypeError, ValueError):
        log.warning("metrics cache %s/%s is unreadable; ignored", source, key)
        return None


def write(store: "Store", source: str, key: str, payload: Any, fetched_at: float | None = None) -> None:
    """Store a validated payload (replacing the previous one) and clear its failure note."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    at = time.time() if fetched_at is None else fetched_at
    with store.write() as conn:
        conn.execute(
            "INSERT INTO metrics_cache(source, key, payload, fetched_at) VALUES (?,?,?,?) "
            "ON CONFLICT(source, key) DO UPDATE SET payload=excluded.payload, fetched_at=excluded.fetched_at",
            (source, key, text, at),
        )
        conn.execute("DELETE FROM metrics_cache WHERE source=? AND key=?", (source, FAILURE_PREFIX + key))


def record_failure(store: "Store", source: str, key: str, message: str) -> None:
    """Remember that refreshing `key` failed (and why), without touching the last good payload."""
    with store.write() as conn:
        conn.execute(
            "INSERT INTO metrics_cache(source, key, payload, fetched_at) VALUES (?,?,?,?) "
            "ON CONFLICT(source, key) DO UPDATE SET payload=excluded.payload, fetched_at=excluded.fetched_at",
            (source, FAILURE_PREFIX + key, json.dumps({"error": message[:300]}), time.time()),
        )


def last_failure(store: "Store", source: str, key: str) -> tuple[str, float] | None:
    """(message, when) of the last failed refresh since the last good one, or None."""
    got = read(store, source, FAILURE_PREFIX + key)
    if got is None or not isinstance(got[0], dict):
        return None
    return str(got[0].get("error", "")), got[1]


def peek(store: "Store", source: str, key: str, ttl_s: float, now: float | None = None) -> CacheEntry:
    """The cached entry without any request: fresh within the TTL (and no failed refresh since), else stale;
    unavailable when absent."""
    now = time.time() if now is None else now
    got = read(store, source, key)
    failure = last_failure(store, source, key)
    error = failure[0] if failure else ""
    if got is None:
        return CacheEntry(source, key, None, None, "unavailable", error=error)
    payload, fetched_at = got
    age = max(0.0, now - fetched_at)
    fresh = age <= ttl_s and failure is None  # a failed refresh since the last good one: stale too
    return CacheEntry(source, key, payload, fetched_at, "fresh" if fresh else "stale", age, error)


async def get_or_fetch(
    store: "Store",
    source: str,
    key: str,
    fetch: Callable[[], Awaitable[Any]],
    ttl_s: float,
    force: bool = False,
    now: float | None = None,
    failure_backoff_s: float = 60.0,
) -> CacheEntry:
    """The cached payload when fresh (no request), else fetch, store and return it; never raises on failure.

    After a failed refresh the source is left alone for `failure_backoff_s` (unless forced): the last good
    payload is served stale meanwhile, so a down source is not hammered by every question.
    """
    cached = peek(store, source, key, ttl_s, now)
    if cached.status == "fresh" and not force:
        return cached
    failure = last_failure(store, source, key)
    clock = time.time() if now is None else now
    if failure and not force and clock - failure[1] < failure_backoff_s:
        return cached
    try:
        payload = await fetch()
    except SourceUnavailableError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - a source bug must not crash the caller
        log.exception("metrics fetch %s/%s failed unexpectedly", source, key)
        message = f"{source} unavailable: internal error ({exc.__class__.__name__})"
    else:
        fetched_at = time.time()
        write(store, source, key, payload, fetched_at)
        return CacheEntry(source, key, payload, fetched_at, "fresh", 0.0, requested=True)
    record_failure(store, source, key, message)
    if cached.payload is None:
        return CacheEntry(source, key, None, None, "unavailable", error=message, requested=True)
    now = time.time() if now is None else now
    age = max(0.0, now - (cached.fetched_at or now))
    return CacheEntry(source, key, cached.payload, cached.fetched_at, "stale", age, message, requested=True)
