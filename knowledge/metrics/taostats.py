"""Taostats (Bittensor network stats): needs TAOSTATS_API_KEY; without it the source is "not configured"."""

from __future__ import annotations

from typing import Any

import httpx

from knowledge.metrics.http import FetchPolicy, ShapeError, fetch_json
from knowledge.metrics.shape import need_dict, need_list, number
from knowledge.metrics.sources import Job, base_url

SOURCE = "taostats"
DEFAULT_BASE = "https://api.taostats.io"
PAGE_URL = "https://taostats.io"
RAO = 1e9


def configured(settings: Any) -> bool:
    """True when a Taostats key is set."""
    return bool(getattr(settings, "taostats_api_key", ""))


def validate_stats(data: Any) -> dict[str, Any]:
    """/api/stats/latest/v1: one record; balances are strings in rao."""
    body = need_dict(data, "stats/latest")
    rows = need_list(body.get("data"), "stats/latest.data")
    if not rows:
        raise ShapeError("stats/latest.data: empty")
    row = need_dict(rows[0], "stats/latest.data[0]")
    issued = number(row.get("issued"), "issued", required=True)
    staked = number(row.get("staked"), "staked")
    return {
        "timestamp": str(row.get("timestamp") or ""),
        "block_number": number(row.get("block_number"), "block_number"),
        "issued": issued / RAO,
        "staked": None if staked is None else staked / RAO,
        "subnets": number(row.get("subnets"), "subnets"),
        "accounts": number(row.get("accounts"), "accounts"),
    }


def jobs(protocol: Any, settings: Any) -> list[Job]:
    """The latest network stats, only when the protocol lists taostats and a key is set."""
    if SOURCE not in protocol.usage_sources or not configured(settings):
        return []
    base = base_url(settings, SOURCE, DEFAULT_BASE)
    key = settings.taostats_api_key

    async def stats(client: httpx.AsyncClient, policy: FetchPolicy) -> dict[str, Any]:
        return await fetch_json(client, f"{base}/api/stats/latest/v1", None, {"Authorization": key},
                                validate_stats, policy=policy, source=SOURCE, secrets=[key])

    return [Job(SOURCE, f"stats:{protocol.id}", stats)]
