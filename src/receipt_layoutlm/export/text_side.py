"""The bundle's text side: vocabulary, tokenizer config, label map, encoding spec and config —
everything the device needs besides the model itself."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from receipt_layoutlm.bundle_format import (
    CONFIG_FILE,
    ENCODING_FILE,
    KEY_LEXICON_FILE,
    KNOWN_VALUES_FILE,
    LABEL_MAP_FILE,
    LINE_CLASSIFIER_FILE,
    TOKENIZER_CONFIG_FILE,
    TOTAL_PICKER_FILE,
    VOCAB_FILE,
)
from receipt_layoutlm.checkpoint import Checkpoint, label_map, write_vocab
from receipt_layoutlm.encoding import EncodingConfig
from receipt_layoutlm.errors import ExportError

log = logging.getLogger(__name__)

# Tokenizer settings of the training-time call, not of the vocabulary; the device sets its own.
_CALL_TIME_TOKENIZER_KEYS = ("max_length", "stride", "truncation_side", "truncation_strategy")


def bundle_encoding(checkpoint: Checkpoint, seq_length: int) -> EncodingConfig:
    """The checkpoint's encoding spec with windows sized for the fixed-shape model."""
    config = checkpoint.encoding_config
    max_positions = int(checkpoint.model.config.max_position_embeddings)
    if seq_length > max_positions:
        raise ExportError(
            f"--seq-length {seq_length} exceeds the model's max_position_embeddings "
            f"({max_positions})"
        )
    stride = config.stride
    if stride >= seq_length - 2:
        stride = (seq_length - 2) // 4
        log.warning(
            "stride %d does not fit --seq-length %d; the bundle uses stride %d",
            config.stride,
            seq_length,
            stride,
        )
    return dataclasses.replace(config, max_seq_length=seq_length, stride=stride)


def write_text_side(
    staging: Path, checkpoint: Checkpoint, encoding: EncodingConfig, export_info: dict[str, Any]
) -> None:
    """Write the bundle's non-model files into ``staging``; ``export_info`` goes into
    ``encoding.json`` and ``config.json`` as their ``export`` block."""
    write_vocab(checkpoint.tokenizer, staging / VOCAB_FILE)
    # vocab.txt + tokenizer_config.json is all load_tokenizer (and the device) needs; the
    # checkpoint's tokenizer.json is left out so the bundle's vocabulary is the single source.
    source_config = checkpoint.path / TOKENIZER_CONFIG_FILE
    tok_config = json.loads(source_config.read_text()) if source_config.is_file() else {}
    for key in (*_CALL_TIME_TOKENIZER_KEYS, "is_local"):
        tok_config.pop(key, None)
    tok_config.setdefault("tokenizer_class", "BertTokenizer")
    tok_config["model_max_length"] = encoding.max_seq_length
    _write_json(staging / TOKENIZER_CONFIG_FILE, tok_config, sort_keys=True)
    _write_json(staging / LABEL_MAP_FILE, label_map(checkpoint.labels), sort_keys=False)
    encoding.write_json(
        staging / ENCODING_FILE, tokenizer=checkpoint.tokenizer, extra={"export": export_info}
    )
    model_config = checkpoint.model.config.to_dict()
    model_config.pop("_attn_implementation_autoset", None)
    model_config["encoding"] = encoding.to_dict()
    model_config["export"] = export_info
    _write_json(staging / CONFIG_FILE, model_config, sort_keys=True)
    # The learned field models travel with the model (and so into the manifest's file list):
    # every runtime applies them in prediction.predict_document.
    for name in (TOTAL_PICKER_FILE, LINE_CLASSIFIER_FILE, KNOWN_VALUES_FILE, KEY_LEXICON_FILE):
        if (checkpoint.path / name).is_file():
            shutil.copyfile(checkpoint.path / name, staging / name)


def _write_json(path: Path, data: dict[str, Any], *, sort_keys: bool) -> None:
    path.write_text(
        json.dumps(data, indent=2, sort_keys=sort_keys, default=str) + "\n", encoding="utf-8"
    )
