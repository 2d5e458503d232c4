"""The encoding spec: the one place that turns a receipt into LayoutLM input and back.

Training, evaluation, every inference runtime (torch, ONNX, Core ML) and the export parity check
use it; its parameters and version go into ``encoding.json`` of every checkpoint and bundle, and
golden fixtures (tests/receipt_layoutlm/fixtures) pin its output. Changing what it produces means
bumping :data:`ENCODING_VERSION` and regenerating the fixtures.

Importing this package does not import transformers or torch; :func:`load_tokenizer` does.
"""

from __future__ import annotations

from receipt_layoutlm.encoding._boxes import CLS_BOX, PAD_BOX, SEP_BOX, normalize_box
from receipt_layoutlm.encoding._config import ENCODING_VERSION, LABEL_SCHEME, EncodingConfig
from receipt_layoutlm.encoding._decode import (
    WordPrediction,
    decode_word_labels,
    decode_word_probabilities,
    top2_margins,
    word_probabilities,
)
from receipt_layoutlm.encoding._encode import (
    IGNORE_INDEX,
    EncodedReceipt,
    EncodedWindow,
    encode_receipt,
)
from receipt_layoutlm.encoding._order import (
    group_lines,
    order_words,
    printed_rows,
    reading_lines,
    reading_order,
)
from receipt_layoutlm.encoding._pairing import (
    KEY_SUFFIX,
    add_keys,
    key_value_pairs,
    pair_keys_with_values,
)
from receipt_layoutlm.encoding._tags import bio_tags, label_list
from receipt_layoutlm.encoding._tokenizer import (
    WordPieceTokenizer,
    load_bundle_tokenizer,
    load_tokenizer,
    special_ids,
    tokenizer_facts,
)
from receipt_layoutlm.encoding._windows import plan_windows

__all__ = [
    "CLS_BOX",
    "ENCODING_VERSION",
    "IGNORE_INDEX",
    "KEY_SUFFIX",
    "LABEL_SCHEME",
    "PAD_BOX",
    "SEP_BOX",
    "EncodedReceipt",
    "EncodedWindow",
    "EncodingConfig",
    "WordPieceTokenizer",
    "WordPrediction",
    "add_keys",
    "bio_tags",
    "decode_word_labels",
    "decode_word_probabilities",
    "encode_receipt",
    "group_lines",
    "key_value_pairs",
    "label_list",
    "load_bundle_tokenizer",
    "load_tokenizer",
    "normalize_box",
    "order_words",
    "pair_keys_with_values",
    "plan_windows",
    "printed_rows",
    "reading_lines",
    "reading_order",
    "special_ids",
    "tokenizer_facts",
    "top2_margins",
    "word_probabilities",
]
