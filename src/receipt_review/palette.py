"""Label colours: the report's palette (``receipt_layoutlm.reporting.photos.label_colour``), so
a label looks the same in the report, the worker's PNG and the review app."""

from __future__ import annotations

from functools import cache

from receipt_layoutlm.reporting.photos import label_colour


@cache
def label_hex(label: str) -> str:
    """``#rrggbb`` of ``label`` in the shared palette."""
    r, g, b = label_colour(label)
    return f"#{r:02x}{g:02x}{b:02x}"
