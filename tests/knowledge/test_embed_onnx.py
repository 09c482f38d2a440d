"""The default embedder (int8 ONNX MiniLM) on the real packaged model: its vectors are reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.config import data_dir

# The graph exported by an earlier run (the README's first command) is reused; else it is exported once here.
# Read at import, before the per-test isolation points the data dir at a temporary one.
_USER_MODELS = data_dir() / "models"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    pytest.importorskip("onnxruntime")
    from knowledge.embed_onnx import QUANTIZED

    if any(_USER_MODELS.glob(f"*/{QUANTIZED}")):
        return _USER_MODELS
    return tmp_path_factory.mktemp("models")


def test_a_texts_int8_vector_does_not_depend_on_the_texts_embedded_with_it(models_dir, monkeypatch):
    """Dynamic int8 quantization scales activations over a whole batch: in a batch a sentence's vector
    moved with its neighbours (cosine ~0.99 to its vector alone), so a question's answer could change with
    what had been embedded before it. Each text is now run alone."""
    monkeypatch.setenv("COMPUTE_DESK_MODELS", str(models_dir))
    from knowledge.embed_onnx import OnnxEmbedder

    embedder = OnnxEmbedder(quantized=True)
    sentence = "This feature was designed to address the issue of weight copying by validators."
    others = ["Leases settle in AKT.",
              "The commit reveal interval should be greater than the immunity period within the subnet, "
              "to avoid unintended miner deregistration; subnet owners set it with a hyperparameter.",
              "Render node operators earn availability rewards."]
    alone = embedder.encode([sentence])[0]
    for batch in ([sentence, *others], [*others[::-1], sentence]):
        vectors = embedder.encode(batch, batch_size=8)
        row = batch.index(sentence)
        assert np.array_equal(vectors[row], alone)
    assert np.isclose(np.linalg.norm(alone), 1.0, atol=1e-5)


def test_parallel_runs_put_each_texts_vector_in_its_row_also_for_callers_sharing_the_pool(models_dir,
                                                                                         monkeypatch):
    """The int8 runs go to a small thread pool: every text's vector must land in its own row, whichever run
    ends first, and two askers embedding at once (the Discord bot answers in threads) must not mix rows."""
    monkeypatch.setenv("COMPUTE_DESK_MODELS", str(models_dir))
    from concurrent.futures import ThreadPoolExecutor

    from knowledge.embed_onnx import OnnxEmbedder

    embedder = OnnxEmbedder(quantized=True)
    texts = [f"Sentence {i}: providers bid on {'GPU ' * (i % 7)}leases and settle in AKT." for i in range(24)]
    one_by_one = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.array_equal(embedder.encode(texts), one_by_one)
    with ThreadPoolExecutor(2) as callers:
        results = list(callers.map(embedder.encode, [texts, texts[::-1]] * 3))
    for i, vectors in enumerate(results):
        assert np.array_equal(vectors, one_by_one if i % 2 == 0 else one_by_one[::-1])
