"""Loading the WordPiece tokenizer and the facts about it that the device side needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.errors import EncodingError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """The tokenizer saved in a local directory, with no truncation or padding of its own.

    Uses ``AutoTokenizer`` (``BertTokenizerFast(vocab_file=...)`` in transformers 5 silently maps
    every token to [UNK]) and turns off the truncation/padding some ``tokenizer.json`` files bake
    in (the MiniLM package fixes both at 128) — windowing is the encoding's job.
    """
    path = Path(path)
    if not path.is_dir():
        raise EncodingError(
            f"tokenizer directory {path} does not exist; point at a checkpoint/bundle directory "
            "with tokenizer files (e.g. receipt_layoutlm.pretrained.minilm_dir())"
        )
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise EncodingError(
            f"cannot load a tokenizer from {path}: {exc}; the directory needs tokenizer.json or "
            "vocab.txt with tokenizer_config.json"
        ) from None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise EncodingError(
            f"the tokenizer in {path} is not a fast (Rust-backed) tokenizer; save it with "
            "tokenizer.json"
        )
    backend.no_truncation()
    backend.no_padding()
    special_ids(tokenizer)
    return tokenizer


def special_ids(tokenizer: Any) -> dict[str, int]:
    """``{"cls", "sep", "pad", "unk"}`` token ids; :class:`EncodingError` when one is missing."""
    ids = {
        "cls": tokenizer.cls_token_id,
        "sep": tokenizer.sep_token_id,
        "pad": tokenizer.pad_token_id,
        "unk": tokenizer.unk_token_id,
    }
    missing = [name for name, value in ids.items() if value is None]
    if missing:
        raise EncodingError(
            f"tokenizer has no {', '.join(missing)} token; the encoding needs a BERT-style "
            "WordPiece tokenizer with [CLS]/[SEP]/[PAD]/[UNK]"
        )
    return {name: int(value) for name, value in ids.items()}


def tokenizer_facts(tokenizer: Any) -> dict[str, Any]:
    """What encoding.json records about the tokenizer so the device side can reproduce it."""
    lower = getattr(tokenizer, "do_lower_case", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        normalizer = json.loads(backend.to_str()).get("normalizer") or {}
        if "lowercase" in normalizer:
            lower = bool(normalizer["lowercase"])
    ids = special_ids(tokenizer)
    return {
        "do_lower_case": bool(lower) if lower is not None else None,
        "vocab_size": len(tokenizer),
        "cls_token_id": ids["cls"],
        "sep_token_id": ids["sep"],
        "pad_token_id": ids["pad"],
        "unk_token_id": ids["unk"],
        "class": type(tokenizer).__name__,
        "tokenization": "per word, no special tokens; empty words become [UNK]",
    }
