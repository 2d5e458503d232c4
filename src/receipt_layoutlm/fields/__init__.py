"""Field extraction: word labels → one normalised value per field (merchant, date, total…).

Used by evaluation (SROIE task-3), ``layoutlm-cli predict`` and the labelling worker's results.
Importing it imports neither torch nor numpy; the total picker scores its candidates with numpy
when it runs.
"""

from receipt_layoutlm.fields.extraction import (
    FIELD_LABELS,
    MULTILINE_FIELDS,
    candidates_for_total,
    extract_fields,
)
from receipt_layoutlm.fields.fitted import FittedFields, load_fitted_fields
from receipt_layoutlm.fields.key_lexicon import KeyLexicon, load_key_lexicon
from receipt_layoutlm.fields.known_values import KnownValues, load_known_values
from receipt_layoutlm.fields.line_classifier import (
    LineClassifier,
    LineModel,
    load_line_classifier,
)
from receipt_layoutlm.fields.lines import line_block
from receipt_layoutlm.fields.ocr_cleanup import DEFAULT_CLEANUP, FieldCleanup
from receipt_layoutlm.fields.parsing import parse_amount, parse_date, parse_phone, parse_time
from receipt_layoutlm.fields.total_picker import (
    PICKER_FILE,
    Candidate,
    TotalPicker,
    feature_names,
    load_total_picker,
    total_candidates,
)
from receipt_layoutlm.fields.values import AMOUNT_FIELDS, FieldValue

__all__ = [
    "AMOUNT_FIELDS",
    "DEFAULT_CLEANUP",
    "FIELD_LABELS",
    "MULTILINE_FIELDS",
    "PICKER_FILE",
    "Candidate",
    "FieldCleanup",
    "FieldValue",
    "FittedFields",
    "KeyLexicon",
    "KnownValues",
    "LineClassifier",
    "LineModel",
    "TotalPicker",
    "candidates_for_total",
    "extract_fields",
    "feature_names",
    "line_block",
    "load_fitted_fields",
    "load_key_lexicon",
    "load_known_values",
    "load_line_classifier",
    "load_total_picker",
    "parse_amount",
    "parse_date",
    "parse_phone",
    "parse_time",
    "total_candidates",
]
