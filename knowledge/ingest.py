"""Ingestion: files, directories (with MANIFEST.tsv), URLs and pasted text -> documents, chunks, embeddings.

Each document is written in one transaction (document row, version, chunks, FTS rows via triggers,
embeddings, audit), so a crash or kill leaves whole documents only; a re-run skips what is unchanged
(content hash) and finishes the rest. Embeddings are computed before the transaction, batched across
documents, and cached by content hash so unchanged passages are never embedded twice.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.chunking import ChunkText, chunk_text
from knowledge.config import Settings
from knowledge.embed import Embedder, vector_to_blob
from knowledge.errors import IngestError
from knowledge.parsing import SUPPORTED_SUFFIXES, ParsedDocument, numbered_title, parse_bytes, strip_inline
from knowledge.protocols import Registry
from knowledge.results import IngestItem, IngestReport
from knowledge.store import Store, now_iso

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (what, done, total)
EMBED_BATCH_CHUNKS = 256


@dataclass
class SourceItem:
    """One thing to ingest, before it is read."""

    location: str  # file path or URL (for messages)
    key: str  # the document key: path relative to the ingested folder, or the URL
    origin: str = "file"  # file | url | text | pack
    protocol: str = ""
    title: str = ""
    source_url: str = ""
    data: bytes | None = None  # in-memory content (pasted text, uploads)
    content_type: str = ""


@dataclass
class Prepared:
    """A parsed and chunked document, ready to be embedded and written."""

    item: SourceItem
    parsed: ParsedDocument
    content_hash: str
    chunks: list[ChunkText]
    embed_hashes: list[str] = field(default_factory=list)
    action: str = "add"  # add | update | reactivate


# -- collecting sources ----------------------------------------------------------------------------
def collect(sources: Iterable[str], settings: Settings) -> tuple[list[SourceItem], list[IngestItem]]:
    """Expand paths, folders and URLs into items; unusable sources become failed report items."""
    items: list[SourceItem] = []
    failed: list[IngestItem] = []
    for source in sources:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
            if not source.lower().startswith(("http://", "https://")):
                failed.append(IngestItem(source, "failed", reason="only http(s) URLs can be ingested"))
            else:
                items.append(SourceItem(location=source, key=source, origin="url", source_url=source))
            continue
        path = Path(source).expanduser()
        if path.is_dir():
            items.extend(_from_directory(path, failed))
        elif path.is_file():
            items.append(SourceItem(location=str(path), key=path.name))
        else:
            failed.append(IngestItem(source, "failed", reason="no such file, folder or URL"))
    return items, failed


def _from_directory(root: Path, failed: list[IngestItem]) -> Iterator[SourceItem]:
    manifest = root / "MANIFEST.tsv"
    if manifest.is_file():
        yield from _from_manifest(root, manifest, failed)
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            path = Path(dirpath) / name
            yield SourceItem(location=str(path), key=path.relative_to(root).as_posix())


def _from_manifest(root: Path, manifest: Path, failed: list[IngestItem]) -> Iterator[SourceItem]:
    with manifest.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rel = (row.get("path") or "").strip()
            if not rel:
                continue
            path = (root / rel).resolve()
            if root.resolve() not in path.parents:
                failed.append(IngestItem(rel, "failed", reason="manifest path leaves the folder"))
                continue
            url = (row.get("source_url") or "").strip()
            yield SourceItem(
                location=str(path),
                key=rel,
                protocol=(row.get("protocol") or "").strip().lower(),
                title=strip_inline(row.get("title") or ""),
                source_url=url if url.startswith(("http://", "https://")) else "",
            )


# -- reading and preparing -------------------------------------------------------------------------
def read_item(item: SourceItem, settings: Settings) -> ParsedDocument:
    """Read and parse one item (bounded size); raises IngestError with a one-line reason."""
    limit = int(settings.max_file_mb * 1024 * 1024)
    if item.data is not None:
        data = item.data
    elif item.origin == "url":
        from knowledge.fetch import fetch_url

        fetched = fetch_url(item.location, settings)
        item.key = item.source_url = fetched.url
        if fetched.text:
            parsed = parse_bytes(fetched.text.encode("utf-8"), item.location + ".md")
            parsed.title = parsed.title or fetched.title
            return parsed
        data = fetched.data
        item.content_type = fetched.content_type
    else:
        try:
            size = os.path.getsize(item.location)
            if size > limit:
                raise IngestError(item.location, f"larger than {settings.max_file_mb:g} MB ({size / 2**20:.0f} MB)")
            with open(item.location, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise IngestError(item.location, f"cannot read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise IngestError(item.location, f"larger than {settings.max_file_mb:g} MB")
    return parse_bytes(data, item.location if item.origin != "url" else item.key, item.content_type)


def _content_hash(item: SourceItem, parsed: ParsedDocument, protocol: str, title: str) -> str:
    h = hashlib.sha256()
    for part in (parsed.text, protocol, title, item.source_url, parsed.date):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def embed_key(model_id: str, text: str) -> str:
    return hashlib.sha1(f"{model_id}\n{text}".encode()).hexdigest()


def resolve_protocol(item: SourceItem, parsed: ParsedDocument, registry: Registry, default: str | None) -> str:
    """The manifest's or caller's protocol, else the front matter's, else the one the text names most."""
    for candidate in (item.protocol, default or "", parsed.meta.get("protocol", "")):
        candidate = (candidate or "").strip().lower()
        if candidate in {"all", "*", "comparison"}:
            return "all"
        if candidate:
            try:
                return registry.get(candidate).id
            except Exception:
                return candidate
    found = registry.detect(parsed.title + "\n" + parsed.text[:20000])
    return found[0] if found else ""


# -- the pipeline ----------------------------------------------------------------------------------
class Ingestor:
    """Runs ingestion for one store; a moderator check must happen before it is called."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings, registry: Registry) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.registry = registry

    def run(
        self,
        items: list[SourceItem],
        actor: str,
        protocol: str | None = None,
        title: str | None = None,
        progress: Progress | None = None,
        report: IngestReport | None = None,
    ) -> IngestReport:
        """Ingest items in embedding batches; each document commits on its own."""
        report = report or IngestReport()
        batch: list[Prepared] = []
        pending_chunks = 0
        done = 0
        for item in items:
            try:
                prepared = self._prepare(item, protocol, title if len(items) == 1 else None)
            except IngestError as exc:
                report.items.append(IngestItem(item.location, "failed", key=item.key, reason=exc.reason))
                log.info("ingest failed: %s", exc)
            else:
                if prepared is None:
                    report.items.append(IngestItem(item.location, "unchanged", key=item.key))
                else:
                    batch.append(prepared)
                    pending_chunks += len(prepared.chunks)
            done += 1
            if pending_chunks >= EMBED_BATCH_CHUNKS:
                self._flush(batch, actor, report, progress)
                batch, pending_chunks = [], 0
            if progress:
                progress("files", done, len(items))
        self._flush(batch, actor, report, progress)
        return report

    def _prepare(self, item: SourceItem, protocol: str | None, title: str | None) -> Prepared | None:
        # A file name that is not UTF-8 (surrogate-escaped by the OS layer) cannot be stored as is: keep a
        # stable, distinct, printable key instead (\udcff).
        item.key = item.key.encode("utf-8", "backslashreplace").decode("utf-8")
        parsed = read_item(item, self.settings)
        proto = resolve_protocol(item, parsed, self.registry, protocol)
        doc_title = (title or item.title or parsed.title or Path(item.key).stem).strip()
        doc_title = numbered_title(doc_title, parsed.meta)[:300]
        front_url = parsed.meta.get("source_url", "").strip()
        if not item.source_url and front_url.startswith(("http://", "https://")):
            item.source_url = front_url  # a document's own front matter names its public source
        parsed.title = doc_title
        item.protocol = proto
        digest = _content_hash(item, parsed, proto, doc_title)
        row = self.store.conn.execute(
            "SELECT content_hash, status FROM documents WHERE key=?", (item.key,)
        ).fetchone()
        if row and row[0] == digest and row[1] == "active":
            return None
        chunks = chunk_text(parsed.text)
        if not chunks:
            raise IngestError(item.location, "no text to index after cleaning")
        action = "add" if row is None else ("update" if row[0] != digest else "reactivate")
        return Prepared(item, parsed, digest, chunks, action=action)

    def _flush(self, batch: list[Prepared], actor: str, report: IngestReport, progress: Progress | None) -> None:
        if not batch:
            return
        model = self.embedder.model_id
        wanted: dict[str, str] = {}
        for prep in batch:
            prep.embed_hashes = []
            for chunk in prep.chunks:
                text = chunk.embedding_text(prep.parsed.title)
                key = embed_key(model, text)
                prep.embed_hashes.append(key)
                wanted.setdefault(key, text)
        missing = self._missing_embeddings(list(wanted))
        vectors: dict[str, bytes] = {}
        if missing:
            texts = [wanted[k] for k in missing]
            step = 64
            for start in range(0, len(texts), step):
                matrix = self.embedder.encode(texts[start : start + step])
                for key, vector in zip(missing[start : start + step], matrix):
                    vectors[key] = vector_to_blob(np.asarray(vector, dtype=np.float32))
                if progress:
                    progress("chunks", min(start + step, len(texts)), len(texts))
        for prep in batch:
            try:
                self._write(prep, actor, vectors)
            except Exception as exc:  # one bad document never stops the batch
                log.exception("writing %s failed", prep.item.key)
                report.items.append(IngestItem(prep.item.location, "failed", key=prep.item.key, reason=f"store error: {exc}"))
                continue
            status = "added" if prep.action == "add" else "updated"
            note = prep.parsed.note
            report.items.append(IngestItem(prep.item.location, status, key=prep.item.key, chunks=len(prep.chunks), reason=note))

    def _missing_embeddings(self, keys: list[str]) -> list[str]:
        have: set[str] = set()
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            have.update(r[0] for r in self.store.conn.execute(f"SELECT hash FROM embeddings WHERE hash IN ({marks})", part))
        return [k for k in keys if k not in have]

    def _write(self, prep: Prepared, actor: str, vectors: dict[str, bytes]) -> None:
        item, parsed, now = prep.item, prep.parsed, now_iso()
        with self.store.write() as conn:
            row = conn.execute("SELECT id, version, content_hash FROM documents WHERE key=?", (item.key,)).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO documents(key, protocol, title, source_url, date, origin, content_hash, version,"
                    " status, chunk_count, added_by, added_at, updated_by, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,1,'active',?,?,?,?,?)",
                    (item.key, item.protocol, parsed.title, item.source_url, parsed.date, item.origin,
                     prep.content_hash, len(prep.chunks), actor, now, actor, now),
                )
                doc_id, version = cur.lastrowid, 1
            else:
                doc_id, old_version, old_hash = row
                version = old_version + 1 if old_hash != prep.content_hash else old_version
                conn.execute("DELETE FROM chunks WHERE document_id=?", (doc_id,))
                conn.execute(
                    "UPDATE documents SET protocol=?, title=?, source_url=?, date=?, content_hash=?, version=?,"
                    " status='active', chunk_count=?, updated_by=?, updated_at=? WHERE id=?",
                    (item.protocol, parsed.title, item.source_url, parsed.date, prep.content_hash, version,
                     len(prep.chunks), actor, now, doc_id),
                )
            if row is None or row[2] != prep.content_hash:
                conn.execute(
                    "INSERT OR IGNORE INTO document_versions(document_id, version, content_hash, title, protocol,"
                    " source_url, date, text, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (doc_id, version, prep.content_hash, parsed.title, item.protocol, item.source_url,
                     parsed.date, parsed.text, actor, now),
                )
            for key in set(prep.embed_hashes):
                if key in vectors:
                    conn.execute("INSERT OR IGNORE INTO embeddings(hash, vector) VALUES (?,?)", (key, vectors[key]))
            conn.executemany(
                "INSERT INTO chunks(document_id, position, title, section, text, embed_hash) VALUES (?,?,?,?,?,?)",
                [(doc_id, c.position, parsed.title, c.section, c.text, h) for c, h in zip(prep.chunks, prep.embed_hashes)],
            )
            Store.audit(conn, actor, prep.action if prep.action != "reactivate" else "restore", item.key,
                        version=version, chunks=len(prep.chunks), origin=item.origin, protocol=item.protocol)
            Store.bump_generation(conn)
