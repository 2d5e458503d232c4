"""Word geometry: corners in any origin/scale to an axis-aligned 0–1000 box."""

from __future__ import annotations

import math
from collections.abc import Sequence

from receipt_layoutlm.errors import EncodingError

Box = tuple[int, int, int, int]

CLS_BOX: Box = (0, 0, 0, 0)
SEP_BOX: Box = (1000, 1000, 1000, 1000)
PAD_BOX: Box = (0, 0, 0, 0)

_ORIGINS = ("top-left", "bottom-left")


def _check_origin(origin: str) -> None:
    if origin not in _ORIGINS:
        raise EncodingError(f"origin must be one of {_ORIGINS}, got {origin!r}")


def corner_extent(
    corners: Sequence[Sequence[float]], *, origin: str = "top-left"
) -> tuple[float, float, float, float]:
    """(x0, top, x1, bottom) of the corners with y growing downwards, in the corners' own units.

    A bottom-left origin is turned around by negating y, which keeps the order (and the ratio of
    overlaps) without needing the receipt height.
    """
    _check_origin(origin)
    try:
        xs = [float(p[0]) for p in corners]
        ys = [float(p[1]) for p in corners]
    except (TypeError, ValueError, IndexError):
        raise EncodingError(f"word corners must be (x, y) number pairs, got {corners!r}") from None
    if not xs:
        raise EncodingError("a word has no corners; give its four (x, y) corners")
    if not all(math.isfinite(v) for v in (*xs, *ys)):
        raise EncodingError(
            f"word corners hold NaN or infinite coordinates: {corners!r}; fix the OCR output"
        )
    if origin == "bottom-left":
        ys = [-y for y in ys]
    return min(xs), min(ys), max(xs), max(ys)


def _scale(v: float) -> int:
    # Clamp first, then round half up: floor(v + 0.5) is what Swift's .rounded() and C's
    # round() give for non-negative values, so the device side reproduces it exactly.
    return math.floor(min(1000.0, max(0.0, v)) + 0.5)


def normalize_box(
    corners: Sequence[Sequence[float]],
    width: float,
    height: float,
    *,
    origin: str = "top-left",
    normalized: bool = False,
) -> Box:
    """Axis-aligned LayoutLM box (x0, y0, x1, y1) in 0–1000, top-left origin, from 4 corners.

    Corners may come in any order or rotation; the box is their extent. ``bottom-left`` origin
    flips y (``height - y``, or ``1 - y`` when normalized). Pixel coordinates scale by the
    receipt's width/height, normalized ones (fractions) by 1000. Values are clamped to
    [0, 1000] and rounded half up to ints. NaN/inf coordinates or a non-positive size raise
    :class:`EncodingError`.
    """
    _check_origin(origin)
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise EncodingError(
                f"receipt {name} must be a positive finite number, got {v!r}; "
                "set ReceiptDocument.width/height (1.0 for normalized coordinates)"
            )
    x0, top, x1, bottom = corner_extent(corners, origin="top-left")
    if origin == "bottom-left":
        full = 1.0 if normalized else float(height)
        top, bottom = full - bottom, full - top
    w = 1.0 if normalized else float(width)
    h = 1.0 if normalized else float(height)
    # v * 1000 / size (in that order) so other implementations get the same float.
    return (
        _scale(x0 * 1000.0 / w),
        _scale(top * 1000.0 / h),
        _scale(x1 * 1000.0 / w),
        _scale(bottom * 1000.0 / h),
    )
