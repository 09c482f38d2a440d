"""What every source module shares: a fetch job (cache source + key + coroutine) and host overrides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from knowledge.metrics.http import FetchPolicy

Fetcher = Callable[[httpx.AsyncClient, FetchPolicy], Awaitable[Any]]

# Display names and public pages, for citations.
TITLES = {
    "coingecko": "CoinGecko",
    "akash_console": "Akash Console API",
    "defillama": "DefiLlama",
    "taostats": "Taostats",
    "dune": "Dune",
    "schedule": "Emission schedule",
    "derived": "Derived",
}
ALIASES = {"akash": "akash_console", "llama": "defillama", "cg": "coingecko"}


@dataclass(frozen=True)
class Job:
    """One cache entry to refresh: `fetch(client, policy)` returns the validated payload."""

    source: str
    key: str
    fetch: Fetcher


def base_urls(spec: str) -> dict[str, str]:
    """Parse `coingecko=http://127.0.0.1:1,akash_console=...` (the test hook) into {source: base}."""
    out: dict[str, str] = {}
    for part in (spec or "").split(","):
        name, sep, url = part.partition("=")
        if sep and name.strip() and url.strip():
            source = name.strip().lower()
            out[ALIASES.get(source, source)] = url.strip().rstrip("/")
    return out


def base_url(settings: Any, source: str, default: str) -> str:
    """The host for `source`: the settings' override when given, else the public default."""
    return base_urls(getattr(settings, "metrics_base_urls", "")).get(source, default)
