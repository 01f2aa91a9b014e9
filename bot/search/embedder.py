"""Sentence embeddings: the e5 model through sentence-transformers, loaded lazily and offline."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for questions (what residents type, and the ways entries are asked)."""
        ...

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for answer passages."""
        ...


class E5Embedder:
    """multilingual-e5-small; e5 was trained with 'query: ' and 'passage: ' prefixes."""

    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        self.model_dir = Path(model_dir)
        self.name = f"e5:{self.model_dir.name}"
        self.batch_size = batch_size
        self._model: Any = None  # a SentenceTransformer, imported on first use
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch a model at run time
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                if not (self.model_dir / "modules.json").exists():
                    raise FileNotFoundError(
                        f"no model at {self.model_dir}: run 'make setup' (it converts the e5 weights)"
                    )
                self._model = SentenceTransformer(str(self.model_dir), device="cpu")
        return self._model

    def _encode(self, texts: list[str], prefix: str, progress: bool) -> np.ndarray:
        vectors = self._load().encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for questions, symmetric search against the entries' own questions."""
        return self._encode(texts, "query: ", progress)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for answer passages."""
        return self._encode(texts, "passage: ", progress)

    def fingerprint(self) -> str:
        """What identifies this model's weights, for the index cache key."""
        marker = self.model_dir / "source.sha256"
        return marker.read_text().strip() if marker.exists() else self.name
