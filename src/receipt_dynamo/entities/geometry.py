"""Points, boxes and the word/line geometry with its explicit coordinate frame.

Coordinates are stored as the OCR engine reports them, with the frame spelled out:
``origin`` is ``"top-left"`` (y grows downwards, e.g. Tesseract) or ``"bottom-left"`` (y grows
upwards, e.g. Apple Vision); ``normalized`` says whether values are fractions of the receipt size
(then they must lie in [0, 1], with a 1e-6 tolerance for float noise) or receipt pixels.
When corners are omitted they are derived from the axis-aligned ``bounding_box``, whose ``y`` is
the edge nearest the origin (top edge for top-left, bottom edge for bottom-left).
"""

from __future__ import annotations

import dataclasses

from receipt_dynamo.entities._base import (
    check_confidence,
    check_coordinate,
    check_finite,
    check_str,
)
from receipt_dynamo.errors import EntityValidationError

ORIGINS = ("top-left", "bottom-left")
NORMALIZED_TOLERANCE = 1e-6
CORNERS = ("top_left", "top_right", "bottom_right", "bottom_left")


@dataclasses.dataclass(frozen=True)
class Point:
    """A corner ``{x, y}`` in the word's coordinate frame (finite, within ``MAX_COORDINATE``)."""

    x: float
    y: float

    def __post_init__(self) -> None:
        for name in ("x", "y"):
            object.__setattr__(self, name, check_coordinate("Point", name, getattr(self, name)))


@dataclasses.dataclass(frozen=True)
class BoundingBox:
    """Axis-aligned box ``{x, y, width, height}``; width and height are >= 0."""

    x: float
    y: float
    width: float
    height: float

    def __post_init__(self) -> None:
        for name in ("x", "y", "width", "height"):
            object.__setattr__(
                self, name, check_coordinate("BoundingBox", name, getattr(self, name))
            )
        if self.width < 0 or self.height < 0:
            raise EntityValidationError(
                f"BoundingBox width/height must be >= 0, got {self.width!r}x{self.height!r}"
            )


def _point(owner: str, name: str, value: object) -> Point:
    if isinstance(value, Point):
        return value
    if isinstance(value, dict) and set(value) == {"x", "y"}:
        return Point(**value)
    raise EntityValidationError(
        f"{owner}.{name} must be a Point or {{'x', 'y'}} dict, got {value!r}"
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class WordGeometry:
    """Fields shared by ReceiptLine and ReceiptWord."""

    text: str
    """The OCR text of the line or word (non-empty)."""
    bounding_box: BoundingBox
    """Axis-aligned box in the frame given by ``origin``/``normalized``."""
    origin: str
    """``"top-left"`` or ``"bottom-left"``: where (0, 0) is."""
    normalized: bool
    """True: fractions of the receipt size in [0, 1]; False: receipt pixels."""
    top_left: Point | None = None
    """Corner; derived from ``bounding_box`` when omitted (likewise the other three)."""
    top_right: Point | None = None
    bottom_right: Point | None = None
    bottom_left: Point | None = None
    angle_degrees: float = 0.0
    """Rotation of the text baseline, counter-clockwise, in degrees."""
    confidence: float = 1.0
    """OCR confidence in (0, 1]."""

    def _validate_geometry(self) -> None:
        owner = type(self).__name__
        check_str(owner, "text", self.text)
        box = self.bounding_box
        if isinstance(box, dict):
            box = BoundingBox(**box)
        if not isinstance(box, BoundingBox):
            raise EntityValidationError(f"{owner}.bounding_box must be a BoundingBox, got {box!r}")
        object.__setattr__(self, "bounding_box", box)
        if self.origin not in ORIGINS:
            raise EntityValidationError(
                f"{owner}.origin must be one of {ORIGINS}, got {self.origin!r}"
            )
        if not isinstance(self.normalized, bool):
            raise EntityValidationError(
                f"{owner}.normalized must be a bool, got {self.normalized!r}"
            )
        derived = _corners_from_box(box, self.origin)
        for name in CORNERS:
            value = getattr(self, name)
            object.__setattr__(
                self, name, derived[name] if value is None else _point(owner, name, value)
            )
        object.__setattr__(
            self, "angle_degrees", check_finite(owner, "angle_degrees", self.angle_degrees)
        )
        object.__setattr__(
            self, "confidence", check_confidence(owner, "confidence", self.confidence)
        )
        if self.normalized:
            self._check_normalized(owner, box)

    def _check_normalized(self, owner: str, box: BoundingBox) -> None:
        low, high = -NORMALIZED_TOLERANCE, 1 + NORMALIZED_TOLERANCE
        values = {
            "bounding_box.x": box.x,
            "bounding_box.y": box.y,
            "bounding_box.x+width": box.x + box.width,
            "bounding_box.y+height": box.y + box.height,
        }
        for name in CORNERS:
            point = getattr(self, name)
            values[f"{name}.x"], values[f"{name}.y"] = point.x, point.y
        for name, value in values.items():
            if not low <= value <= high:
                raise EntityValidationError(
                    f"{owner}.{name} = {value!r} lies outside [0, 1] although normalized=True; "
                    "divide pixel coordinates by the receipt size or pass normalized=False"
                )


def _corners_from_box(box: BoundingBox, origin: str) -> dict[str, Point]:
    near, far = box.y, box.y + box.height
    top, bottom = (near, far) if origin == "top-left" else (far, near)
    left, right = box.x, box.x + box.width
    return {
        "top_left": Point(left, top),
        "top_right": Point(right, top),
        "bottom_right": Point(right, bottom),
        "bottom_left": Point(left, bottom),
    }
