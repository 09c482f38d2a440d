"""The sync facade over the async fetchers, for the CLI, the console chat and the bot's worker threads.

- `refresh_metrics(store, registry, protocols, settings, force)`: refresh what is older than the TTL.
- `current_metrics(store, registry, protocol_id)`: the figures (refreshing stale entries first by default).
- `load_series(store, registry, protocol_id)`: the daily series scoring reads.
Nothing here raises for a source failure: figures come back stale or 'unavailable'.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

import httpx

from knowledge.errors import SourceUnavailableError
from knowledge.metrics import akash_console, coingecko, defillama, dune, taostats
from knowledge.metrics.cache import CacheEntry, get_or_fetch, peek
from knowledge.metrics.http import USER_AGENT, FetchPolicy
from knowledge.metrics.sources import Job
from knowledge.metrics.values import MetricValue, build_values

if TYPE_CHECKING:
    from knowledge.protocols import Protocol, Registry
    from knowledge.store import Store

log = logging.getLogger(__name__)

SOURCES = (coingecko, akash_console, defillama, taostats, dune)
JOB_DEADLINE_S = 25.0  # one entry's whole fetch (retries included) never takes longer
PER_SOURCE_CONCURRENCY = 2


def _settings(settings: Any) -> Any:
    if settings is not None:
        return settings
    from knowledge.config import load_settings

    return load_settings()


def jobs_for(protocol: "Protocol", settings: Any, include_unconfigured: bool = False) -> list[Job]:
    """The cache entries one protocol has, from its registry fields (coingecko_id, slug, usage_sources)."""
    out: list[Job] = []
    for module in SOURCES:
        out.extend(module.jobs(protocol, settings))
    if include_unconfigured and taostats.SOURCE in protocol.usage_sources and not taostats.configured(settings):
        out.append(Job(taostats.SOURCE, f"stats:{protocol.id}", _never))
    if include_unconfigured and not dune.configured(settings):
        # mapped Dune metrics without a key: read what is cached (nothing is requested)
        out.extend(Job(dune.SOURCE, q.key, _never) for q in dune.queries_for(protocol, settings))
    return out


async def _never(client: httpx.AsyncClient, policy: FetchPolicy) -> Any:
    raise SourceUnavailableError("not configured")


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from sync code, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="metrics-refresh", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def refresh_async(store: "Store", jobs: Iterable[Job], ttl_s: float, force: bool = False,
                        policy: FetchPolicy | None = None, deadline_s: float = JOB_DEADLINE_S) -> list[CacheEntry]:
    """get_or_fetch every job concurrently (a few at a time per source) on one httpx client."""
    policy = policy or FetchPolicy()
    jobs = list(jobs)
    limits: dict[str, asyncio.Semaphore] = {}
    async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, timeout=policy.timeout_s) as client:

        async def one(job: Job) -> CacheEntry:
            sem = limits.setdefault(job.source, asyncio.Semaphore(PER_SOURCE_CONCURRENCY))

            async def fetch() -> Any:
                async with sem:
                    try:
                        return await asyncio.wait_for(job.fetch(client, policy), deadline_s)
                    except asyncio.TimeoutError:
                        raise SourceUnavailableError(f"{job.source} unavailable: no answer within "
                                                     f"{deadline_s:g} s") from None

            return await get_or_fetch(store, job.source, job.key, fetch, ttl_s, force)

        return list(await asyncio.gather(*(one(j) for j in jobs)))


def refresh_metrics(store: "Store", registry: "Registry", protocols: Iterable[str] | None = None,
                    settings: Any = None, force: bool = False, policy: FetchPolicy | None = None) -> dict[str, Any]:
    """Refresh the entries of `protocols` (all when None) older than the TTL; {protocol: {entry: status}}."""
    settings = _settings(settings)
    chosen = [registry.get(p) for p in protocols] if protocols else list(registry)
    plan = [(p.id, job) for p in chosen for job in jobs_for(p, settings)]
    entries = run_sync(refresh_async(store, [j for _, j in plan], settings.metrics_ttl_s, force, policy)) if plan else []
    report: dict[str, Any] = {p.id: {} for p in chosen}
    for (pid, job), entry in zip(plan, entries):
        report[pid][f"{job.source}:{job.key}"] = {
            "status": entry.status, "age_s": None if entry.age_s is None else round(entry.age_s, 1),
            "error": entry.error, "requested": entry.requested}
    return report


def cached_entries(store: "Store", protocol: "Protocol", settings: Any) -> dict[tuple[str, str], CacheEntry]:
    """Every cache entry this protocol can have, read without any request."""
    ttl = settings.metrics_ttl_s
    out = {}
    for job in jobs_for(protocol, settings, include_unconfigured=True):
        out[(job.source, job.key)] = peek(store, job.source, job.key, ttl)
    return out


def current_metrics(store: "Store", registry: "Registry", protocol_id: str, settings: Any = None,
                    refresh: bool = True, force: bool = False, policy: FetchPolicy | None = None) -> list[MetricValue]:
    """The protocol's figures; with `refresh`, entries older than the TTL are fetched first (fresh: no request)."""
    settings = _settings(settings)
    protocol = registry.get(protocol_id)
    if refresh:
        try:
            refresh_metrics(store, registry, [protocol.id], settings, force=force, policy=policy)
        except Exception:  # noqa: BLE001 - figures from the cache are still worth serving
            log.exception("metrics refresh for %s failed", protocol.id)
    return list(_values(protocol, settings, store).values())


def metric_values(store: "Store", registry: "Registry", protocol_id: str, settings: Any = None) -> dict[str, MetricValue]:
    """{metric name: MetricValue} from the cache only (no request)."""
    settings = _settings(settings)
    return _values(registry.get(protocol_id), settings, store)


def _values(protocol: "Protocol", settings: Any, store: "Store") -> dict[str, MetricValue]:
    """Every figure from the cache: the built-in sources, then the user's Dune queries over them."""
    entries = cached_entries(store, protocol, settings)
    values = build_values(protocol, entries, settings)
    dune.overlay(values, protocol, entries, settings)
    return values


def load_series(store: "Store", registry: "Registry", protocol_id: str):
    """The daily series for scoring from cached histories (None when no price history is cached)."""
    from knowledge.metrics.series import load_series as _load

    return _load(store, registry.get(protocol_id).id, registry)

