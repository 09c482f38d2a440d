"""MiniLM on onnxruntime: the packaged model exported once to ONNX (and int8-quantized), then run without torch.

Why: importing torch + sentence-transformers costs seconds on every cold `ask`, and the int8 graph embeds a
query several times faster on a CPU. The export needs torch and onnx once; the model files live in the user
data dir (`<data dir>/models/`), keyed by the packaged model's size so an upgrade re-exports.
Quality against the torch reference is checked by `benchmarks/bench_embed.py` and the dev-set evaluation.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from knowledge.config import data_dir
from knowledge.embed import DIM, MAX_SEQ_TOKENS, model_path

log = logging.getLogger(__name__)

QUANTIZED = "model-int8.onnx"
FULL = "model-fp32.onnx"


def onnx_dir() -> Path:
    """Where the exported graphs are kept (COMPUTE_DESK_MODELS overrides)."""
    explicit = os.environ.get("COMPUTE_DESK_MODELS", "").strip()
    base = Path(explicit) if explicit else data_dir() / "models"
    source = Path(model_path()) / "model.safetensors"
    stamp = source.stat().st_size if source.exists() else 0
    return base / f"all-MiniLM-L6-v2-{stamp}"


def onnx_ready() -> bool:
    """True when onnxruntime is importable (the graph itself is exported on first use if missing)."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    if (onnx_dir() / QUANTIZED).exists():
        return True
    # Exporting needs torch and onnx; look them up without importing (importing torch costs seconds).
    from importlib.util import find_spec

    return find_spec("onnx") is not None and find_spec("torch") is not None


def export(target: Path) -> Path:
    """Export the packaged MiniLM to ONNX (fp32) and an int8 dynamically quantized copy; returns the int8 path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    target.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(model_path())
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    dummy = torch.ones((2, 8), dtype=torch.long)
    full = target / FULL
    tmp_full = target / (FULL + ".tmp")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(model), (dummy, dummy, torch.zeros_like(dummy)), str(tmp_full),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                          ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp_full, full)
    tmp_q = target / (QUANTIZED + ".tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # onnxruntime logs generic pre-processing advice through the root logger
    try:
        quantize_dynamic(str(full), str(tmp_q), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    os.replace(tmp_q, target / QUANTIZED)  # atomic: a half-written graph is never picked up
    return target / QUANTIZED


class OnnxEmbedder:
    """Tokenize with `tokenizers`, run the int8 (or fp32) graph, mean-pool, L2-normalise."""

    model_id = "all-MiniLM-L6-v2"

    def __init__(self, quantized: bool = True) -> None:
        self.quantized = quantized
        # int8 vectors differ a little from fp32 ones (cosine ~0.97), so they never share cache entries.
        self.model_id = "all-MiniLM-L6-v2-int8" if quantized else "all-MiniLM-L6-v2"
        self._session = None
        self._tokenizer = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                folder = onnx_dir()
                path = folder / (QUANTIZED if self.quantized else FULL)
                if not path.exists():
                    log.warning("exporting MiniLM to ONNX once (about a minute) into %s", folder)
                    export(folder)
                options = ort.SessionOptions()
                workers = max(1, min(4, os.cpu_count() or 1))
                if self.quantized:
                    # The int8 graph embeds one text per run (see encode). A run on ~30 word pieces is too
                    # small to split well across cores: one thread per run, with the runs in parallel, embeds
                    # answer sentences 37% faster on 2 cores (3.9-4.6 ms a sentence against 6.3-6.8 ms), with
                    # the very same vectors (a run's arithmetic does not depend on the thread count).
                    options.intra_op_num_threads = 1
                    self._pool = ThreadPoolExecutor(workers, thread_name_prefix="onnx-embed")
                else:
                    options.intra_op_num_threads = workers
                options.log_severity_level = 3
                self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_SEQ_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        session, tokenizer = self._load()
        result = np.zeros((len(texts), DIM), dtype=np.float32)
        if self.quantized:
            # Dynamic int8 quantization scales activations over the whole batch, so a text's vector depended
            # on the texts batched with it (cosine 0.985-0.99 to its vector alone): the same sentence scored
            # differently from one question to the next. One text per run makes every vector reproducible.
            # On 2 cores, answer sentences (up to 300 characters) embed faster this way (48: 426 ms against
            # 664 ms in batches of 8). Run one after another, whole passages embedded slower than in batches
            # (66/s against 80/s); with the runs in parallel on the pool they embed at 73-93/s.
            runs = [[i] for i in range(len(texts))]
        else:
            # Sorting by length keeps padding small inside each batch.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            runs = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

        def embed(idx: list[int]) -> None:
            encs = tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encs], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
            types = np.zeros_like(ids)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            result[idx] = pooled.astype(np.float32)

        if self._pool is not None and len(runs) > 1:
            for _ in self._pool.map(embed, runs):  # consumed so that an error in a run is raised here
                pass
        else:
            for idx in runs:
                embed(idx)
        return result
