"""One receipt through a runtime: word labels with confidences and the extracted fields.

``layoutlm-cli predict`` and the labelling worker use this, so both read a receipt exactly as
evaluation does (the encoding spec's windowing and decoding, then ``fields.extract_fields``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import (
    EncodedReceipt,
    WordPrediction,
    decode_word_labels,
    pair_keys_with_values,
    printed_rows,
)
from receipt_layoutlm.fields import FieldValue, extract_fields
from receipt_layoutlm.fields.extraction import MultilineMode
from receipt_layoutlm.fields.ocr_cleanup import DEFAULT_CLEANUP, FieldCleanup
from receipt_layoutlm.runtime import Runtime


@dataclass
class ReceiptPrediction:
    """The model's reading of one receipt."""

    words: list[DocWord]
    """The receipt's words in reading order (the encoding spec's order)."""
    predictions: list[WordPrediction]
    """One prediction per word, aligned with ``words``."""
    fields: dict[str, FieldValue]
    """One value per field the receipt shows (merchant, date, total…)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each word with its ids, label, tag and confidence; each field."""
        return {
            "words": [
                {
                    "text": p.text,
                    "line_id": w.line_id,
                    "word_id": w.word_id,
                    "label": p.label,
                    "tag": p.tag,
                    "confidence": round(p.confidence, 4),
                }
                for w, p in zip(self.words, self.predictions, strict=True)
            ],
            "fields": {
                name: {"text": f.text, "value": f.value, "confidence": round(f.confidence, 4),
                       # Only when a known value replaced the text: older readers see no change.
                       **({} if f.snapped_from is None else {"snapped_from": f.snapped_from})}
                for name, f in self.fields.items()
            },
        }


def predict_document(
    runtime: Runtime,
    doc: ReceiptDocument,
    *,
    encoded: EncodedReceipt | None = None,
    multiline: MultilineMode | None = None,
    cleanup: FieldCleanup = DEFAULT_CLEANUP,
    key_pairing: bool = True,
) -> ReceiptPrediction:
    """Encode ``doc`` (unless ``encoded`` is given, e.g. with labels for evaluation), run
    ``runtime`` on every window, decode per word and extract fields — with the runtime's
    ``total_picker`` (the model's ``total_picker.json``), ``line_classifier``
    (``line_classifier.json``) and ``known_values`` (``known_values.json``) when it has them.
    ``multiline``
    overrides how multi-line fields are read (``extract_fields``' default when None);
    ``cleanup`` the OCR repairs of the fields (``fields.ocr_cleanup``), with the words' OCR
    confidences. ``key_pairing``: a model whose labels name printed keys (``TOTAL_KEY`` beside
    ``TOTAL_VALUE``) has the keys its ``key_lexicon`` (``key_lexicon.json``) spells added to
    those it read (``fields.key_lexicon``) and the value beside each key relabelled as that
    key's value (``encoding.pair_keys_with_values``; nothing changes for other label sets);
    False keeps the model's labels as decoded."""
    if encoded is None:
        encoded = runtime.encode(doc)
    predictions, inputs = field_inputs(runtime, encoded, key_pairing=key_pairing)
    fields = extract_fields(
        predictions,
        **inputs,
        cleanup=cleanup,
        **({} if multiline is None else {"multiline": multiline}),
    )
    return ReceiptPrediction(words=list(encoded.words), predictions=predictions, fields=fields)


def field_inputs(
    runtime: Runtime, encoded: EncodedReceipt, *, key_pairing: bool = True
) -> tuple[list[WordPrediction], dict[str, Any]]:
    """Run ``runtime`` on an encoded receipt's windows and decode per word (keys paired with
    their values, the key lexicon's keys first, as ``predict_document`` says, unless
    ``key_pairing`` is False); with the other
    keyword arguments ``extract_fields`` takes from the runtime and the encoding (line ids,
    printed rows when a total picker needs them, OCR confidences, the fitted total picker, line
    classifier and known values). ``predict_document`` reads fields with them; benchmarks that
    time or re-fit the fields step start from the same inputs."""
    picker = getattr(runtime, "total_picker", None)
    # Rows need only the boxes: clustered before the model runs, while the encoding's data is
    # still in the caches (after the model they cost a third more).
    rows = printed_rows(encoded.boxes, line_overlap=encoded_overlap(runtime)) if picker else None
    predictions = decode_word_labels(encoded, runtime.predict_windows(encoded), runtime.labels)
    if key_pairing:
        lexicon = getattr(runtime, "key_lexicon", None)
        if lexicon is not None:
            predictions = lexicon.relabel(predictions, runtime.labels)
        predictions = pair_keys_with_values(predictions, encoded.line_index, runtime.labels)
    return predictions, {
        "line_ids": encoded.line_index,
        "rows": rows,
        "total_picker": picker,
        "ocr_confidences": [w.confidence for w in encoded.words],
        "line_classifier": getattr(runtime, "line_classifier", None),
        "known_values": getattr(runtime, "known_values", None),
    }


def encoded_overlap(runtime: Runtime) -> float:
    """The line overlap of the runtime's encoding spec (rows are clustered the same way)."""
    config = getattr(runtime, "encoding_config", None)
    return float(getattr(config, "line_overlap", 0.5))
