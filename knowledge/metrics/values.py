"""Turn cached payloads into `MetricValue`s: figure, unit, as of, source (name + URL), stale flag and age.

Everything here reads the cache only; which entries a protocol has is decided by `entries_for`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from knowledge.metrics import akash_console, coingecko, defillama, taostats
from knowledge.metrics.cache import CacheEntry
from knowledge.metrics.emissions import daily_emission
from knowledge.metrics.sources import TITLES

UNAVAILABLE = "unavailable"
NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class MetricDef:
    """A metric's display label, unit (USD, tokens or a count) and the source family that provides it."""

    label: str
    unit: str
    provider: str


# Canonical metric names. A unit of "TOKEN" is replaced by the protocol's ticker.
METRICS: dict[str, MetricDef] = {
    "price": MetricDef("price", "USD", "coingecko"),
    "market_cap": MetricDef("market cap", "USD", "coingecko"),
    "fdv": MetricDef("fully diluted value", "USD", "coingecko"),
    "volume_24h": MetricDef("24 h trading volume", "USD", "coingecko"),
    "price_change_24h": MetricDef("24 h price change", "%", "coingecko"),
    "circulating_supply": MetricDef("circulating supply", "TOKEN", "coingecko"),
    "total_supply": MetricDef("total supply", "TOKEN", "coingecko"),
    "max_supply": MetricDef("max supply", "TOKEN", "coingecko"),
    "fees_24h": MetricDef("fees, last 24 h", "USD", "defillama"),
    "fees_7d": MetricDef("fees, last 7 days", "USD", "defillama"),
    "fees_30d": MetricDef("fees, last 30 days", "USD", "defillama"),
    "revenue_24h": MetricDef("revenue, last 24 h", "USD", "defillama"),
    "revenue_7d": MetricDef("revenue, last 7 days", "USD", "defillama"),
    "revenue_30d": MetricDef("revenue, last 30 days", "USD", "defillama"),
    "burns_24h": MetricDef("burns, last 24 h", "USD", "defillama"),
    "burns_7d": MetricDef("burns, last 7 days", "USD", "defillama"),
    "burns_30d": MetricDef("burns, last 30 days", "USD", "defillama"),
    "compute_spend_24h": MetricDef("compute spend on leases, last 24 h", "USD", "akash_console"),
    "compute_spend_7d": MetricDef("compute spend on leases, last 7 days", "USD", "akash_console"),
    "compute_spend_30d": MetricDef("compute spend on leases, last 30 days", "USD", "akash_console"),
    "active_leases": MetricDef("active leases", "leases", "akash_console"),
    "new_leases_24h": MetricDef("new leases, last 24 h", "leases", "akash_console"),
    "active_gpus": MetricDef("GPUs leased (active)", "GPUs", "akash_console"),
    "staked": MetricDef("TAO staked", "TOKEN", "taostats"),
    "subnets": MetricDef("subnets", "subnets", "taostats"),
    "emissions_daily": MetricDef("emissions per day", "TOKEN/day", "schedule"),
    "emissions_daily_usd": MetricDef("emissions per day in USD", "USD/day", "schedule"),
    "p_f": MetricDef("price-to-fees (P/F, annualised 30 d)", "x", "derived"),
    "p_s": MetricDef("price-to-sales (P/S, annualised 30 d revenue)", "x", "derived"),
}


@dataclass
class MetricValue:
    """One figure as served: value (a number, or 'unavailable' / 'not configured'), unit, as of, source."""

    protocol: str
    name: str
    value: float | str
    unit: str
    as_of: str  # ISO-8601 UTC of the fetch ('' when never fetched)
    source: str  # display name, e.g. "CoinGecko"
    url: str = ""  # the public page or API behind the figure
    stale: bool = False
    age_s: float | None = None
    note: str = ""
    status: str = "fresh"  # fresh | stale | computed | unavailable | not configured
    label: str = ""
    cache_id: str = ""  # source:key in metrics_cache

    @property
    def available(self) -> bool:
        return isinstance(self.value, (int, float))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.age_s is not None:
            data["age_s"] = round(self.age_s, 1)
        return data


def iso(ts: float | None) -> str:
    """Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` ('' for None)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else ""


def entries_for(protocol: Any, settings: Any) -> list[tuple[str, str]]:
    """(source, key) of every cache entry this protocol can have (whether or not a key is configured)."""
    from knowledge.metrics import service  # the job list lives there

    return [(j.source, j.key) for j in service.jobs_for(protocol, settings, include_unconfigured=True)]


def _unit(name: str, protocol: Any) -> str:
    ticker = protocol.tickers[0] if protocol.tickers else protocol.id.upper()
    return METRICS[name].unit.replace("TOKEN", ticker)


def _url(protocol: Any, provider: str) -> str:
    if provider == "coingecko":
        return coingecko.page_url(protocol.coingecko_id)
    if provider == "defillama":
        return defillama.page_url(protocol.defillama_slug)
    if provider == "akash_console":
        return akash_console.PAGE_URL
    if provider == "taostats":
        return taostats.PAGE_URL
    return ""


def _sum_last(points: list[list[Any]], days: int) -> float | None:
    values = [float(p[1]) for p in points[-days:]]
    return sum(values) if len(values) >= days else None


class _Builder:
    def __init__(self, protocol: Any, entries: dict[tuple[str, str], CacheEntry]) -> None:
        self.protocol = protocol
        self.entries = entries
        self.out: dict[str, MetricValue] = {}

    def entry(self, source: str, kind: str) -> CacheEntry | None:
        return self.entries.get((source, f"{kind}:{self.protocol.id}"))

    def add(self, name: str, value: Any, entry: CacheEntry, note: str = "") -> None:
        if value is None:
            return
        d = METRICS[name]
        self.out[name] = MetricValue(
            protocol=self.protocol.id, name=name, value=float(value), unit=_unit(name, self.protocol),
            as_of=iso(entry.fetched_at), source=TITLES[entry.source], url=_url(self.protocol, entry.source),
            stale=entry.stale, age_s=entry.age_s, note=note or (_stale_note(entry) if entry.stale else ""),
            status=entry.status, label=d.label, cache_id=f"{entry.source}:{entry.key}")

    def missing(self, name: str, status: str, note: str) -> None:
        d = METRICS[name]
        provider = d.provider
        self.out.setdefault(name, MetricValue(
            protocol=self.protocol.id, name=name, value=status, unit="", as_of="",
            source=TITLES.get(provider, provider), url=_url(self.protocol, provider) if status == UNAVAILABLE and
            provider != "derived" else "", note=note, status=status, label=d.label))


def _stale_note(entry: CacheEntry) -> str:
    age = entry.age_s or 0
    text = f"stale: cached {format_age(age)} ago"
    return text + ("; the source is unavailable now" if entry.error else "")


def format_age(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h', '2.0 days'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def build_values(protocol: Any, entries: dict[tuple[str, str], CacheEntry], settings: Any) -> dict[str, MetricValue]:
    """Every metric this protocol has (figures, or 'unavailable' / 'not configured' with the reason)."""
    b = _Builder(protocol, entries)
    _market(b)
    _fees(b)
    _akash(b)
    _taostats(b, settings)
    _emissions(b)
    _ratios(b)
    return b.out


def _why(entry: CacheEntry | None, source: str) -> str:
    if entry is not None and entry.error:
        return entry.error
    return f"{TITLES[source]}: nothing cached yet"


def _market(b: _Builder) -> None:
    if not b.protocol.coingecko_id:
        return
    e = b.entry("coingecko", "market")
    names = ("price", "market_cap", "fdv", "volume_24h", "price_change_24h", "circulating_supply",
             "total_supply", "max_supply")
    if e is None or not e.ok:
        for name in names[:6]:
            b.missing(name, UNAVAILABLE, _why(e, "coingecko"))
        return
    p = e.payload
    b.add("price", p.get("price"), e)
    b.add("market_cap", p.get("market_cap"), e)
    b.add("fdv", p.get("fdv"), e)
    b.add("volume_24h", p.get("volume_24h"), e)
    b.add("price_change_24h", p.get("price_change_pct_24h"), e)
    b.add("circulating_supply", p.get("circulating_supply"), e)
    b.add("total_supply", p.get("total_supply"), e)
    b.add("max_supply", p.get("max_supply"), e)


def _fees(b: _Builder) -> None:
    if not b.protocol.defillama_slug:
        return
    derived = " (derived from RENDER burns)" if defillama.burns_tokens(b.protocol) else ""
    for kind in ("fees", "revenue"):
        e = b.entry("defillama", kind)
        if e is None or not e.ok:
            for period in ("24h", "7d", "30d"):
                b.missing(f"{kind}_{period}", UNAVAILABLE, _why(e, "defillama"))
            continue
        for period in ("24h", "7d", "30d"):
            note = (derived.strip(" ()") if kind == "fees" and derived else "")
            b.add(f"{kind}_{period}", e.payload.get(f"total{period}"), e, note=_join(note, e))
    if defillama.burns_tokens(b.protocol):
        e = b.entry("defillama", "holders_revenue")
        if e is None or not e.ok:
            b.missing("burns_30d", UNAVAILABLE, _why(e, "defillama"))
        else:
            note = "DefiLlama holders revenue (the burn-and-mint burn), in USD"
            b.add("burns_24h", e.payload.get("total24h"), e, note=_join(note, e))
            b.add("burns_7d", e.payload.get("total7d"), e, note=_join(note, e))
            b.add("burns_30d", e.payload.get("total30d"), e, note=_join(note, e))


def _join(note: str, e: CacheEntry) -> str:
    return "; ".join(x for x in (note, _stale_note(e) if e.stale else "") if x)


def _akash(b: _Builder) -> None:
    if akash_console.SOURCE not in b.protocol.usage_sources:
        return
    e = b.entry("akash_console", "dashboard")
    if e is None or not e.ok:
        for name in ("compute_spend_24h", "active_leases", "active_gpus"):
            b.missing(name, UNAVAILABLE, _why(e, "akash_console"))
    else:
        now = e.payload.get("now") or {}
        b.add("compute_spend_24h", now.get("daily_spend_usd"), e, note=_join("rolling 24 h", e))
        b.add("active_leases", now.get("active_leases"), e)
        b.add("new_leases_24h", now.get("daily_lease_count"), e)
        b.add("active_gpus", now.get("active_gpu"), e)
    s = b.entry("akash_console", "spend")
    if s is not None and s.ok:
        points = s.payload.get("points") or []
        for days in (7, 30):
            b.add(f"compute_spend_{days}d", _sum_last(points, days), s,
                  note=_join(f"sum of the last {days} daily figures", s))
    else:
        for days in (7, 30):
            b.missing(f"compute_spend_{days}d", UNAVAILABLE, _why(s, "akash_console"))


def _taostats(b: _Builder, settings: Any) -> None:
    if taostats.SOURCE not in b.protocol.usage_sources:
        return
    e = b.entry("taostats", "stats")
    if not taostats.configured(settings) and (e is None or not e.ok):
        for name in ("staked", "subnets"):
            b.missing(name, NOT_CONFIGURED, "Taostats needs an API key: set TAOSTATS_API_KEY")
        return
    if e is None or not e.ok:
        for name in ("staked", "subnets"):
            b.missing(name, UNAVAILABLE, _why(e, "taostats"))
        return
    b.add("staked", e.payload.get("staked"), e)
    b.add("subnets", e.payload.get("subnets"), e)


def _emissions(b: _Builder) -> None:
    p = b.protocol
    if not p.emission:
        return
    supply_entry = None
    supply = None
    ts = b.entry("taostats", "stats")
    if ts is not None and ts.ok and ts.payload.get("issued"):
        supply, supply_entry = ts.payload["issued"], ts
    else:
        mk = b.entry("coingecko", "market")
        if mk is not None and mk.ok:
            value = mk.payload.get("circulating_supply")  # issued so far; CoinGecko's total may be the cap
            if value:
                supply, supply_entry = value, mk
    inflation = total = None
    dash = b.entry("akash_console", "dashboard")
    if dash is not None and dash.ok:
        inflation, total = dash.payload.get("inflation"), dash.payload.get("total_supply")
    if p.emission.get("kind") == "inflation":
        supply_entry = dash if dash is not None and dash.ok else None
    em = daily_emission(p, supply=supply, inflation=inflation, total_supply=total)
    if em.daily_tokens is None:
        b.missing("emissions_daily", UNAVAILABLE, em.note)
        return
    schedule = CacheEntry("schedule", "emission:" + p.id, {}, supply_entry.fetched_at if supply_entry else time.time(),
                          "stale" if supply_entry is not None and supply_entry.stale else "computed",
                          supply_entry.age_s if supply_entry else 0.0)
    b.add("emissions_daily", em.daily_tokens, schedule, note=em.note)
    b.out["emissions_daily"].url = ""
    price = b.out.get("price")
    if price is not None and price.available:
        usd = CacheEntry("schedule", "emission:" + p.id, {}, min(schedule.fetched_at or 0, _ts(price)),
                         "stale" if price.stale or schedule.stale else "computed", max(price.age_s or 0, schedule.age_s or 0))
        b.add("emissions_daily_usd", em.daily_tokens * float(price.value), usd,
              note=f"{em.daily_tokens:,.0f} tokens/day x CoinGecko price")
        b.out["emissions_daily_usd"].url = ""


def _ts(value: MetricValue) -> float:
    return time.time() - (value.age_s or 0.0)


def _ratios(b: _Builder) -> None:
    mcap, fdv = b.out.get("market_cap"), b.out.get("fdv")
    for name, flow_name in (("p_f", "fees_30d"), ("p_s", "revenue_30d")):
        flow = b.out.get(flow_name)
        if mcap is None or flow is None:
            continue
        if not (mcap.available and flow.available) or not float(flow.value):
            b.missing(name, UNAVAILABLE, f"needs market cap (CoinGecko) and {flow_name.replace('_', ' ')} "
                                         f"(DefiLlama); one is unavailable")
            continue
        annual = float(flow.value) * 365 / 30
        ratio = float(mcap.value) / annual
        note = f"circulating market cap / ({flow_name.replace('_30d', '')} last 30 days x 365/30)"
        if fdv is not None and fdv.available:
            note += f"; on FDV: {float(fdv.value) / annual:,.1f}x"
        stale = mcap.stale or flow.stale
        entry = CacheEntry("derived", f"{name}:{b.protocol.id}", {}, min(_ts(mcap), _ts(flow)),
                           "stale" if stale else "computed", max(mcap.age_s or 0, flow.age_s or 0))
        b.add(name, ratio, entry, note=note)
        b.out[name].url = flow.url
