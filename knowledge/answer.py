"""Answering: pick the sentences of the top passages that best answer the question, cite them, or decline.

Extractive by design: every sentence in an answer is a sentence of a cited source, with its [n] marker.
The confidence comes from retrieval evidence (dense similarity, agreement of BM25 and dense, coverage of
the question's rarer terms by the retrieved text); below the threshold the answer is a decline.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from knowledge.embed import Embedder, memo_for
from knowledge.results import Source
from knowledge.retrieve import DocumentHit, Retrieval, top_passage_cosine
from knowledge.text import (FUTURE_TENSE, STOP_WORDS, content_words, mentions_a_later_year,
                            sentences_marking_code, words)

MAX_ANSWER_CHARS = 1000
TARGET_ANSWER_CHARS = 940
MAX_SENTENCES = 10
# The first picks come with the lines that follow them (see _window); later ones only with what makes them
# readable (the sentence they refer back to, a table's header), so the budget reaches more of the best-ranked
# sentences instead of the lines after them. Check set: hit 0.75 -> 0.79
# ("Or using a proper container init (tini)", ranked 6th, had been crowded out); dev unchanged (0.925).
WINDOWED_PICKS = 2
SENTENCE_DOCS = 5  # sentences are drawn from this many top documents
MAX_CANDIDATES = 200  # enough for every one of the SENTENCE_DOCS documents (4 long passages each hold ~90)
SCORE_CHARS = 300
WANT_BONUS = 0.06  # a sentence of the kind the question asks for (a date, a reason, a name, a number)
EMBED_CANDIDATES = 24  # dev-set hit rate was the same from 20 to 90; latency is not (-20% from 32)
RARE_DF = 5
CONTEXT_TERM_SHARE = 0.5  # weight of a question term found only in a sentence's title/heading
SHORT_VALUE_WORDS = 3  # a section body shorter than this is a value, read with its heading
HEADING_BONUS = 0.06  # a sentence under a heading the question names word for word ("Custom error: 0")
OTHER_MEMBER_PENALTY = 0.1  # a sentence of the "Subnet 3" page, when the question asks about Subnet 22
NEAR_COPY_SHARE = 0.75  # two sentences sharing this share of their content words say the same thing
NEAR_COPY_MIN_WORDS = 5  # shorter lines (list items, code, "Default: false") repeat by design
TITLE_LEAD_CHARS = 80  # a longer title costs the answer a sentence
# A line of a code block ("print(f'... {min(top_64_stake)} tao')", a command's output) reads as noise in a
# chat answer to a question in prose ("what is the minimum stake to validate?"), though it often repeats the
# question's words. On the 560 questions of the sets, the answers to questions not about code that held such
# a line: 71 -> 46 (code lines 176 -> 76), with the same hits everywhere.
CODE_PENALTY = 0.05
_ASKS_FOR_CODE = re.compile(r"\b(command|code|snippet|example|script|cli|btcli|kubectl|provider-services"
                            r"|install|run|call|flag|syntax|sdl|yaml|config|function|method|api|sdk)\b", re.I)

# Questions asking for advice, predictions or the bot's own opinion are declined whatever is retrieved.
_OPINION = re.compile(
    # "should I stake or hold?" asks for advice; "do you need to hold the token to join?" asks a requirement
    r"\b(would|should|do|will|could) (you|i|we)\b(?!\s+(\w+\s+)?(need|have|got|required|allowed|able)\b)"
    r".*\b(buy|sell|stake|hold|invest|dip|moon|ape|sit on|personally)\b"
    r"|\b(do you (think|reckon|expect|guess|figure)|in your opinion|your (personal )?(opinion|view|take)"
    r"|would you personally|what would you)\b"
    r"|\b(price (prediction|target|forecast)|hits? \$\d|reach(es)? \$\d|go(es)? to \$\d|\d+x\b|moon)\b"
    r"|\b(financial advice|good investment|worth buying|buy the dip)\b"
    # where a price goes next, and which one pays best: predictions and advice, not documented facts
    # ("where does it dump all that data?" is about a subnet's storage: "it" counts only beside a price)
    r"|\b(price|token|tao|akt|rndr|render) (go(es)? up|go(es)? down|goes? (higher|lower)|pump|dump|rise|crash)\b"
    r"|\bprice\b.*\bit (go(es)? up|go(es)? down|pump|dump|rise|crash)\b"
    r"|\b(bullish|bearish|most profitable|max(imum)? profits?|better bet|best bet)\b"
    r"|\bwhich (one )?(would|should) (you|i) (pick|choose|go with|buy|mine|stake)\b"
    # the bot's own taste: "console or the cli, which one do you actually prefer?"
    r"|\b(do|would) you (actually |really |personally )?(prefer|like better|go for)\b",
    re.I,
)
_NUMERIC_Q = re.compile(
    r"\b(how (much|many|long|often)|what (%|percent|percentage|share|fraction|amount|number|date|year|day)|"
    r"when|max(imum)?|min(imum)?|lowest|highest|smallest|largest|how big|what'?s the (max|min|limit|cap)|"
    r"cap(ped)?|per (hour|day|block))\b",
    re.I,
)


# A sentence whose subject is a reference to what the sentence before it named.
_REFERS_BACK = re.compile(r"^(it|its|this|these|that|those|they|their|such|he|she|his|her)\b"
                          r"(?!\s+(page|document|guide|section|tutorial)\b)", re.I)

# "JWT eliminates the need for these.": a short sentence whose object is the sentence before's
_ENDS_REFERRING = re.compile(r"^(\S+\s+){1,8}(these|those|this|them|that)[.!]?$", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")

# A sentence that announces what follows ("... the following attributes.", "as follows") is useless alone.
_INTRODUCES = re.compile(r"\b(the following|as follows|below)\b[^.]{0,40}[.:]?$", re.I)


@dataclass
class TermStats:
    """How often the question's terms occur in the knowledge base (chunk frequency), for weighting."""

    df: dict[str, int]
    chunks: int

    def idf(self, term: str) -> float:
        return math.log((self.chunks + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def weights(self, terms: list[str]) -> dict[str, float]:
        return {t: self.idf(t) for t in terms}


@dataclass
class Candidate:
    text: str
    doc_rank: int  # 0-based index into the sources
    passage_rank: int
    order: int  # position in the document, for readable ordering
    score: float = 0.0
    lexical: float = 0.0
    cosine: float = 0.0
    context: str = ""  # document title and section heading, so the sentence is embedded in its context
    antecedent: str = ""  # the sentence before, when this one opens with "It"/"This"/"They"... (refers back)
    header: str = ""  # for a table row: the table's header row, which names what each cell is
    focus: str = ""  # for a table row, the cell of the column the question names: what the row is scored by
    heading: str = ""  # the nearest heading of the sentence's section ("" when that is the document title)
    code: bool = False  # a line of a fenced code block


@dataclass
class Evidence:
    """The numbers the confidence is computed from (kept for evaluation and debugging)."""

    top_cosine: float = 0.0
    best_sentence_cosine: float = 0.0
    coverage: float = 0.0  # idf-weighted share of question terms found in the top passages
    rare_missing: int = 0  # rare question terms found nowhere in the retrieved text
    unknown_terms: int = 0  # question terms the whole knowledge base never uses
    unknown_ids: int = 0  # identifiers with digits (AEP-77, B200, RNP-021) unknown to the retrieved text
    unknown_names: int = 0  # capitalised names (Lido, FIL) the whole knowledge base never uses
    kind_missing: bool = False  # asks for a kind of figure (a percentage, date, place) no best sentence holds
    figure_unbound: bool = False  # an amount about a name, and no best figure's page names it
    agreement: float = 0.0
    protocol_match: bool = True
    opinion: bool = False
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class Composed:
    text: str
    sources: list[Source]
    confidence: float
    declined: bool
    evidence: Evidence


_STEMMER = snowballstemmer.stemmer("english")


# Plurals of acronyms and model names that Porter2 leaves whole: it drops a plural "s" only after a vowel that
# does not come right before it, so "pcs", "sdks", "h100s" and "gpus" kept their "s" and never matched "PC",
# "SDK", "H100" or "GPU" (FTS5's porter tokenizer, which BM25 uses, strips it). Words without a vowel, and the
# "...pu" processing units; "bus" and "plus" are left alone.
_ACRONYM_PLURAL = re.compile(r"^(?:[b-df-hj-np-tv-z0-9]{2,6}|[a-z]{1,2}pu)s$")


# A month written short ("the Aug 2023 piece") is the month the page writes out ("August 31, 2023").
_MONTHS = {m[:3]: m for m in ("january february march april june july august september october november "
                              "december").split()} | {"sept": "september"}
_MONTH_NAMES = set(_MONTHS.values()) | {"may"}


def _is_month(word: str) -> bool:
    """'aug', 'sept', 'august', 'may' (lower-cased): a month, short or written out."""
    return _MONTHS.get(word, word) in _MONTH_NAMES


# "the lowest reload balance you can set" asks for the page's "minimum amount"; "max" is "maximum".
_BOUNDS = {"min": "minimum", "lowest": "minimum", "smallest": "minimum", "max": "maximum", "highest": "maximum",
           "largest": "maximum", "biggest": "maximum"}


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Porter2 stem, the same family as the FTS5 porter tokenizer, so sentence matching agrees with BM25."""
    word = _MONTHS.get(word, _BOUNDS.get(word, word))
    if _ACRONYM_PLURAL.match(word):
        word = word[:-1]
    return _STEMMER.stemWord(word)


def _stems_with_compounds(tokens: list[str]) -> set[str]:
    """The stems of a text's words, and of each pair of neighbours written as one word: a question's
    'stablecoin' or 'testnet' is the text's 'Stable Coins' or 'test net'."""
    stems = {_stem(w) for w in tokens}
    # Joined pairs are not stemmed (thousands per text would churn the stem cache); a plural's "s" is the one
    # ending that matters for nouns written as one word ("Stable Coins" is the stem 'stablecoin').
    for a, b in zip(tokens, tokens[1:]):
        if a.isalpha() and b.isalpha():
            stems.add(a + b)
            if b.endswith("s"):
                stems.add(a + b[:-1])
    return stems


def is_opinion_question(question: str) -> bool:
    """Advice, predictions and requests for the bot's own opinion.

    A question in the future tense about a year still to come ("how many RENDER are going to get burned
    during 2027?") asks for a forecast; "what does the roadmap plan for 2027?" does not."""
    text = question or ""
    return bool(_OPINION.search(text)) or (mentions_a_later_year(text) and bool(FUTURE_TENSE.search(text)))


def section_label(title: str, section: str) -> str:
    """The heading path without a leading copy of the document title ('Title > Fees' -> 'Fees')."""
    if section == title:
        return ""
    prefix = f"{title} > "
    return section[len(prefix):] if title and section.startswith(prefix) else section


def sources_from(documents: list[DocumentHit]) -> list[Source]:
    """The cited documents, best first, numbered from 1."""
    out = []
    for rank, doc in enumerate(documents, start=1):
        best = doc.passages[0] if doc.passages else None
        out.append(
            Source(
                rank=rank,
                path=doc.key,
                title=doc.title,
                section=section_label(doc.title, best.section) if best else "",
                url=doc.url,
                date=doc.date,
                score=doc.score,
                kind="document",
                protocol=doc.protocol,
                snippet=(best.text[:300] if best else ""),
            )
        )
    return out


def compose(
    question: str,
    retrieval: Retrieval,
    embedder: Embedder,
    terms: TermStats,
    threshold: float,
) -> Composed:
    """Build the cited extractive answer and its confidence; decline below the threshold."""
    sources = sources_from(retrieval.documents)
    evidence = Evidence(opinion=is_opinion_question(question), agreement=retrieval.agreement)
    if not retrieval.documents:
        return Composed(decline_text(question, []), sources, 0.0, True, evidence)

    candidates = _candidates(retrieval.documents[:SENTENCE_DOCS])
    _score_candidates(question, candidates, retrieval, embedder, terms)
    chosen = _select(candidates)
    lead = _title_lead(chosen, retrieval.documents)
    text = _written(chosen, lead)
    if len(text) > MAX_ANSWER_CHARS:  # never cut a sentence or a marker: drop whole sentences
        while len(chosen) > 1 and len(_written(chosen, lead)) > MAX_ANSWER_CHARS:
            chosen = chosen[:-1]
        text = _written(chosen, lead)
        if len(text) > MAX_ANSWER_CHARS:
            text = _trim_one(chosen[0])

    _fill_evidence(evidence, question, retrieval.documents, retrieval.top_cosine, retrieval.protocols,
                   candidates, terms)
    unbound = figure_without_its_name(question, candidates, retrieval.documents[:SENTENCE_DOCS], terms)
    evidence.figure_unbound = unbound
    evidence.features["figure_unbound"] = int(unbound)
    confidence = confidence_from(evidence)
    if retrieval.dense_documents:
        # Hybrid: judge the evidence on the dense ranking's own top documents as well, and trust the lower.
        # BM25 brings in any passage that repeats a question's rare words ("protein folding" in a list of
        # what subnets do), which makes a near-miss question look covered; when the passages closest in
        # meaning never mention those words, the knowledge base likely does not hold the answer (on the dev
        # set this declined two near-miss questions more and no answerable one).
        dense_view = Evidence(opinion=evidence.opinion, agreement=retrieval.agreement)
        # A page both rankings put in their top k is judged on the passages the fused ranking kept of it: those
        # hold each ranking's best chunk of the page (the RNP-021 chunk naming "M3 Max", which BM25 alone
        # found, counts for RNP-021 in both views). A page only BM25 brought in still does not.
        fused_by_id = {d.document_id: d for d in retrieval.documents}
        dense_docs = [fused_by_id.get(d.document_id, d) for d in retrieval.dense_documents]
        _fill_evidence(dense_view, question, dense_docs, top_passage_cosine(dense_docs), retrieval.protocols,
                       candidates, terms)
        dense_view.figure_unbound = unbound  # about the answer's sentences, the same in both views
        # An identifier ("RNP-021", "SN9") is an exact token, which BM25 matches and embeddings do not: when the
        # fused ranking's first page names every identifier the question does, the dense view need not find
        # that page to count them as held. (A page lower down naming it does not do: "RNP-020 got defeated?
        # what % voted no?" has RNP-020 third, under the pages on voting, and the vote split is nowhere.)
        if dense_view.unknown_ids and _names_every_identifier(question, retrieval.documents[0]):
            dense_view.unknown_ids = 0
        dense_confidence = confidence_from(dense_view)
        evidence.features["dense_view_confidence"] = round(dense_confidence, 4)
        confidence = min(confidence, dense_confidence)
    declined = evidence.opinion or confidence < threshold
    if declined:
        return Composed(decline_text(question, sources), sources, confidence, True, evidence)
    return Composed(text, sources, confidence, False, evidence)


def _written(chosen: list[Candidate], lead: str = "") -> str:
    """The answer as read: the lead, then each sentence with its source's [n] marker."""
    return lead + " ".join(f"{c.text} [{c.doc_rank + 1}]" for c in chosen)


def _title_lead(chosen: list[Candidate], documents: list[DocumentHit]) -> str:
    """'From "Rollover Provider": ' when the answer opens with a page whose title the answer never states: a
    proposal's or a page's title is often the very name asked for ("any plans to fail over to a backup
    provider?"), and it tells the reader which page the first lines come from."""
    if not chosen:
        return ""
    title = " ".join(documents[chosen[0].doc_rank].title.split())
    said = " ".join(c.text for c in chosen).lower()
    if not title or title.lower() in said or len(title) > TITLE_LEAD_CHARS:
        return ""
    return f"From \u201c{title}\u201d: "


def _trim_one(candidate: Candidate) -> str:
    marker = f" [{candidate.doc_rank + 1}]"
    room = MAX_ANSWER_CHARS - len(marker) - 1
    cut = candidate.text[:room].rsplit(" ", 1)[0]
    return f"{cut}…{marker}"


def _candidates(documents: list[DocumentHit]) -> list[Candidate]:
    seen: set[str] = set()
    out: list[Candidate] = []
    for d_rank, doc in enumerate(documents):
        headers = _table_headers(doc)
        for p_rank, passage in enumerate(doc.passages):
            previous = ""
            previous_raw = ""
            header = ""
            sentences = sentences_marking_code(passage.text)
            line_starts = {" ".join(line.split())[:40] for line in passage.text.splitlines()}
            for i, (sentence, in_code) in enumerate(sentences):
                clean = _clean_sentence(sentence)
                if len(sentences) == 1:
                    clean = _with_its_heading(clean, doc.title, passage.section)
                before, previous = previous, clean
                # The second sentence of a list item ("- A Reload Balance (...). There will be a minimum amount
                # here (say $15)") is about what the item's first sentence names, like "It ..." below.
                continues_item = bool(_LIST_ITEM.match(previous_raw)) and sentence[:40] not in line_starts
                previous_raw = sentence
                # "Network Purpose | For all | For all | For OTF-internal development only" says which network
                # is internal only through its table's header row ("DESCRIPTION | MAINNET | TESTNET | DEVNET"),
                # which a chunk that continues a long table does not hold: it is found in the chunk before.
                row_header = ""
                if sentence.startswith("|"):
                    if (passage.position, clean) in headers:
                        header = clean
                    else:
                        row_header = header or _header_before(headers, passage.position, clean)
                else:
                    header = ""
                # Long lines repeated across documents are kept once; short ones (code, list items) are
                # kept where they are, since they only make sense beside the sentence that introduces them.
                key = clean.lower() if len(clean.split()) >= 4 else f"{d_rank}:{p_rank}:{clean.lower()}"
                if len(clean) < 6 or key in seen:
                    continue
                seen.add(key)
                # "It will be the first client..." is about what the sentence before names (ANTBIT.IO): that
                # sentence's words count toward this one's coverage, and it comes along into the answer.
                refers = _REFERS_BACK.match(clean) or _ENDS_REFERRING.match(clean)
                antecedent = before if before and (refers or continues_item) else ""
                out.append(Candidate(clean, d_rank, p_rank, passage.position * 1000 + i,
                                     context=_context(doc.title, passage.section), antecedent=antecedent,
                                     header=row_header, heading=_nearest_heading(doc.title, passage.section),
                                     code=in_code))
    return out[:MAX_CANDIDATES]


def _nearest_heading(title: str, section: str) -> str:
    """The last heading of a section path, unless it is only the document's title."""
    headings = [h.strip() for h in (section or "").split(">") if h.strip()]
    nearest = headings[-1] if headings else ""
    return "" if nearest == title else nearest


def _with_its_heading(value: str, title: str, section: str) -> str:
    """'Subnet owner: Macrocosmos' for a section whose whole body is the value 'Macrocosmos': a one- or
    two-word line says nothing alone (it is not even scored), its heading names what it is."""
    nearest = _nearest_heading(title, section)
    if len(value.split()) >= SHORT_VALUE_WORDS or not nearest or value.startswith("|"):
        return value
    return f"{nearest}: {value}"


def _heading_is_asked(heading: str, question_stems: set[str]) -> bool:
    """Every word of a heading of two words or more is in the question: 'Custom error: 0' for "getting
    'Custom error: 0' on a transfer, what does it mean?", where the pages beside it ('Custom error: 5')
    differ from it by one digit and the answer's own words ('ColdKeyInSwapSchedule') are not asked."""
    heading_words = [w for w in words(heading) if w not in STOP_WORDS]
    return len(heading_words) >= 2 and all(_stem(w) in question_stems for w in heading_words)


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _table_headers(doc: DocumentHit) -> list[tuple[int, str]]:
    """(chunk position, header row) of each table in the document's passages: a row followed by a |---| rule."""
    found = []
    for passage in doc.passages:
        lines = passage.text.splitlines()
        for line, after in zip(lines, lines[1:]):
            if line.lstrip().startswith("|") and _TABLE_RULE.match(after):
                found.append((passage.position, _clean_sentence(line)))
    return found


def _header_before(headers: list[tuple[int, str]], position: int, row: str) -> str:
    """The header of the nearest table before this chunk with as many cells as the row (a continued table)."""
    cells = row.count(" | ")
    earlier = [(pos, h) for pos, h in headers if pos < position and h.count(" | ") == cells]
    return max(earlier)[1] if earlier else ""


def _context(title: str, section: str) -> str:
    """'Title > nearest heading': what a sentence's pronouns and bare nouns refer to ('the account' in an
    Escrow page). Chunks are embedded with the same kind of prefix."""
    nearest = _nearest_heading(title, section)
    return f"{title} > {nearest}" if nearest else title


def _clean_sentence(sentence: str) -> str:
    s = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", sentence)  # list bullets
    s = re.sub(r"^#+\s*", "", s)
    s = s.replace("**", "").replace("__", "")
    s = re.sub(r"\s*\|\s*", " | ", s).strip(" |")
    s = re.sub(r"^-{3,}\s*", "", s)  # a horizontal rule glued to the next line
    return " ".join(s.split())[:600]


# What a question asks for, and what a sentence that answers it tends to contain.
_DATE = re.compile(r"\b(19|20)\d\d\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d", re.I)
# "When did X go live?" asks for a date and nothing else; "what happens when...", "when X, what is Y?" do not.
_WHEN_DID = re.compile(r"\bwhen (exactly |roughly |approximately )?(did|was|were|will|does|do|is|are|has|have)\b"
                       r"|\b(since|until) when\b|\bwhat (date|day|month|year)\b|\bon what date\b", re.I)
DATE_BONUS = 0.15  # a sentence without a date cannot answer a when-did question

_ASKS = [
    (_WHEN_DID, _DATE, DATE_BONUS),
    (re.compile(r"\bwhen\b|\bwhat time\b|\bgo(es|ing)? live\b", re.I), _DATE, WANT_BONUS),
    (re.compile(r"\bwhy\b|\bprotect|\bpurpose\b|\breason\b|\bbother\b|\bcaus(e|es|ed|ing)\b|\bhow come\b", re.I),
     re.compile(r"\b(because|due to|in order to|so that|designed to|to (prevent|avoid|solve|protect|ensure|reduce)|"
                r"solves?|prevents?|protects?|problem|reason|rationale|benefit|inefficien|overhead|caused by|"
                r"(is|are) not supported|eliminat\w+ the need|no longer (needed|necessary|required)|unnecessary)\b",
                re.I),
     WANT_BONUS),
    (re.compile(r"\bwho\b|\bwhich (company|team|client|tool|project)\b|\bwhat tool\b|\bother tool\b", re.I),
     re.compile(r"\b[A-Z][a-zA-Z0-9]+(?:[ .][A-Z][a-zA-Z0-9]+)*\b.*\b(is|was|by|using|use|via|through)\b|"
                r"\.(io|net|js|org)\b", re.I), WANT_BONUS),
    (re.compile(r"\bwhat (happens|will happen|would happen)\b", re.I),
     re.compile(r"\b(if|when|once|then|will|would|is closed|are closed|results? in|causes?)\b", re.I),
     WANT_BONUS),
    (_NUMERIC_Q, re.compile(r"\d"), WANT_BONUS),
    # a rate ("how much per hour does a 4090 cost"): the sentence giving an amount per that unit ($0.35/hr),
    # not the many that hold some number (hours worked, totals)
    (re.compile(r"\bper (hour|hr|month|day|epoch|block|gb)\b|\bhourly\b|\ban hour\b", re.I),
     re.compile(r"\d[^.;]{0,12}?(/ ?|\bper |\ban? )(hr|hour|h|month|mo|day|epoch|block|gb)\b|\d[^.;]{0,12}\bhourly\b",
                re.I), 2 * WANT_BONUS),
    # an address, URL, flag or command: the sentence that spells one out, not the one that mentions it
    (re.compile(r"\b(address|url|endpoint|flag|command|option|port|chain id|package|npm|pip|crate)\b", re.I),
     re.compile(r"\b0x[0-9a-f]{6,}|\bwss?://|\bhttps?://|(?<![\w-])--[a-z][\w.-]+|:\d{2,5}\b"
                r"|(?<![\w@])@[a-z0-9][\w.-]*/[a-z0-9][\w.-]*|\b(npm|pip|cargo|go) (install|i|add|get)\b", re.I),
     2 * WANT_BONUS),
]


# Questions asking for a kind of figure, and what a sentence giving it must contain (for the confidence).
_PERCENT_Q = re.compile(r"%|\bpercent|\bwhat (share|fraction|portion|proportion)\b", re.I)
_PERCENT = re.compile(r"%|\bpercent|\bper cent\b|\bhalf\b|\bquarter\b|\bthird\b|\b\d+ ?(in|of|out of) \d+\b", re.I)
# Dates were tried too for every when-did question: the one it touched on the dev set was answered without a
# date (a miss) and became a wrong decline instead, with no unanswerable question gained. A question naming
# the date or block it wants ("on what exact date / block number...", "what block height...") is checked: no
# dev question does. Asked for, not only named: "what do I pass instead of a block number?" wants a parameter.
_DATE_Q = re.compile(r"\b(exact|what|which) (date|day|month|year|block (number|height))\b", re.I)
_DATE_OR_BLOCK = re.compile(_DATE.pattern + r"|\bblock (number |height )?#?\d|\b\d{1,3}(,\d{3}){2,}\b", re.I)
# A discount is a share of a price: "how big of a discount would a 12-month reservation get?" is answered by a
# percentage or an amount, not by the sentence saying that longer reservations cost less.
_DISCOUNT_Q = re.compile(r"\b(how (big|large|much|deep)|what|which)( of)?( a| the)? discount\b", re.I)
_DISCOUNT = re.compile(_PERCENT.pattern + r"|\$ ?\d|\b\d+(\.\d+)? ?(akt|usd|usdc|render|tao)\b", re.I)
# Where an organisation is incorporated or based: the sentence names a country or a jurisdiction.
_PLACE_Q = re.compile(r"\b(which|what) (country|jurisdiction|city)\b|\bwhere (is|are|was)\b[^?]{0,60}\b(based|"
                      r"incorporated|registered|headquartered|domiciled|located)\b", re.I)
_PLACE = re.compile(r"\b(cayman|switzerland|swiss|zug|singapore|delaware|british virgin islands|bvi|panama|gibraltar|"
                    r"liechtenstein|bermuda|bahamas|hong kong|dubai|uae|united arab emirates|estonia|malta|"
                    r"united states|usa|u\.s\.|united kingdom|england|ireland|germany|france|netherlands|canada|"
                    r"japan|korea|china|india|australia|israel|seychelles|marshall islands|st\.? vincent|"
                    r"country|countries|jurisdiction|headquarter\w*|incorporated in|based in)\b", re.I)
# "how much AKT did...", "how many RENDER tokens...": an amount in that token, or money, not any number
_TOKEN_UNITS = r"(akt|render|rndr|tao|usdc|usd|tokens)"
_AMOUNT_Q = re.compile(r"\bhow (much|many) (\w+ )?(akt|render|rndr|tao|usdc|tokens|money)\b", re.I)
_AMOUNT = re.compile(rf"\$ ?\d|\d[\d,.]*\s?(k|m|b|million|billion|thousand)?\s?{_TOKEN_UNITS}\b"
                     rf"|\b(million|billion|thousand) {_TOKEN_UNITS}\b", re.I)
_FIGURE = re.compile(r"(?<![\w.-])\d")  # a number, not the digits of an identifier (RNP-010, v0.24, H100)
# "how often will usage be sampled?", "what's the default threshold?", "the max number of nodes?": a
# frequency, a default or a limit is a number. A page about the feature that never gives it (a near miss)
# has other numbers in its lower sentences, so only the LIMIT_SENTENCES best are looked in. "How many" is
# not checked: on the question sets that declined four answerable questions for the four near misses it
# caught.
_LIMIT_Q = re.compile(r"\bhow (often|frequently)\b|\b(max(imum)?|min(imum)?) (number|amount|count|size)\b"
                      r"|\bwhat(?:'?s| is| are) the "
                      r"(max(imum)?|min(imum)?|limit|rate limit|cap|default \w+)\b", re.I)
KIND_SENTENCES = 5
LIMIT_SENTENCES = 2
# (what the question asks for, what a sentence giving it holds, how many of the best sentences are looked in)
_KINDS = [(_PERCENT_Q, _PERCENT, KIND_SENTENCES), (_DATE_Q, _DATE_OR_BLOCK, KIND_SENTENCES),
          (_DISCOUNT_Q, _DISCOUNT, KIND_SENTENCES), (_PLACE_Q, _PLACE, KIND_SENTENCES),
          (_AMOUNT_Q, _AMOUNT, KIND_SENTENCES), (_LIMIT_Q, _FIGURE, LIMIT_SENTENCES)]


def _best_sentences(cands: list[Candidate]) -> list[Candidate]:
    """The KIND_SENTENCES best-scored sentences: those the figure checks look in."""
    return sorted((c for c in cands if c.score >= 0), key=lambda c: -c.score)[:KIND_SENTENCES]


def _score_candidates(question: str, cands: list[Candidate], retrieval: Retrieval, embedder: Embedder,
                      terms: TermStats) -> None:
    """Score sentences: similarity to the question, its (rarer) terms, new information, what it asks for."""
    if not cands:
        return
    q_words = content_words(question)
    q_terms = {_stem(t): w for t, w in terms.weights(q_words).items()}
    total = sum(q_terms.values()) or 1.0
    wants: dict[re.Pattern, float] = {}  # what a sentence answering this question contains -> its bonus
    for ask_re, answer_re, bonus in _ASKS:
        if ask_re.search(question):
            wants[answer_re] = max(bonus, wants.get(answer_re, 0.0))
    qvec = retrieval.query_vector
    if qvec is None:
        qvec = embedder.encode([question])[0]
    scored = [c for c in cands if len(c.text.split()) >= 3]
    question_stems = {_stem(w) for w in words(question)}
    asks_for_code = bool(_ASKS_FOR_CODE.search(question))
    asked_series = _series_numbers(question)
    # per page, once: whether its title names another member of a series the question asks about
    off_series = [bool(asked_series) and _names_another_member(d.title, asked_series)
                  for d in retrieval.documents]
    for c in scored:  # the cheap part first: term coverage, new information, rank prior, what is asked
        c.focus = _column_focus(c, q_terms)
        text = _scored_text(c)
        sentence_stems = [_stem(w) for w in content_words(text)]
        stems = set(sentence_stems) | _stems_with_compounds(words(text))
        # A term only in the sentence's title or heading (or, for "It ...", the sentence it refers back to)
        # counts for less: it says what the sentence is about ("This feature was designed to..." under
        # "Commit Reveal"), but not that it answers.
        context_stems = {_stem(w) for w in content_words(f"{c.context} {c.antecedent} {c.header}")} - stems
        c.lexical = (sum(w for t, w in q_terms.items() if t in stems)
                     + CONTEXT_TERM_SHARE * sum(w for t, w in q_terms.items() if t in context_stems)) / total
        # A sentence that only restates the question carries no answer: reward words the question lacks.
        novelty = len([w for w in sentence_stems if w not in q_terms]) / max(1, len(sentence_stems))
        # The prior is the document's rank, not the passage's: within a page the fused order of passages says
        # little about which sentence answers (the answer was often in a page's second or fifth passage, under
        # a passage that restates the question); a factor of 0.85 for those lost four probe questions.
        prior = 1.0 - 0.12 * c.doc_rank
        c.score = 0.3 * c.lexical + 0.1 * prior + 0.1 * min(novelty, 0.8)
        c.score += max((bonus for r, bonus in wants.items() if r.search(text)), default=0.0)
        if c.heading and _heading_is_asked(c.heading, question_stems):
            c.score += HEADING_BONUS
        if c.doc_rank < len(off_series) and off_series[c.doc_rank]:
            c.score -= OTHER_MEMBER_PENALTY
        if c.code and not asks_for_code:
            c.score -= CODE_PENALTY
    # Embedding is the expensive part: only the most promising sentences get it (the rest keep the cheap
    # score, which without the similarity term ranks them below every embedded one).
    scored.sort(key=lambda c: -c.score)
    embedded = scored[:EMBED_CANDIDATES]
    # The first ~60 word pieces carry a sentence's meaning; longer inputs cost attention time for little gain.
    # Small batches: sentences vary in length, and a big batch pads every one to the longest.
    # A sentence alone often lacks its subject ("the account is closed"), yet a title can also drown a short
    # sentence: its similarity is the mean of the sentence embedded alone and after its title and heading.
    # On the dev set the mean beat either one alone (hit 0.900 vs 0.875 with the starter pack, 0.825 vs
    # 0.800 on the corpus alone), for twice the sentence-embedding time (~0.1 s).
    alone_texts = [_scored_text(c)[:SCORE_CHARS] for c in embedded]
    texts = [f"{_prefix(c)}: {text}" if _prefix(c) else text for c, text in zip(embedded, alone_texts)]
    memo = memo_for(embedder)
    vecs = memo.encode(texts, batch_size=8)
    alone = memo.encode(alone_texts, batch_size=8) @ qvec
    for c, in_context, by_itself in zip(embedded, vecs @ qvec, alone):
        c.cosine = 0.5 * float(in_context) + 0.5 * float(by_itself)
        c.score += 0.45 * c.cosine
    for c in cands:
        if c not in scored:
            c.score = -1.0


def _scored_text(c: Candidate) -> str:
    """What a sentence is scored by: itself, or for a table row the cell of the column the question names."""
    return c.focus or c.text


def _prefix(c: Candidate) -> str:
    """What a sentence is embedded after: its title and heading, and for a table row the table's header
    (unless the row is scored by one column's cell, which names its column itself)."""
    return " — ".join(p for p in (c.context, "" if c.focus else c.header[:SCORE_CHARS]) if p)


def _column_focus(c: Candidate, q_stems: dict[str, float]) -> str:
    """'Network Purpose, DEVNET: For OTF-internal development only' for the row 'Network Purpose | For all |
    For all | For OTF-internal development only' when the question names the DEVNET column: a whole row
    embeds as a blur of every column, its one relevant cell beside its row and column names does not."""
    if not c.header:
        return ""
    heads = [h.strip() for h in c.header.split(" | ")]
    cells = [x.strip() for x in c.text.split(" | ")]
    if len(heads) != len(cells) or len(cells) < 3:
        return ""
    named = [j for j in range(1, len(heads)) if any(_stem(w) in q_stems for w in content_words(heads[j]))]
    if len(named) != 1:  # no column named, or several: the whole row is what is asked about
        return ""
    j = named[0]
    if cells[j].strip("`*_ ").lower() in _EMPTY_CELLS:  # the row holds nothing for that column
        return ""
    return f"{cells[0]}, {heads[j]}: {cells[j]}"


_EMPTY_CELLS = {"", "none", "n/a", "na", "-", "—", "null", "tbd"}


def _window(cands: list[Candidate], index: int, budget: int, follow: bool = True) -> list[Candidate]:
    """The sentence with the lines that complete it: the sentence it refers back to, a table row's header,
    and (with `follow`) what follows a ':' or 'the following', else the next sentence of the same passage, so
    an answer reads as a short excerpt rather than scattered lines."""
    head = cands[index]
    unit = [head]
    size = len(head.text)
    if head.antecedent and index > 0:
        before = cands[index - 1]
        same_passage = (before.doc_rank, before.passage_rank) == (head.doc_rank, head.passage_rank)
        # it counts toward the window like any sentence: a long one would crowd out the next sentences
        fits = size + len(before.text) + 6 <= budget
        if same_passage and before.order == head.order - 1 and fits:
            unit.insert(0, before)
            size += len(before.text) + 6
    if head.header:  # a table row reads only under its header row
        header = next((c for c in cands if c.text == head.header and c.doc_rank == head.doc_rank
                       and c.order < head.order), None)
        if header is not None and size + len(header.text) + 6 <= budget:
            unit.insert(0, header)
            size += len(header.text) + 6
    announces = head.text.rstrip().endswith(":") or bool(_INTRODUCES.search(head.text))
    limit = 6 if announces else 1
    for nxt in cands[index + 1 :] if follow else []:
        if (nxt.doc_rank, nxt.passage_rank) != (head.doc_rank, head.passage_rank) or len(unit) > limit:
            break
        if size + len(nxt.text) > budget:
            break
        unit.append(nxt)
        size += len(nxt.text) + 6
    return unit


def _repeats(c: Candidate, chosen: list[Candidate]) -> bool:
    """Whether an answer's sentence already says this one nearly word for word (a page and its copy, or a
    note restating the line above it): a second copy only takes room from a sentence that adds something."""
    mine = set(content_words(c.text))
    if len(mine) < NEAR_COPY_MIN_WORDS:
        return False
    for other in chosen:
        theirs = set(content_words(other.text))
        if len(mine & theirs) >= NEAR_COPY_SHARE * len(mine | theirs):
            return True
    return False


def _select(cands: list[Candidate]) -> list[Candidate]:
    """Best sentences until the answer budget is used (the first WINDOWED_PICKS with the lines after them),
    arranged to be read: the passage holding the best sentence comes first, and sentences of one passage keep
    their order."""
    ranked = sorted(range(len(cands)), key=lambda i: -cands[i].score)
    if not ranked or cands[ranked[0]].score < 0:
        return []
    best = cands[ranked[0]].score
    chosen: list[Candidate] = []
    groups: dict[tuple[int, int], list[Candidate]] = {}  # per passage, in the order passages were first chosen
    size = 0
    picks = 0
    for i in ranked:
        c = cands[i]
        if len(chosen) >= MAX_SENTENCES or c.score < best - 0.3 or c.score < 0:
            break
        if c in chosen or _repeats(c, chosen):
            continue
        unit = [u for u in _window(cands, i, 450, follow=picks < WINDOWED_PICKS)
                if u not in chosen and not _repeats(u, chosen)]
        unit_size = sum(len(u.text) + 6 for u in unit)
        if chosen and size + unit_size > TARGET_ANSWER_CHARS:
            unit = [c]
            unit_size = len(c.text) + 6
            if size + unit_size > TARGET_ANSWER_CHARS:
                continue
        chosen.extend(unit)
        picks += 1
        for u in unit:
            groups.setdefault((u.doc_rank, u.passage_rank), []).append(u)
        size += unit_size
    return [c for group in groups.values() for c in sorted(group, key=lambda c: c.order)]


# A numbered member of a series written as two words ("Mainnet 11", "subnet 19", "Year 3"): as much an
# identifier as "AEP-77", and as telling when the retrieved text never names it (the Mainnet 10 upgrade page
# answering a question about Mainnet 11).
_SERIES_NUMBER = re.compile(
    r"\b(mainnet|testnet|subnet|netuid|sn|aep|rnp|phase|tier|year|version)[\s#:_-]*0*(\d{1,4})\b", re.I)
_SERIES_ALIASES = {"sn": "subnet", "netuid": "subnet"}  # "SN9", "netuid 9": what pages call Subnet 9


def _series_numbers(text: str, spaced_only: bool = False) -> set[str]:
    """'mainnet11', 'subnet19', ... for each numbered series member the text names; `spaced_only`: only
    those written as two words (one word, "AEP-77", is already an identifier term of its own)."""
    return {f"{_SERIES_ALIASES.get(m[1].lower(), m[1].lower())}{m[2]}"
            for m in _SERIES_NUMBER.finditer(text or "") if not spaced_only or re.search(r"\s", m[0])}


def _names_another_member(title: str, asked: set[str]) -> bool:
    """Whether a page's title names a member of a series the question asks about, but not the one asked: the
    "Subnet 3" page for "what is netuid 22 for?" (both scrape social media, so its lines read as answers),
    the Mainnet 10 page for a Mainnet 11 question. A title naming none, or another series, says nothing."""
    titled = _series_numbers(title)
    asked_kinds = {m.rstrip("0123456789") for m in asked}
    return bool(titled) and not titled & asked and any(m.rstrip("0123456789") in asked_kinds for m in titled)


def _passages_text(documents: list[DocumentHit]) -> str:
    """The documents' passages with their headings and titles: the retrieved text a question is checked in."""
    return " ".join(p.text + " " + p.section + " " + d.title for d in documents for p in d.passages)


# "a 4th hotkey", "a 4.5M loan", "5k AKT", "120Gi of storage": an ordinal or an amount with its unit, written
# as one token, is a figure, not an identifier a page must name ("4th" declined a question about adding a
# fourth child hotkey, which the page writes "all four").
_FIGURE_TOKEN = re.compile(r"^\d+(st|nd|rd|th)$|^\d+(\.\d+)?(k|m|bn|b|x|gb|gi|gib|mb|mi|mib|tb|ti|tib)$")


def _unknown_ids(question: str, text: str, stems: set[str]) -> int:
    """Identifiers of the question (AEP-77, B200, "Mainnet 11") that the text never names."""
    held_series = _series_numbers(text)
    lowered = text.lower()
    ids = sum(1 for t in content_words(question) if re.search(r"\d", t) and re.search(r"[a-z]", t)
              and not _FIGURE_TOKEN.match(t)
              and _stem(t) not in stems and t not in lowered
              and not _series_numbers(t) & held_series)  # "SN9" is the page's "Subnet 9"
    return ids + len(_series_numbers(question, spaced_only=True) - held_series)


def _names_every_identifier(question: str, document: DocumentHit) -> bool:
    """Whether this page's passages name every identifier of the question (none unknown to them)."""
    text = _passages_text([document])
    return _unknown_ids(question, text, _stems_with_compounds(words(text))) == 0


def _fill_evidence(ev: Evidence, question: str, documents: list[DocumentHit], top_cosine: float,
                   protocols: list[str], cands: list[Candidate], terms: TermStats) -> None:
    """The evidence that `documents` (a ranking's top documents) hold the answer to the question."""
    q_terms = content_words(question)
    # The first three documents, and any lower one closer in meaning than all of them (a ranking's leader kept
    # at the end of the top k: a one-chunk page can rank below pages with two fair chunks).
    best_top = max((p.cosine for d in documents[:3] for p in d.passages), default=0.0)
    held = documents[:3] + [d for d in documents[3:] if max((p.cosine for p in d.passages), default=0.0) > best_top]
    top_text = _passages_text(held)
    stems = _stems_with_compounds(words(top_text))
    # A word the knowledge base never uses is counted once, as an unknown term (below), not in the coverage
    # too, where its top idf would outweigh every word the passages do hold.
    weights = terms.weights([t for t in q_terms if terms.df.get(t, 0) > 0])
    total = sum(weights.values()) or 1.0
    ev.coverage = sum(w for t, w in weights.items() if _stem(t) in stems) / total
    # Rare terms (high idf) that none of the retrieved text holds: the knowledge base likely lacks the answer.
    # "Rare" = in at least one and at most RARE_DF chunks of the whole knowledge base. A word it never uses
    # (slang like "rigs", a typo, an outside name) is counted once, as an unknown term, not twice: counting
    # it here too declined chatty answerable questions ("I run 6 rigs... do my rewards get nerfed?").
    # A month is a date, like the year beside it, not a topic: "that Aug 2023 piece" names when the page was
    # written, and a page the dense ranking finds need not say the month.
    rare = [t for t in q_terms if 0 < terms.df.get(t, 0) <= RARE_DF and not _is_month(t)]
    ev.rare_missing = sum(1 for t in rare if _stem(t) not in stems)
    ev.unknown_terms = sum(1 for t in q_terms if terms.df.get(t, 0) == 0)
    ev.unknown_names = len(unknown_names(question, terms))
    ev.unknown_ids = _unknown_ids(question, top_text, stems)
    # "what % voted yes?": when none of the best sentences holds a percentage, the knowledge base has the topic
    # but not the figure asked for. Only kinds a sentence shows plainly (a percentage, a date or block, a
    # discount, a place, an amount in a token or money; a limit or a frequency in the two best sentences):
    # some bare number is in almost every passage.
    best = _best_sentences(cands)
    wanted = [(answer, best[:among]) for ask, answer, among in _KINDS if ask.search(question)]
    ev.kind_missing = bool(best) and any(not any(answer.search(c.text) for c in looked_in)
                                         for answer, looked_in in wanted)
    ev.top_cosine = top_cosine
    ev.best_sentence_cosine = max((c.cosine for c in cands), default=0.0)
    ev.protocol_match = not protocols or any(d.protocol in protocols or d.protocol == "all" for d in documents[:2])
    ev.features = {
        "top_cosine": round(ev.top_cosine, 4),
        "sentence_cosine": round(ev.best_sentence_cosine, 4),
        "coverage": round(ev.coverage, 4),
        "rare_missing": ev.rare_missing,
        "unknown_terms": ev.unknown_terms,
        "unknown_ids": ev.unknown_ids,
        "unknown_names": ev.unknown_names,
        "kind_missing": int(ev.kind_missing),
        "agreement": round(ev.agreement, 4),
        "best_lexical": round(max((c.lexical for c in cands), default=0.0), 4),
    }


_CAPITALISED = re.compile(r"(?<![\w-])[A-Z][A-Za-z]+(?![\w-])")
NAME_DF = 30
# "how many RENDER tokens", "how much AKT": an amount (not "when", which _NUMERIC_Q also counts)
_ASKS_A_FIGURE = re.compile(r"\bhow (much|many|long|big|large|often)\b"
                            r"|\bwhat (amount|number|share|percentage|fraction)\b", re.I)
_WEEKDAY = re.compile(r"^(mon|tues?|wed(nes)?|thu(rs)?|fri|sat(ur)?|sun)(day)?$")
_NAME_TOKEN = re.compile(r"(?<![\w-])[A-Z][A-Za-z0-9]+")


def _mid_sentence_names(question: str, pattern: re.Pattern = _NAME_TOKEN) -> list[str]:
    """Lower-cased words the question capitalises where a sentence does not begin ('Exabits', 'OTOY'): a
    sentence's first word is capitalised anyway."""
    names = []
    for match in pattern.finditer(question):
        before = question[: match.start()].rstrip()
        word = match.group().lower()
        if before and before[-1] not in ".?!:;\"'(" and word not in names:
            names.append(word)
    return names


def figure_without_its_name(question: str, cands: list[Candidate], documents: list[DocumentHit],
                            terms: TermStats) -> bool:
    """'How many RENDER tokens did the Exabits compute client RNP ask for?': a figure about a named thing
    should come from a page that names it. When none of the best sentences holding a number does (the 50K
    RENDER came from another RNP), the knowledge base has the name but likely not the figure. Only names the
    knowledge base uses: an unknown one is counted by unknown_names."""
    if not _ASKS_A_FIGURE.search(question) or not documents:
        return False
    # a project's or product's name is rare ("exabits": 9 chunks); "Aug", "Mainnet" or "USDC" are everywhere
    names = [n for n in _mid_sentence_names(question)
             if 0 < terms.df.get(n, 0) <= NAME_DF and not _is_month(n) and not _WEEKDAY.match(n)]
    figures = [c for c in _best_sentences(cands) if _FIGURE.search(c.text)]
    if not names or not figures:
        return False
    page_words = [set(words(" ".join(f"{p.text} {p.section} {d.title}" for p in d.passages)))
                  for d in documents]
    return any(not any(name in page_words[c.doc_rank] for c in figures if c.doc_rank < len(page_words))
               for name in names)


def unknown_names(question: str, terms: TermStats) -> list[str]:
    """Names the question capitalises mid-sentence that no chunk of the knowledge base uses ('what APR does
    Lido pay'): a question about an outside project or product. Chatty words the corpus happens not to use
    ('rigs', 'pile', 'vouch') are written in lower case, so they are not counted here."""
    return [word for word in _mid_sentence_names(question, _CAPITALISED)
            if word in terms.df and terms.df[word] == 0]


def confidence_from(ev: Evidence) -> float:
    """Map retrieval evidence to 0-1: a logistic over interpretable features (weights set on the dev set).

    Similarity of the question to the best passages and sentences, and how much of the question the
    retrieved text covers, raise it; identifiers (AEP-77, B200) or several rare terms of the question that
    the retrieved text never mentions lower it sharply: the knowledge base is then likely not to hold it.
    """
    z = (
        -5.5
        + 5.0 * ev.top_cosine
        + 3.0 * ev.best_sentence_cosine
        + 2.0 * ev.coverage
        - 4.0 * ev.unknown_ids
        - 2.0 * ev.unknown_names
        - 3.0 * ev.kind_missing
        - 2.0 * ev.figure_unbound
        - 3.0 * max(0, ev.rare_missing - 1)
        - 1.0 * max(0, ev.unknown_terms - 1)
    )
    return 1.0 / (1.0 + math.exp(-z))


def decline_text(question: str, sources: list[Source]) -> str:
    """A plain statement that the knowledge base does not hold this, with the nearest topics it does hold."""
    if is_opinion_question(question):
        head = ("I can't give price predictions, investment advice or opinions; I only report what my sources "
                "say. Try asking about a protocol's mechanics, figures or proposals instead.")
    else:
        head = "My knowledge base doesn't hold an answer to that, so I won't guess. I've logged the question for the moderators."
    titles = []
    for s in sources[:3]:
        label = s.title + (f" — {s.section}" if s.section and s.section != s.title else "")
        if label and label not in titles:
            titles.append(label)
    if titles:
        head += " Nearest topics I do have: " + "; ".join(titles) + "."
    return head[:MAX_ANSWER_CHARS]
