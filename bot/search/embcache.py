"""Vectors already computed, keyed by model, kind and text: republishing after one edit embeds only
the texts that changed (seconds instead of a minute on two cores)."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """A SQLite table of float32 vectors; safe for several processes (WAL, busy timeout)."""

    def __init__(self, path: Path, model_fingerprint: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.model = path, model_fingerprint
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.model}\0{kind}\0{text}".encode()).hexdigest()

    def encode(self, kind: str, texts: list[str], encode: Callable[[list[str]], np.ndarray],
               on_batch: Callable[[int], None] | None = None, batch: int = 64) -> np.ndarray:
        """Vectors for texts: cached ones read back, the rest encoded in batches (reporting each) and stored."""
        keys = [self._key(kind, t) for t in texts]
        with self._lock, self._connect() as db:
            found: dict[str, np.ndarray] = {}
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                rows = db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = sorted({i for i, k in enumerate(keys) if k not in found})
        if on_batch:
            on_batch(len(texts) - len(missing))
        for start in range(0, len(missing), batch):
            idx = missing[start : start + batch]
            vecs = np.asarray(encode([texts[i] for i in idx]), dtype=np.float32)
            with self._lock, self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                               [(keys[i], v.tobytes()) for i, v in zip(idx, vecs, strict=True)])
            found.update((keys[i], v) for i, v in zip(idx, vecs, strict=True))
            if on_batch:
                on_batch(len(idx))
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
