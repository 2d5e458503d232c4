"""Fit the key lexicon (``fields.key_lexicon``) on training receipts' word labels.

A word's letters (``fields.key_lexicon.key_letters``) become a lexicon key when most of the
training words that spell them are labelled as one key (``TIPS_KEY``: more than half of them,
words labelled as anything else or nothing counted too) and that key was labelled so on at
least ``min_count`` receipts (2 by default, as for the known values: a word on one receipt says
more about that shop than about receipts). An OCR'd re-render (key ``K#ocr0``) is the same
receipt as ``K`` and counts once. Receipts without key labels (SROIE, core-label imports) give
no lexicon.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import KEY_SUFFIX
from receipt_layoutlm.fields.key_lexicon import MIN_LETTERS, KeyLexicon, key_letters

log = logging.getLogger(__name__)

DEFAULT_MIN_COUNT = 2
"""A key spelled so on fewer receipts than this is never kept."""


def fit_key_lexicon(
    docs: Iterable[ReceiptDocument], *, min_count: int = DEFAULT_MIN_COUNT
) -> KeyLexicon | None:
    """The key lexicon of ``docs``' labelled words (see the module docstring); None when no
    word is labelled as a key."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    labels: dict[str, Counter[str | None]] = defaultdict(Counter)
    receipts: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen: set[str] = set()
    for doc in docs:
        base = doc.source_key
        seen.add(base)
        for word in doc.words:
            letters = key_letters(word.text)
            if len(letters) < MIN_LETTERS:
                continue
            labels[letters][word.label] += 1
            if word.label and word.label.endswith(KEY_SUFFIX):
                receipts[letters, word.label].add(base)
    if not receipts:
        log.info("key lexicon: none fitted — no word is labelled as a printed key (only "
                    "label sets with keys, such as WildReceipt's --labels native, have one)")
        return None
    keys = {}
    for letters, counts in labels.items():
        label, count = counts.most_common(1)[0]
        if (label and label.endswith(KEY_SUFFIX) and 2 * count > counts.total()
                and len(receipts[letters, label]) >= min_count):
            keys[letters] = label
    fitted_on = {"receipts": len(seen), "min_count": min_count,
                 "key_spellings": len({k for k, _ in receipts}), "kept": len(keys)}
    return KeyLexicon(keys=dict(sorted(keys.items())), fitted_on=fitted_on)


def fit_key_lexicon_from_files(
    datasets: Sequence[str | Path], *, min_count: int = DEFAULT_MIN_COUNT
) -> KeyLexicon:
    """Fit the key lexicon on the receipts of ``datasets`` (JSONL files of training receipts);
    ``KeyLexicon.save`` stores it beside a model. Raises ``DatasetError`` when no word is
    labelled as a key."""
    from receipt_layoutlm.data import load_dataset_file
    from receipt_layoutlm.errors import DatasetError

    lexicon = fit_key_lexicon(
        [doc for dataset in datasets for doc in load_dataset_file(dataset)], min_count=min_count)
    if lexicon is None:
        raise DatasetError(
            f"fit-fields: no word in {', '.join(str(d) for d in datasets)} is labelled as a "
            "printed key (X_KEY); no key lexicon to fit")
    return lexicon
