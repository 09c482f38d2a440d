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
