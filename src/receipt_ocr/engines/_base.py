"""The OCR result every engine returns, and the engine interface.

Boxes are pixel rectangles ``(left, top, right, bottom)`` of the image the engine was given, with
a top-left origin (engines that report another frame convert before returning). Lines come in
reading order as the engine found them; words within a line left to right. Confidences lie in
(0, 1] because that is what the records accept.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from PIL.Image import Image

Box = tuple[float, float, float, float]
MIN_CONFIDENCE = 0.01
"""Floor for engine confidences of 0 (the records need a value in (0, 1])."""


def clamp_confidence(value: float) -> float:
    """``value`` limited to [MIN_CONFIDENCE, 1]."""
    return min(1.0, max(MIN_CONFIDENCE, float(value)))


@dataclass(frozen=True)
class OcrWord:
    """One recognised word."""

    text: str
    """The word as recognised (no spaces)."""
    box: Box
    """``(left, top, right, bottom)`` in image pixels, top-left origin."""
    confidence: float
    """Recognition confidence in (0, 1]."""


@dataclass(frozen=True)
class OcrLine:
    """One text line: its words left to right."""

    words: tuple[OcrWord, ...]
    """The line's words in reading order."""

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        return (
            min(w.box[0] for w in self.words),
            min(w.box[1] for w in self.words),
            max(w.box[2] for w in self.words),
            max(w.box[3] for w in self.words),
        )

    @property
    def confidence(self) -> float:
        return min(w.confidence for w in self.words)


@dataclass(frozen=True)
class OcrResult:
    """What an engine read on one image."""

    width: int
    """Width of the image the boxes refer to, in pixels."""
    height: int
    """Height of the image the boxes refer to, in pixels."""
    lines: tuple[OcrLine, ...] = field(default_factory=tuple)
    """Lines in reading order (top to bottom)."""
    engine: str = ""
    """Name of the engine that produced it."""

    @property
    def words(self) -> list[OcrWord]:
        return [w for line in self.lines for w in line.words]


class OcrEngine(abc.ABC):
    """Reads text from an image. Subclasses set ``name`` and implement :meth:`recognize`."""

    name: ClassVar[str]
    """Registry name."""

    @abc.abstractmethod
    def recognize(self, image: Image) -> OcrResult:
        """Lines and words of ``image`` (an RGB or L PIL image, already orientation-fixed)."""

    def describe(self) -> str:
        """Short description for logs and results (engine name and its settings)."""
        return self.name
