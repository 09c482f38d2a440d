"""Markdown-aware chunking: sections follow the heading path; chunks are sized for MiniLM's 256-token window.

A chunk is a run of whole blocks (paragraphs, list items, table rows, code lines) of at most MAX_WORDS
words, with a short overlap so a sentence that straddles two chunks is retrievable from either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.parsing import strip_inline
from knowledge.text import CODE_FENCES, split_sentences

TARGET_WORDS = 120
MAX_WORDS = 170  # ~220 word pieces, leaving room for the title/section prefix inside 256
OVERLAP_WORDS = 25
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass
class ChunkText:
    position: int
    section: str
    text: str

    def embedding_text(self, title: str) -> str:
        """What gets embedded: the title and section give a passage its context."""
        head = " — ".join(p for p in (title, self.section) if p)
        return f"{head}\n{self.text}" if head else self.text


def sections(text: str) -> list[tuple[str, str]]:
    """(heading path, body) pairs; the heading path joins nested headings with ' > '."""
    path: list[tuple[int, str]] = []
    out: list[tuple[str, list[str]]] = [("", [])]
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith(CODE_FENCES):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            level, title = len(match.group(1)), strip_inline(match.group(2))
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
            out.append((" > ".join(t for _, t in path), []))
        else:
            out[-1][1].append(line)
    return [(name, "\n".join(body).strip()) for name, body in out if "\n".join(body).strip()]


def _blocks(body: str) -> list[str]:
    """Paragraphs, list items and table rows; long blocks are split by sentences, then by words."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", body):
        lines = para.splitlines()
        # Lists and tables: each item/row is a block so chunks break between them.
        if len(lines) > 1 and all(re.match(r"\s*(?:[-*+]\s|\d+[.)]\s|\|)", ln) or ln.startswith("  ") for ln in lines):
            blocks.extend(ln.strip() for ln in lines if ln.strip())
        else:
            blocks.append(para.strip())
    out: list[str] = []
    for block in blocks:
        if len(block.split()) <= MAX_WORDS:
            out.append(block)
            continue
        for sentence in split_sentences(block) if not block.startswith(CODE_FENCES) else block.splitlines():
            tokens = sentence.split()
            for i in range(0, len(tokens), MAX_WORDS):
                out.append(" ".join(tokens[i : i + MAX_WORDS]))
    return [b for b in out if b.strip()]


def chunk_text(text: str) -> list[ChunkText]:
    """Split a cleaned document into chunks that keep their section title."""
    chunks: list[ChunkText] = []
    for section, body in sections(text):
        current: list[str] = []
        size = 0
        for block in _blocks(body):
            n = len(block.split())
            if current and size + n > MAX_WORDS or (size >= TARGET_WORDS and current):
                chunks.append(ChunkText(len(chunks), section, "\n".join(current)))
                tail = _overlap(current)
                current, size = ([tail] if tail else []), len(tail.split())
            current.append(block)
            size += n
        if current:
            chunks.append(ChunkText(len(chunks), section, "\n".join(current)))
    return chunks


def _overlap(blocks: list[str]) -> str:
    """The last whole sentence of a chunk (if short), carried into the next one."""
    sentences = split_sentences(blocks[-1])
    if not sentences or (len(blocks) == 1 and len(sentences) == 1):
        return ""
    last = sentences[-1]
    return last if len(last.split()) <= OVERLAP_WORDS + 15 else ""
