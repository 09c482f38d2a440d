"""Optional LLM synthesis (off by default): an OpenAI-compatible chat endpoint rewrites the answer from the
top passages only, with [n] citations. A reply citing nothing, an unknown marker, any failure or a timeout
falls back to the extractive answer (the caller keeps it when this returns None).
"""

from __future__ import annotations

import logging

import httpx

from knowledge.config import Settings
from knowledge.results import CITATION_MARKER, Source, cited_ranks
from knowledge.retrieve import Retrieval

log = logging.getLogger(__name__)

MAX_CHARS = 1000
SYSTEM_PROMPT = (
    "You answer questions about decentralized compute protocols using ONLY the numbered passages given. "
    "Cite every claim with its passage number in square brackets, like [1] or [2]. If the passages do not "
    "contain the answer, reply exactly: NOT IN SOURCES. No advice, no predictions, at most 800 characters."
)


def build_messages(question: str, retrieval: Retrieval, sources: list[Source]) -> list[dict[str, str]]:
    """The chat messages: the instruction, then numbered passages, then the question."""
    blocks = []
    for number, doc in enumerate(retrieval.documents[: len(sources)], start=1):
        text = "\n".join(p.text for p in doc.passages[:2])[:1500]
        blocks.append(f"[{number}] {doc.title} — {doc.passages[0].section if doc.passages else ''}\n{text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def synthesize(question: str, retrieval: Retrieval, sources: list[Source], settings: Settings) -> str | None:
    """A grounded, cited answer from the endpoint, or None to keep the extractive one."""
    if not settings.llm_enabled or not sources:
        return None
    url = settings.llm_url.rstrip("/")
    if not url.endswith("/chat/completions"):
        url += "/chat/completions"
    headers = {"User-Agent": "compute-desk/0.1"}
    if settings.llm_api_key:
        headers["Authorization"] = f"Bearer {settings.llm_api_key}"
    body = {"model": settings.llm_model, "messages": build_messages(question, retrieval, sources), "temperature": 0}
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=settings.llm_timeout_s)
        response.raise_for_status()
        text = response.json()["choices"][0]["message"]["content"]
    except Exception as exc:  # any failure: keep the extractive answer (never log the key)
        log.warning("LLM synthesis failed (%s); using the extractive answer", type(exc).__name__)
        return None
    return validate_reply(text, len(sources))


def validate_reply(text: object, n_sources: int) -> str | None:
    """Accept a reply only if it cites at least one passage and every marker names a real one.

    Markers are read as the renderers read them ([2], [1, 3], [1-2]): a grouped marker naming a passage
    that does not exist is refused like a single one, and a reply citing in groups is not refused.
    """
    if not isinstance(text, str) or "NOT IN SOURCES" in text.upper():
        return None
    text = " ".join(text.split())
    markers = cited_ranks(text)
    if not markers or any(m < 1 or m > n_sources for m in markers):
        return None
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS]
        end = max(cut.rfind(". "), cut.rfind("] "))
        text = cut[: end + 1] if end > 0 else cut
        if not CITATION_MARKER.search(text):
            return None
    return text
