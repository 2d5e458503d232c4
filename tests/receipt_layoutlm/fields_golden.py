"""Deterministic model outputs for every SROIE training receipt, and the fields read from them.

The fields step (``decode_word_labels`` → ``encoding.printed_rows`` → ``extract_fields`` with a
total picker) must give the same fields however it is computed. A model's outputs are stood in
for by logits built from the receipt's gold tags with Gaussian noise from a seed derived from
the receipt key (so every receipt gets a different but reproducible mix of right and wrong
argmaxes, stray probabilities and missed fields); the picker is a committed fixture fitted once
on such outputs. ``fixtures/sroie_fields_golden.json.gz`` holds the fields of the code as it was
before the fields step was vectorised; test_fields_golden.py compares against it.

Regenerate (only when the fields' rules change on purpose, never to make a speed-up pass):

    PYTHONPATH=src .venv/bin/python tests/receipt_layoutlm/fields_golden.py [--lines]

(``--lines`` writes only ``GOLDEN_LINES``, the production path's fields; without it only
``GOLDEN``.)
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

SROIE_TRAIN = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sroie" / "train"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = FIXTURES / "sroie_fields_golden.json.gz"
PICKER = FIXTURES / "sroie_golden_picker.json"
GOLDEN_LINES = FIXTURES / "sroie_fields_golden_lines.json.gz"
"""The fields of the path as ``predict_document`` runs it: the picker, the line classifier and
the OCR repairs of the time (``production_fields``); fixed before the step's second
vectorisation (issue 21's fields in 1 ms)."""
LINE_CLASSIFIER = FIXTURES / "sroie_golden_line_classifier.json"
"""A line classifier fitted on a trained SROIE model's outputs (``layoutlm-cli fit-fields``),
fixed; on the stand-in outputs it still picks the company lines of most receipts."""
SIGNAL = 3.0
"""Logit added to a word's gold tag; with unit noise over 2×labels+1 tags the argmax is wrong
for a fair share of words, which is what exercises the fallback and the picker."""
NOISE = 1.3


def load_receipts() -> list[Any]:
    from receipt_layoutlm.importers.sroie import parse_sroie

    return parse_sroie(SROIE_TRAIN).documents


def label_names(docs: list[Any]) -> list[str]:
    from receipt_layoutlm.encoding import label_list

    return label_list({w.label for d in docs for w in d.words if w.label})


def window_logits(encoded: Any, names: list[str]) -> list[np.ndarray]:
    """Per window ``[tokens, labels]``: noise, plus ``SIGNAL`` on each word's gold tag at every
    sub-token of it, from a generator seeded by the receipt key."""
    rng = np.random.default_rng(zlib.crc32(encoded.key.encode("utf-8")))
    column = {name: i for i, name in enumerate(names)}
    tags = encoded.tags or ["O"] * len(encoded.words)
    out = []
    for window in encoded.windows:
        logits = rng.normal(0.0, NOISE, size=(len(window.input_ids), len(names)))
        for position, word in enumerate(window.word_index):
            if word is not None:
                logits[position, column.get(tags[word], 0)] += SIGNAL
        out.append(logits.astype(np.float32))
    return out


def receipt_fields(
    encoded: Any, names: list[str], picker: Any, *, with_picker: bool = True
) -> dict[str, Any]:
    """The fields step as ``prediction.predict_document`` runs it, without the OCR repairs
    (``fields.ocr_cleanup``, tested on their own): the fixture pins the step as it was before it
    was vectorised, and the repairs came after."""
    from receipt_layoutlm.encoding import decode_word_labels, printed_rows
    from receipt_layoutlm.fields import extract_fields
    from receipt_layoutlm.fields.ocr_cleanup import FieldCleanup

    predictions = decode_word_labels(encoded, window_logits(encoded, names), names)
    rows = printed_rows(encoded.boxes) if with_picker else None
    return extract_fields(
        predictions,
        line_ids=encoded.line_index,
        rows=rows,
        total_picker=picker if with_picker else None,
        cleanup=FieldCleanup.off(),
    )


def production_fields(
    encoded: Any, names: list[str], picker: Any, classifier: Any
) -> dict[str, Any]:
    """The fields step as ``predict_document`` runs it: picker, line classifier, the words' OCR
    confidences, rows clustered at the spec's line overlap, and the OCR repairs of the time the
    fixture was fixed (amounts rejoined, debris trimmed at the edges). Later repairs are left
    off here — each is pinned by its own tests — so that adding one does not move this
    fixture."""
    import dataclasses

    from receipt_layoutlm.encoding import decode_word_labels, printed_rows
    from receipt_layoutlm.fields import FieldCleanup, extract_fields

    cleanup = dataclasses.replace(FieldCleanup.off(), rejoin_amounts=True, trim_edges=True)
    predictions = decode_word_labels(encoded, window_logits(encoded, names), names)
    return extract_fields(
        predictions,
        line_ids=encoded.line_index,
        rows=printed_rows(encoded.boxes),
        total_picker=picker,
        ocr_confidences=[w.confidence for w in encoded.words],
        line_classifier=classifier,
        cleanup=cleanup,
    )


def load_line_classifier() -> Any:
    from receipt_layoutlm.fields import LineClassifier

    return LineClassifier.from_json(json.loads(LINE_CLASSIFIER.read_text(encoding="utf-8")))


def as_json(fields: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [f.text, f.value, round(f.confidence, 9), list(f.word_indices)]
        for name, f in sorted(fields.items())
    }


def encoded_receipts(tokenizer: Any) -> Iterator[Any]:
    from receipt_layoutlm.encoding import encode_receipt

    for doc in load_receipts():
        yield encode_receipt(doc, tokenizer)


def golden_record(encoded: Any, names: list[str], picker: Any) -> dict[str, Any]:
    """One receipt's fields with the picker, and the total without it (the span rules)."""
    without = receipt_fields(encoded, names, picker, with_picker=False).get("total")
    return {
        "fields": as_json(receipt_fields(encoded, names, picker)),
        "total_without_picker": None if without is None else as_json({"t": without})["t"],
    }


def _fit_picker(docs: list[Any], encoded: list[Any], names: list[str]) -> Any:
    from receipt_layoutlm.encoding import decode_word_labels, printed_rows
    from receipt_layoutlm.training.total_picker_fit import fit_total_picker, receipt_example

    examples = []
    for doc, enc in zip(docs, encoded, strict=True):
        if truth := (doc.fields or {}).get("total"):
            predictions = decode_word_labels(enc, window_logits(enc, names), names)
            examples.append(
                receipt_example(predictions, enc.line_index, printed_rows(enc.boxes), truth)
            )
    return fit_total_picker(examples)


def load_picker() -> Any:
    from receipt_layoutlm.fields import TotalPicker

    return TotalPicker.from_dict(json.loads(PICKER.read_text(encoding="utf-8")))


def main() -> None:
    from receipt_layoutlm.encoding import encode_receipt, load_tokenizer
    from receipt_layoutlm.pretrained import minilm_dir

    tokenizer = load_tokenizer(minilm_dir())
    docs = load_receipts()
    names = label_names(docs)
    encoded = [encode_receipt(d, tokenizer) for d in docs]
    if "--lines" in sys.argv[1:]:
        picker, classifier = load_picker(), load_line_classifier()
        records = {e.key: as_json(production_fields(e, names, picker, classifier))
                   for e in encoded}
        _write(GOLDEN_LINES, {"labels": names, "receipts": records})
        return
    if not PICKER.exists():  # fitted on every other receipt, once; then fixed
        picker = _fit_picker(docs[::2], encoded[::2], names)
        PICKER.write_text(json.dumps(picker.to_dict(), indent=1) + "\n", encoding="utf-8")
    picker = load_picker()
    receipts = {e.key: golden_record(e, names, picker) for e in encoded}
    _write(GOLDEN, {"labels": names, "receipts": receipts})


def _write(path: Path, golden: dict[str, Any]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as handle:
        json.dump(golden, handle, separators=(",", ":"), sort_keys=True)
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(golden['receipts'])} receipts)")


if __name__ == "__main__":
    main()
