"""Word labels → one value per field, with a confidence.

Spans: for each field, a candidate span is a maximal run of words that are adjacent in reading
order and carry the same feeding label (``FIELD_LABELS``). Single-line fields stop at a line
break (when line ids are known) and at a ``B-`` tag, so ``B-DATE B-DATE`` (a date and a time
merged into DATE) are two spans; multi-line fields (``MULTILINE_FIELDS``: merchant, address,
store hours) run on across lines and ignore ``B-`` inside a run, because a model's stray ``B-``
in the middle of an address should not cut it in half. A predicted word elsewhere on the receipt
never joins a span it is not adjacent to.

Choosing: amount, date and time fields first narrow each run to its longest sub-span that parses
(so ``25/12/2018 8:13:39 PM`` labelled DATE gives date ``25/12/2018``), then prefer spans that
parse, then the field's first feeding label over later ones (``GRAND_TOTAL`` over a merged
``AMOUNT``), then the highest MEAN word confidence; ties go to the LOWEST span on the receipt for
amounts (the final total is printed last) and to the first span otherwise. Text fields prefer the
highest SUM of word confidences (the expected number of correct words), so a long, fairly
confident span beats a single stray word. A field whose spans of its FIRST feeding label do not
parse still gets its best such span, with ``value=None``; a span of a later feeding label counts
only when it parses (``time`` is fed by ``TIME`` then ``DATE``, and a date is not a time).

``text`` is the span's words joined by single spaces in reading order, lines included (SROIE
ground truth joins address lines the same way); ``confidence`` is the mean word confidence.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from receipt_layoutlm.fields._words import ReceiptWords, Word, WordLike, normalise_words
from receipt_layoutlm.fields.finishing import finished
from receipt_layoutlm.fields.known_values import KnownValues
from receipt_layoutlm.fields.line_classifier import LineClassifier
from receipt_layoutlm.fields.lines import best_block
from receipt_layoutlm.fields.ocr_cleanup import DEFAULT_CLEANUP, FieldCleanup, rejoin_amounts
from receipt_layoutlm.fields.parsing import parse_amount
from receipt_layoutlm.fields.spans import (
    best_parsed_subspan,
    extend_to_parse,
    mean_confidence,
    runs,
)
from receipt_layoutlm.fields.total_picker import Candidate, TotalPicker, total_candidates
from receipt_layoutlm.fields.values import AMOUNT_FIELDS, PARSERS, FieldValue, field_value

FIELD_LABELS: dict[str, tuple[str, ...]] = {
    # Last in each tuple: WildReceipt's value classes as a model trained on its native labels
    # names them (``import wildreceipt --labels native``; the importer's CORE_MAP, which a test
    # keeps in step), so such a model's receipts have fields too.
    "merchant": ("MERCHANT_NAME", "STORE_NAME_VALUE"),
    # Under the address_phone/sroie merges the address (and phone) is labelled ADDRESS.
    "address": ("ADDRESS_LINE", "ADDRESS", "STORE_ADDR_VALUE"),
    "phone": ("PHONE_NUMBER", "TEL_VALUE"),
    "website": ("WEBSITE",),
    "store_hours": ("STORE_HOURS",),
    "loyalty_id": ("LOYALTY_ID",),
    "payment_method": ("PAYMENT_METHOD",),
    "date": ("DATE", "DATE_VALUE"),
    # Under the date_time merge, times are labelled DATE; TIME wins when present.
    "time": ("TIME", "DATE", "TIME_VALUE"),
    "subtotal": ("SUBTOTAL", "SUBTOTAL_VALUE"),
    "tax": ("TAX", "TAX_VALUE"),
    "tip": ("TIP", "TIPS_VALUE"),
    # Under the amounts/sroie merges the total is labelled AMOUNT.
    "total": ("GRAND_TOTAL", "AMOUNT", "TOTAL_VALUE"),
    "change": ("CHANGE",),
    "cash_back": ("CASH_BACK",),
    "refund": ("REFUND",),
}
"""Field → the entity labels that feed it, in order of preference."""

MULTILINE_FIELDS: frozenset[str] = frozenset({"merchant", "address", "store_hours"})
"""Fields whose span may continue across line breaks."""

FALLBACK_MIN_PROBABILITY = 0.1
"""A field no word was labelled for is taken from the single parsing word with the highest
probability for its labels, when that probability reaches this floor (fixed a priori, not tuned).
Models trained on one labelled total per receipt rank the right amount first far more often than
they give it the argmax."""


def _extract_one(field: str, labels: Sequence[str], receipt: ReceiptWords) -> FieldValue | None:
    words = receipt.words
    parser = PARSERS.get(field)
    multiline = field in MULTILINE_FIELDS
    lowest_wins = field in AMOUNT_FIELDS
    best_rank: tuple | None = None
    best: tuple[list[Word], Any] | None = None
    for tier, label in enumerate(labels):
        positions = receipt.positions.get(label)
        if not positions:
            continue
        for run in runs(words, label, multiline, positions):
            span, value = run, None
            if parser is not None:
                parsed = best_parsed_subspan(run, parser, receipt)
                if parsed is not None:
                    span, value = parsed
                elif tier > 0:
                    # A later feeding label only stands in for the field's own label when its
                    # text reads as the field: a DATE span that is no time is not the time.
                    continue
                score = mean_confidence(span)
            else:
                score = sum(w.confidence for w in span)
            position = span[0].index if lowest_wins else -span[0].index
            # Rounding keeps float noise in sums from deciding ties.
            rank = (value is not None, -tier, round(score, 9), position)
            if best_rank is None or rank > best_rank:
                best_rank, best = rank, (span, value)
    if best is not None and best[1] is None and parser is not None:
        best = extend_to_parse(best[0], receipt, parser) or best
    return None if best is None else field_value(field, *best)


def _fallback_one(
    field: str, labels: Sequence[str], receipt: ReceiptWords, min_probability: float
) -> FieldValue | None:
    """The single word that parses for ``field`` with the highest probability of its labels."""
    parser = PARSERS.get(field)
    if parser is None or not receipt.known.intersection(labels):
        return None  # no word has a probability for these labels: every one would be 0.0
    columns = [receipt.column(label) for label in labels]
    # Per word the highest of its labels' probabilities, in one C-level pass over the columns.
    probabilities = columns[0] if len(columns) == 1 else list(map(max, *columns))
    best_rank: tuple | None = None
    best: tuple[Word, Any, float] | None = None
    for n, probability in enumerate(probabilities):
        if probability < min_probability:
            continue
        word = receipt.words[n]
        value = receipt.parse(parser, word.text)
        if value is None:
            continue
        position = word.index if field in AMOUNT_FIELDS else -word.index
        rank = (round(probability, 9), position)
        if best_rank is None or rank > best_rank:
            best_rank, best = rank, (word, value, probability)
    if best is None:
        return None
    word, value, probability = best
    found = field_value(field, [word], value)
    return dataclasses.replace(found, confidence=probability)


MultilineMode = Literal["lines", "runs"]
_CURRENCY_WORD = re.compile(r"RM|MYR|\$|USD|SGD", re.IGNORECASE)


def _picked_total(
    labels: Sequence[str], receipt: ReceiptWords, rows: Sequence[int] | None, picker: TotalPicker
) -> FieldValue | None:
    words = receipt.words
    if rows is None:
        if any(w.line is None for w in words):
            return None
        rows = [int(w.line) for w in words]  # type: ignore[arg-type]
    amount = functools.partial(receipt.parse, parse_amount)
    picked = picker.pick_total(words, rows, labels, parse=amount)
    if picked is None:
        return None
    position, value, probability = picked
    span = [words[position]]
    if position > 0 and rows[position - 1] == rows[position]:
        before = words[position - 1]
        # A currency printed as its own word belongs to the value when the model says so
        # (SROIE keys then read "RM 9.00"), by the same more-likely-in-than-out rule.
        in_total = max(before.probabilities.get(label, 0.0) for label in labels) >= 0.5
        if _CURRENCY_WORD.fullmatch(before.text.strip()) and in_total:
            span.insert(0, before)
    found = field_value("total", span, value)
    return dataclasses.replace(found, confidence=probability)


def candidates_for_total(
    words: Sequence[WordLike],
    *,
    line_ids: Sequence[int] | None = None,
    rows: Sequence[int] | None = None,
    field_labels: Mapping[str, Sequence[str]] | None = None,
    cleanup: FieldCleanup = DEFAULT_CLEANUP,
) -> list[Candidate]:
    """The total picker's candidates (every amount, with its features) for words in reading
    order, exactly as :func:`extract_fields` builds them with the same ``cleanup``: what the
    picker is fitted on. Amounts OCR split at the decimal point are glued here too, so a picker
    fitted on OCR'd receipts learns the candidates it will be shown."""
    normalised = normalise_words(words, line_ids)
    if cleanup.rejoin_amounts:
        normalised, rows = rejoin_amounts(normalised, rows)
    labels = tuple((FIELD_LABELS if field_labels is None else field_labels)["total"])
    if rows is None:
        rows = [int(w.line) if w.line is not None else 0 for w in normalised]
    return total_candidates(normalised, rows, labels)


def _line_block_value(
    field: str, labels: Sequence[str], receipt: ReceiptWords
) -> FieldValue | None:
    words = receipt.words
    if not words or not receipt.has_lines or not receipt.known:
        return None  # what line_block answers for such words
    # line_block's gain per word, summed the way it sums (label by label; a label no word has
    # adds 0.0, which changes no sum of probabilities).
    columns = [receipt.column(label) for label in labels if label in receipt.known]
    if not columns:
        return None  # every gain is -½: no block
    if len(columns) == 1:
        gains = [float(p) - 0.5 for p in columns[0]]
    else:
        gains = [sum(map(float, word)) - 0.5 for word in zip(*columns, strict=True)]
    block = best_block(gains)
    return None if block is None else field_value(field, words[block[0] : block[1] + 1], None)


def extract_fields(
    words: Sequence[tuple[str, str | None, float]] | Sequence[WordLike],
    *,
    line_ids: Sequence[int] | None = None,
    field_labels: Mapping[str, Sequence[str]] | None = None,
    fallback_min_probability: float | None = FALLBACK_MIN_PROBABILITY,
    rows: Sequence[int] | None = None,
    total_picker: TotalPicker | None = None,
    multiline: MultilineMode = "lines",
    ocr_confidences: Sequence[float] | None = None,
    cleanup: FieldCleanup = DEFAULT_CLEANUP,
    line_classifier: LineClassifier | None = None,
    known_values: KnownValues | None = None,
) -> dict[str, FieldValue]:
    """One value per field from words in reading order.

    ``words``: ``(text, label, confidence)`` tuples (label an entity name, a BIO tag, ``"O"`` or
    None) or objects with ``text``/``label``/``confidence`` (``encoding.WordPrediction``, whose
    ``tag`` and ``word_index`` are used too; ``DocWord``, whose ``line_id`` is used when every word
    has one). ``line_ids`` (one per word) lets single-line fields stop at line breaks.
    ``field_labels`` replaces ``FIELD_LABELS`` (e.g. for a native label set). Fields with no
    labelled word are absent from the result, unless the words carry ``label_probabilities``
    (``WordPrediction`` does): then an amount, date or time field no word was labelled for comes
    from the parsing word most probably of its labels, if that probability reaches
    ``fallback_min_probability`` (None turns this off); its confidence is that probability.
    A date still missing, or read from words that are no date even repaired, is the one date
    the receipt prints when it prints one (``fields.finishing.sole_date``; off with the
    fallback, or with ``FieldCleanup.sole_date``). See the module docstring for the span rules.

    ``cleanup`` (``fields.ocr_cleanup``) repairs what OCR does to fields: amounts split at the
    decimal point are glued before any field is read, and text fields lose debris words at
    their edges (no letter or digit, or OCR confidence under its floor; ``ocr_confidences``
    gives one per word, 1.0 when None). ``FieldCleanup.off()`` reads the words as they are.

    ``multiline="lines"`` (the default; better on 4 of 5 SROIE folds, docs/training.md) reads
    multi-line fields as one block of whole lines from the words' probabilities
    (``fields.lines``; needs line ids and ``label_probabilities``, else the runs below apply);
    ``"runs"`` keeps the word-level BIO runs. ``total_picker`` (``fields.total_picker``, fitted
    at training) picks the total among every amount on the receipt, using ``rows`` (one
    printed row per word,
    ``encoding.printed_rows``; line ids when None); without it the total is read like any
    amount field. ``line_classifier`` (``fields.line_classifier``, fitted at training) picks
    the whole lines of the multi-line fields it has a model for; where it finds none, the
    rules above apply. ``known_values`` (``fields.known_values``, fitted at training) then
    replaces a text field that nearly spells a value seen on training receipts by that value.
    """
    normalised = normalise_words(words, line_ids, ocr_confidences)
    if cleanup.rejoin_amounts:
        normalised, rows = rejoin_amounts(normalised, rows)
    receipt = ReceiptWords(normalised)
    mapping = FIELD_LABELS if field_labels is None else field_labels
    out: dict[str, FieldValue] = {}
    for field, labels in mapping.items():
        value = None
        if field == "total" and total_picker is not None:
            value = _picked_total(tuple(labels), receipt, rows, total_picker)
        if value is None and line_classifier is not None and field in MULTILINE_FIELDS:
            known = tuple(label for label in labels if label in receipt.known)
            block = (
                line_classifier.block(field, receipt.words, known, receipt=receipt)
                if known
                else None
            )
            value = None if block is None else field_value(field, block, None)
        if value is None and multiline == "lines" and field in MULTILINE_FIELDS:
            value = _line_block_value(field, tuple(labels), receipt)
        if value is None:
            value = _extract_one(field, tuple(labels), receipt)
        if value is None and fallback_min_probability is not None:
            value = _fallback_one(field, tuple(labels), receipt, fallback_min_probability)
        value = finished(field, tuple(labels), value, receipt, cleanup,
                         fallbacks=fallback_min_probability is not None)
        # Last: a repaired read is nearer its known value (no known value needs a repair).
        if value is not None and known_values is not None and field not in PARSERS:
            value = known_values.snap(field, value)
        if value is not None:
            out[field] = value
    return out
