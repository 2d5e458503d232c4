"""In-memory receipts: the neutral form between sources (store, importers, OCR) and the encoding.

Importers parse files into :class:`ReceiptDocument`; the store adapter turns records into them;
the encoding spec (``receipt_layoutlm.encoding``) is the only code that turns them into model
input. Coordinates stay as the source reported them; ``origin`` and ``normalized`` say how to read
them, so no caller flips or scales boxes by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Point = tuple[float, float]
Origin = Literal["top-left", "bottom-left"]


@dataclass(frozen=True)
class DocWord:
    """One OCR word with its geometry and (optionally) its label."""

    text: str
    """The word's text as OCR (or the dataset) reports it."""
    corners: tuple[Point, Point, Point, Point]
    """Top-left, top-right, bottom-right, bottom-left corners in the receipt's coordinates."""
    line_id: int | None = None
    """OCR line id (1-based) when the source has lines; reading order uses it when present."""
    word_id: int | None = None
    """Word id within its line (1-based) when the source has one."""
    label: str | None = None
    """Entity label (upper-case, no BIO prefix) or None for no label / O."""
    confidence: float = 1.0
    """OCR confidence in (0, 1]."""
    segment_id: int | None = None
    """The source's text segment holding this word (1-based within the receipt), when the
    dataset labels segments rather than words (WildReceipt); segment-level metrics group by it.
    None for sources without segments."""
    segment_class: str | None = None
    """The dataset's own class of that segment (e.g. WildReceipt ``Total_value``), kept beside
    the mapped ``label`` so a dataset metric does not depend on inverting the label mapping."""


_RENDER_SUFFIX = re.compile(r"#ocr\d+$")


def render_key(key: str, seed: int) -> str:
    """The key of an OCR'd re-render of receipt ``key`` (``<key>#ocr<seed>``): never the same
    as its transcript's, and :attr:`ReceiptDocument.source_key` reads ``key`` back from it."""
    return f"{key}#ocr{seed}"


@dataclass
class ReceiptDocument:
    """One receipt: its size, its words and, for labelled datasets, the ground-truth fields."""

    key: str
    """Stable identifier, e.g. ``sroie:X51005230605`` or ``<image_id>#00001``."""
    width: float
    """Receipt width in the units of the word coordinates (pixels, or 1.0 when normalized)."""
    height: float
    """Receipt height in the units of the word coordinates (pixels, or 1.0 when normalized)."""
    words: list[DocWord] = field(default_factory=list)
    """Words in any order; the encoding spec decides reading order."""
    origin: Origin = "top-left"
    """Where y = 0 is: ``top-left`` (images, Tesseract) or ``bottom-left`` (Apple Vision)."""
    normalized: bool = False
    """True when coordinates are fractions (0–1) of the receipt size rather than pixels."""
    fields: dict[str, str] = field(default_factory=dict)
    """Ground-truth document-level values (e.g. SROIE company, date, address, total)."""
    image_path: str | None = None
    """Path of the receipt image, when the source has one."""

    @property
    def source_key(self) -> str:
        """The receipt this document was read from: an OCR'd re-render (:func:`render_key`) is
        its transcript's receipt; any other document is its own."""
        return _RENDER_SUFFIX.sub("", self.key)
