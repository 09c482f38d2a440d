"""Plain result types the core returns and the adapters (CLI, console chat, Discord) render."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# A citation marker in an answer: [2], several sources [1, 3], or a run of them [1-3] (LLM synthesis).
CITATION_MARKER = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")


def cited_ranks(text: str) -> set[int]:
    """The source numbers that the [n] markers of an answer text name."""
    ranks: set[int] = set()
    for group in CITATION_MARKER.findall(text or ""):
        for part in group.split(","):
            ends = [int(n) for n in re.findall(r"\d+", part)]
            ranks.update(range(ends[0], ends[-1] + 1) if len(ends) == 2 and ends[1] - ends[0] < 50 else ends)
    return ranks


@dataclass
class Source:
    """One cited source: a document (kind 'document') or a live/cached figure (kind 'metric')."""

    rank: int
    path: str
    title: str
    section: str = ""
    url: str = ""
    date: str = ""
    score: float = 0.0
    kind: str = "document"
    protocol: str = ""
    snippet: str = ""  # a short passage, for "More sources" views; not part of the JSON contract

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("snippet")
        data["score"] = round(float(self.score), 4)
        return data


@dataclass
class Answer:
    """An answer to one question: text with [n] markers matching `sources`, or a decline."""

    question: str
    answer: str
    declined: bool
    confidence: float
    sources: list[Source] = field(default_factory=list)
    timing_ms: float = 0.0
    id: Any = None  # the caller's question id (batch files); echoed in JSON
    answer_id: str = ""  # stored answer id, for feedback buttons
    protocol: str = ""  # the protocol the question was taken to be about ('' if none)
    metrics: list[dict[str, Any]] = field(default_factory=list)  # metric figures behind a metric answer

    def cited_sources(self) -> list[Source]:
        """The sources the answer's [n] markers cite, in rank order (all of them when none is cited)."""
        ranks = cited_ranks(self.answer)
        return [s for s in self.sources if s.rank in ranks] or list(self.sources)

    def to_json(self) -> dict[str, Any]:
        """The stable `ask --json` object (extra keys only ever added, never renamed)."""
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "declined": self.declined,
            "confidence": round(float(self.confidence), 4),
            "sources": [s.to_json() for s in self.sources],
            "timing_ms": round(float(self.timing_ms), 1),
            "answer_id": self.answer_id,
            "protocol": self.protocol,
        }


@dataclass
class IngestItem:
    """What happened to one source during ingestion."""

    source: str
    status: str  # added | updated | unchanged | failed | skipped
    key: str = ""
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    """The outcome of one ingestion run, file by file."""

    items: list[IngestItem] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def failed(self) -> list[IngestItem]:
        return [i for i in self.items if i.status == "failed"]

    def summary(self) -> str:
        chunks = sum(i.chunks for i in self.items if i.status in {"added", "updated"})
        return (
            f"{self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('failed')} failed ({chunks} chunks written)"
        )
