"""The built search index: FAISS vectors of every way an entry is asked, plus the entries themselves.

An index is a folder named by a hash of the knowledge base and the model, built in a temporary
folder and renamed into place; the `CURRENT` file names the one to serve and is replaced
atomically, so a reader sees either the old index or the new one, never half of either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from bot.knowledge.model import Entry
from bot.search.embcache import EmbeddingCache
from bot.search.embedder import Embedder
from bot.search.vector_index import APPROXIMATE_FROM, index_kind, new_index, prepare

INDEX_FORMAT = 1  # bump when the folder layout or the document set changes
POINTER = "CURRENT"


@dataclass(frozen=True)
class Doc:
    """One embedded text: an entry's title, one of its questions, or its answer."""

    entry_id: str
    kind: str
    text: str


def documents(entries: list[Entry]) -> list[Doc]:
    """Every text that should lead to an entry."""
    docs: list[Doc] = []
    for e in entries:
        docs.append(Doc(e.id, "title", e.title))
        docs += [Doc(e.id, "question", q) for q in e.questions]
        docs.append(Doc(e.id, "answer", " ".join([e.answer, *e.steps])))
    return docs


def entry_to_json(e: Entry) -> dict:
    """An entry as stored in the index folder (the seed format plus its topic)."""
    return {"topic": e.topic, **e.to_dict()}


def entry_from_json(data: dict) -> Entry:
    """Inverse of entry_to_json."""
    return Entry.from_dict(data)


def fingerprint(entries: list[Entry], model_fingerprint: str) -> str:
    """Cache key: changes when any entry, the model or the index format changes."""
    payload = json.dumps(
        {"format": INDEX_FORMAT, "model": model_fingerprint, "entries": [entry_to_json(e) for e in entries]},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class BuiltIndex:
    """A loaded index folder."""

    path: Path
    entries: list[Entry]
    docs: list[Doc]
    vectors: faiss.Index
    meta: dict


ProgressFn = Callable[[int, int], None]  # (texts done, texts in all)


def _embed(docs: list[Doc], embedder: Embedder, progress: bool, cache: EmbeddingCache | None = None,
           on_progress: ProgressFn | None = None) -> np.ndarray:
    asked = [i for i, d in enumerate(docs) if d.kind != "answer"]
    answers = [i for i, d in enumerate(docs) if d.kind == "answer"]
    done = 0
    bar = tqdm(total=len(docs), desc="embedding", unit="text", disable=not progress)

    def advance(n: int) -> None:
        nonlocal done
        done += n
        bar.update(n)
        if on_progress:
            on_progress(done, len(docs))

    out: np.ndarray | None = None
    sides = (("query", asked, embedder.encode_queries), ("passage", answers, embedder.encode_passages))
    for kind, idx, encode in sides:
        if not idx:
            continue
        texts = [docs[i].text for i in idx]
        if cache is None:
            parts = []
            for start in range(0, len(texts), 64):
                parts.append(encode(texts[start : start + 64]))
                advance(len(parts[-1]))
            vecs = np.concatenate(parts)
        else:
            vecs = cache.encode(kind, texts, encode, on_batch=advance)
        if out is None:
            out = np.zeros((len(docs), vecs.shape[1]), dtype=np.float32)
        out[idx] = vecs
    bar.close()
    assert out is not None, "no documents to embed"
    return out


def publish_pointer(index_dir: Path, name: str) -> None:
    """Point CURRENT at an index folder, atomically (readers see the old name or the new one)."""
    tmp = index_dir / f".{POINTER}.{os.getpid()}"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / POINTER)


def build_index(
    entries: list[Entry], embedder: Embedder, model_fingerprint: str, index_dir: Path, progress: bool = True,
    cache: EmbeddingCache | None = None, on_progress: ProgressFn | None = None,
    approximate_from: int = APPROXIMATE_FROM,
) -> Path:
    """Build (or reuse, when the cache key matches) the index for these entries and publish it.

    The vectors are a flat index below `approximate_from` texts, an approximate one from it on
    (bot/search/vector_index.py). Nothing is published until the whole folder is written: a failure leaves the
    previous index serving."""
    key = fingerprint(entries, model_fingerprint)
    target = index_dir / key[:16]
    index_dir.mkdir(parents=True, exist_ok=True)
    if not (target / "meta.json").exists():
        tmp = index_dir / f".build-{key[:16]}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        started = time.perf_counter()
        docs = documents(entries)
        vectors = _embed(docs, embedder, progress, cache, on_progress)
        index = new_index(vectors, approximate_from)  # inner product = cosine on unit vectors
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        (tmp / "docs.json").write_text(
            json.dumps([d.__dict__ for d in docs], ensure_ascii=False), encoding="utf-8"
        )
        (tmp / "entries.json").write_text(
            json.dumps([entry_to_json(e) for e in entries], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        meta = {
            "format": INDEX_FORMAT,
            "key": key,
            "model": model_fingerprint,
            "dim": int(vectors.shape[1]),
            "entries": len(entries),
            "docs": len(docs),
            "vector_index": index_kind(index),
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")  # written last: marks done
        try:
            os.rename(tmp, target)
        except OSError:  # another builder finished the same index first
            shutil.rmtree(tmp, ignore_errors=True)
    publish_pointer(index_dir, target.name)
    return target


def current_path(index_dir: Path) -> Path | None:
    """The folder that `CURRENT` names, or None when nothing has been built."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return index_dir / name if name else None


def load_index(path: Path) -> BuiltIndex:
    """Load an index folder built by build_index."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != INDEX_FORMAT:
        raise ValueError(f"{path}: index format {meta.get('format')}, expected {INDEX_FORMAT}: rebuild it")
    entries = [entry_from_json(d) for d in json.loads((path / "entries.json").read_text(encoding="utf-8"))]
    docs = [Doc(**d) for d in json.loads((path / "docs.json").read_text(encoding="utf-8"))]
    return BuiltIndex(path, entries, docs, prepare(faiss.read_index(str(path / "vectors.faiss"))), meta)
