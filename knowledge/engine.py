"""The engine: the one facade adapters call (CLI, console chat, Discord). Plain data in, plain data out.

Callers that change the knowledge base (ingest, remove, restore, import) must have checked that the
actor is a moderator; the engine records the actor in the audit log for every change.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.answer import TermStats, compose, is_opinion_question
from knowledge.config import Settings, load_settings
from knowledge.embed import Embedder, get_embedder
from knowledge.errors import BadInputError, NotFoundError
from knowledge.ingest import Ingestor, Prepared, SourceItem, collect
from knowledge.chunking import chunk_text
from knowledge.parsing import ParsedDocument
from knowledge.protocols import Registry, load_registry
from knowledge.results import Answer, IngestReport, Source
from knowledge.retrieve import Retriever
from knowledge.store import Store, now_iso
from knowledge.text import content_words, spelled_out

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
PACK_ACTOR = "system:starter-pack"


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
        self.retriever = Retriever(self.store, self.embedder)
        self._df_cache: dict[str, int] = {}
        self._df_generation = -1
        self._chunk_total = 0
        self._registry: Registry | None = None
        self._registry_generation = -1
        self._lock = threading.Lock()

    @property
    def registry(self) -> Registry:
        """The protocol registry (shipped + database additions), reloaded when the store changes."""
        generation = self.store.generation()
        if self._registry is None or generation != self._registry_generation:
            self._registry = load_registry(self.store)
            self._registry_generation = generation
        return self._registry

    # -- questions ---------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        protocol: str | None = None,
        k: int = 5,
        retriever: str = "hybrid",
        asker: str = "",
        qid: Any = None,
        log_gap: bool = True,
    ) -> Answer:
        """Answer one question from the knowledge base (and metrics cache), or decline and log a gap."""
        started = time.perf_counter()
        question = validate_question(question)
        k = max(1, min(int(k), 20))
        proto = self.registry.get(protocol).id if protocol else None

        metric = self._metric_answer(question, proto)
        if metric is not None and metric.get("only"):
            answer = metric["answer"]
        else:
            asked = spelled_out(question)  # "sn23" is how people write Subnet 23, which is what pages say
            retrieval = self.retriever.search(asked, self.registry, k=k, mode=retriever, protocol=proto)
            composed = compose(asked, retrieval, self.embedder, self._term_stats(asked),
                               self.settings.decline_threshold)
            answer = Answer(
                question=question,
                answer=composed.text,
                declined=composed.declined,
                confidence=composed.confidence,
                sources=composed.sources,
                protocol=proto or (retrieval.protocols[0] if retrieval.protocols else ""),
            )
            if metric is not None:
                answer = _merge_metric(metric["answer"], answer, k)
            elif not answer.declined and self.settings.llm_enabled:
                answer = self._synthesize(answer, retrieval)
        answer.id = qid
        answer.timing_ms = (time.perf_counter() - started) * 1000
        answer.answer_id = self._record_answer(answer, asker)
        if answer.declined and log_gap:
            self._log_gap(answer)
        return answer

    def _metric_answer(self, question: str, protocol: str | None) -> dict | None:
        """A metric question answered from the metrics cache, or None when it is not one."""
        try:
            from knowledge.metrics.questions import answer_metric_question, detect_metric_question
        except ImportError:
            return None
        if is_opinion_question(question):
            return None
        try:
            query = detect_metric_question(question, self.registry)
            if query is None:
                return None
            if protocol and getattr(query, "protocol", None) is None:
                query.protocol = protocol
            # Entries within the TTL cost no request; a failing source backs off and stale values are served.
            result = answer_metric_question(self.store, self.registry, query, settings=self.settings,
                                            refresh=self.settings.metrics_on_ask)
        except Exception:  # metrics must never break a document answer
            log.exception("metric answer failed")
            return None
        answer = Answer(
            question=question,
            answer=result.text,
            declined=not result.available,
            confidence=0.9 if result.available else 0.0,
            sources=list(result.sources),
            protocol=getattr(query, "protocol", "") or "",
            metrics=list(getattr(result, "metrics", []) or []),
        )
        return {"answer": answer, "only": not getattr(query, "needs_documents", False)}

    def _synthesize(self, answer: Answer, retrieval) -> Answer:
        try:
            from knowledge.llm import synthesize
        except ImportError:
            return answer
        text = synthesize(answer.question, retrieval, answer.sources, self.settings)
        if text:
            answer.answer = text
        return answer

    def _term_stats(self, question: str) -> TermStats:
        """How many chunks hold each question term (stem-aware, via FTS5), cached per KB generation."""
        # Reader threads share this cache: work on local references, swap in a new generation's cache whole,
        # so another thread starting a new generation never empties the dict this one is reading.
        generation = self.store.generation()
        cache, total = self._df_cache, self._chunk_total
        if generation != self._df_generation:
            cache = {}
            total = self.store.conn.execute("SELECT count(*) FROM chunks").fetchone()[0] or 0
            self._df_cache, self._chunk_total, self._df_generation = cache, total, generation
        terms = content_words(question)[:32]
        for term in terms:
            if term not in cache:
                try:
                    cache[term] = self.store.conn.execute(
                        "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", ('"' + term.replace('"', '""') + '"',)
                    ).fetchone()[0]
                except Exception:  # a term FTS5 cannot parse counts as unknown
                    cache[term] = 0
        return TermStats({t: cache[t] for t in terms}, total)

    def _record_answer(self, answer: Answer, asker: str) -> str:
        answer_id = uuid.uuid4().hex[:16]
        payload = json.dumps({"asker": asker, "answer": answer.answer,
                              "sources": [dict(s.to_json(), snippet=s.snippet) for s in answer.sources]})
        try:
            with self.store.write() as conn:
                conn.execute(
                    "INSERT INTO answers(id, at, question, protocol, declined, confidence, payload) VALUES (?,?,?,?,?,?,?)",
                    (answer_id, now_iso(), answer.question[:MAX_QUESTION_CHARS], answer.protocol,
                     int(answer.declined), float(answer.confidence), payload),
                )
        except Exception:  # a busy store must not cost the user the answer
            log.exception("could not record answer")
        return answer_id

    def get_answer(self, answer_id: str) -> Answer | None:
        """A stored answer with its sources and passages (for "More sources" after a restart)."""
        row = self.store.conn.execute(
            "SELECT question, protocol, declined, confidence, payload FROM answers WHERE id=?", (answer_id,)
        ).fetchone()
        if row is None:
            return None
        payload = json.loads(row[4] or "{}")
        fields = set(Source.__dataclass_fields__)
        sources = [Source(**{k: v for k, v in s.items() if k in fields}) for s in payload.get("sources", [])]
        return Answer(question=row[0], answer=payload.get("answer", ""), declined=bool(row[2]),
                      confidence=row[3], sources=sources, answer_id=answer_id, protocol=row[1])

    def _log_gap(self, answer: Answer) -> None:
        key = " ".join(re.findall(r"[a-z0-9$%]+", answer.question.lower()))[:300]
        nearest = json.dumps([{"path": s.path, "title": s.title} for s in answer.sources[:3]])
        now = now_iso()
        try:
            with self.store.write() as conn:
                conn.execute(
                    "INSERT INTO gaps(question_key, question, protocol, count, first_at, last_at, nearest)"
                    " VALUES (?,?,?,1,?,?,?) ON CONFLICT(question_key) DO UPDATE SET count = count + 1,"
                    " last_at = excluded.last_at, nearest = excluded.nearest",
                    (key, answer.question[:MAX_QUESTION_CHARS], answer.protocol, now, now, nearest),
                )
        except Exception:
            log.exception("could not log gap")

    # -- knowledge changes (callers must have checked moderator rights) ----------------------------
    def _ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.embedder, self.settings, self.registry)

    def ingest(
        self,
        sources: list[str],
        actor: str,
        protocol: str | None = None,
        title: str | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files, directories (with MANIFEST.tsv) and http(s) URLs."""
        items, failed = collect(sources, self.settings)
        report = IngestReport(items=failed)
        return self._ingestor().run(items, actor, protocol=protocol, title=title, progress=progress, report=report)

    def ingest_text(self, text: str, title: str, actor: str, protocol: str = "", key: str | None = None,
                    source_url: str = "") -> IngestReport:
        """Ingest pasted text as a document (key defaults to 'text/<slug of title>')."""
        title = (title or "").strip()
        if not title:
            raise BadInputError("pasted text needs a title")
        key = key or "text/" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "untitled")
        item = SourceItem(location=key, key=key, origin="text", protocol=protocol, title=title,
                          source_url=source_url, data=(text or "").encode("utf-8"), content_type="text/markdown")
        return self._ingestor().run([item], actor, protocol=protocol or None, title=title)

    def ingest_bytes(self, data: bytes, filename: str, actor: str, protocol: str = "", title: str = "",
                     source_url: str = "") -> IngestReport:
        """Ingest an uploaded file's bytes (e.g. a Discord attachment) under key 'upload/<filename>'."""
        name = Path(filename or "upload.txt").name
        item = SourceItem(location=name, key=f"upload/{name}", origin="file", protocol=protocol, title=title,
                          source_url=source_url, data=data)
        return self._ingestor().run([item], actor, protocol=protocol or None, title=title or None)

    def remove(self, key: str, actor: str) -> None:
        """Soft-delete a document (restorable)."""
        doc = self._document(key)
        if doc["status"] == "removed":
            raise BadInputError(f"{key} is already removed")
        with self.store.write() as conn:
            conn.execute("UPDATE documents SET status='removed', updated_by=?, updated_at=? WHERE id=?",
                         (actor, now_iso(), doc["id"]))
            Store.audit(conn, actor, "remove", key, version=doc["version"])
            Store.bump_generation(conn)

    def restore(self, key: str, actor: str, version: int | None = None) -> str:
        """Restore a removed document, or bring back an earlier version of a replaced one; says what it did."""
        doc = self._document(key)
        if version is None and doc["status"] == "removed":
            with self.store.write() as conn:
                conn.execute("UPDATE documents SET status='active', updated_by=?, updated_at=? WHERE id=?",
                             (actor, now_iso(), doc["id"]))
                Store.audit(conn, actor, "restore", key, version=doc["version"])
                Store.bump_generation(conn)
            return f"restored {key} (version {doc['version']})"
        versions = self.store.query(
            "SELECT * FROM document_versions WHERE document_id=? ORDER BY version", (doc["id"],))
        current = next((v for v in versions if v["content_hash"] == doc["content_hash"]), None)
        if version is None:
            older = [v for v in versions if v["content_hash"] != doc["content_hash"] and
                     (current is None or v["version"] < current["version"])]
            if not older:
                raise BadInputError(f"{key} is active and has no earlier version to restore")
            target = older[-1]
        else:
            target = next((v for v in versions if v["version"] == version), None)
            if target is None:
                raise NotFoundError(f"{key} has no version {version}")
        parsed = ParsedDocument(text=target["text"], title=target["title"], date=target["date"])
        item = SourceItem(location=key, key=key, origin=doc["origin"], protocol=target["protocol"],
                          title=target["title"], source_url=target["source_url"])
        prep = Prepared(item, parsed, target["content_hash"], chunk_text(parsed.text), action="restore-version")
        report = IngestReport()
        self._ingestor()._flush([prep], actor, report, None)
        if report.failed:
            raise BadInputError(f"could not restore {key}: {report.failed[0].reason}")
        return f"restored {key} to the text of version {target['version']}"

    def reindex(self, store: Store, key: str) -> None:
        """Rebuild a document's chunks and embeddings from its stored current text (after a backup import)."""
        doc = self._document(key)
        rows = self.store.query(
            "SELECT * FROM document_versions WHERE document_id=? AND content_hash=? ORDER BY version DESC LIMIT 1",
            (doc["id"], doc["content_hash"]))
        if not rows:
            raise NotFoundError(f"{key}: no stored text for its current version")
        v = rows[0]
        parsed = ParsedDocument(text=v["text"], title=v["title"], date=v["date"])
        item = SourceItem(location=key, key=key, origin=doc["origin"], protocol=v["protocol"], title=v["title"],
                          source_url=v["source_url"])
        report = IngestReport()
        self._ingestor()._flush([Prepared(item, parsed, v["content_hash"], chunk_text(v["text"]), action="reindex")],
                                "system:reindex", report, None)
        if report.failed:
            raise BadInputError(f"could not reindex {key}: {report.failed[0].reason}")

    def _document(self, key: str) -> dict:
        rows = self.store.query("SELECT * FROM documents WHERE key=?", (key,))
        if not rows:
            raise NotFoundError(f"no document with key {key!r} (see `kb list`)")
        return rows[0]

    # -- reading the knowledge base ----------------------------------------------------------------
    def list_documents(self, protocol: str | None = None, include_removed: bool = False) -> list[dict]:
        sql = ("SELECT key, protocol, title, chunk_count, status, version, origin, added_by, added_at,"
               " updated_by, updated_at FROM documents WHERE 1=1")
        params: list = []
        if protocol:
            sql += " AND protocol=?"
            params.append(self.registry.get(protocol).id if protocol != "all" else "all")
        if not include_removed:
            sql += " AND status='active'"
        return self.store.query(sql + " ORDER BY protocol, key", params)

    def show_document(self, key: str) -> dict:
        doc = self._document(key)
        doc["versions"] = self.store.query(
            "SELECT version, content_hash, title, created_by, created_at, length(text) AS chars"
            " FROM document_versions WHERE document_id=? ORDER BY version", (doc["id"],))
        doc["sections"] = [r["section"] for r in self.store.query(
            "SELECT DISTINCT section FROM chunks WHERE document_id=? ORDER BY position", (doc["id"],))]
        return doc

    def history(self, key: str | None = None, limit: int = 50) -> list[dict]:
        sql, params = "SELECT at, actor, action, document_key, detail FROM audit", []
        if key:
            sql += " WHERE document_key=?"
            params.append(key)
        return self.store.query(sql + " ORDER BY id DESC LIMIT ?", params + [int(limit)])

    def gaps(self, limit: int = 50) -> list[dict]:
        return self.store.query(
            "SELECT question, protocol, count, first_at, last_at, nearest FROM gaps"
            " ORDER BY count DESC, last_at DESC LIMIT ?", (int(limit),))

    def stats(self) -> dict:
        """Knowledge base size and last update, for /about."""
        row = self.store.conn.execute(
            "SELECT count(*), coalesce(sum(chunk_count), 0), max(updated_at) FROM documents WHERE status='active'"
        ).fetchone()
        by_protocol = dict(self.store.conn.execute(
            "SELECT protocol, count(*) FROM documents WHERE status='active' GROUP BY protocol").fetchall())
        return {"documents": row[0], "chunks": row[1], "last_update": row[2] or "", "by_protocol": by_protocol,
                "gaps": self.store.conn.execute("SELECT count(*) FROM gaps").fetchone()[0]}

    def record_feedback(self, answer_id: str, user_id: str, vote: int) -> None:
        """Store a 👍 (+1) / 👎 (-1) for an answer; a user's later vote replaces the earlier one."""
        if vote not in (1, -1):
            raise BadInputError("vote must be +1 or -1")
        if not self.store.conn.execute("SELECT 1 FROM answers WHERE id=?", (answer_id,)).fetchone():
            raise NotFoundError("that answer is no longer stored")
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO feedback(answer_id, user_id, vote, at) VALUES (?,?,?,?) ON CONFLICT(answer_id, user_id)"
                " DO UPDATE SET vote=excluded.vote, at=excluded.at", (answer_id, str(user_id), vote, now_iso()))

    # -- first use -------------------------------------------------------------------------------
    def ensure_starter_pack(self) -> IngestReport | None:
        """Ingest the shipped starter pack into an empty knowledge base (first use)."""
        if self.store.conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
            return None
        return self.ingest_pack()

    def ingest_pack(self) -> IngestReport:
        pack = resources.files("knowledge").joinpath("pack")
        items = []
        for entry in sorted(pack.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".md"):
                items.append(SourceItem(location=f"pack/{entry.name}", key=f"pack/{entry.name}", origin="pack",
                                        data=entry.read_bytes()))
        return self._ingestor().run(items, PACK_ACTOR)


def _merge_metric(metric: Answer, docs: Answer, k: int) -> Answer:
    """A figure plus document passages: the metric first, then the passages, markers renumbered."""
    if docs.declined:
        return metric
    offset = len(metric.sources)
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", docs.answer)
    sources = list(metric.sources)
    for s in docs.sources[: max(1, k - offset)]:
        sources.append(Source(**{**s.__dict__, "rank": len(sources) + 1}))
    combined = (metric.answer + " " + text).strip()
    if len(combined) > 1000:
        combined = metric.answer
    return Answer(question=docs.question, answer=combined, declined=False,
                  confidence=max(metric.confidence, docs.confidence), sources=sources, protocol=metric.protocol)


def validate_question(question: str) -> str:
    """A usable question or a clear BadInputError."""
    # Lone surrogates (argv bytes that are not UTF-8) cannot be stored or printed: replace them.
    text = " ".join((question or "").encode("utf-8", "replace").decode("utf-8").split())
    if not text:
        raise BadInputError("the question is empty; ask something like 'how does Akash's take rate work?'")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadInputError(f"the question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,}")
    if not re.search(r"\w", text):
        raise BadInputError("the question has no words in it")
    return text


def open_engine(db: str | Path | None = None, **overrides: Any) -> Engine:
    """An engine on `db` (or the default database); the starter pack is ingested on first use."""
    if db:
        overrides["db_path"] = Path(db)
    settings = load_settings(**overrides)
    engine = Engine(settings)
    engine.ensure_starter_pack()
    return engine
