"""Field extraction: word labels → one normalised value per field (merchant, date, total…).

Used by evaluation (SROIE task-3), ``layoutlm-cli predict`` and the labelling worker's results.
Pure Python: no torch, no numpy.
"""

from receipt_layoutlm.fields.extraction import (
    AMOUNT_FIELDS,
    FIELD_LABELS,
    MULTILINE_FIELDS,
    FieldValue,
    extract_fields,
)
from receipt_layoutlm.fields.parsing import parse_amount, parse_date, parse_phone, parse_time

__all__ = [
    "AMOUNT_FIELDS",
    "FIELD_LABELS",
    "MULTILINE_FIELDS",
    "FieldValue",
    "extract_fields",
    "parse_amount",
    "parse_date",
    "parse_phone",
    "parse_time",
]
