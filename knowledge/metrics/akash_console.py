"""Akash Console API: active leases, GPUs, compute spend (rolling 24 h and daily history). Keyless.

`u`-prefixed figures are micro-units (divide by 1e6); "daily" figures are a rolling 24 h.
"""

from __future__ import annotations

from typing import Any

import httpx

from knowledge.metrics.http import FetchPolicy, ShapeError, fetch_json
from knowledge.metrics.shape import need_dict, need_list, number
from knowledge.metrics.sources import Job, base_url

SOURCE = "akash_console"
DEFAULT_BASE = "https://console-api.akash.network"
PAGE_URL = "https://stats.akash.network"
MICRO = 1e6


def validate_dashboard(data: Any) -> dict[str, Any]:
    """/v1/dashboard-data: `now` must carry leases, spend and GPUs; normalised to whole units."""
    body = need_dict(data, "dashboard-data")
    now = need_dict(body.get("now"), "dashboard-data.now")
    compare = body.get("compare") if isinstance(body.get("compare"), dict) else {}
    chain = body.get("chainStats") if isinstance(body.get("chainStats"), dict) else {}

    def snapshot(row: dict[str, Any], what: str, required: bool) -> dict[str, Any]:
        spend = number(row.get("dailyUUsdSpent"), f"{what}.dailyUUsdSpent", required)
        total = number(row.get("totalUUsdSpent"), f"{what}.totalUUsdSpent", required)
        return {
            "date": str(row.get("date") or ""),
            "active_leases": number(row.get("activeLeaseCount"), f"{what}.activeLeaseCount", required),
            "daily_lease_count": number(row.get("dailyLeaseCount"), f"{what}.dailyLeaseCount"),
            "daily_spend_usd": None if spend is None else spend / MICRO,
            "total_spend_usd": None if total is None else total / MICRO,
            "active_gpu": number(row.get("activeGPU"), f"{what}.activeGPU", required),
            "active_cpu": number(row.get("activeCPU"), f"{what}.activeCPU"),
        }

    supply = number(chain.get("totalSupply"), "chainStats.totalSupply")
    if supply is not None and supply > 1e12:  # reported in uakt
        supply /= MICRO
    return {
        "now": snapshot(now, "now", required=True),
        "compare": snapshot(compare, "compare", required=False) if compare else {},
        "inflation": number(chain.get("inflation"), "chainStats.inflation"),
        "total_supply": supply,
    }


def validate_graph(data: Any, scale: float = MICRO) -> dict[str, Any]:
    """/v1/graph-data/{name}: daily snapshots [{date, value}] -> [[iso date, value / scale]]."""
    body = need_dict(data, "graph-data")
    snaps = need_list(body.get("snapshots"), "graph-data.snapshots")
    points = []
    for i, snap in enumerate(snaps):
        snap = need_dict(snap, f"snapshots[{i}]")
        date = snap.get("date")
        if not isinstance(date, str) or len(date) < 10:
            raise ShapeError(f"snapshots[{i}].date: expected an ISO date")
        value = number(snap.get("value"), f"snapshots[{i}].value", required=True)
        points.append([date[:10], value / scale])
    if not points:
        raise ShapeError("graph-data.snapshots: empty")
    return {"points": sorted(points)}


def jobs(protocol: Any, settings: Any) -> list[Job]:
    """Dashboard and daily-spend history, for protocols whose usage_sources name akash_console."""
    if SOURCE not in protocol.usage_sources:
        return []
    base = base_url(settings, SOURCE, DEFAULT_BASE)

    async def dashboard(client: httpx.AsyncClient, policy: FetchPolicy) -> dict[str, Any]:
        return await fetch_json(client, f"{base}/v1/dashboard-data", None, None, validate_dashboard,
                                policy=policy, source=SOURCE)

    async def spend(client: httpx.AsyncClient, policy: FetchPolicy) -> dict[str, Any]:
        return await fetch_json(client, f"{base}/v1/graph-data/dailyUUsdSpent", None, None, validate_graph,
                                policy=policy, source=SOURCE)

    return [Job(SOURCE, f"dashboard:{protocol.id}", dashboard), Job(SOURCE, f"spend:{protocol.id}", spend)]
