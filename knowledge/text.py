"""Small text utilities shared by chunking, retrieval and answering: words, stop words, sentences."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_WORD_RE = re.compile(r"[a-z0-9][a-z0-9.\-_%$]*[a-z0-9%]|[a-z0-9]")

STOP_WORDS = frozenset(
    """a about above actually after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't could did didn't do does doesn't doing don't down during
    each else ever exactly few for from further get gets got had has have having he her here hers him his how i
    i'm if in into is isn't it it's its itself just know like me might more most much must my no nor not now
    of off on once only or other our ours out over own per please really right same say says she should so
    some still such sure than that that's the their them then there these they this those though through to
    too under until up us use used using very via was wasn't way we well were what what's whats when where
    which while who whom whose why will with would yes yet you your yours heard think tell thing things
    someone something anything basically roughly random one ones lot kind sort maybe want wants need needs
    does did happen happens happened mean means
    aren isn doesn don didn wasn weren won wouldn shouldn couldn hasn haven hadn ain ll ve let""".split()
)
# The word pattern splits at apostrophes ("aren't" -> "aren", "t"), so contractions are listed by their
# first half too; one-letter rests ("t", "s", "m") are dropped by length.


def words(text: str) -> list[str]:
    """Lower-case word tokens, keeping numbers with their punctuation (5,000 stays '5,000' -> '5' '000')."""
    return _WORD_RE.findall((text or "").lower())


def content_words(text: str) -> list[str]:
    """Words that carry meaning (no stop words), in order, without duplicates."""
    seen: dict[str, None] = {}
    for word in words(text):
        if word not in STOP_WORDS and len(word) > 1 or word.isdigit():
            seen.setdefault(word, None)
    return list(seen)


# Sentences end at . ! ? followed by space and an upper-case letter, digit or markup; never inside
# numbers (3.89), abbreviations (e.g., i.e., vs.) or version strings (v0.1.2).
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|approx|no|fig|dr|mr|ms|inc|ltd|st|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.$", re.I)
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*`#\-])")


def looks_like_heading(line: str) -> bool:
    """A short capitalised line without closing punctuation: 'The Agentic Protocol', 'Final Verdict'."""
    stripped = line.strip()
    words_in = stripped.split()
    # a line ending in "the", "of", "by" is a wrapped sentence going on, not a heading
    return (0 < len(words_in) <= 8 and len(stripped) <= 70 and stripped[0].isupper()
            and not re.search(r"[.,;:!?)\]\"'|]$", stripped) and not stripped.startswith(("|", "#", "`"))
            and words_in[-1].lower() not in STOP_WORDS)


CODE_FENCES = ("```", "~~~")


def split_sentences(text: str) -> list[str]:
    """Split a passage into sentences; list items, table rows, headings and code lines stand alone.

    So does a heading written as a plain line ("Technical Integration Details" above its paragraph, with no
    blank line between): it is not glued to the sentence after it.
    """
    return [sentence for sentence, _ in sentences_marking_code(text)]


def sentences_marking_code(text: str) -> list[tuple[str, bool]]:
    """split_sentences' sentences, each with whether it is a line of a fenced code block."""
    out: list[tuple[str, bool]] = []
    in_code = False
    prose: list[str] = []

    def flush() -> None:
        out.extend((sentence, False) for sentence in _prose_sentences("\n".join(prose)))
        prose.clear()

    for raw in (text or "").splitlines():
        if raw.strip().startswith(CODE_FENCES):
            flush()
            in_code = not in_code
            continue
        if in_code:
            if raw.strip():
                out.append((" ".join(raw.split()), True))
            continue
        heading_above = (prose and looks_like_heading(prose[-1]) and raw.strip()[:1].isupper()
                         and (len(prose) == 1 or not prose[-2].strip() or prose[-2].rstrip()[-1:] in ".:!?"))
        if heading_above:
            flush()
        prose.append(raw)
    flush()
    return out


def _prose_sentences(text: str) -> list[str]:
    out: list[str] = []
    # Break at blank lines, before list items, table rows and headings, and after a table row.
    for line in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]\s|\d+[.)]\s|\||#))|(?<=\|)[ \t]*\n", text or ""):
        line = " ".join(line.split())
        if not line:
            continue
        if line.startswith("|"):  # a table row is one unit: never split inside its cells
            if re.search(r"[A-Za-z0-9]", line):
                out.append(line)
            continue
        start = 0
        for match in _SENT_END.finditer(line):
            piece = line[start : match.start()].strip()
            if _ABBREV.search(piece) or len(piece) < 12:
                continue
            out.append(piece)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return out


# "SN23", "sn 23", "SN-23": the shorthand people write for what the pages call "Subnet 23"
_SUBNET_SHORTHAND = re.compile(r"\bsn[- ]?(\d{1,3})\b", re.I)


def spelled_out(question: str) -> str:
    """The question with shorthand the pages never use written out ("what does sn23 produce?" -> "what does
    subnet 23 produce?"): BM25 matches words and the embedding knows "subnet", neither knows "sn23"."""
    return _SUBNET_SHORTHAND.sub(lambda m: f"subnet {m[1]}", question)


# "going to", "will be": a question about what has not happened yet
FUTURE_TENSE = re.compile(r"\b(going to|gonna|will (be|get|there be|it|they)|will ([\w'’]+ ){1,3}(have|be|reach|"
                          r"hit|grow|become|cost|pay|exist|shrink|rise|fall|drop|increase|decrease|double|halve|"
                          r"push|raise|cut|change))\b", re.I)
# A time still to come, named without a year: "by the end of next year", "in five years", "in the coming years"
_LATER_PERIOD = re.compile(r"\bnext (year|decade)\b|\b(coming|next (few|couple( of)?|\w+)) years\b"
                           r"|\bin (a|one|two|three|four|five|ten|\d+) (years?|decades?)\b|\bby the end of (this|the) "
                           r"(year|decade)\b", re.I)


def _years(text: str) -> list[int]:
    return [int(y) for y in re.findall(r"\b(20\d\d)\b", text or "")]


def mentions_a_later_year(text: str) -> bool:
    """Whether the text names a year after the current one ("during 2027" asked in 2026), or a time still to
    come without its year ("by the end of next year", "in five years")."""
    this_year = datetime.now(timezone.utc).year
    return any(y > this_year for y in _years(text)) or bool(_LATER_PERIOD.search(text or ""))


def mentions_an_earlier_year(text: str) -> bool:
    """Whether the text names a year before the current one ("in August 2023" asked in 2026)."""
    this_year = datetime.now(timezone.utc).year
    return any(y < this_year for y in _years(text))
