"""A receipt's words as field extraction reads them: one normalised record per word
(``Word``) and what several fields ask of the same words, computed once (``ReceiptWords``)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from receipt_layoutlm.fields.line_features import LineTable


class WordLike(Protocol):
    text: str
    label: str | None
    confidence: float


@dataclass(slots=True, eq=False)
class Word:
    index: int
    text: str
    label: str | None
    begins: bool  # an explicit B- tag
    confidence: float
    line: int | None
    probabilities: Mapping[str, float] = dataclasses.field(default_factory=dict)
    ocr_confidence: float = 1.0
    joined: tuple[int, ...] = ()  # indices of words glued onto this one (fields.ocr_cleanup)


class ReceiptWords:
    """What several fields ask of one receipt's words, computed once per receipt: the words
    carrying each label, each label's probability per word, and every text parsed."""

    def __init__(self, words: list[Word]) -> None:
        self.words = words
        self.positions: dict[str | None, list[int]] = {}
        for position, word in enumerate(words):
            self.positions.setdefault(word.label, []).append(position)
        self.known: set[str] = set().union(*(word.probabilities for word in words))
        self.has_lines = all(word.line is not None for word in words)
        """Every word has a line id."""
        self._columns: dict[str, list[float]] = {}
        self.line_table: LineTable | None = None
        """The receipt's lines and their text figures, built by the first field the line
        classifier reads (``fields.line_classifier``) and kept for the others."""
        self._parsed: dict[tuple[Callable[[str], Any], str], Any] = {}

    @functools.cached_property
    def by_index(self) -> dict[int, Word]:
        """Each word by its ``index`` (the last word with that index, as a dict built in order
        keeps)."""
        return {word.index: word for word in self.words}

    def column(self, label: str) -> list[float]:
        """Per word, its probability of ``label`` (0.0 where it has none)."""
        if label not in self._columns:
            self._columns[label] = [w.probabilities.get(label, 0.0) for w in self.words]
        return self._columns[label]

    def parse(self, parser: Callable[[str], Any], text: str) -> Any:
        key = (parser, text)
        if key not in self._parsed:
            self._parsed[key] = parser(text)
        return self._parsed[key]


def split_tag(tag: str | None) -> tuple[str | None, bool]:
    if tag is None or tag in ("", "O"):
        return None, False
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        return tag[2:], tag[0] == "B"
    return tag, False


def normalise_words(
    words: Sequence[tuple[str, str | None, float]] | Sequence[WordLike],
    line_ids: Sequence[int] | None,
    ocr_confidences: Sequence[float] | None = None,
) -> list[Word]:
    if line_ids is not None and len(line_ids) != len(words):
        raise ValueError(
            f"extract_fields got {len(words)} words but {len(line_ids)} line ids; "
            "pass one line id per word or none"
        )
    if ocr_confidences is not None and len(ocr_confidences) != len(words):
        raise ValueError(
            f"extract_fields got {len(words)} words but {len(ocr_confidences)} OCR "
            "confidences; pass one per word or none"
        )
    split_tags: dict[str | None, tuple[str | None, bool]] = {}  # a receipt has few tags
    if line_ids is not None and words and _are_predictions(words):
        return _from_predictions(words, line_ids, ocr_confidences, split_tags)
    out = []
    for position, word in enumerate(words):
        if isinstance(word, (tuple, list)):  # a tuple of types checks faster than a union
            text, label, confidence = word
            index, tag = position, label
            line = None
        else:
            text, confidence = word.text, word.confidence
            index = getattr(word, "word_index", position)
            tag = getattr(word, "tag", None) or word.label
            line = getattr(word, "line_id", None)
        if tag not in split_tags:
            split_tags[tag] = split_tag(tag)
        label, begins = split_tags[tag]
        if line_ids is not None:
            line = line_ids[position]
        probabilities = getattr(word, "label_probabilities", None) or {}
        ocr = 1.0 if ocr_confidences is None else float(ocr_confidences[position])
        out.append(Word(index, str(text), label, begins, float(confidence), line, probabilities,
                         ocr))
    if line_ids is None and any(w.line is None for w in out):
        # Partial line ids (some DocWords without one) would split spans arbitrarily.
        out = [dataclasses.replace(w, line=None) for w in out]
    return out


def _are_predictions(words: Sequence[Any]) -> bool:
    """Every word is of one class with ``word_index``, ``tag`` and ``label_probabilities`` and
    without ``line_id`` (``encoding.WordPrediction``, what ``predict_document`` passes)."""
    kind = type(words[0])
    if any(type(word) is not kind for word in words):
        return False
    sample = words[0]
    return (
        not isinstance(sample, (tuple, list))
        and all(hasattr(sample, a) for a in ("word_index", "tag", "label_probabilities"))
        and not hasattr(sample, "line_id")
    )


def _from_predictions(
    words: Sequence[Any],
    line_ids: Sequence[int],
    ocr_confidences: Sequence[float] | None,
    split_tags: dict[str | None, tuple[str | None, bool]],
) -> list[Word]:
    """:func:`normalise_words` of predictions with line ids: the same words, read without the
    per-word checks of the general loop (what the fields step spends per word)."""
    out = []
    ocr = [1.0] * len(words) if ocr_confidences is None else ocr_confidences
    for word, line, ocr_confidence in zip(words, line_ids, ocr, strict=True):
        tag = word.tag or word.label
        if tag not in split_tags:
            split_tags[tag] = split_tag(tag)
        label, begins = split_tags[tag]
        out.append(Word(word.word_index, str(word.text), label, begins, float(word.confidence),
                        line, word.label_probabilities or {}, float(ocr_confidence)))
    return out
