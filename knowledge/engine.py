"""The engine: the one facade adapters call (CLI, console chat, Discord). Plain data in, plain data out.

(Skeleton: the methods are being filled in; their signatures are the contract the adapters use.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.config import Settings, load_settings
from knowledge.embed import Embedder, get_embedder
from knowledge.protocols import Registry, load_registry
from knowledge.results import Answer, IngestReport
from knowledge.store import Store

log = logging.getLogger(__name__)


class Engine:
    """Knowledge base + retrieval + answering over one store."""

    def __init__(
        self,
        settings: Settings | None = None,
        store: Store | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.store = store or Store(self.settings.db_path)
        self.embedder = embedder or get_embedder(self.settings.embedder)

    @property
    def registry(self) -> Registry:
        return load_registry(self.store)

    # -- questions ---------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        protocol: str | None = None,
        k: int = 5,
        retriever: str = "hybrid",
        asker: str = "",
        qid: Any = None,
    ) -> Answer:
        """Answer one question from the knowledge base (and metrics cache), or decline and log a gap."""
        raise NotImplementedError

    # -- knowledge changes (callers must have checked moderator rights) ----------------------------
    def ingest(
        self,
        sources: list[str],
        actor: str,
        protocol: str | None = None,
        title: str | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files, directories (with MANIFEST.tsv) and http(s) URLs."""
        raise NotImplementedError

    def ingest_text(self, text: str, title: str, actor: str, protocol: str = "", key: str | None = None,
                    source_url: str = "") -> IngestReport:
        """Ingest pasted text as a document (key defaults to 'text/<slug of title>')."""
        raise NotImplementedError

    def ingest_bytes(self, data: bytes, filename: str, actor: str, protocol: str = "", title: str = "",
                     source_url: str = "") -> IngestReport:
        """Ingest an uploaded file's bytes (e.g. a Discord attachment) under key 'upload/<filename>'."""
        raise NotImplementedError

    def remove(self, key: str, actor: str) -> None:
        """Soft-delete a document (restorable)."""
        raise NotImplementedError

    def restore(self, key: str, actor: str, version: int | None = None) -> None:
        """Restore a removed document, or bring back an earlier version of a replaced one."""
        raise NotImplementedError

    # -- reading the knowledge base ----------------------------------------------------------------
    def list_documents(self, protocol: str | None = None, include_removed: bool = False) -> list[dict]:
        raise NotImplementedError

    def show_document(self, key: str) -> dict:
        raise NotImplementedError

    def history(self, key: str | None = None, limit: int = 50) -> list[dict]:
        raise NotImplementedError

    def gaps(self, limit: int = 50) -> list[dict]:
        raise NotImplementedError

    def stats(self) -> dict:
        """Knowledge base size and last update, for /about."""
        raise NotImplementedError

    def record_feedback(self, answer_id: str, user_id: str, vote: int) -> None:
        """Store a 👍 (+1) / 👎 (-1) for an answer; a user's later vote replaces the earlier one."""
        raise NotImplementedError


def open_engine(db: str | Path | None = None, **overrides: Any) -> Engine:
    """An engine on `db` (or the default database); the starter pack is ingested on first use."""
    raise NotImplementedError
