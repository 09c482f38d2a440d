"""Protocols side by side, from the knowledge base and the metrics cache (no network, nothing invented).

`compare_protocols(engine, ids)` returns a `Comparison`; per protocol: name, tickers, focus, token utility
and main risks (short, cited passages from the knowledge base, the starter pack's sections first), usage
and market figures (value, unit, as of, source, stale flag), the usage-vs-speculation score (or None),
sustainability (emissions vs usage, burns), and `missing`: what could not be filled and why.

The cache is read as is: refreshing figures is the metrics command's job (or the adapter's, before
calling here). `Comparison.to_json()` is the stable `compare --json` object; keys are only ever added.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from knowledge.errors import BadInputError
from knowledge.text import split_sentences

log = logging.getLogger(__name__)

MAX_PROTOCOLS = 3
SNIPPET_CHARS = 320  # one cited passage: one or two sentences, never more than this

# Which cached metrics appear in each block, in display order (only those a protocol has are shown).
USAGE_METRICS = ("compute_spend_30d", "compute_spend_24h", "fees_30d", "revenue_30d", "burns_30d",
                 "active_leases", "active_gpus", "staked", "subnets")
MARKET_METRICS = ("price", "market_cap", "fdv", "volume_24h", "circulating_supply", "p_f", "p_s")
EMISSION_METRICS = ("emissions_daily", "emissions_daily_usd")
# The 30-day usage figure in USD, by usage source (for the chart and emissions vs usage).
USAGE_30D = {"akash_console": "compute_spend_30d", "defillama_fees": "fees_30d", "defillama": "fees_30d"}

# Knowledge-base sections (last heading, lower-case) that hold each topic.
TOPICS = {
    "focus": (r"^focus\b|^overview\b|^what is\b", "{name} focus what it does"),
    "token_utility": (r"^token utility\b|^token\b|^tokenomics\b|^token economics\b", "{name} token utility"),
    "risks": (r"^bottlenecks and risks\b|^risks?\b|^bottlenecks\b|^challenges\b", "{name} risks bottlenecks"),
}


@dataclass
class Cited:
    """A short passage from the knowledge base with where it came from."""

    text: str
    title: str
    path: str  # the document key, e.g. pack/akash.md
    section: str = ""
    url: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "source": {"title": self.title, "path": self.path, "section": self.section,
                                              "url": self.url}}

    def citation(self) -> str:
        """'Akash Network — fact sheet, Token utility (AKT) (pack/akash.md)'."""
        head = self.title or self.path
        if self.section and self.section != self.title:
            head += f", {self.section}"
        where = self.url or self.path
        return f"{head} ({where})" if where and where != head else head


@dataclass
class ProtocolColumn:
    """One protocol's side of the comparison."""

    id: str
    name: str
    tickers: list[str]
    focus: str  # the registry's one-line focus ('' when the registry has none)
    focus_kb: Cited | None = None
    token_utility: Cited | None = None
    risks: Cited | None = None
    usage: list[dict[str, Any]] = field(default_factory=list)
    market: list[dict[str, Any]] = field(default_factory=list)
    score: dict[str, Any] | None = None
    sustainability: dict[str, Any] = field(default_factory=dict)
    key_figures: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def figure(self, name: str) -> dict[str, Any] | None:
        for row in self.usage + self.market + self.sustainability.get("emissions", []):
            if row["name"] == name:
                return row
        return None

    def to_json(self) -> dict[str, Any]:
        cite = lambda c: c.to_json() if c is not None else None  # noqa: E731
        return {
            "id": self.id, "name": self.name, "tickers": list(self.tickers),
            "focus": {"registry": self.focus, "kb": cite(self.focus_kb)},
            "token_utility": cite(self.token_utility),
            "risks": cite(self.risks),
            "usage": self.usage, "market": self.market,
            "score": self.score, "sustainability": self.sustainability,
            "key_figures": self.key_figures, "missing": list(self.missing),
        }


@dataclass
class Comparison:
    """1-3 protocols side by side; `to_json()` gives the JSON-ready dict."""

    protocols: list[ProtocolColumn]
    generated_at: str
    note: str = ("Text is quoted from the knowledge base with its source; figures come from the metrics cache "
                 "with their 'as of' and source. Not financial advice.")

    @property
    def missing(self) -> list[str]:
        return [f"{p.name}: {m}" for p in self.protocols for m in p.missing]

    def to_json(self) -> dict[str, Any]:
        return {"generated_at": self.generated_at, "protocols": [p.to_json() for p in self.protocols],
                "missing": self.missing, "note": self.note}


# -- knowledge base -----------------------------------------------------------------------------------
def _short(text: str, limit: int = SNIPPET_CHARS, sentences: int = 2) -> str:
    """The first one or two sentences of `text`, within `limit` characters."""
    picked: list[str] = []
    for sentence in split_sentences(text):
        sentence = " ".join(sentence.lstrip("-*+ ").split())
        if not sentence or sentence.startswith("|"):
            continue
        if picked and len(" ".join(picked + [sentence])) > limit:
            break
        picked.append(sentence)
        if len(picked) >= sentences:
            break
    out = " ".join(picked)
    if len(out) > limit:  # one very long sentence: cut at a word boundary
        out = out[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


def _last_heading(section: str) -> str:
    return (section or "").split(" > ")[-1].strip()


def _from_sections(engine: Any, protocol_id: str, pattern: str) -> Cited | None:
    """The protocol's own document section whose heading matches `pattern` (starter pack first)."""
    rows = engine.store.query(
        "SELECT d.key, d.title, d.source_url, d.origin, c.section, c.text, c.position FROM chunks c "
        "JOIN documents d ON d.id = c.document_id WHERE d.status = 'active' AND d.protocol = ? "
        "ORDER BY CASE WHEN d.origin = 'pack' THEN 0 ELSE 1 END, d.id, c.position", (protocol_id,))
    rx = re.compile(pattern)
    for row in rows:
        heading = _last_heading(row["section"])
        if rx.search(heading.lower()):
            text = _short(row["text"])
            if text:
                return Cited(text, row["title"], row["key"], heading, row["source_url"])
    return None


def _from_search(engine: Any, protocol: Any, query: str) -> Cited | None:
    """The best sentences of the best passage retrieval finds in this protocol's own documents."""
    retrieval = engine.retriever.search(query, engine.registry, k=3, protocol=protocol.id)
    from knowledge.text import content_words

    terms = set(content_words(query)) - set(content_words(protocol.name))
    for doc in retrieval.documents:
        if doc.protocol != protocol.id:
            continue  # 'all' documents speak of every protocol; a column quotes only its own
        for passage in doc.passages:
            sentences = [s for s in split_sentences(passage.text) if not s.lstrip().startswith("|")]
            ranked = sorted(sentences, key=lambda s: -len(terms & set(content_words(s))))
            if ranked and terms & set(content_words(ranked[0])):
                text = _short(" ".join(ranked[:2]))
                if text:
                    return Cited(text, doc.title, doc.key, _last_heading(passage.section), doc.url)
    return None


def knowledge_text(engine: Any, protocol: Any, topic: str) -> Cited | None:
    """A short cited passage on `topic` (focus, token_utility, risks) for `protocol`, or None."""
    pattern, query = TOPICS[topic]
    found = _from_sections(engine, protocol.id, pattern)
    if found is None:
        try:
            found = _from_search(engine, protocol, query.format(name=protocol.name))
        except Exception:  # noqa: BLE001 - a retrieval failure leaves the field missing, never the comparison
            log.exception("knowledge search for %s %s failed", protocol.id, topic)
    return found


# -- figures ------------------------------------------------------------------------------------------
def figure_json(value: Any) -> dict[str, Any]:
    """A MetricValue as a comparison row: value, unit, display text, as of, source, stale."""
    from knowledge.metrics.questions import format_value

    return {"name": value.name, "label": value.label or value.name, "value": float(value.value),
            "unit": value.unit, "display": format_value(value), "as_of": value.as_of, "source": value.source,
            "url": value.url, "stale": bool(value.stale), "note": value.note}


def _missing_lines(values: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """'missing: price, market cap (source: CoinGecko; CoinGecko: nothing cached yet)', grouped by reason."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name in names:
        v = values.get(name)
        if v is None or v.available:
            continue
        if v.source == "Derived":
            continue  # a ratio is missing because an input is, and the input is listed
        groups.setdefault((v.source or "?", v.note or str(v.value)), []).append(v.label or name)
    return [f"missing: {'; '.join(labels)} (source: {source}; {why})" for (source, why), labels in groups.items()]


def _figures(engine: Any, col: ProtocolColumn, protocol: Any) -> dict[str, Any]:
    from knowledge.metrics.service import metric_values

    values = metric_values(engine.store, engine.registry, protocol.id, getattr(engine, "settings", None))
    col.usage = [figure_json(values[n]) for n in USAGE_METRICS if n in values and values[n].available]
    col.market = [figure_json(values[n]) for n in MARKET_METRICS if n in values and values[n].available]
    col.missing += _missing_lines(values, USAGE_METRICS + MARKET_METRICS + EMISSION_METRICS)
    if not col.usage and not any(n in values for n in USAGE_METRICS):
        col.missing.append("missing: usage figures (no usage source for this protocol in the registry)")
    return values


def _usage_30d(values: dict[str, Any], protocol: Any) -> Any:
    for source in protocol.usage_sources:
        name = USAGE_30D.get(source)
        if name and name in values and values[name].available:
            return values[name]
    return None


def _score(engine: Any, col: ProtocolColumn, protocol: Any) -> Any:
    """Score from the cached daily series; None (with the reason in `missing`) when it cannot be given."""
    from knowledge.metrics.service import load_series
    from scoring.score import NoUsageDataError, score_series

    series = load_series(engine.store, engine.registry, protocol.id)
    if series is None:
        col.missing.append("missing: score (no price history cached; source: CoinGecko market_chart)")
        return None
    if not series.has_usage:
        col.missing.append("missing: score (no usage data cached; usage sources: "
                           f"{', '.join(protocol.usage_sources) or 'none in the registry'})")
        return None
    try:
        result = score_series(series, protocol=protocol.id)
    except NoUsageDataError:
        col.missing.append("missing: score (no usage data cached)")
        return None
    factors = [{"name": f.name, "value": _num(f.value), "contribution": _num(f.contribution),
                "explanation": f.explanation} for f in result.factors]
    col.score = {"score": _num(result.score), "label": result.label, "confidence": _num(result.confidence),
                 "as_of": result.as_of, "factors": factors, "note": result.note, "source": series.source}
    if result.score is None:
        col.missing.append(f"missing: score ({result.note or 'not enough history'})")
    return result


def _num(x: Any) -> float | None:
    import math

    if x is None:
        return None
    x = float(x)
    return round(x, 4) if math.isfinite(x) else None


def _sustainability(col: ProtocolColumn, protocol: Any, values: dict[str, Any], result: Any) -> None:
    """Emissions (registry schedule + cached supply/price) against usage and burns, beside the score."""
    from knowledge.metrics.emissions import daily_emission

    emissions = [figure_json(values[n]) for n in EMISSION_METRICS if n in values and values[n].available]
    schedule = values.get("emissions_daily")
    note = schedule.note if schedule is not None else daily_emission(protocol).note
    out: dict[str, Any] = {"emissions": emissions, "schedule_note": note}
    usage = _usage_30d(values, protocol)
    per_day_usd = values.get("emissions_daily_usd")
    if usage is not None:
        out["usage_30d_usd"] = _num(usage.value)
        out["usage_30d_source"] = usage.source
    if per_day_usd is not None and per_day_usd.available:
        emitted_30d = float(per_day_usd.value) * 30
        out["emissions_30d_usd"] = _num(emitted_30d)
        if usage is not None and float(usage.value) > 0:
            out["emissions_to_usage"] = _num(emitted_30d / float(usage.value))
        burns = values.get("burns_30d")
        if burns is not None and burns.available and emitted_30d > 0:
            out["burn_to_emission"] = _num(float(burns.value) / emitted_30d)
    if result is not None:
        out["from_score"] = {k: v for k, v in (result.sustainability or {}).items() if v is not None}
    ratio = out.get("emissions_to_usage")
    if ratio is not None:
        out["summary"] = (f"emissions worth {ratio:,.2f}x the last 30 days of usage"
                          + (" (usage covers emissions)" if ratio < 1 else " (emissions exceed usage)"))
    else:
        out["summary"] = "emissions vs usage: not computable from the cache"
    col.sustainability = out


def _key_figures(col: ProtocolColumn, protocol: Any, values: dict[str, Any]) -> None:
    mcap = values.get("market_cap")
    usage = _usage_30d(values, protocol)
    col.key_figures = {
        "market_cap_usd": _num(mcap.value) if mcap is not None and mcap.available else None,
        "usage_annualized_usd": _num(float(usage.value) * 365 / 30) if usage is not None else None,
        "usage_basis": f"{usage.label} x 365/30 ({usage.source})" if usage is not None else "",
        "score": (col.score or {}).get("score"),
        "label": (col.score or {}).get("label"),
    }


# -- the comparison -----------------------------------------------------------------------------------
def resolve(engine: Any, ids: list[str]) -> list[Any]:
    """Registry protocols for 1-3 names (ids, names, tickers, aliases), duplicates dropped."""
    names = [str(i).strip() for i in ids if str(i).strip()]
    if not names:
        raise BadInputError("name one to three protocols, e.g. compare render akash bittensor")
    protocols: list[Any] = []
    for name in names:
        try:
            p = engine.registry.get(name)
        except Exception as exc:  # noqa: BLE001 - the registry's own message names the protocol
            raise BadInputError(str(exc) or f"unknown protocol {name!r}") from None
        if all(p.id != q.id for q in protocols):
            protocols.append(p)
    if len(protocols) > MAX_PROTOCOLS:
        raise BadInputError(f"compare at most {MAX_PROTOCOLS} protocols at a time (got {len(protocols)})")
    return protocols


def compare_protocols(engine: Any, ids: list[str]) -> Comparison:
    """Side by side from the knowledge base and the metrics cache; `missing` says what could not be filled."""
    columns = []
    for protocol in resolve(engine, ids):
        col = ProtocolColumn(protocol.id, protocol.name, list(protocol.tickers), protocol.focus)
        for topic in ("focus", "token_utility", "risks"):
            found = knowledge_text(engine, protocol, topic)
            setattr(col, "focus_kb" if topic == "focus" else topic, found)
            if found is None and not (topic == "focus" and protocol.focus):
                col.missing.append(f"missing: {topic.replace('_', ' ')} (nothing in the knowledge base)")
        values: dict[str, Any] = {}
        try:
            values = _figures(engine, col, protocol)
        except Exception:  # noqa: BLE001 - a broken cache entry costs the figures, not the comparison
            log.exception("cached figures for %s failed", protocol.id)
            col.missing.append("missing: figures (the metrics cache could not be read)")
        result = None
        try:
            result = _score(engine, col, protocol)
        except Exception:  # noqa: BLE001
            log.exception("score for %s failed", protocol.id)
            col.missing.append("missing: score (could not be computed from the cached series)")
        _sustainability(col, protocol, values, result)
        _key_figures(col, protocol, values)
        columns.append(col)
    return Comparison(columns, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


# -- plain text (CLI without a terminal, console chat) --------------------------------------------------
def _fig_text(row: dict[str, Any]) -> str:
    return f"{row['display']} (as of {row['as_of'] or '?'}, {row['source']}{', STALE' if row['stale'] else ''})"


def column_lines(col: dict[str, Any]) -> list[str]:
    """One protocol's block as text lines (from its JSON)."""
    tick = "/".join(col["tickers"])
    lines = [f"{col['name']}" + (f" ({tick})" if tick else "")]
    focus = col["focus"]
    if focus.get("registry"):
        lines.append(f"  focus: {focus['registry']}")
    if focus.get("kb"):
        lines.append(f"    {focus['kb']['text']} [{_src(focus['kb'])}]")
    for key, label in (("token_utility", "token utility"), ("risks", "main risks")):
        cited = col.get(key)
        lines.append(f"  {label}: " + (f"{cited['text']} [{_src(cited)}]" if cited else "not in the knowledge base"))
    for row in col["usage"]:
        lines.append(f"  usage - {row['label']}: {_fig_text(row)}")
    for row in col["market"]:
        lines.append(f"  market - {row['label']}: {_fig_text(row)}")
    s = col.get("score")
    if s and s.get("score") is not None:
        lines.append(f"  score: {s['score']:.0f}/100 {s['label']} (confidence {s['confidence']:.2f}, as of {s['as_of']})")
    else:
        lines.append("  score: none")
    sus = col.get("sustainability") or {}
    for row in sus.get("emissions", []):
        lines.append(f"  sustainability - {row['label']}: {_fig_text(row)}")
    lines.append(f"  sustainability: {sus.get('summary', '')}")
    for m in col["missing"]:
        lines.append(f"  {m}")
    return lines


def _src(cited: dict[str, Any]) -> str:
    src = cited["source"]
    head = src["title"] or src["path"]
    if src.get("section"):
        head += f", {src['section']}"
    return head + (f", {src['url']}" if src.get("url") else f" ({src['path']})")


def to_text(data: dict[str, Any], separator: str = "\n\n") -> str:
    """The comparison (its JSON) as plain text, one block per protocol, then the note."""
    blocks = ["\n".join(column_lines(col)) for col in data["protocols"]]
    return separator.join(blocks + [data.get("note", "")]).rstrip()
