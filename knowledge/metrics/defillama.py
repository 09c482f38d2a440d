"""DefiLlama fees/revenue summaries (/summary/fees/{slug}?dataType=...): 24 h/7 d/30 d totals and daily
history. Render's fees are derived from RENDER burns (holders revenue = the burn). Keyless."""

from __future__ import annotations

from typing import Any

import httpx

from knowledge.metrics.http import FetchPolicy, ShapeError, fetch_json
from knowledge.metrics.shape import need_dict, number, pairs
from knowledge.metrics.sources import Job, base_url

SOURCE = "defillama"
DEFAULT_BASE = "https://api.llama.fi"
DATA_TYPES = {"fees": "dailyFees", "revenue": "dailyRevenue", "holders_revenue": "dailyHoldersRevenue"}
BURN_AND_MINT = {"render"}  # protocols whose holders revenue is a token burn (or emission.burn_and_mint)


def page_url(slug: str) -> str:
    """The public page cited for a figure."""
    return f"https://defillama.com/fees/{slug}"


def burns_tokens(protocol: Any) -> bool:
    """Whether this protocol's DefiLlama holders revenue is a burn (burn-and-mint)."""
    return protocol.id in BURN_AND_MINT or bool(protocol.emission.get("burn_and_mint"))


def validate_summary(data: Any) -> dict[str, Any]:
    """A fees summary: numeric totals (or null) and totalDataChart pairs; at least one figure present."""
    body = need_dict(data, "summary/fees")
    out: dict[str, Any] = {"name": str(body.get("name") or "")}
    for name in ("total24h", "total7d", "total30d", "totalAllTime"):
        out[name] = number(body.get(name), name)
    chart = pairs(body.get("totalDataChart", []), "totalDataChart")
    out["chart"] = sorted(chart)
    if all(out[n] is None for n in ("total24h", "total7d", "total30d")) and not chart:
        raise ShapeError("summary/fees: no totals and no chart")
    return out


def jobs(protocol: Any, settings: Any) -> list[Job]:
    """Fees and revenue (plus holders revenue where it is a burn) for protocols with a defillama_slug."""
    slug = protocol.defillama_slug
    if not slug:
        return []
    base = base_url(settings, SOURCE, DEFAULT_BASE)
    kinds = ["fees", "revenue"] + (["holders_revenue"] if burns_tokens(protocol) else [])
    out = []
    for kind in kinds:
        data_type = DATA_TYPES[kind]

        async def fetch(client: httpx.AsyncClient, policy: FetchPolicy, data_type: str = data_type) -> dict:
            return await fetch_json(client, f"{base}/summary/fees/{slug}", {"dataType": data_type}, None,
                                    validate_summary, policy=policy, source=SOURCE)

        out.append(Job(SOURCE, f"{kind}:{protocol.id}", fetch))
    return out
