"""Segment-level key information extraction F1: the metric WildReceipt results are quoted in.

Some datasets label text *segments*, not words (WildReceipt: one annotation per printed text
box, each of one of 26 classes). Their published figures (SDMG-R 0.870 text + layout, 0.888 with
images) follow OpenMMLab's ``F1Metric(mode="macro", ignored_classes=[Ignore, every *_key,
Others])`` — checked against ``mmocr/evaluation/metrics/f_metric.py`` and the SDMG-R config:

- every segment counts once, with one gold class and one predicted class;
- for each of the 12 *cared* value classes ``c``: TP = segments with gold ``c`` predicted ``c``,
  FP = predicted ``c`` with another gold class, FN = gold ``c`` predicted otherwise; precision,
  recall and F1 from those counts (0 where a denominator is 0, as mmocr's clamp gives, so a class
  never predicted correctly scores 0 — also when the test set has none of it);
- the figure is the unweighted (macro) mean of the 12 F1s, not a micro average; keys, Others and
  Ignore only matter as the wrong class they may be confused with.

Here a segment's prediction is the majority of its words' predicted labels (ties go to the label
met first in reading order), each word's core label mapped back to the dataset's class (an
unmapped label or ``O`` is :data:`OTHER`). ``macro_f1_present`` (the mean over the classes the
gold set holds) is reported beside it, because a small test set may lack a rare class (Tips).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from receipt_layoutlm.document import DocWord

OTHER = "other"
"""The class of a segment outside the scored classes (gold) or predicted as none of them."""


@dataclass(frozen=True)
class ClassScores:
    """Segment counts and scores of one class."""

    precision: float
    """correct / predicted (0 when nothing was predicted as this class)."""
    recall: float
    """correct / gold (0 when no gold segment has this class)."""
    f1: float
    """Harmonic mean of precision and recall (0 when both are 0)."""
    gold: int
    """Segments whose true class is this one (the support)."""
    predicted: int
    """Segments predicted as this class."""
    correct: int
    """Segments both true and predicted as this class."""


@dataclass
class SegmentScores:
    """Segment-level F1 of one model on one set of receipts."""

    macro_f1: float
    """Unweighted mean F1 over ``classes`` (the published convention)."""
    macro_f1_present: float
    """Unweighted mean F1 over the classes with at least one gold segment."""
    micro_f1: float
    """F1 of the TP/FP/FN counts summed over ``classes``."""
    segments: int
    """Segments scored (every class, ``other`` included)."""
    per_class: dict[str, ClassScores] = field(default_factory=dict)
    """Scores per scored class, in the order given."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the averages, ``segments`` and ``per_class`` rows."""
        return {
            "macro_f1": self.macro_f1,
            "macro_f1_present": self.macro_f1_present,
            "micro_f1": self.micro_f1,
            "segments": self.segments,
            "per_class": {name: vars(s).copy() for name, s in self.per_class.items()},
        }


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def segment_f1(pairs: Iterable[tuple[str, str]], classes: Sequence[str]) -> SegmentScores:
    """Score ``(gold class, predicted class)`` pairs, one per segment, over ``classes``."""
    pairs = list(pairs)
    gold = Counter(g for g, _ in pairs)
    predicted = Counter(p for _, p in pairs)
    correct = Counter(g for g, p in pairs if g == p)
    per_class = {}
    for name in classes:
        precision = _ratio(correct[name], predicted[name])
        recall = _ratio(correct[name], gold[name])
        per_class[name] = ClassScores(precision, recall, _f1(precision, recall), gold[name],
                                      predicted[name], correct[name])
    tp = sum(s.correct for s in per_class.values())
    micro = _f1(_ratio(tp, sum(s.predicted for s in per_class.values())),
                _ratio(tp, sum(s.gold for s in per_class.values())))
    present = [s.f1 for s in per_class.values() if s.gold]
    return SegmentScores(
        macro_f1=_ratio(sum(s.f1 for s in per_class.values()), len(per_class)),
        macro_f1_present=_ratio(sum(present), len(present)),
        micro_f1=micro,
        segments=len(pairs),
        per_class=per_class,
    )


def _majority(votes: Sequence[str]) -> str:
    counts = Counter(votes)
    best = max(counts.values())
    return next(v for v in votes if counts[v] == best)  # first met wins a tie


def segment_pairs(
    words: Sequence[DocWord],
    predicted: Sequence[tuple[DocWord, str | None]],
    *,
    classes: Sequence[str],
    class_of_label: Mapping[str, str],
) -> list[tuple[str, str]]:
    """One ``(gold, predicted)`` class pair per segment of a receipt.

    ``words`` are the receipt's words (those without ``segment_id`` are ignored); gold is the
    segment's ``segment_class`` when it is one of ``classes``, else :data:`OTHER`. ``predicted``
    holds each encoded word (reading order) with its predicted entity label (None for O);
    ``class_of_label`` maps a label back to its class. A segment none of whose words was
    encoded is predicted :data:`OTHER`, so it still counts as a miss.
    """
    cared = set(classes)
    gold: dict[int, str] = {}
    for word in words:
        if word.segment_id is not None and word.segment_id not in gold:
            name = word.segment_class
            gold[word.segment_id] = name if name in cared else OTHER
    votes: dict[int, list[str]] = {}
    for word, label in predicted:
        if word.segment_id is not None:
            votes.setdefault(word.segment_id, []).append(
                class_of_label.get(label, OTHER) if label else OTHER
            )
    return [(g, _majority(votes[s]) if s in votes else OTHER) for s, g in gold.items()]


def has_segments(words: Iterable[DocWord]) -> bool:
    """True when the words carry a dataset segment with its class (the metric applies)."""
    return any(w.segment_id is not None and w.segment_class for w in words)


def wildreceipt_classes() -> tuple[tuple[str, ...], dict[str, str]]:
    """WildReceipt's 12 value classes and the core label → class map (``CORE_MAP`` inverted;
    the native upper-cased names map too, for a model trained with ``--labels native``)."""
    from receipt_layoutlm.importers.wildreceipt import CORE_MAP, native_label

    classes = tuple(CORE_MAP)
    inverse = {core: name for name, core in CORE_MAP.items()}
    inverse.update({native_label(name): name for name in classes})
    return classes, inverse
