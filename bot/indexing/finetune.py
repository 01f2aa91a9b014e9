"""`python -m bot.indexing.finetune`: teach multilingual-e5-small how residents ask, on 2 CPU cores in minutes.

Out of the box e5 ranks the right entry first for fewer than half of our own questions: residents'
paraphrases, missing diacritics and chat abbreviations are far from its training data. Here it learns
from (question, entry) pairs: every way of asking an entry with its title, answer and other ways of
asking, each also without diacritics. Residents' real questions are left out on purpose: the
answer-or-decline calibration (`bot/indexing/calibrate.py`) runs on `tests/data/real_dev.jsonl` and our own
question sets, and cosines of questions the model was trained on would look surer than a new
resident's question will. The loss is
the in-batch contrastive one (MultipleNegativesRankingLoss): each batch holds one pair per entry, so the
other entries are its negatives and no entry is its own negative.

Reproducible: fixed seeds, one thread count, deterministic kernels; the output folder is keyed by a
hash of every input (base weights, training pairs, this recipe), so set-up skips the run when nothing
changed and a changed seed file trains anew. The word-embedding matrix (96 M of the 118 M weights) stays
frozen: it is most of the cost and the vocabulary needs no new meanings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bot.core.settings import Settings
from bot.core.text import deaccent
from bot.knowledge.loader import load_entries
from bot.knowledge.model import Entry

RECIPE: dict[str, Any] = {
    "version": 1, "epochs": 1, "batch": 32, "lr": 3e-5, "max_len": 64, "scale": 20.0, "seed": 13, "threads": 2,
}
STAMP = "finetune.sha256"


def pairs_for(entries: list[Entry]) -> dict[str, list[tuple[str, str]]]:
    """(anchor, positive) pairs per entry: 'query: ' anchors against the entry's other texts."""
    asked: dict[str, list[str]] = {e.id: list(e.questions) for e in entries}
    out: dict[str, list[tuple[str, str]]] = {}
    for e in entries:
        targets = ["query: " + e.title, "passage: " + " ".join([e.answer, *e.steps])]
        targets += ["query: " + q for q in e.questions]
        rows = []
        for i, q in enumerate(asked[e.id]):
            for anchor in dict.fromkeys([q, deaccent(q)]):
                positive = targets[(i + len(anchor)) % len(targets)]
                if positive != "query: " + anchor:
                    rows.append(("query: " + anchor, positive))
        out[e.id] = rows
    return out


def batches(pairs: dict[str, list[tuple[str, str]]], size: int, rng: random.Random) -> list[list[tuple[str, str]]]:
    """Batches with at most one pair per entry (an entry is never its own in-batch negative)."""
    queues = {eid: rng.sample(rows, len(rows)) for eid, rows in pairs.items() if rows}
    out: list[list[tuple[str, str]]] = []
    while queues:
        ids = list(queues)
        rng.shuffle(ids)
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            batch = [queues[eid].pop() for eid in chunk]
            if len(batch) > 1:  # a lone pair has no negatives to learn from
                out.append(batch)
        queues = {eid: rows for eid, rows in queues.items() if rows}
    rng.shuffle(out)
    return out


def inputs_hash(base: Path, pairs: dict[str, list[tuple[str, str]]]) -> str:
    """What identifies a fine-tuned model: base weights, training pairs and the recipe."""
    base_id = (base / "source.sha256").read_text().strip() if (base / "source.sha256").exists() else base.name
    payload = json.dumps({"base": base_id, "recipe": RECIPE, "pairs": pairs}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def train(base: Path, out: Path, pairs: dict[str, list[tuple[str, str]]], digest: str) -> Path:
    """Fine-tune `base` on the pairs and write the model to `out` (replaced atomically)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    torch.manual_seed(RECIPE["seed"])
    torch.set_num_threads(RECIPE["threads"])
    torch.use_deterministic_algorithms(True)
    model = SentenceTransformer(str(base), device="cpu")
    model.max_seq_length = RECIPE["max_len"]
    for param in model[0].auto_model.embeddings.parameters():  # type: ignore[union-attr]  # torch types modules loosely
        param.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=RECIPE["lr"], weight_decay=0.01)
    rng = random.Random(RECIPE["seed"])
    plan = [b for _ in range(RECIPE["epochs"]) for b in batches(pairs, RECIPE["batch"], rng)]
    warmup = max(1, len(plan) // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (len(plan) - step) / len(plan))
    )

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.tokenize(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    model.train()
    for batch in tqdm(plan, desc="fine-tuning e5", unit="batch"):
        anchors = embed([a for a, _ in batch])
        positives = embed([p for _, p in batch])
        logits = RECIPE["scale"] * anchors @ positives.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    model.eval()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    (tmp / "source.sha256").write_text(digest + "\n")  # the index cache key follows the weights
    (tmp / STAMP).write_text(digest + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def ensure(base: Path, out: Path, knowledge: Path) -> Path:
    """The fine-tuned model for these inputs: reused when its stamp matches, trained otherwise."""
    pairs = pairs_for(load_entries(knowledge))
    digest = inputs_hash(base, pairs)
    stamp = out / STAMP
    if stamp.exists() and stamp.read_text().strip() == digest:
        return out
    started = time.perf_counter()
    print(f"fine-tuning e5 on {sum(map(len, pairs.values()))} pairs for {len(pairs)} entries", flush=True)
    train(base, out, pairs, digest)
    print(f"fine-tuned in {time.perf_counter() - started:.0f} s -> {out}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI for set-up."""
    settings = Settings.from_env()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=settings.base_model_dir)
    ap.add_argument("--out", type=Path, default=settings.model_dir)
    ap.add_argument("--knowledge", type=Path, default=settings.knowledge_dir)
    args = ap.parse_args(argv)
    ensure(args.base, args.out, args.knowledge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
