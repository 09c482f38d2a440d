"""Pure rendering: core results -> Discord embeds and text, always inside Discord's limits.

Nothing here talks to Discord; `discord.Embed` is a plain data holder. Long answers are trimmed at a
sentence end and never inside a `[n]` citation marker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import discord

from knowledge.results import CITATION_MARKER, Answer, Source

log = logging.getLogger(__name__)

# Discord's documented limits.
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
MAX_FIELDS = 25

ELLIPSIS = "…"
COLOR_ANSWER = 0x2B7A78
COLOR_DECLINE = 0x9E9E9E
COLOR_WARN = 0xE0A800

# A place where text may end: sentence punctuation, then any citation markers, then space or the end.
_SENTENCE_END = re.compile(r"[.!?…](?:\s*\[\d+(?:\s*[,–-]\s*\d+)*\])*(?=\s|$)|\n\n")


def _inside_marker(text: str, cut: int) -> bool:
    """True when cutting `text` at `cut` would split a `[n]` marker."""
    return any(m.start() < cut < m.end() for m in CITATION_MARKER.finditer(text))


def trim(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` shortened to at most `limit` characters, at a sentence end when there is one.

    Falls back to a word boundary (never inside a `[n]` marker) when the first sentence alone is too long.
    """
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit] if limit > 0 else ""
    room = limit - len(ellipsis) - 1  # leave space for " …"
    best = -1
    for match in _SENTENCE_END.finditer(text):
        if match.end() > room:
            break
        best = match.end()
    if best > 0:
        return text[:best].rstrip() + " " + ellipsis
    # No sentence end fits: cut at the last space before the limit that is not inside a marker.
    cut = room
    while cut > 0 and (not text[cut].isspace() or _inside_marker(text, cut)):
        cut -= 1
    if cut <= 0:  # one enormous word
        cut = room
        while cut > 0 and _inside_marker(text, cut):
            cut -= 1
    return text[:cut].rstrip() + ellipsis


def clip(text: str, limit: int) -> str:
    """A short label clipped hard at `limit` (titles, field names, list lines)."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def source_line(source: Source) -> str:
    """`[n] Title — Section, date, link` (the parts that exist)."""
    head = f"[{source.rank}] {source.title or source.path}"
    section = (source.section or "").split(" > ")[-1].strip()
    if section and section != source.title:
        head += f" — {section}"
    extras = [x for x in (source.date, source.url) if x]
    if source.kind == "metric" and not source.url:
        extras.append("live figure")
    if extras:
        head += ", " + ", ".join(extras)
    return head


def lines_field(lines: Iterable[str], limit: int = FIELD_VALUE_LIMIT, line_limit: int = 300) -> str:
    """Whole lines joined up to `limit`; a last line says how many were left out."""
    lines = [clip(line, line_limit) for line in lines]
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index - 1
        tail = len(f"\n…and {rest} more") if rest else 0
        if used + len(line) + 1 + tail > limit:
            out.append(f"…and {len(lines) - index} more")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out) or "—"


def confidence_label(confidence: float) -> str:
    """`0.82 (high)` style text."""
    level = "high" if confidence >= 0.75 else "medium" if confidence >= 0.5 else "low"
    return f"{confidence:.2f} ({level})"


def embed_size(embed: discord.Embed) -> int:
    """Characters counted against the 6,000 total (title, description, fields, footer, author)."""
    return len(embed)


def fit(embed: discord.Embed) -> discord.Embed:
    """Shrink an embed until its total is within Discord's limit (description first, then fields)."""
    if embed.title and len(embed.title) > TITLE_LIMIT:
        embed.title = clip(embed.title, TITLE_LIMIT)
    if embed.description and len(embed.description) > DESCRIPTION_LIMIT:
        embed.description = trim(embed.description, DESCRIPTION_LIMIT)
    while len(embed.fields) > MAX_FIELDS:
        embed.remove_field(len(embed.fields) - 1)
    for i, f in enumerate(embed.fields):
        name, value = clip(f.name or "—", FIELD_NAME_LIMIT), f.value or "—"
        if len(value) > FIELD_VALUE_LIMIT:
            value = trim(value, FIELD_VALUE_LIMIT)
        embed.set_field_at(i, name=name, value=value, inline=f.inline)
    over = len(embed) - EMBED_TOTAL_LIMIT
    if over > 0 and embed.description:
        embed.description = trim(embed.description, max(100, len(embed.description) - over))
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


# -- answers -----------------------------------------------------------------------------------------
def answer_embed(answer: Answer, max_sources: int = 8) -> discord.Embed:
    """The /ask reply: the answer with [n] markers, Sources, confidence; or a polite decline."""
    if answer.declined:
        return decline_embed(answer)
    embed = discord.Embed(title=clip(answer.question, TITLE_LIMIT), color=COLOR_ANSWER)
    # Leave room for the sources and the rest inside the 6,000 total.
    embed.description = trim(answer.answer, 3500)
    shown = answer.cited_sources()
    if shown:
        embed.add_field(name="Sources", value=lines_field(source_line(s) for s in shown[:max_sources]),
                        inline=False)
    embed.add_field(name="Confidence", value=confidence_label(answer.confidence), inline=True)
    if answer.protocol:
        embed.add_field(name="Protocol", value=clip(answer.protocol, 100), inline=True)
    if answer.answer_id:
        embed.set_footer(text=f"answer {answer.answer_id} · 👍/👎 help improve answers")
    return fit(embed)


def decline_embed(answer: Answer) -> discord.Embed:
    """A decline: says so politely, says the question was logged, offers the nearest topics."""
    embed = discord.Embed(title=clip(answer.question, TITLE_LIMIT), color=COLOR_DECLINE)
    text = answer.answer or "I don't have a sourced answer to that yet, so I won't guess."
    if "logged" not in text.lower():
        text += " I've logged the question so the moderators can add a source."
    embed.description = trim(text, 2000)
    embed.set_footer(text="No sourced answer · logged as a knowledge gap")
    return fit(embed)


def sources_embed(answer: Answer) -> discord.Embed:
    """'More sources': every source with its passage."""
    embed = discord.Embed(title=clip(f"Sources for: {answer.question}", TITLE_LIMIT), color=COLOR_ANSWER)
    for s in answer.sources[:10]:
        value = trim(s.snippet, 600) if s.snippet else "(no passage stored)"
        if s.url:
            value = clip(f"{value}\n{s.url}", FIELD_VALUE_LIMIT)
        embed.add_field(name=clip(source_line(s), FIELD_NAME_LIMIT), value=value, inline=False)
    if not answer.sources:
        embed.description = "This answer has no sources."
    return fit(embed)


def answer_text(answer: Answer, limit: int = CONTENT_LIMIT) -> str:
    """A plain-text answer (message content or console), within `limit`, sources listed."""
    if answer.declined:
        return trim(answer.answer or "I don't have a sourced answer to that yet.", limit)
    sources = "\n".join(source_line(s) for s in answer.sources)
    tail = f"\n\nSources:\n{sources}\nConfidence: {confidence_label(answer.confidence)}"
    if len(tail) > limit // 2:
        tail = clip(tail, limit // 2)
    return trim(answer.answer, limit - len(tail)) + tail


# -- metrics, score, compare -------------------------------------------------------------------------
def notice(text: str, limit: int = CONTENT_LIMIT) -> str:
    """A message content string within the 2,000 limit."""
    return trim(text, limit) or "…"
