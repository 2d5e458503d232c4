"""Schemas of the files ``report`` reads but did not write: an ``evaluate`` report, the training
report, bundle manifests and the labelling worker's results JSON.

Any of them may come from another version, another tool or an attacker, so each is validated
(pydantic) before a number of it is used: numbers must be finite and in range, texts texts,
tables tables. :func:`parse` turns a failed validation into ONE line for the report's problems
list (the part is then left out); nothing here raises on bad content.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    field_validator,
)

M = TypeVar("M", bound=BaseModel)

MAX_COORDINATE = 100_000.0
"""Largest word coordinate accepted (pixels): a 100k-pixel side is no photo; beyond it a box is
an error, not something to draw (a blank page that size would not fit in memory)."""
MAX_SHOWN_ERRORS = 2

Finite = Annotated[float, Field(allow_inf_nan=False)]
Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
Share = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)]
Text = Annotated[str, Field(max_length=10_000)]


def _text(value: Any) -> Any:
    """Numbers shown as text (a field value of 9.5) are fine; anything else must be a string."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return value


Shown = Annotated[Text, BeforeValidator(_text)]


class _Lenient(BaseModel):
    """Unknown keys are ignored (newer writers add some), never mistaken for known ones."""

    model_config = ConfigDict(extra="ignore", strict=False)


# -- evaluate's report.json ------------------------------------------------------------------


class Score(_Lenient):
    precision: Share | None = None
    recall: Share | None = None
    f1: Share | None = None
    support: NonNegativeInt | None = None


class TrainingScores(_Lenient):
    """The ``eval_per_label`` JobMetric of one epoch."""

    per_label: dict[Text, Score] = Field(default_factory=dict)


class KeyScore(Score):
    correct: NonNegativeInt | None = None
    predicted: NonNegativeInt | None = None
    expected: NonNegativeInt | None = None


class MismatchRow(_Lenient):
    receipt: Shown
    key: Shown
    predicted: Shown = ""
    expected: Shown = ""


class EntityScores(_Lenient):
    f1: Share | None = None
    per_label: dict[Text, Score] = Field(default_factory=dict)


class Task3Scores(_Lenient):
    f1: Share | None = None
    per_key: dict[Text, KeyScore] = Field(default_factory=dict)
    mismatches: list[MismatchRow] | None = None
    worst_mismatches: list[MismatchRow] | None = None


class EvaluationMetrics(_Lenient):
    receipts: NonNegativeInt | None = None
    runtime: Shown | dict[Text, Shown | None] | None = None
    entity: EntityScores = Field(default_factory=EntityScores)
    token_accuracy: Share | None = None
    sroie_task3: Task3Scores = Field(default_factory=Task3Scores)


class EvaluationReport(_Lenient):
    metrics: EvaluationMetrics


# -- runs/<job>/report.json --------------------------------------------------------------------


class ConfusionMatrix(_Lenient):
    labels: list[Text] = Field(max_length=500)
    matrix: list[list[NonNegativeInt]]

    @field_validator("matrix")
    @classmethod
    def _square(cls, rows: list[list[int]], info: Any) -> list[list[int]]:
        size = len(info.data.get("labels") or [])
        if len(rows) != size or any(len(row) != size for row in rows):
            raise ValueError(f"must be {size}x{size}, one row and column per label")
        return rows


class TrainingReport(_Lenient):
    confusion_matrix: ConfusionMatrix | None = None


# -- bundles/<job>/<export_id>/manifest.json ---------------------------------------------------


class ParityRow(_Lenient):
    runtime: Shown = ""
    mode: Shown | None = None
    word_agreement: Share | None = None
    threshold: Share | None = None
    max_abs_logit_diff: Annotated[float, Field(allow_inf_nan=False, ge=0)] | None = None
    passed: bool = True


class ParityBlock(_Lenient):
    passed: bool = False
    source: Shown = ""
    results: list[ParityRow] = Field(default_factory=list)


class BundleManifest(_Lenient):
    export_id: Shown = ""
    quantize: Shown = ""
    export_time: Shown = ""
    total_size_bytes: NonNegativeInt = 0
    sizes: dict[Text, NonNegativeInt] = Field(default_factory=dict)
    parity: ParityBlock = Field(default_factory=ParityBlock)


# -- the labelling worker's results JSON -------------------------------------------------------


def _point(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"x": value[0], "y": value[1]}
    return value


def _box(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 4:
        x0, y0, x1, y1 = value
        return {"x": x0, "y": y0, "x1": x1, "y1": y1}
    if isinstance(value, dict) and {"width", "height"} <= value.keys():
        return {"x": value.get("x"), "y": value.get("y"), "width": value["width"],
                "height": value["height"]}
    return value


class Point(_Lenient):
    x: Coordinate
    y: Coordinate


class Box(_Lenient):
    """``[x0, y0, x1, y1]`` or ``{x, y, width, height}``."""

    x: Coordinate
    y: Coordinate
    x1: Coordinate | None = None
    y1: Coordinate | None = None
    width: Annotated[float, Field(allow_inf_nan=False, ge=0, le=MAX_COORDINATE)] | None = None
    height: Annotated[float, Field(allow_inf_nan=False, ge=0, le=MAX_COORDINATE)] | None = None

    def corners(self) -> list[tuple[float, float]]:
        x1 = self.x1 if self.x1 is not None else self.x + (self.width or 0.0)
        y1 = self.y1 if self.y1 is not None else self.y + (self.height or 0.0)
        return [(self.x, self.y), (x1, self.y), (x1, y1), (self.x, y1)]


class Word(_Lenient):
    text: Shown = ""
    label: Shown | None = None
    corners: list[Annotated[Point, BeforeValidator(_point)]] | None = Field(
        default=None, min_length=3, max_length=8)
    box: Annotated[Box, BeforeValidator(_box)] | None = None
    bounding_box: Annotated[Box, BeforeValidator(_box)] | None = None

    def points(self) -> list[tuple[float, float]] | None:
        if self.corners:
            return [(p.x, p.y) for p in self.corners]
        for box in (self.box, self.bounding_box):
            if box is not None:
                return box.corners()
        return None


class FieldValue(_Lenient):
    value: Shown | None = None
    text: Shown | None = None
    confidence: Finite | None = None


class Coordinates(_Lenient):
    origin: Shown | None = None
    units: Shown | None = None


class ReceiptResults(_Lenient):
    """One receipt of a results JSON (see ``photos``' module docstring for the shapes)."""

    words: list[Word] = Field(default_factory=list, max_length=20_000)
    fields: dict[Text, FieldValue | Shown | None] = Field(default_factory=dict)
    coordinates: Coordinates | None = None
    normalized: bool = False
    origin: Shown | None = None


def parse(model: type[M], data: Any, where: str, problems: list[str]) -> M | None:
    """``model`` validated from ``data``, or None with one line in ``problems`` naming ``where``
    and the first offending fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.append(f"{where}: {describe(exc)}")
        return None


def describe(exc: ValidationError) -> str:
    """The first errors of a validation as ``path: message``, joined on one line."""
    errors = exc.errors(include_url=False, include_input=False)
    shown = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'the document'}: {e['msg']}"
        for e in errors[:MAX_SHOWN_ERRORS]
    )
    more = f" (+{len(errors) - MAX_SHOWN_ERRORS} more)" if len(errors) > MAX_SHOWN_ERRORS else ""
    return (shown + more).replace("\n", " ")
