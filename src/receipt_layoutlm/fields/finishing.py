"""What happens to a field after extraction read it: the OCR repairs of ``fields.ocr_cleanup``
applied to its text, and the date a receipt prints alone when the model named none.

``extract_fields`` calls :func:`finished` on each field it read: debris words trimmed
(:func:`trimmed`), the text repaired (:func:`repaired`); :func:`sole_date` stands in for a
date no word was labelled for or one that is no date even repaired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from receipt_layoutlm.fields._words import ReceiptWords
from receipt_layoutlm.fields.address_text import ends_before_contact
from receipt_layoutlm.fields.company_name import (
    company_suffix,
    ends_at_legal_suffix,
    is_complete_legal_name,
    registration_number,
)
from receipt_layoutlm.fields.ocr_cleanup import (
    FieldCleanup,
    clean_text_span,
    date_alone,
    decimal_point,
    letter_confusions,
    repair_date,
    strip_glued_debris,
)
from receipt_layoutlm.fields.parsing import parse_amount, parse_date
from receipt_layoutlm.fields.spans import join_text
from receipt_layoutlm.fields.values import AMOUNT_FIELDS, PARSERS, FieldValue, field_value


def finished(
    field: str,
    labels: Sequence[str],
    value: FieldValue | None,
    receipt: ReceiptWords,
    cleanup: FieldCleanup,
    *,
    fallbacks: bool,
) -> FieldValue | None:
    """``value`` (None: nothing read) after the repairs: a text field's debris words trimmed
    (:func:`trimmed`), the text repaired (:func:`repaired`), and, with ``fallbacks`` on, a
    date still missing or no date even repaired replaced by the receipt's sole printed date
    (:func:`sole_date`; off where fields must mirror the labels, as the probability fallback
    is)."""
    if value is not None and cleanup.cleans_text and field not in PARSERS:
        value = trimmed(field, value, receipt, cleanup)
    if value is not None and field == "merchant" and cleanup.legal_name_line:
        value = legal_name_line(value, receipt)
    if value is not None:
        value = repaired(field, value, receipt, cleanup)
    if (field == "date" and fallbacks and cleanup.sole_date
            and (value is None or value.value is None)):
        sole = sole_date(receipt, labels)
        # The word as printed, through the same repairs as any date read (``DATE:09/02/17``).
        value = value if sole is None else _repaired_date(sole, receipt, cleanup)
    return value


def sole_date(receipt: ReceiptWords, labels: Sequence[str]) -> FieldValue | None:
    """The word printing the receipt's date when its words print exactly one (a word that
    parses, or one holding a date glued to other characters: ``date_alone``), its first
    printing, read as it is printed; None when they print none or several different dates.
    For a date field no word was labelled for, or whose words are no date: of the 626 SROIE
    training receipts, 562 print one date, and 553 of those annotate it as printed. Its
    confidence is the word's highest probability of ``labels`` (low: the model did not name
    it)."""
    found: dict[str, int] = {}
    for n, word in enumerate(receipt.words):
        iso = receipt.parse(parse_date, word.text)
        if iso is None and any(c.isdigit() for c in word.text):
            cut = date_alone(word.text)
            iso = None if cut is None else cut[1]
        if iso is not None:
            found.setdefault(iso, n)
        if len(found) > 1:
            return None
    if not found:
        return None
    ((iso, n),) = found.items()
    word = receipt.words[n]
    confidence = max((word.probabilities.get(label, 0.0) for label in labels), default=0.0)
    return dataclasses.replace(field_value("date", [word], iso), confidence=confidence)


def trimmed(
    field: str, value: FieldValue, receipt: ReceiptWords, cleanup: FieldCleanup
) -> FieldValue:
    """``value`` without debris words (``fields.ocr_cleanup.clean_text_span``)."""
    by_index = receipt.by_index
    span = [by_index[i] for i in value.word_indices if i in by_index]
    kept = clean_text_span(span, cleanup)
    if len(kept) == len(span):
        return value
    trimmed = field_value(field, kept, None)
    return dataclasses.replace(trimmed, confidence=value.confidence)


def legal_name_line(value: FieldValue, receipt: ReceiptWords) -> FieldValue:
    """A merchant read over several lines whose last line is a whole legal name
    (``company_name.is_complete_legal_name``) is that line alone: what is printed above the
    legal name on a receipt is a brand, a branch or the owner's name (``SUSHI MENTAI -
    NAHKOTA CHERAS`` / ``MIZU MENTAI SDN. BHD.``). Of the 626 SROIE training companies, 48
    span several lines and 6 of those end in such a line; the rest are names wrapped over lines
    (``POPULAR BOOK`` / ``CO. (M) SDN BHD``), which this leaves whole."""
    by_index = receipt.by_index
    words = [by_index[i] for i in value.word_indices if i in by_index]
    if not words or any(word.line is None for word in words):
        return value
    last = [word for word in words if word.line == words[-1].line]
    if len(last) == len(words) or not is_complete_legal_name(join_text(last)):
        return value
    return dataclasses.replace(field_value(value.field, last, None), confidence=value.confidence)


def _repaired_date(
    value: FieldValue, receipt: ReceiptWords, cleanup: FieldCleanup
) -> FieldValue:
    """A date's text without what is glued to it (``date_alone``), else a misread date's
    repair (``repair_date``)."""
    cut = date_alone(value.text) if cleanup.date_alone else None
    if cut is not None:
        return dataclasses.replace(value, text=cut[0], value=cut[1])
    if value.value is None and cleanup.repair_dates:
        def printed() -> list[str | None]:
            return [receipt.parse(parse_date, w.text) for w in receipt.words]

        repaired = repair_date(value.text, printed)
        if repaired is not None:
            return dataclasses.replace(value, text=repaired[0], value=repaired[1])
    return value


def cash_rounded(value: FieldValue, receipt: ReceiptWords) -> FieldValue:
    """A total that is not a multiple of 5 cents becomes the amount the receipt prints within 2
    cents of it that is (the cash-rounded total: 5 sen rounding, as Malaysia's); as read when
    none is printed. By construction at most one amount qualifies. A dataset convention: of the
    SROIE training receipts printing both, 84 annotate the rounded total and 4 the other."""
    if not isinstance(value.value, float) or value.value <= 0:
        return value
    cents = round(value.value * 100)
    if cents % 5 == 0:
        return value
    for word in receipt.words:
        amount = receipt.parse(parse_amount, word.text)
        if amount is None or amount <= 0:
            continue
        other = round(amount * 100)
        if other % 5 == 0 and abs(other - cents) <= 2:
            read = field_value(value.field, [word], amount)
            return dataclasses.replace(read, confidence=value.confidence)
    return value


def repaired(
    field: str, value: FieldValue, receipt: ReceiptWords, cleanup: FieldCleanup
) -> FieldValue:
    """``value`` after the text repairs of ``fields.ocr_cleanup``: a misread date
    (``repair_date``), an amount's decimal comma (``decimal_point``), a merchant's or
    address's glued strokes and misread letters (``strip_glued_debris``, ``letter_confusions``),
    a merchant's name rules (``fields.company_name``), an address's end
    (``fields.address_text``)."""
    if field == "date":
        return _repaired_date(value, receipt, cleanup)
    if field in AMOUNT_FIELDS:
        if field == "total" and cleanup.cash_rounding:
            value = cash_rounded(value, receipt)
        text = decimal_point(value.text) if cleanup.decimal_point else value.text
        if text != value.text:
            return dataclasses.replace(value, text=text)
    elif field in ("merchant", "address"):
        text = strip_glued_debris(value.text) if cleanup.strip_glued_debris else value.text
        text = letter_confusions(text) if cleanup.letter_confusions else text
        if field == "merchant" and cleanup.company_suffix:
            text = company_suffix(text)
        if field == "merchant" and cleanup.registration_number:
            text = registration_number(text)
        if field == "merchant" and cleanup.ends_at_legal_suffix:
            text = ends_at_legal_suffix(text)
        if field == "address" and cleanup.address_ends_before_contact:
            text = ends_before_contact(text)
        if text != value.text:
            return dataclasses.replace(value, text=text, value=text)
    return value
