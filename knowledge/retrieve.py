"""Retrieval: BM25 over FTS5, dense cosine over MiniLM vectors, and their fusion (hybrid, the default).

Hybrid = reciprocal rank fusion of the two rankings, then a protocol-aware prior (a question naming Akash,
Render or Bittensor — or an AEP/RNP/subnet — prefers that protocol's documents) and document-level
diversity (the top k are k distinct documents, each with its best passages).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace

import numpy as np

from knowledge.embed import Embedder, blob_to_matrix
from knowledge.protocols import Registry
from knowledge.store import Store
from knowledge.text import content_words

log = logging.getLogger(__name__)

MODES = ("hybrid", "bm25", "dense")
CANDIDATES = 100
RRF_K = 60
BM25_CLEAR_LEAD = 1.2  # BM25's first document leads "clearly" at this multiple of the next document's best chunk
OTHER_PROTOCOL_FACTOR = 0.55  # a chunk of a protocol the question does not name keeps this share of its score


@dataclass
class Passage:
    """A retrieved chunk with its document's metadata and its scores."""

    chunk_id: int
    document_id: int
    key: str
    protocol: str
    title: str
    section: str
    text: str
    url: str
    date: str
    position: int
    bm25_rank: int | None = None
    dense_rank: int | None = None
    bm25: float = 0.0  # positive: higher is better
    cosine: float = 0.0
    score: float = 0.0


@dataclass
class DocumentHit:
    """One document in the ranked list, with its passages best first."""

    document_id: int
    key: str
    protocol: str
    title: str
    url: str
    date: str
    score: float
    passages: list[Passage] = field(default_factory=list)


@dataclass
class Retrieval:
    question: str
    mode: str
    terms: list[str]
    protocols: list[str]
    documents: list[DocumentHit]
    query_vector: np.ndarray | None = None
    top_cosine: float = 0.0
    top_bm25: float = 0.0
    agreement: float = 0.0  # share of the top documents both rankings put in their own top lists
    # Hybrid only: the documents the dense ranking alone puts first. The confidence is also judged on them,
    # since BM25 can bring in a passage that merely repeats a question's rare word (see answer.compose).
    dense_documents: list[DocumentHit] = field(default_factory=list)


class DenseIndex:
    """All active chunk vectors in memory; rebuilt when the knowledge base generation changes."""

    def __init__(self) -> None:
        self.generation = -1
        self.chunk_ids = np.zeros(0, dtype=np.int64)
        self.protocols = np.zeros(0, dtype=object)
        self.matrix = np.zeros((0, 384), dtype=np.float32)
        self._lock = threading.Lock()
        self._current: DenseIndex = self

    def ensure(self, store: Store) -> "DenseIndex":
        """The index of the store's current generation: a snapshot that is never changed once returned, so
        a reader thread never sees the ids of one generation beside the vectors of another."""
        generation = store.generation()
        current = self._current
        if generation == current.generation:
            return current
        with self._lock:
            current = self._current
            if generation != current.generation:
                rows = store.conn.execute(
                    "SELECT c.id, d.protocol, e.vector FROM chunks c JOIN documents d ON d.id = c.document_id"
                    " JOIN embeddings e ON e.hash = c.embed_hash WHERE d.status = 'active' ORDER BY c.id"
                ).fetchall()
                snapshot = DenseIndex()
                snapshot.chunk_ids = np.array([r[0] for r in rows], dtype=np.int64)
                snapshot.protocols = np.array([r[1] for r in rows], dtype=object)
                snapshot.matrix = blob_to_matrix([r[2] for r in rows])
                snapshot.generation = generation
                self._current = current = snapshot
        return current


class Retriever:
    """Searches one store; thread-safe (each thread reads through its own connection)."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self.index = DenseIndex()

    # -- the two rankings --------------------------------------------------------------------------
    def bm25(self, terms: list[str], protocols: list[str] | None, n: int = CANDIDATES) -> list[tuple[int, float]]:
        """(chunk id, positive BM25 score) best first; terms are quoted so no FTS5 syntax gets through."""
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = (
            "SELECT c.id, -bm25(chunks_fts, 1.0, 1.5, 2.0) AS s FROM chunks_fts"
            " JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id"
            " WHERE chunks_fts MATCH ? AND d.status = 'active'"
        )
        params: list = [match]
        if protocols:
            sql += f" AND d.protocol IN ({','.join('?' * len(protocols))})"
            params.extend(protocols)
        sql += " ORDER BY s DESC LIMIT ?"
        params.append(n)
        return [(r[0], float(r[1])) for r in self.store.conn.execute(sql, params)]

    def dense(self, vector: np.ndarray, protocols: list[str] | None, n: int = CANDIDATES) -> list[tuple[int, float]]:
        """(chunk id, cosine) best first."""
        index = self.index.ensure(self.store)
        if not len(index.chunk_ids):
            return []
        sims = index.matrix @ vector.astype(np.float32)
        if protocols:
            sims = np.where(np.isin(index.protocols, protocols), sims, -2.0)
        top = np.argpartition(-sims, min(n, len(sims) - 1))[:n]
        top = top[np.argsort(-sims[top])]
        return [(int(index.chunk_ids[i]), float(sims[i])) for i in top if sims[i] > -2.0]

    # -- the search --------------------------------------------------------------------------------
    def search(
        self,
        question: str,
        registry: Registry,
        k: int = 5,
        mode: str = "hybrid",
        protocol: str | None = None,
        passages_per_doc: int = 4,
    ) -> Retrieval:
        """Rank documents for a question; `protocol` filters strictly, a named protocol only boosts."""
        if mode not in MODES:
            raise ValueError(f"retriever must be one of {', '.join(MODES)}")
        terms = content_words(question)[:32]
        named = registry.detect(question)
        wanted = [protocol, "all"] if protocol else None
        vector = None
        bm25_hits: list[tuple[int, float]] = []
        dense_hits: list[tuple[int, float]] = []
        if mode in ("hybrid", "bm25"):
            bm25_hits = self.bm25(terms, wanted)
        # The query vector is computed in every mode: answering and confidence use it; only hybrid and
        # dense rank with it, so the bm25 baseline stays a pure BM25 ranking.
        vector = self.embedder.encode([question])[0]
        if mode in ("hybrid", "dense"):
            dense_hits = self.dense(vector, wanted)

        scores: dict[int, float] = {}
        bm25_rank = {cid: i for i, (cid, _) in enumerate(bm25_hits)}
        dense_rank = {cid: i for i, (cid, _) in enumerate(dense_hits)}
        for cid, rank in bm25_rank.items():
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for cid, rank in dense_rank.items():
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        passages = self._load(list(scores))
        bm25_score = dict(bm25_hits)
        cosine = dict(dense_hits)

        def prior(p: Passage) -> float:
            """A chunk of a protocol the question does not name is discounted (unless one is forced)."""
            other = named and not protocol and p.protocol not in named and p.protocol != "all"
            return OTHER_PROTOCOL_FACTOR if other else 1.0

        doc_of = {p.chunk_id: p.document_id for p in passages}  # chunk id -> its document
        for p in passages:
            p.bm25_rank, p.dense_rank = bm25_rank.get(p.chunk_id), dense_rank.get(p.chunk_id)
            p.bm25, p.cosine = bm25_score.get(p.chunk_id, 0.0), cosine.get(p.chunk_id, 0.0)
            p.score = scores[p.chunk_id] * prior(p)
        documents = _group(passages, k, passages_per_doc, leaders=[
            doc_of.get(hits[0][0]) for hits in (_clear_lead(bm25_hits, doc_of), dense_hits) if hits])
        dense_documents: list[DocumentHit] = []
        if mode == "hybrid" and dense_hits:  # the same ranking the dense baseline makes
            dense_only = [replace(p, score=prior(p) / (RRF_K + p.dense_rank + 1), bm25_rank=None)
                          for p in passages if p.dense_rank is not None]
            dense_documents = _group(dense_only, k, passages_per_doc,
                                     leaders=[doc_of.get(dense_hits[0][0])])
        self._fill_cosines(documents, vector)
        top_bm25 = {doc_of.get(cid) for cid, _ in bm25_hits[:10]}
        top_dense = {doc_of.get(cid) for cid, _ in dense_hits[:10]}
        chosen = {d.document_id for d in documents}
        agreement = len(chosen & top_bm25 & top_dense) / max(1, len(chosen)) if mode == "hybrid" else 0.0
        return Retrieval(
            question=question,
            mode=mode,
            terms=terms,
            protocols=[protocol] if protocol else named,
            documents=documents,
            query_vector=vector,
            top_cosine=top_passage_cosine(documents),
            top_bm25=max((s for _, s in bm25_hits), default=0.0),
            agreement=agreement,
            dense_documents=dense_documents,
        )

    def _fill_cosines(self, documents: list[DocumentHit], vector: np.ndarray) -> None:
        """Cosine of the question with each kept passage, whatever ranked it."""
        index = self.index.ensure(self.store)
        if not len(index.chunk_ids):
            return
        for doc in documents:
            for p in doc.passages:
                row = int(np.searchsorted(index.chunk_ids, p.chunk_id))
                if row < len(index.chunk_ids) and index.chunk_ids[row] == p.chunk_id:
                    p.cosine = float(index.matrix[row] @ vector)

    def _load(self, chunk_ids: list[int]) -> list[Passage]:
        out: list[Passage] = []
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start : start + 500]
            rows = self.store.conn.execute(
                "SELECT c.id, c.document_id, d.key, d.protocol, d.title, c.section, c.text, d.source_url, d.date,"
                " c.position, d.added_at FROM chunks c JOIN documents d ON d.id = c.document_id"
                f" WHERE c.id IN ({','.join('?' * len(part))}) AND d.status = 'active'",
                part,
            ).fetchall()
            for r in rows:
                out.append(Passage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] or "", r[9]))
        return out


def _clear_lead(hits: list[tuple[int, float]], doc_of: dict[int, int]) -> list[tuple[int, float]]:
    """The BM25 ranking, when its first document leads it clearly; else nothing (no leader from BM25).

    An exact rare term puts one document's chunk far ahead of every other document's. A short chunk matching
    common words leads by little: "Implementation Plan ... BME" topped "why did they drop the liquidity
    provider rewards planned for BME?" and, as a leader, pushed the page holding the answer (RNP-013) out of
    the top five. The lead is over the best chunk of another document: a page holding BM25's first three
    chunks leads clearly however close their scores are.
    """
    if not hits:
        return hits
    first = doc_of.get(hits[0][0])
    runner_up = next((score for cid, score in hits[1:] if doc_of.get(cid) != first), None)
    if runner_up is not None and hits[0][1] < BM25_CLEAR_LEAD * runner_up:
        return []
    return hits


def top_passage_cosine(documents: list[DocumentHit]) -> float:
    """The question's best cosine with a passage of the first three documents (evidence for answering)."""
    return max((p.cosine for d in documents[:3] for p in d.passages), default=0.0)


def _group(passages: list[Passage], k: int, per_doc: int, leaders: list[int | None] = ()) -> list[DocumentHit]:
    """Document-level ranking: a document scores its best passage plus a little for a second one.

    `leaders` are the documents each single ranking put first: fusion alone can push a document that only
    one ranking found (a pure paraphrase, or an exact rare term) below the cut, so each keeps a place in k.
    """
    by_doc: dict[int, list[Passage]] = {}
    for p in sorted(passages, key=lambda p: -p.score):
        by_doc.setdefault(p.document_id, []).append(p)
    docs = []
    for doc_id, items in by_doc.items():
        best = items[0]
        score = best.score + (0.25 * items[1].score if len(items) > 1 else 0.0)
        docs.append(DocumentHit(doc_id, best.key, best.protocol, best.title, best.url, best.date, score,
                                _kept_passages(items, per_doc)))
    docs.sort(key=lambda d: -d.score)
    docs = _without_copies(docs)
    top = docs[:k]
    for leader in dict.fromkeys(x for x in leaders if x is not None):
        if k >= 3 and leader not in {d.document_id for d in top}:
            doc = next((d for d in docs if d.document_id == leader), None)
            if doc is not None:
                top = top[: k - 1] + [doc] if len(top) >= k else top + [doc]
                # keep it below the fused leaders but inside the cut
                top.sort(key=lambda d: -d.score)
                if doc not in top[:k]:
                    top = top[: k - 1] + [doc]
    return top[:k]


def _kept_passages(items: list[Passage], per_doc: int) -> list[Passage]:
    """A document's best passages by fused score, then each ranking's own best chunk of it if not among them
    (so at most two passages more).

    Fusion ranks a chunk both rankings found above one only BM25 found, however far ahead BM25 put it: the
    chunk of RNP-021 naming "M3 Max" (the question's rare words) lost its place to chunks about compute in
    general, and the answer then lacked the one line that held it.
    """
    kept = items[:per_doc]
    for rank_of in (lambda p: p.bm25_rank, lambda p: p.dense_rank):
        ranked = [p for p in items if rank_of(p) is not None]
        if not ranked:
            continue
        own_best = min(ranked, key=rank_of)
        if own_best not in kept:
            kept = kept + [own_best]
    return kept


def _without_copies(docs: list[DocumentHit]) -> list[DocumentHit]:
    """Drop a document whose best passage a better-ranked document already holds word for word.

    Documentation trees keep archived copies of pages (and pages that include the same section), so
    without this the top k can be three copies of one page; they add nothing for a reader and push a
    different, relevant document out. A copy is moved to the end, not lost, so a short list still fills.
    """
    seen: set[str] = set()
    kept: list[DocumentHit] = []
    copies: list[DocumentHit] = []
    for doc in docs:
        texts = [" ".join(p.text.split()) for p in doc.passages]
        if texts and texts[0] in seen:
            copies.append(doc)
            continue
        seen.update(texts)
        kept.append(doc)
    return kept + copies
