"""`python -m bot.indexing.e5_onnx`: the fine-tuned e5 exported to ONNX at set-up, for onnxruntime to serve.

The graph is the whole sentence-transformers pipeline of the model folder (BERT, mean pooling over the attention mask,
L2 normalisation): token ids in, unit vectors out, so serving needs only onnxruntime and the tokenizer
(bot/search/onnx_embedder.py), not torch. Exported offline with torch's TorchScript exporter from the weights already
on disk. The weights go to a file of their own (model.onnx.data) that onnxruntime maps into memory instead of copying:
a serving process holds only the pages it touches (of the 250,000-row word-embedding matrix, the rows of the words
residents type), about 150 MB instead of 570 MB, and two action servers on one machine share them.
int8 weights (onnxruntime's dynamic quantisation, per channel) were measured and left out (bench/embed_speed.md):
about 2 times less CPU again, but the fine-tuned model's vectors drift to cosine 0.96-0.98 of torch's, far outside the
0.999 this export keeps, and the decisions calibrated on torch's cosines move (real_dev: top-1 about the same, 2 fewer
right answers, 7 more asked back); serving them would mean re-fitting the calibration, and they take more memory
(a single file, not mapped).

Cached by hash: the folder `<model>/onnx-pooled/` is stamped with a hash of the model's weights marker, this
recipe and the exporter's versions, and set-up skips the export when the stamp matches. The fine-tune replaces the
model folder whole, so a new model never meets an old export. Before stamping, the export is checked against torch on
a few sentences (the same tokens, cosine >= MIN_COSINE): an export that drifts is not served.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bot.core.settings import Settings
from bot.search.onnx_embedder import FOLDER, FP32, STAMP, TOKENIZER, WEIGHTS, OnnxE5Embedder

RECIPE: dict[str, Any] = {"version": 1, "opset": 17, "inputs": ["input_ids", "attention_mask"], "output": "embedding",
                          "weights": "external"}
MIN_COSINE = 0.999
CHECK_TEXTS = (
    "query: quên mật khẩu VNeID thì làm thế nào",
    "query: tra cuu hoa don dien tu o dau",
    "query: bhyt ko dc",
    "passage: Bạn mở ứng dụng VNeID, chọn Quên mật khẩu, nhập số định danh và mã OTP gửi về điện thoại.",
    "query: " + "Tôi đang mang thai, thẻ BHYT đăng ký khám ban đầu ở bệnh viện quận nhưng tôi lỡ làm mất thẻ rồi. " * 4
    + "Xin hỏi giờ tôi làm lại thẻ ở đâu?",  # longer than max_seq_length: truncated the same way
)


def onnx_dir(model_dir: Path) -> Path:
    """Where the export of a model folder lives."""
    return Path(model_dir) / FOLDER


def weights_of(model_dir: Path) -> str:
    """The model's weights marker (written by the conversion and the fine-tune)."""
    return (Path(model_dir) / "source.sha256").read_text().strip()


def export_hash(model_dir: Path) -> str:
    """What identifies an export: the model's weights marker, the recipe, torch's and onnxruntime's versions."""
    import onnxruntime
    import torch

    payload = json.dumps({"weights": weights_of(model_dir), "recipe": RECIPE, "torch": torch.__version__,
                          "onnxruntime": onnxruntime.__version__}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def is_current(model_dir: Path) -> bool:
    """Whether the model's export is there and stamped for these weights and versions."""
    stamp = onnx_dir(model_dir) / STAMP
    return stamp.exists() and stamp.read_text().strip() == export_hash(model_dir)


def _export(model_dir: Path, target: Path) -> None:
    """Trace BERT + mean pooling + normalisation into `target` (token ids and mask of any batch and length), and save
    beside it the tokenizer as sentence-transformers runs it for this model: truncated at its max_seq_length (64 after
    the fine-tune, kept by sentence-transformers 6 in tokenizer_config.json), padded to the longest of a batch."""
    import onnx
    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    model = SentenceTransformer(str(model_dir), device="cpu")
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.enable_truncation(int(model.max_seq_length or 512))
    tokenizer.enable_padding(pad_id=int(model.tokenizer.pad_token_id), pad_token=str(model.tokenizer.pad_token))
    tokenizer.save(str(target.parent / TOKENIZER))
    bert = model[0].auto_model.eval()  # type: ignore[union-attr]  # torch types modules loosely

    class Pooled(torch.nn.Module):
        """sentence-transformers' Pooling (mean over the mask) and Normalize, after the transformer."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    ids = torch.tensor([[0, 1000, 2000, 2], [0, 3000, 2, 1]], dtype=torch.int64)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.int64)
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
               "embedding": {0: "batch"}}
    traced = target.with_name("traced.onnx")
    with torch.no_grad():
        torch.onnx.export(Pooled(), (ids, mask), str(traced), dynamo=False, opset_version=RECIPE["opset"],
                          input_names=RECIPE["inputs"], output_names=[RECIPE["output"]], dynamic_axes=dynamic)
    graph = onnx.load(str(traced))
    onnx.save_model(graph, str(target), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=target.name + ".data", size_threshold=1024)
    traced.unlink()


def agreement(model_dir: Path, model_file: Path) -> float:
    """The lowest cosine between torch's vectors and the export's on CHECK_TEXTS (0 if the tokens differ)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    model = SentenceTransformer(str(model_dir), device="cpu")
    theirs = model.preprocess(list(CHECK_TEXTS))["input_ids"].tolist()
    ours = [e.ids for e in Tokenizer.from_file(str(model_file.parent / TOKENIZER)).encode_batch(list(CHECK_TEXTS))]
    if ours != theirs:
        return 0.0
    reference = model.encode(list(CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True)
    exported = OnnxE5Embedder(model_dir, model_file).encode_raw(list(CHECK_TEXTS))
    return float(np.min(np.sum(reference * exported, axis=1)))


def ensure(model_dir: Path) -> Path:
    """The model's export folder, exported (and checked against torch) unless its stamp matches."""
    model_dir = Path(model_dir)
    out = onnx_dir(model_dir)
    if is_current(model_dir):
        return out
    started = time.perf_counter()
    tmp = model_dir / f".{FOLDER}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _export(model_dir, tmp / FP32)
    cosine = agreement(model_dir, tmp / FP32)
    print(f"ONNX export: lowest cosine to torch {cosine:.5f} (bar {MIN_COSINE})", flush=True)
    if cosine < MIN_COSINE:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"the ONNX export drifts from torch (cosine {cosine:.5f} < {MIN_COSINE})")
    (tmp / WEIGHTS).write_text(weights_of(model_dir) + "\n")  # serving checks this without importing torch
    (tmp / STAMP).write_text(export_hash(model_dir) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"exported to ONNX in {time.perf_counter() - started:.0f} s -> {out}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI for set-up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Settings.from_env().model_dir)
    args = ap.parse_args(argv)
    ensure(args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
