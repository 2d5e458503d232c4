"""The learned line classifier: which whole lines make a multi-line field (the company block).

The word model, trained on transcripts, reads a photo's company block with the wrong lines in
it — a person's name above the shop name, a registration number, a branch line, logo debris.
Here each line gets a probability of belonging to the field from a logistic model over its
features (``fields.line_features``: the word model's probabilities, position, text patterns,
neighbours), and the field is the contiguous run of lines with the largest ``Σ (p - ½)``
(``fields.lines.best_block``, the rule the word-level block uses). Inner lines are taken whole;
the first and last lose outer words the word model finds more likely out (``_cut``), and the
edge repairs of ``fields.ocr_cleanup`` apply afterwards as for any text field. Only lines with a
word the word model gives some probability of the field are scored
(:data:`MIN_WORD_PROBABILITY`). When no line is more likely in than out, the field is read as
without the classifier.

The weights are fitted on training receipts' predictions (``training.line_classifier_fit``,
scikit-learn) and stored as plain JSON (:data:`LINE_CLASSIFIER_FILE`) next to the model, like
the total picker, so every runtime, the worker and evaluation apply them here in pure Python.
A model without the file reads its fields as before.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.bundle_format import LINE_CLASSIFIER_FILE, read_fitted_file
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.fields._words import ReceiptWords, Word
from receipt_layoutlm.fields.line_features import (
    PATTERNS,
    LineTable,
    feature_names,
    line_features,
    receipt_lines,
)
from receipt_layoutlm.fields.lines import best_block

CLASSIFIER_VERSION = 1
MIN_WORD_PROBABILITY = 0.05
"""Only lines with a word the word model gives at least this probability of the field are
scored; the others are taken as out (probability 0). What keeps the step near its 1 ms budget:
a receipt has some 40 lines and a field's block a handful. Fixed a priori (1 in 20), not
tuned."""
_SUFFIX = PATTERNS["company_suffix"]
_REGISTRATION = re.compile(r"\(\d{4,8}(-?[A-Z])?\)|\d{4,8}-[A-Z]")


@dataclass(frozen=True)
class LineModel:
    """One field's logistic model over standardised line features."""

    weights: tuple[float, ...]
    """One coefficient per feature (``fields.line_features.feature_names`` order)."""
    intercept: float
    """The logistic model's intercept."""
    mean: tuple[float, ...]
    """Per feature, the training mean subtracted before weighting."""
    scale: tuple[float, ...]
    """Per feature, the training standard deviation divided by (1.0 where it was 0)."""

    @functools.cached_property
    def _folded(self) -> tuple[list[float], float]:
        # Standardising folded into the weights: one dot product a line.
        weights = [w / s for w, s in zip(self.weights, self.scale, strict=True)]
        return weights, self.intercept - sum(w * m for w, m in zip(weights, self.mean, strict=True))

    def probability(self, row: Sequence[float]) -> float:
        weights, intercept = self._folded
        z = intercept + sum(map(operator.mul, weights, row))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(frozen=True)
class LineClassifier:
    """Fitted line models per field, as stored in :data:`LINE_CLASSIFIER_FILE`."""

    features: tuple[str, ...]
    """Feature names the weights were fitted on; must equal today's ``feature_names()``."""
    models: Mapping[str, LineModel]
    """Field name (``merchant``, ``address``) → its line model; other fields are untouched."""
    fitted_on: Mapping[str, Any] = field(default_factory=dict)
    """What the fit saw (receipts, lines, positives per field), for the record."""

    def line_probabilities(
        self,
        field_name: str,
        words: Sequence[Word],
        labels: Sequence[str],
        *,
        receipt: ReceiptWords | None = None,
    ) -> tuple[Sequence[Sequence[int]], list[float]] | None:
        """The receipt's lines (word positions) and each line's probability of ``field_name``;
        None when the classifier has no model for it or a word has no line. ``receipt`` (of
        ``words``) keeps what every field reads of the lines, computed once."""
        model = self.models.get(field_name)
        if model is None or not words:
            return None
        table, own = _line_table(words, receipt), None
        if not table.lines:
            return None
        if receipt is not None and len(labels) == 1:
            own = receipt.column(labels[0])
        probabilities = [0.0] * len(table.lines)
        scored, rows = line_features(
            words, table.lines, labels, MIN_WORD_PROBABILITY, table=table, own=own
        )
        for n, row in zip(scored, rows, strict=True):
            probabilities[n] = model.probability(row)
        return table.lines, probabilities

    def block(
        self,
        field_name: str,
        words: Sequence[Word],
        labels: Sequence[str],
        *,
        receipt: ReceiptWords | None = None,
    ) -> list[Word] | None:
        """The words of the field's block of whole lines, in reading order; None when the
        classifier does not apply or no line is more likely in the field than out.
        ``receipt``: as for :meth:`line_probabilities`."""
        scored = self.line_probabilities(field_name, words, labels, receipt=receipt)
        if scored is None:
            return None
        lines, probabilities = scored
        chosen = best_block([p - 0.5 for p in probabilities])
        if chosen is None:
            return None
        block = [list(line) for line in lines[chosen[0] : chosen[1] + 1]]
        block[0] = _cut(block[0], words, labels, from_end=False)
        block[-1] = _cut(block[-1], words, labels, from_end=True)
        return [words[p] for line in block for p in line]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": CLASSIFIER_VERSION,
            "features": list(self.features),
            "models": {
                name: {
                    "weights": list(m.weights),
                    "intercept": m.intercept,
                    "mean": list(m.mean),
                    "scale": list(m.scale),
                }
                for name, m in self.models.items()
            },
            "fitted_on": dict(self.fitted_on),
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, source: str = "line classifier"
    ) -> LineClassifier:
        try:
            if data["version"] != CLASSIFIER_VERSION:
                raise CheckpointError(
                    f"{source}: version {data['version']!r}, this code reads "
                    f"{CLASSIFIER_VERSION}; refit it (layoutlm-cli fit-fields)"
                )
            features = tuple(str(f) for f in data["features"])
            models = {
                str(name): LineModel(
                    weights=tuple(float(w) for w in m["weights"]),
                    intercept=float(m["intercept"]),
                    mean=tuple(float(v) for v in m["mean"]),
                    scale=tuple(float(v) or 1.0 for v in m["scale"]),
                )
                for name, m in data["models"].items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{source}: not a line classifier ({exc!r})") from None
        if list(features) != feature_names():
            raise CheckpointError(
                f"{source}: fitted on other features than this code computes; refit it "
                "(layoutlm-cli fit-fields)"
            )
        for name, m in models.items():
            if not len(m.weights) == len(m.mean) == len(m.scale) == len(features):
                raise CheckpointError(f"{source}: model {name!r} has the wrong number of weights")
        return cls(features=features, models=models, fitted_on=dict(data.get("fitted_on", {})))

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / LINE_CLASSIFIER_FILE
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        return path


def _line_table(words: Sequence[Word], receipt: ReceiptWords | None) -> LineTable:
    """The words' line table, kept on ``receipt`` for its other fields."""
    if receipt is None:
        return LineTable(words, receipt_lines(words))
    if receipt.line_table is None:
        receipt.line_table = LineTable(words, receipt_lines(words))
    return receipt.line_table


def _cut(
    line: list[int], words: Sequence[Word], labels: Sequence[str], *, from_end: bool
) -> list[int]:
    """The block's first (or last) line without its outer words that the word model finds more
    likely out of the field than in: the rule ``fields.lines`` applies to a block's edge lines
    (a registration number after the name, ``TEL:`` after the last address line). Only where
    the word model finds most of the line in the field: a photo's name line the model half
    misreads (``Broadview[0.15] Marketing[0.03] Sdn[0.91] Bhd[0.90]``) was put in by the
    classifier and stays whole but for a registration number at its end (``(169669-A)``,
    never part of a name or an address). A company suffix (``COMPANY``, ``SDN BHD``) counts as
    in: it ends the name it follows."""
    inside = [
        sum(words[p].probabilities.get(label, 0.0) for label in labels) >= 0.5
        or bool(_SUFFIX.search(words[p].text.upper()))
        for p in line
    ]
    if 2 * sum(inside) <= len(inside):
        inside = [not _REGISTRATION.fullmatch(words[p].text.upper()) for p in line]
        if all(inside) or not any(inside):
            return line
    if from_end:
        return line[: len(inside) - inside[::-1].index(True)]
    return line[inside.index(True) :]


def load_line_classifier(directory: str | Path) -> LineClassifier | None:
    """The classifier stored in a checkpoint or bundle directory; None when it has none."""
    data = read_fitted_file(directory, LINE_CLASSIFIER_FILE, "line classifier")
    if data is None:
        return None
    return LineClassifier.from_json(data, source=str(Path(directory) / LINE_CLASSIFIER_FILE))
