"""CoinGecko market data: price, market cap, FDV, 24 h volume, supply (/coins/markets, falling back to
/simple/price) and daily history (/coins/{id}/market_chart). Optional demo key from the environment."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from knowledge.errors import SourceUnavailableError
from knowledge.metrics.http import BadResponseError, FetchPolicy, ShapeError, fetch_json
from knowledge.metrics.shape import need_dict, need_list, number, pairs
from knowledge.metrics.sources import Job, base_url

log = logging.getLogger(__name__)

SOURCE = "coingecko"
DEFAULT_BASE = "https://api.coingecko.com/api/v3"
HISTORY_DAYS = 365  # > 90 gives daily points; the free tier serves the last 365 days


def page_url(coingecko_id: str) -> str:
    """The public page cited for a figure."""
    return f"https://www.coingecko.com/en/coins/{coingecko_id}"


def validate_markets(data: Any, coingecko_id: str) -> dict[str, Any]:
    """One coin's row from /coins/markets, normalised; the coin must be there with a price."""
    rows = need_list(data, "coins/markets")
    row = next((r for r in rows if isinstance(r, dict) and r.get("id") == coingecko_id), None)
    if row is None:
        raise ShapeError(f"coins/markets: no row for {coingecko_id}")
    price = number(row.get("current_price"), "current_price", required=True)
    if price == 0:
        raise ShapeError("current_price: zero")
    return {
        "endpoint": "markets",
        "id": coingecko_id,
        "symbol": str(row.get("symbol") or "").upper(),
        "price": price,
        "market_cap": number(row.get("market_cap"), "market_cap"),
        "fdv": number(row.get("fully_diluted_valuation"), "fully_diluted_valuation"),
        "volume_24h": number(row.get("total_volume"), "total_volume"),
        "price_change_pct_24h": number(row.get("price_change_percentage_24h"), "price_change_percentage_24h",
                                       nonneg=False),
        "circulating_supply": number(row.get("circulating_supply"), "circulating_supply"),
        "total_supply": number(row.get("total_supply"), "total_supply"),
        "max_supply": number(row.get("max_supply"), "max_supply"),
        "last_updated": str(row.get("last_updated") or ""),
    }


def validate_simple_price(data: Any, coingecko_id: str) -> dict[str, Any]:
    """/simple/price for one id, normalised to the markets shape (no FDV or supply)."""
    body = need_dict(data, "simple/price")
    row = need_dict(body.get(coingecko_id), f"simple/price[{coingecko_id}]")
    price = number(row.get("usd"), "usd", required=True)
    if price == 0:
        raise ShapeError("usd: zero")
    return {
        "endpoint": "simple_price",
        "id": coingecko_id,
        "symbol": "",
        "price": price,
        "market_cap": number(row.get("usd_market_cap"), "usd_market_cap"),
        "fdv": None,
        "volume_24h": number(row.get("usd_24h_vol"), "usd_24h_vol"),
        "price_change_pct_24h": number(row.get("usd_24h_change"), "usd_24h_change", nonneg=False),
        "circulating_supply": None,
        "total_supply": None,
        "max_supply": None,
        "last_updated": "",
    }


def validate_chart(data: Any) -> dict[str, Any]:
    """/coins/{id}/market_chart: prices (non-empty), market_caps and total_volumes as [ms, value] pairs."""
    body = need_dict(data, "market_chart")
    for name in ("prices", "market_caps", "total_volumes"):
        if name not in body:
            raise ShapeError(f"market_chart: no {name}")
    return {
        "prices": pairs(body["prices"], "prices", allow_empty=False),
        "market_caps": pairs(body["market_caps"], "market_caps"),
        "total_volumes": pairs(body["total_volumes"], "total_volumes"),
    }


def _headers(settings: Any) -> dict[str, str]:
    key = getattr(settings, "coingecko_api_key", "")
    return {"x-cg-demo-api-key": key} if key else {}


def jobs(protocol: Any, settings: Any) -> list[Job]:
    """The market and history entries for one protocol (none without a coingecko_id)."""
    cg = protocol.coingecko_id
    if not cg:
        return []
    base = base_url(settings, SOURCE, DEFAULT_BASE)
    headers = _headers(settings)

    async def market(client: httpx.AsyncClient, policy: FetchPolicy) -> dict[str, Any]:
        try:
            return await fetch_json(client, f"{base}/coins/markets", {"vs_currency": "usd", "ids": cg}, headers,
                                    lambda d: validate_markets(d, cg), policy=policy, source=SOURCE)
        except BadResponseError as first:  # a changed or broken endpoint: try the simpler one
            log.info("coins/markets failed for %s; trying simple/price", cg)
            params = {"ids": cg, "vs_currencies": "usd", "include_market_cap": "true",
                      "include_24hr_vol": "true", "include_24hr_change": "true"}
            try:
                return await fetch_json(client, f"{base}/simple/price", params, headers,
                                        lambda d: validate_simple_price(d, cg), policy=policy, source=SOURCE)
            except SourceUnavailableError:
                raise first from None

    async def chart(client: httpx.AsyncClient, policy: FetchPolicy) -> dict[str, Any]:
        return await fetch_json(client, f"{base}/coins/{cg}/market_chart",
                                {"vs_currency": "usd", "days": str(HISTORY_DAYS)}, headers,
                                validate_chart, policy=policy, source=SOURCE)

    return [Job(SOURCE, f"market:{protocol.id}", market), Job(SOURCE, f"chart:{protocol.id}", chart)]
