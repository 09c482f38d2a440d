"""Metric questions in chat ("what's TAO's market cap?", "how many GPUs are leased on Akash?"): detection
with a tight vocabulary, and answers from the metrics cache with figure, unit, "as of", source and staleness.

Detection returns None whenever unsure (definitions, unit conversions, how-it-works questions, opinions and
predictions), so document questions are never hijacked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from knowledge.metrics.values import METRICS, MetricValue, format_age
from knowledge.results import Source
from knowledge.text import FUTURE_TENSE, mentions_a_later_year, mentions_an_earlier_year

if TYPE_CHECKING:
    from knowledge.protocols import Registry
    from knowledge.store import Store

log = logging.getLogger(__name__)

# Metric families: a regular expression over the lower-cased question -> the family name.
VOCABULARY: list[tuple[str, str]] = [
    ("fdv", r"\bfdv\b|\bfully[- ]diluted(?: valuation| value| market ?cap)?\b"),
    ("p_f", r"\bp\s*/\s*f\b|\bprice[- ]to[- ]fees?\b|\bp/f ratio\b"),
    ("p_s", r"\bp\s*/\s*s\b|\bprice[- ]to[- ](?:sales|revenue)\b"),
    ("score", r"\b(?:over|under)valued\b|\busage[- ](?:vs\.?|versus)[- ]speculation\b|\b(?:the |its |usage )score\b"),
    ("market_cap", r"\bmarket[- ]?cap(?:itali[sz]ation)?\b|\bmcap\b"),
    ("volume", r"\b(?:trading |24 ?h(?:our)? |daily trading )?volume\b"),
    # token supply, not the supply of a marketplace ("the supply side", "GPU supply", "supply of GPUs")
    ("supply", r"\b(?:circulating|total|max(?:imum)?) supply\b|\bin circulation\b"
               r"|(?<!gpu )(?<!compute )(?<!hardware )(?<!provider )(?<!node )\bsupply\b"
               r"(?![- ]side| chain| of (?:gpu|compute|hardware|node|provider))"),
    ("compute_spend", r"\b(?:compute |lease |usd |total )?spend(?:ing)?\b|\bspent\b|\bearn(?:ed|s)?\b.*\bleases?\b"
                      r"|\blease (?:revenue|income)\b|\bpaid (?:for|on) (?:compute|leases)\b"),
    ("gpus", r"\bgpus?\b.*\b(?:leased|rented|in use|active|used|running|deployed)\b|\bhow many gpus\b"
             r"|\b(?:active|leased|rented) gpus\b|\bgpu count\b|\bnumber of gpus\b"),
    ("leases", r"\b(?:active|open|running|new) leases\b|\bhow many leases\b|\blease count\b|\bnumber of leases\b"
               r"|\bleases (?:are )?(?:active|open|running)\b"),
    ("fees", r"\bfees\b"),
    ("revenue", r"\brevenue\b|\bearn(?:ed|ings|s)?\b|\bmade\b.*\bmoney\b"),
    ("burns", r"\bburn(?:s|ed|t)?\b(?![- ]and[- ]mint)"),
    ("emissions", r"\bemissions?\b|\bissuance\b|\binflation rate\b|\bemitted\b"),
    ("staked", r"\bhow much \w+ (?:is )?staked\b|\btotal stake(?:d)?\b"),
    ("subnets", r"\b(?:how many|number of|active) subnets\b(?!.*\b(?:max|maximum|limit|can|could|allowed)\b)"),
    ("price", r"\bprice\b|\btrading at\b|\bhow much is (?:one |1 |a )?\w+ worth\b"),
]
_VOCAB = [(name, re.compile(rx)) for name, rx in VOCABULARY]

# Figures people ask for "now" (no period needed) vs flows summed over a period.
FLOW_FAMILIES = {"fees", "revenue", "burns", "compute_spend"}
FLOW_PERIODS = {"fees": ("24h", "7d", "30d"), "revenue": ("24h", "7d", "30d"), "burns": ("24h", "7d", "30d"),
                "compute_spend": ("24h", "7d", "30d")}
FAMILY_METRICS = {
    "price": ["price"], "market_cap": ["market_cap"], "fdv": ["fdv"], "volume": ["volume_24h"],
    "supply": ["circulating_supply"], "leases": ["active_leases"], "gpus": ["active_gpus"],
    "emissions": ["emissions_daily", "emissions_daily_usd"], "p_f": ["p_f"], "p_s": ["p_s"],
    "score": ["p_s", "p_f"], "staked": ["staked"], "subnets": ["subnets"],
}

_OPINION = re.compile(
    r"\b(?:do|would|should|will|could) (?:you|i|we)\b|\bin your (?:opinion|view)\b|\byour (?:opinion|view|take)\b"
    r"|\bpredict(?:ion)?s?\b|\bforecast\b|\bprice target\b|\b(?:hits?|reach(?:es)?|go(?:es)? to) \$?\d"
    r"|\bbuy(?:ing)?\b|\bsell(?:ing)?\b|\bdip\b|\bmoon\b|\bworth buying\b|\bgood investment\b|\bwill (?:it|\w+) "
    r"(?:go|rise|fall|pump|dump|hit|reach)\b|\bnext (?:year|month|week)\b|\bby (?:the )?end of\b|\bfinancial advice\b"
)
_DOC_INTENT = re.compile(
    r"\bhow (?:does|do|is|are|was|were)\b.*\b(?:work|works|calculated|computed|determined|set|decided|"
    r"distributed|split|paid|defined|measured|priced|governed|changed)\b"
    r"|\bexplain\b|\bmean(?:s|ing)?\b|\bdefin(?:e|ition)\b|\bwhat (?:is|are) (?:a|an)\b|\bdifference between\b"
    r"|\bhow many rao\b|\b(?:in|per) (?:1|one|a) (?:tao|akt|render|rndr)\b|\bwho\b|\bwhen (?:was|did|will)\b"
    r"|\bschedule\b|\bhalving\b|\bproposal\b|\brnp[- ]?\d|\baep[- ]?\d|\bcreated per\b|\bwhat happens\b"
    r"|\bwhat (?:%|percent|percentage|share|fraction|portion|proportion)\b|%\s*of\b|\bpercent(?:age)? of\b"
    r"|\bfee (?:structure|model|rate)\b|\btake rate\b|\bhow (?:are|is) .* fees?\b|\bwhat fees?\b"
    # a share of something, or a requirement: "how much of the total stake does a hotkey need for the senate?"
    r"|\bhow much of\b|\b(?:need|needs|needed|require[sd]?|requirements?|eligib\w*|qualify|minimum)\b"
    # what a deal cost ("the total price tag on the Cloudmos acquisition") is in the proposal, not a token price
    r"|\bprice tag\b|\bpurchase price\b|\bacqui(?:re[ds]?|sition)\b|\bmerger\b|\bbuy-?out\b"
)
_FIGURE_CUE = re.compile(
    r"^(?:what(?:'s|s| is| are| was| were)|how (?:much|many|big|large|high|low)|current|latest|today|now|show|"
    r"tell me|give me|get)\b|\b(?:current|currently|latest|right now|today|now|this (?:week|month)|last \d+ "
    r"(?:days?|hours?)|past (?:week|month|day|24 ?h)|24 ?h|7 ?d|30 ?d|so far|as of)\b"
    # "is RENDER overvalued vs its usage?" asks for the valuation-to-usage figures (P/S, P/F)
    r"|\b(?:over|under)valued\b(?=.*\b(?:usage|revenue|fees|fundamentals|spend)\b)"
)
_QUESTION_WORD = re.compile(r"^(?:does|do|did|is|are|was|were|can|could|will|would|should|has|have|how|why|when|"
                            r"where|who|which|what|if|so|and|but|i|my)\b")
_WHY = re.compile(r"\bwhy\b|\bwhat (?:caused|drove|explains)\b|\bafter (?:the )?mainnet\b|\bbecause of\b|\bdue to\b")
_PERIODS = [("24h", re.compile(r"\b(?:24 ?h(?:ours?)?|today|daily|per day|a day|yesterday|last day|one day)\b")),
            ("7d", re.compile(r"\b(?:week(?:ly)?|7 ?d(?:ays?)?|seven days)\b")),
            ("30d", re.compile(r"\b(?:month(?:ly)?|30 ?d(?:ays?)?|thirty days)\b"))]


@dataclass
class MetricQuery:
    """A recognised metric question: the protocol (None: not named), metric names and flags."""

    protocol: str | None
    metrics: list[str]
    families: list[str] = field(default_factory=list)
    period: str | None = None
    needs_documents: bool = False  # e.g. "why did Akash's spend jump after Mainnet 6?": figure + passages
    question: str = ""


@dataclass
class MetricAnswer:
    """Text with [n] markers, metric sources (kind 'metric'), whether the figures exist, and the figures."""

    text: str
    sources: list[Source]
    available: bool
    protocol: str = ""
    metrics: list[dict[str, Any]] = field(default_factory=list)
    stale: bool = False


# "according to the article", "what does the starter pack say": what a document states, which the documents
# answer (the article's August 2023 prices are not today's).
_ABOUT_A_DOCUMENT = re.compile(r"\b(?:article|blog post|whitepaper|white paper|starter pack|fact sheet|docs|"
                               r"documentation)\b")
_PAST = re.compile(r"\b(?:was|were|did|had)\b")
_EVENT_ANCHOR = re.compile(r"\b(?:right |just |shortly )?(?:after|before|following|during)"
                           r" (?:the|its|their|launch)\b"
                           r"|\bwhen (?:the|it|they)\b|\bat (?:the time|launch)\b|\bback (?:then|in)\b"
                           # a numbered period of a schedule: "during year 1 of BME", "in the first year"
                           r"|\b(?:during|in|for|over) (?:the )?"
                           r"(?:year (?:\d|one|two|three)|(?:first|second|third) year)\b")
_LIVE_PERIOD = re.compile(r"\b(?:last|past|this) (?:\d+ )?(?:days?|hours?|weeks?|months?)\b"
                          r"|\b(?:24 ?h|7 ?d|30 ?d)\b|\b(?:now|today|yesterday|currently|so far)\b")


def _asks_about_the_past(text: str) -> bool:
    """'What was RNDR's price in August 2023?', 'how much was spent right after the GPU launch?': a figure of
    an earlier year or of a past event, which no live value gives (a document may)."""
    if not _PAST.search(text):
        return False
    if mentions_an_earlier_year(text):
        return True
    return bool(_EVENT_ANCHOR.search(text)) and not _LIVE_PERIOD.search(text)


def _asks_about_the_future(text: str) -> bool:
    """'How many RENDER are going to get burned during 2027?': no live figure answers that; the documents
    (a schedule, a budget) may."""
    return bool(FUTURE_TENSE.search(text)) or mentions_a_later_year(text)


def detect_metric_question(question: str, registry: "Registry") -> MetricQuery | None:
    """A MetricQuery when the question asks for a live figure; None when unsure (doc questions, opinions)."""
    text = " ".join((question or "").lower().replace("’", "'").split())
    if not text or len(text) > 300 or _OPINION.search(text) or _asks_about_the_future(text):
        return None
    if _ABOUT_A_DOCUMENT.search(text) or _asks_about_the_past(text):
        return None
    families = [name for name, rx in _VOCAB if rx.search(text)]
    if not families:
        return None
    if "fdv" in families and "market_cap" in families and not re.search(r"\bmarket cap\b(?! ?\))", text.replace(
            "fully diluted market cap", "")):
        families.remove("market_cap")
    if "price" in families and len(families) > 1 and re.search(r"\bprice[- ]to\b", text):
        families.remove("price")
    if {"compute_spend", "revenue"} <= set(families) and re.search(r"\bleases?\b", text):
        families.remove("revenue")
    if "price" in families and re.search(r"\bgpu prices?\b|\bprice (?:per|of a) (?:gpu|hour|lease)\b|\bpricing\b", text):
        families.remove("price")
    if not families:
        return None
    needs_docs = bool(_WHY.search(text))
    if not needs_docs and _DOC_INTENT.search(text):
        return None
    if not needs_docs and not _FIGURE_CUE.search(text) and (len(text.split()) > 6 or _QUESTION_WORD.match(text)):
        return None  # only terse "TAO market cap?" style questions pass without a figure cue
    protocols = registry.detect(text)
    if not protocols and not re.search(r"\b(?:the|its|their|current|currently|latest|today|now)\b", text):
        return None  # "what is FDV?" asks for a definition, not a figure
    period = next((p for p, rx in _PERIODS if rx.search(text)), None)
    if needs_docs and period is None:
        period = "30d"  # one figure beside the passages keeps the merged answer short
    metrics: list[str] = []
    for family in families:
        if family in FLOW_FAMILIES:
            names = [f"{family}_{p}" for p in ((period,) if period else FLOW_PERIODS[family])]
        else:
            names = FAMILY_METRICS[family]
        if family == "supply":
            names = [n for n, w in (("total_supply", "total"), ("max_supply", "max")) if w in text] or names
        if family == "leases" and re.search(r"\bnew\b|\btoday\b|\bdaily\b|\b24 ?h", text):
            names = ["new_leases_24h"]
        metrics.extend(n for n in names if n not in metrics)
    return MetricQuery(protocol=protocols[0] if protocols else None, metrics=metrics, families=families,
                       period=period, needs_documents=needs_docs, question=question)


def format_value(value: MetricValue) -> str:
    """'$3.42', '$1.77 billion', '1,187 leases', '518,389,243 RENDER', '638.9x', '+1.82%'."""
    v = float(value.value)
    unit = value.unit
    if unit in {"USD", "USD/day"}:
        if abs(v) >= 1e9:
            text = f"${v / 1e9:,.2f} billion"
        elif abs(v) >= 1e6:
            text = f"${v / 1e6:,.2f} million"
        elif abs(v) >= 100:
            text = f"${v:,.0f}"
        else:
            text = f"${v:,.4g}" if abs(v) < 1 else f"${v:,.2f}"
        return text + (" a day" if unit == "USD/day" else "")
    if unit == "%":
        return f"{v:+.2f}%"
    if unit == "x":
        return f"{v:,.1f}x"
    number = f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.2f}"
    return f"{number} {unit.replace('/day', ' a day')}"


def _who_provides(name: str, protocol: Any) -> str:
    provider = METRICS[name].provider if name in METRICS else ""
    pname = protocol.name
    if provider == "defillama":
        return f"DefiLlama's fees/revenue API would provide it, but {pname} has no DefiLlama fees adapter " \
               f"(no defillama_slug in the protocol registry)"
    if provider == "akash_console":
        return f"the Akash Console API provides it for Akash only; no usage source for {pname} gives it"
    if provider == "coingecko":
        return f"CoinGecko would provide it, but {pname} has no coingecko_id in the protocol registry"
    if provider == "taostats":
        return f"Taostats would provide it (set TAOSTATS_API_KEY); {pname} does not list it as a usage source"
    if provider == "derived":
        return "it is derived from market cap (CoinGecko) and fees or revenue (DefiLlama), and one of them is " \
               f"missing for {pname}"
    return f"no source for it is configured for {pname}"


def answer_metric_question(store: "Store", registry: "Registry", query: MetricQuery, settings: Any = None,
                           refresh: bool = False) -> MetricAnswer:
    """The figures from the metrics cache (with `refresh`, stale entries are fetched first), cited."""
    from knowledge.metrics.service import current_metrics, metric_values

    if not query.protocol:
        names = ", ".join(p.name for p in registry)
        return MetricAnswer(text=f"Which protocol? Name one of: {names}.", sources=[], available=False)
    protocol = registry.get(query.protocol)
    if refresh:
        values = {v.name: v for v in current_metrics(store, registry, protocol.id, settings, refresh=True)}
    else:
        values = metric_values(store, registry, protocol.id, settings)
    ticker = protocol.tickers[0] if protocol.tickers else protocol.id.upper()
    sentences: list[str] = []
    sources: list[Source] = []
    shown: list[MetricValue] = []
    missing: list[str] = []
    for name in query.metrics:
        value = values.get(name)
        label = METRICS[name].label if name in METRICS else name
        if value is None:
            missing.append(f"{protocol.name}'s {label} is not available: {_who_provides(name, protocol)}.")
            continue
        if not value.available:
            why = value.note or value.status
            missing.append(f"{protocol.name}'s {label} is not available right now ({why}).")
            continue
        rank = len(sources) + 1
        sources.append(Source(
            rank=rank, path=f"metric:{(value.cache_id.split(':')[0] if value.cache_id else 'derived')}:"
                            f"{protocol.id}:{name}",
            title=f"{value.source} — {ticker} {value.label}", url=value.url, date=value.as_of, score=1.0,
            kind="metric", protocol=protocol.id, snippet=f"{value.label}: {format_value(value)}"))
        sentence = f"{protocol.name} ({ticker}) {value.label}: {format_value(value)}, as of {value.as_of}"
        if value.note and not value.stale:
            sentence += f" ({value.note})"
        if value.stale:
            sentence += f" (STALE: cached {format_age(value.age_s or 0)} ago; the live source did not answer)"
        sentences.append(sentence + f" [{rank}].")
        shown.append(value)
    if "score" in query.families and shown:
        sentences.append("For the full usage-vs-speculation score, use the score command; these ratios are "
                         "figures, not advice.")
    text = " ".join(sentences + missing)
    return MetricAnswer(text=text, sources=sources, available=bool(shown), protocol=protocol.id,
                        metrics=[v.to_json() for v in shown], stale=any(v.stale for v in shown))
