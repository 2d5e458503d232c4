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


WORD_CACHE_SIZE = 200_000
"""Words whose ids a bundle tokenizer keeps (about 30 MB at most); cleared when full."""

_SPECIAL_KEYS = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class WordPieceTokenizer:
    """A bundle's WordPiece tokenizer on the ``tokenizers`` library alone (no transformers, so
    no torch): the Rust tokenizer transformers itself builds from ``vocab.txt`` for a
    ``BertTokenizer`` — Bert normalizer and pre-tokenizer, WordPiece with ``##`` continuations,
    the special tokens matched whole — exposing what the encoding calls: ``tokenizer(texts,
    add_special_tokens=False)["input_ids"]``, the special token ids and ``len``."""

    def __init__(self, backend: Any) -> None:
        self.backend_tokenizer = backend
        # Word → its ids (no special tokens). Receipts repeat their words (RM, TOTAL, prices,
        # the store's name), and a word's ids depend on the word alone: a dict lookup is a
        # fraction of a batch call into the Rust tokenizer (docs/export.md, issue 21).
        self._word_ids: dict[str, tuple[int, ...]] = {}

    def _id(self, token: str | None) -> int | None:
        return None if token is None else self.backend_tokenizer.token_to_id(token)

    def __call__(self, texts: list[str], *, add_special_tokens: bool = False) -> dict[str, Any]:
        if add_special_tokens:
            encodings = self.backend_tokenizer.encode_batch(list(texts), add_special_tokens=True)
            return {"input_ids": [e.ids for e in encodings]}
        known = self._word_ids
        # Read from a local map: another thread may clear the shared one meanwhile.
        found = {text: known.get(text) for text in texts}
        new = [text for text, ids in found.items() if ids is None]
        if new:
            encodings = self.backend_tokenizer.encode_batch(new, add_special_tokens=False)
            fresh = {text: tuple(e.ids) for text, e in zip(new, encodings, strict=True)}
            found.update(fresh)
            if len(known) + len(fresh) > WORD_CACHE_SIZE:
                known.clear()  # a long-lived worker's memory stays bounded
            known.update(fresh)
        return {"input_ids": [list(found[text]) for text in texts]}

    def __len__(self) -> int:
        return int(self.backend_tokenizer.get_vocab_size(with_added_tokens=True))


def _wordpiece(path: Path) -> WordPieceTokenizer | None:
    config_file, vocab = path / "tokenizer_config.json", path / "vocab.txt"
    if not (config_file.is_file() and vocab.is_file()):
        return None
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") not in ("BertTokenizer", "BertTokenizerFast"):
        return None
    from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    specials = {key: config.get(key) for key in _SPECIAL_KEYS}
    unk = specials["unk_token"] or "[UNK]"
    model = WordPiece.from_file(str(vocab), unk_token=unk, max_input_chars_per_word=100)
    backend = Tokenizer(model)
    backend.normalizer = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=bool(config.get("tokenize_chinese_chars", True)),
        strip_accents=config.get("strip_accents"),
        lowercase=bool(config.get("do_lower_case", True)),
    )
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t in specials.values() if t]
    )
    tokenizer = WordPieceTokenizer(backend)
    for key in _SPECIAL_KEYS[:4]:
        setattr(tokenizer, f"{key}_id", tokenizer._id(specials[key]))
    return tokenizer


def load_bundle_tokenizer(path: str | Path) -> Any:
    """The tokenizer of a bundle directory (``vocab.txt`` + ``tokenizer_config.json`` of a
    BERT WordPiece vocabulary) without importing transformers — a runtime's cold start is
    mostly that import — else :func:`load_tokenizer`. Both give the same ids (tested on every
    SROIE and WildReceipt word)."""
    path = Path(path)
    tokenizer = _wordpiece(path) if path.is_dir() else None
    if tokenizer is None:
        return load_tokenizer(path)
    special_ids(tokenizer)
    return tokenizer


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
