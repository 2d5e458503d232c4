"""The fitted field files a model directory may hold (``total_picker.json``,
``line_classifier.json``, ``known_values.json``, ``key_lexicon.json``), read together: every
runtime reads them from its checkpoint or bundle, and the fold bench from each fold's
checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from receipt_layoutlm.fields.key_lexicon import KeyLexicon, load_key_lexicon
from receipt_layoutlm.fields.known_values import KnownValues, load_known_values
from receipt_layoutlm.fields.line_classifier import LineClassifier, load_line_classifier
from receipt_layoutlm.fields.total_picker import TotalPicker, load_total_picker


@dataclass(frozen=True)
class FittedFields:
    """What ``extract_fields`` takes from a model beside its word labels."""

    total_picker: TotalPicker | None = None
    """The learned total picker, None when the model has none."""
    line_classifier: LineClassifier | None = None
    """The company/address line classifier, None when the model has none."""
    known_values: KnownValues | None = None
    """The merchant/address lexicon, None when the model has none."""
    key_lexicon: KeyLexicon | None = None
    """Printed keys by their letters (read before key–value pairing), None when the model has
    none."""


def load_fitted_fields(directory: str | Path) -> FittedFields:
    """The fitted field files of a checkpoint or bundle directory; a model from before a file
    existed (or a path that is no directory) reads its fields without it."""
    path = Path(directory)
    if not path.is_dir():
        return FittedFields()
    return FittedFields(
        total_picker=load_total_picker(path),
        line_classifier=load_line_classifier(path),
        known_values=load_known_values(path),
        key_lexicon=load_key_lexicon(path),
    )
