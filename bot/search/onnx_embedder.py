"""The fine-tuned e5 served by onnxruntime from the export set-up made (bot/indexing/e5_onnx.py): no torch.

The exported graph holds the whole sentence-transformers pipeline (BERT, mean pooling, normalisation), so this only
tokenizes (with the export's tokenizer.json: the model's, truncated and padded as sentence-transformers does for it)
and runs the graph. Its vectors match torch's to cosine
>= 0.999 (checked at export, and by tests/test_onnx_embedder.py), so it keeps torch's fingerprint and shares its
indexes and embedding cache. onnxruntime maps the weights file (model.onnx.data) rather than copying it.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
FOLDER = "onnx-pooled"  # inside the model folder: replaced with it by the fine-tune
FP32 = "model.onnx"  # its weights beside it in model.onnx.data
TOKENIZER = "tokenizer.json"  # the model's, with sentence-transformers' truncation and padding for it set
STAMP = "export.sha256"  # written last by the export: the folder is complete
WEIGHTS = "weights.sha256"  # the model's source.sha256 the export was made from


def exported_file(model_dir: Path) -> Path | None:
    """The model's complete export for its current weights, or None (not exported, or exported from other weights)."""
    folder = Path(model_dir) / FOLDER
    target = folder / FP32
    marker = Path(model_dir) / "source.sha256"
    needed = (target, folder / (FP32 + ".data"), folder / TOKENIZER, folder / STAMP, folder / WEIGHTS, marker)
    if not all(path.exists() for path in needed):
        return None
    return target if (folder / WEIGHTS).read_text().strip() == marker.read_text().strip() else None


THREADS_ENV = "BOT_EMBED_THREADS"


def threads_from_env() -> int:
    """onnxruntime's threads per session: BOT_EMBED_THREADS, else OMP_NUM_THREADS like torch, else its default (0).

    The action server sets BOT_EMBED_THREADS=2 unless told otherwise (bot/action_server.py): one query's embedding
    on both cores takes 30 ms instead of 50 (real_dev's questions, this 2-core machine), and under load the
    threads of one session wait for each other rather than for the other requests (make bench-load)."""
    for name in (THREADS_ENV, "OMP_NUM_THREADS"):
        raw = os.environ.get(name, "").strip()
        if raw.isdigit():
            return int(raw)
    return 0


class OnnxE5Embedder:
    """multilingual-e5 through onnxruntime; 'query: ' and 'passage: ' prefixes as E5Embedder."""

    def __init__(self, model_dir: Path, model_file: Path, batch_size: int = 32, threads: int | None = None) -> None:
        self.model_dir, self.model_file = Path(model_dir), Path(model_file)
        self.name = f"e5:{self.model_dir.name}"
        self.batch_size = batch_size
        self.threads = threads_from_env() if threads is None else threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.model_file.parent / TOKENIZER))
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                # Threads that spin while waiting for work burn the core Rasa needs under load: they sleep instead.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._tokenizer = tokenizer
                self._session = onnxruntime.InferenceSession(str(self.model_file), options,
                                                             providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def encode_raw(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for texts as given (prefix included), in batches."""
        session, tokenizer = self._load()
        parts = []
        for start in range(0, len(texts), self.batch_size):
            encoded = tokenizer.encode_batch(texts[start : start + self.batch_size])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            parts.append(session.run(None, {"input_ids": ids, "attention_mask": mask})[0])
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.asarray(np.concatenate(parts), dtype=np.float32)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for questions."""
        return self.encode_raw(["query: " + t for t in texts])

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for answer passages."""
        return self.encode_raw(["passage: " + t for t in texts])

    def fingerprint(self) -> str:
        """torch's (E5Embedder's) fingerprint: the same vectors within cosine 0.999, so the same index and cache."""
        marker = self.model_dir / "source.sha256"
        return marker.read_text().strip() if marker.exists() else self.name


EMBEDDER_ENV = "BOT_EMBEDDER"
CHOICES = ("auto", "torch", "onnx")


def e5_embedder(model_dir: Path, choice: str | None = None) -> Any:
    """The e5 embedder serving and publishing use. BOT_EMBEDDER: `auto` (default) is the ONNX export when set-up made
    it and onnxruntime is installed, torch otherwise; `torch` and `onnx` ask for one (`onnx` falls back to torch, with
    a warning, when the export or onnxruntime is missing)."""
    from bot.search.embedder import E5Embedder

    choice = (choice or os.environ.get(EMBEDDER_ENV, "") or "auto").strip().lower()
    if choice not in CHOICES:
        log.warning("%s=%r is none of %s; using auto", EMBEDDER_ENV, choice, ", ".join(CHOICES))
        choice = "auto"
    if choice == "torch":
        return E5Embedder(model_dir)
    found = exported_file(model_dir)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        if choice != "auto":
            log.warning("no ONNX export of %s or no onnxruntime: serving with torch", model_dir)
        return E5Embedder(model_dir)
    return OnnxE5Embedder(model_dir, found)
