"""The numeric limits every stored record keeps, shared by entity validation and importers.

They exist so that nonsense is refused where it enters (an importer's problem line, an entity's
validation error) instead of deep in a backend: DynamoDB numbers stop at 1e125, and a width of
1e308 would abort a whole batch write with ``decimal.Overflow``.
"""

from __future__ import annotations

import math
from typing import Any

MAX_IMAGE_SIDE = 100_000
"""Largest image/receipt side in pixels: far beyond any scan or photo."""

MAX_COORDINATE = 10 * MAX_IMAGE_SIDE
"""Largest absolute pixel coordinate of a corner or box (boxes may overhang the image a little,
never by orders of magnitude)."""


def finite_float(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (not a bool), else None.

    An int beyond float range (``10**400``) is None too, where ``float()`` would raise.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
