"""Fit the known values (``fields.known_values``) on training receipts' ground truth.

The values are the receipts' annotated key values (``ReceiptDocument.fields``: SROIE's
``company`` and ``address``, or the field names themselves), whitespace collapsed. A value is
kept only when it was seen on at least ``min_count`` receipts (2 by default): a value printed
on one receipt may be a person's name or a private address, and the lexicon ships inside every
bundle exported from the model. An OCR'd re-render (key ``K#ocr0``) is the same receipt as
``K`` and counts once. Receipts without key values (WildReceipt imports) contribute nothing;
their labelled words are not read back into values here.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.evaluation.sroie import SROIE_FIELD_FOR_KEY, normalize_whitespace
from receipt_layoutlm.fields.known_values import KNOWN_FIELDS, KnownValues, normalise

log = logging.getLogger(__name__)

DEFAULT_MIN_COUNT = 2
"""A value seen on fewer receipts than this is never kept (see the module docstring)."""
FIELD_FOR_KEY: dict[str, str] = {
    **{key: name for key, name in SROIE_FIELD_FOR_KEY.items() if name in KNOWN_FIELDS},
    **{name: name for name in KNOWN_FIELDS},
}
"""A document's ``fields`` key → the field its value is a known value of."""


def fit_known_values(
    docs: Iterable[ReceiptDocument], *, min_count: int = DEFAULT_MIN_COUNT
) -> KnownValues | None:
    """Known values from the ``fields`` of ``docs``: per field, each value seen on at least
    ``min_count`` receipts (case and spacing aside), spelled as most of them annotate it; None
    when no receipt has a merchant or address value."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    # One value per receipt and field: a re-render carries its transcript's truth.
    by_receipt: dict[str, dict[str, str]] = {name: {} for name in KNOWN_FIELDS}
    for doc in docs:
        base = doc.source_key
        for key, text in (doc.fields or {}).items():
            name = FIELD_FOR_KEY.get(key)
            if name and (value := normalize_whitespace(text)):
                by_receipt[name].setdefault(base, value)
    receipts = set().union(*by_receipt.values())
    if not receipts:
        log.warning("known values: none fitted — no receipt carries a merchant or address "
                    "key value (they are fitted from a dataset's 'fields', which WildReceipt "
                    "imports do not have)")
        return None
    values: dict[str, dict[str, int]] = {}
    fitted_on: dict[str, object] = {"receipts": len(receipts), "min_count": min_count}
    for name, read in by_receipt.items():
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for value in read.values():
            spellings[normalise(value)][value] += 1
        kept = {
            counts.most_common(1)[0][0]: counts.total()
            for counts in spellings.values()
            if counts.total() >= min_count
        }
        values[name] = dict(sorted(kept.items()))
        fitted_on[name] = {"distinct": len(spellings), "kept": len(kept),
                           "receipts_covered": sum(kept.values())}
    return KnownValues(values=values, fitted_on=fitted_on)


def fit_known_values_from_files(
    datasets: Sequence[str | Path], *, min_count: int = DEFAULT_MIN_COUNT
) -> KnownValues:
    """Fit known values on the receipts of ``datasets`` (JSONL files of training receipts);
    ``KnownValues.save`` stores them beside a model. Raises ``DatasetError`` when no receipt has
    a merchant or address value."""
    from receipt_layoutlm.data import DatasetConfig, load_documents
    from receipt_layoutlm.errors import DatasetError

    docs = [doc for dataset in datasets
            for doc in load_documents(None, DatasetConfig(dataset_file=str(dataset)))]
    known = fit_known_values(docs, min_count=min_count)
    if known is None:
        raise DatasetError(
            f"fit-fields: no receipt in {', '.join(str(d) for d in datasets)} has a merchant "
            "or address value (the dataset's 'fields'); no known values to fit")
    return known
