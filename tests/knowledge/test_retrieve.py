"""Retrieval ranking logic, on hand-made BM25 and dense rankings (no store, no model)."""

from __future__ import annotations

from knowledge.embed import HashEmbedder
from knowledge.protocols import Registry, shipped_protocols
from knowledge.retrieve import Passage, Retriever


def _passage(chunk_id: int, doc_id: int) -> Passage:
    return Passage(chunk_id=chunk_id, document_id=doc_id, key=f"render/rnps/RNP-{doc_id:03d}.md", protocol="render",
                   title=f"RNP-{doc_id:03d}", section="", text=f"chunk {chunk_id}", url="", date="",
                   position=chunk_id)


def _retriever(bm25: list[tuple[int, float]], dense: list[tuple[int, float]], doc_of: dict[int, int]) -> Retriever:
    """A retriever whose two rankings are given: chunk ids with their scores, best first."""
    retriever = Retriever.__new__(Retriever)
    retriever.embedder = HashEmbedder()
    retriever.bm25 = lambda terms, protocols, n=100: bm25
    retriever.dense = lambda vector, protocols, n=100: dense
    retriever._load = lambda ids: [_passage(cid, doc_of[cid]) for cid in ids]
    retriever._fill_cosines = lambda documents, vector: None
    return retriever


def _keys(bm25_lead: float) -> list[str]:
    # Documents 1-5 are found by both rankings; document 9's chunk 90 is BM25's first and nowhere in dense.
    doc_of = {10: 1, 20: 2, 30: 3, 40: 4, 50: 5, 90: 9}
    bm25 = [(90, bm25_lead), (10, 10.0), (20, 9.5), (30, 9.0), (40, 8.5), (50, 8.0)]
    dense = [(10, 0.8), (20, 0.75), (30, 0.7), (40, 0.65), (50, 0.6)]
    retrieval = _retriever(bm25, dense, doc_of).search("why drop the rewards planned for RNP?",
                                                       Registry(shipped_protocols()), k=5)
    return [d.key for d in retrieval.documents]


def test_a_bm25_first_chunk_that_leads_by_little_takes_no_place_from_the_fused_top_k():
    """A short chunk matching common words tops BM25 by a hair: the five documents both rankings
    found stay the top five (it pushed the page with the answer out of the sources)."""
    keys = _keys(bm25_lead=10.5)
    assert "render/rnps/RNP-009.md" not in keys
    assert keys == [f"render/rnps/RNP-00{i}.md" for i in range(1, 6)]


def test_a_bm25_first_chunk_far_ahead_keeps_a_place_in_the_top_k():
    """An exact rare term puts one chunk far ahead of the rest: its document stays among the sources
    even though the dense ranking never found it."""
    keys = _keys(bm25_lead=25.0)
    assert "render/rnps/RNP-009.md" in keys and len(keys) == 5


def test_a_document_holding_bm25s_first_chunks_leads_clearly_however_close_their_scores():
    """BM25's first three chunks are one page's (the article a question names by its date): the lead is
    over the next document's best chunk, not over the page's own second chunk."""
    doc_of = {10: 1, 20: 2, 30: 3, 40: 4, 50: 5, 90: 9, 91: 9, 92: 9}
    bm25 = [(90, 12.5), (91, 12.4), (92, 12.3), (10, 10.0), (20, 9.5), (30, 9.0), (40, 8.5), (50, 8.0)]
    dense = [(10, 0.8), (20, 0.75), (30, 0.7), (40, 0.65), (50, 0.6)]
    retrieval = _retriever(bm25, dense, doc_of).search("what is TAO used for per the Aug 2023 comparison?",
                                                       Registry(shipped_protocols()), k=5)
    keys = [d.key for d in retrieval.documents]
    assert "render/rnps/RNP-009.md" in keys and len(keys) == 5


def test_the_hybrid_dense_view_is_the_dense_baselines_ranking():
    """The dense ranking's first chunk is a one-chunk page; pages with two good chunks outscore it in the
    grouping, and the dense baseline keeps it in the top k as its leader: the hybrid's dense view (which the
    confidence is also judged on) must hold it too."""
    doc_of = {90: 9, 10: 1, 11: 1, 20: 2, 21: 2, 30: 3, 31: 3, 40: 4, 41: 4, 50: 5, 51: 5}
    dense = [(90, 0.71), (10, 0.44), (20, 0.43), (30, 0.42), (40, 0.41), (50, 0.40),
             (11, 0.39), (21, 0.38), (31, 0.37), (41, 0.36), (51, 0.35)]
    bm25 = [(10, 9.0), (20, 8.0), (30, 7.0)]
    registry = Registry(shipped_protocols())
    question = "should I be worried about genesis mismatch messages?"
    baseline = _retriever(bm25, dense, doc_of).search(question, registry, k=5, mode="dense")
    hybrid = _retriever(bm25, dense, doc_of).search(question, registry, k=5)
    assert "render/rnps/RNP-009.md" in [d.key for d in baseline.documents]
    assert [d.key for d in hybrid.dense_documents] == [d.key for d in baseline.documents]


def test_a_top_document_keeps_each_rankings_best_chunk_of_it_among_its_passages():
    """RNP-001's chunks 10-15 are found by both rankings; chunk 19 is BM25's first (it names the question's
    rare words) but is nowhere in dense, so fusion ranks it below all six: it is kept all the same."""
    doc_of = {10: 1, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 19: 1, 20: 2, 30: 3}
    both = [10, 11, 12, 13, 14, 15]
    bm25 = [(19, 30.0)] + [(cid, 10.0 - i) for i, cid in enumerate(both)] + [(20, 3.0), (30, 2.0)]
    dense = [(cid, 0.8 - 0.01 * i) for i, cid in enumerate(both)] + [(20, 0.5), (30, 0.4)]
    registry = Registry(shipped_protocols())
    question = "can I hook my M3 Max macbook up to RNP-001?"
    hybrid = _retriever(bm25, dense, doc_of).search(question, registry, k=3)
    top = hybrid.documents[0]
    assert top.key == "render/rnps/RNP-001.md"
    ids = [p.chunk_id for p in top.passages]
    assert ids[:4] == [10, 11, 12, 13] and 19 in ids  # the fused four, then BM25's own best
    # each baseline's ranking is left as it is: dense never saw chunk 19
    dense_only = _retriever(bm25, dense, doc_of).search(question, registry, k=3, mode="dense")
    assert 19 not in [p.chunk_id for p in dense_only.documents[0].passages]
    assert 19 not in [p.chunk_id for p in hybrid.dense_documents[0].passages]
