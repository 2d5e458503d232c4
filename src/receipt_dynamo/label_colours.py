"""One colour per label, everywhere a label is drawn: the HTML report, the labelling worker's
annotated PNG and the review app all call :func:`label_colour`, so a label looks the same in each.

Stdlib only (the review app and the Lambda path import no drawing library). The 22 core labels
get 22 distinct colours in vocabulary order; any other label (a merged or dataset-specific one)
gets a colour derived from its name's hash, so it is stable across runs and processes.
"""

from __future__ import annotations

import hashlib

from receipt_dynamo.vocabulary import CORE_LABELS

PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (0, 128, 128), (170, 110, 40),
    (128, 0, 0), (0, 0, 128), (128, 128, 0), (255, 215, 0), (220, 20, 60),
    (0, 191, 255), (154, 205, 50), (255, 105, 180), (139, 69, 19), (72, 61, 139),
    (46, 139, 87), (199, 21, 133),
)
"""Distinct colours (Sasha Trubetskoy's list and neighbours), one per core label in order."""
UNLABELLED = (160, 160, 160)
"""Words without a label (``O``)."""


def label_colour(label: str | None) -> tuple[int, int, int]:
    """RGB of ``label`` (a BIO tag's ``B-``/``I-`` prefix is ignored; None/``O`` is grey)."""
    if not label or label == "O":
        return UNLABELLED
    name = label[2:] if label[:2] in ("B-", "I-") else label
    core = list(CORE_LABELS)
    if name in core:
        return PALETTE[core.index(name) % len(PALETTE)]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def label_colour_hex(label: str | None) -> str:
    """``#rrggbb`` of :func:`label_colour` (HTML/CSS)."""
    return "#{:02x}{:02x}{:02x}".format(*label_colour(label))
