"""The e5 ONNX export (bot/indexing/e5_onnx.py, made by set-up) served by onnxruntime (bot/search/onnx_embedder.py):
the same vectors as torch, in a batch as alone, chosen by default, torch when asked or when the export is stale."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.core.settings import ROOT
from bot.core.text import deaccent
from bot.search.embedder import E5Embedder
from bot.search.onnx_embedder import (
    FOLDER,
    FP32,
    STAMP,
    TOKENIZER,
    WEIGHTS,
    OnnxE5Embedder,
    e5_embedder,
    exported_file,
)

QUESTIONS = [json.loads(line)["q"] for line in (ROOT / "tests/data/questions.jsonl").read_text(encoding="utf-8")
             .splitlines() if line.strip()][:60]


def fake_export(model_dir, weights: str = "w1", export: str = "w1"):
    (model_dir / "source.sha256").write_text(weights + "\n")
    folder = model_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ((FP32, "graph"), (FP32 + ".data", "weights"), (TOKENIZER, "{}"), (WEIGHTS, export + "\n"),
                       (STAMP, "done\n")):
        (folder / name).write_text(text)
    return folder / FP32


def test_an_export_serves_only_the_weights_it_was_made_from(tmp_path):
    model_file = fake_export(tmp_path)
    assert exported_file(tmp_path) == model_file
    (tmp_path / "source.sha256").write_text("w2\n")  # a new fine-tune without a new export
    assert exported_file(tmp_path) is None
    fake_export(tmp_path)
    (tmp_path / FOLDER / STAMP).unlink()  # an export that did not finish
    assert exported_file(tmp_path) is None


def test_without_an_export_or_when_asked_torch_serves(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_EMBEDDER", "onnx")  # asked for, not exported: torch, with a warning
    assert isinstance(e5_embedder(tmp_path), E5Embedder)
    fake_export(tmp_path)
    monkeypatch.setenv("BOT_EMBEDDER", "torch")
    assert isinstance(e5_embedder(tmp_path), E5Embedder)
    monkeypatch.setenv("BOT_EMBEDDER", "auto")
    assert isinstance(e5_embedder(tmp_path), OnnxE5Embedder)  # nothing is loaded until the first text


@pytest.fixture(scope="module")
def onnx_model(real_model_dir) -> OnnxE5Embedder:
    found = exported_file(real_model_dir)
    if found is None:
        pytest.fail(f"no ONNX export of {real_model_dir}: run 'make setup' (python -m bot.indexing.e5_onnx)")
    return OnnxE5Embedder(real_model_dir, found, threads=1)


@pytest.mark.model
def test_the_export_is_served_by_default_under_torchs_fingerprint(real_model_dir, onnx_model, monkeypatch):
    monkeypatch.delenv("BOT_EMBEDDER", raising=False)
    chosen = e5_embedder(real_model_dir)
    assert isinstance(chosen, OnnxE5Embedder)
    assert chosen.fingerprint() == E5Embedder(real_model_dir).fingerprint()  # same index, same embedding cache


@pytest.mark.model
@pytest.mark.parametrize("transform", [str, deaccent], ids=["as-typed", "no-diacritics"])
def test_onnx_vectors_match_torchs(real_model_dir, onnx_model, transform):
    texts = [transform(q) for q in QUESTIONS]
    torch_vectors = E5Embedder(real_model_dir).encode_queries(texts)
    onnx_vectors = onnx_model.encode_queries(texts)
    assert onnx_vectors.shape == torch_vectors.shape and onnx_vectors.dtype == np.float32
    assert np.sum(onnx_vectors * torch_vectors, axis=1).min() >= 0.999
    passages = ["Bạn mở ứng dụng VNeID, chọn Quên mật khẩu và làm theo hướng dẫn."]
    assert float(onnx_model.encode_passages(passages)[0] @ E5Embedder(real_model_dir).encode_passages(passages)[0]) \
        >= 0.999


@pytest.mark.model
def test_a_text_gets_the_same_vector_alone_as_padded_in_a_batch(onnx_model):
    batch = onnx_model.encode_queries(QUESTIONS[:8])
    alone = np.stack([onnx_model.encode_queries([q])[0] for q in QUESTIONS[:8]])
    assert np.abs(batch - alone).max() < 1e-4
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
