"""The sentence-vector memo: same vectors as the embedder, each text embedded once, bounded in size."""

import numpy as np

from knowledge.embed import HashEmbedder, VectorMemo, memo_for


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, batch_size=32):
        self.seen.extend(texts)
        return super().encode(texts, batch_size)


def test_memo_returns_the_embedders_vectors_and_embeds_each_text_once():
    inner = CountingEmbedder()
    memo = VectorMemo(inner)
    texts = ["the take rate is 20%", "leases settle in AKT", "the take rate is 20%"]
    first = memo.encode(texts)
    assert np.allclose(first, HashEmbedder().encode(texts))
    assert inner.seen == ["the take rate is 20%", "leases settle in AKT"]  # the repeat inside one call too
    again = memo.encode(["leases settle in AKT", "a new sentence"])
    assert inner.seen[2:] == ["a new sentence"]
    assert np.allclose(again[0], first[1])


def test_memo_is_bounded_and_forgets_the_least_recently_used():
    inner = CountingEmbedder()
    memo = VectorMemo(inner, max_items=2)
    memo.encode(["a one", "b two"])
    memo.encode(["a one"])  # touch: "b two" is now the oldest
    memo.encode(["c three"])
    assert len(memo) == 2
    inner.seen.clear()
    memo.encode(["a one", "b two", "c three"])
    assert inner.seen == ["b two"]


def test_memo_for_is_one_memo_per_embedder_and_clear_empties_it():
    a, b = HashEmbedder(), HashEmbedder()
    assert memo_for(a) is memo_for(a) and memo_for(a) is not memo_for(b)
    memo_for(a).encode(["something"])
    memo_for(a).clear()
    assert len(memo_for(a)) == 0
    assert memo_for(a).encode([]).shape == (0, 384)
