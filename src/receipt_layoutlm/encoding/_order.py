"""Reading order: top-to-bottom by line, left-to-right within a line."""

from __future__ import annotations

from collections.abc import Sequence

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding._boxes import corner_extent
from receipt_layoutlm.errors import EncodingError

Extent = tuple[float, float, float, float]


def _group_indices(extents: Sequence[Extent], line_overlap: float) -> list[list[int]]:
    # Words are visited top-down; each joins the existing line it overlaps most (measured
    # against the line's mean top/bottom, so a tall word cannot chain two lines together), or
    # starts a new line. Overlap = the shared height as a fraction of the smaller height; a flat
    # (zero-height) word joins a line it lies within. Ties go to the first line.
    #
    # Only lines that can still overlap the word are measured: every word from here on has its
    # top at least half the tallest height above the visited centre (which only grows), so a
    # line whose mean bottom is above that shares no height with any of them (its overlap is
    # negative, its ratio 0, below any ``line_overlap``) and can never be joined again. That
    # keeps the work per word to the line or two around it, in plain floats (numpy per word
    # cost more than the arithmetic).
    tops = [float(e[1]) for e in extents]
    bottoms = [float(e[3]) for e in extents]
    lefts = [e[0] for e in extents]
    centres = [(e[1] + e[3]) / 2 for e in extents]
    # Sort keys as tuples built once (zip), not by a Python key function per comparison.
    visit = [i for _, _, i in sorted(zip(centres, lefts, range(len(extents)), strict=True))]
    tallest = max((b - t for t, b in zip(tops, bottoms, strict=True)), default=0.0)
    lines: list[list[int]] = []
    sum_top: list[float] = []
    sum_bottom: list[float] = []
    mean_top: list[float] = []
    mean_bottom: list[float] = []
    active: list[int] = []  # lines that may still be joined, in line order
    half = tallest / 2
    for i in visit:
        top, bottom = tops[i], bottoms[i]
        centre = (top + bottom) / 2
        horizon = centre - half - 1e-9 * (abs(centre) + tallest + 1.0)
        height = bottom - top
        best, best_ratio, dead = -1, -1.0, False
        for k in active:
            # min/max written out: builtin calls were half the cost of this inner loop.
            line_top, line_bottom = mean_top[k], mean_bottom[k]
            if line_bottom < horizon:
                dead = True
                continue
            overlap = (bottom if bottom <= line_bottom else line_bottom) - (
                top if top >= line_top else line_top
            )
            smaller = line_bottom - line_top
            if height <= smaller:
                smaller = height
            if smaller <= 0:
                ratio = 1.0 if overlap >= 0 else 0.0
            else:
                ratio = (overlap if overlap > 0.0 else 0.0) / smaller
            if ratio > best_ratio:
                best, best_ratio = k, ratio
        if dead:
            active = [k for k in active if mean_bottom[k] >= horizon]
        if best < 0 or best_ratio < line_overlap:
            active.append(len(lines))
            lines.append([i])
            sum_top.append(top)
            sum_bottom.append(bottom)
            mean_top.append(top)
            mean_bottom.append(bottom)
        else:
            lines[best].append(i)
            sum_top[best] += top
            sum_bottom[best] += bottom
            count = len(lines[best])
            mean_top[best] = sum_top[best] / count
            mean_bottom[best] = sum_bottom[best] / count
    within = list(zip(lefts, [e[1] for e in extents], range(len(extents)), strict=True))
    for line in lines:
        line.sort(key=within.__getitem__)
    lines.sort(key=lambda line: (min(extents[i][1] for i in line), extents[line[0]][0], line[0]))
    return lines


def _check_overlap(line_overlap: float) -> None:
    if not 0.0 < float(line_overlap) <= 1.0:
        raise EncodingError(f"line_overlap must be in (0, 1], got {line_overlap!r}")


def group_lines(
    words: Sequence[DocWord], *, line_overlap: float = 0.5, origin: str = "top-left"
) -> list[list[DocWord]]:
    """Cluster words into lines by vertical overlap (>= ``line_overlap`` of the smaller height).

    Lines come top-to-bottom (by their highest word), words left-to-right. Works in the words'
    own units (pixels or fractions); ``origin`` says where y = 0 is. Deterministic: exact ties
    fall back to the input order.
    """
    _check_overlap(line_overlap)
    extents = [corner_extent(w.corners, origin=origin) for w in words]
    return [[words[i] for i in line] for line in _group_indices(extents, line_overlap)]


def printed_rows(
    boxes: Sequence[tuple[float, float, float, float]], *, line_overlap: float = 0.5
) -> list[int]:
    """Per box, the number of its printed row (0-based, top to bottom): boxes clustered by
    vertical overlap exactly as :func:`group_lines` does, whatever the OCR line ids say. Takes
    ``EncodedReceipt.boxes`` (normalised, y down), so a label and its amount printed on one row
    but recognised as two OCR lines (SROIE) share a row."""
    _check_overlap(line_overlap)
    rows = [0] * len(boxes)
    for number, members in enumerate(_group_indices(list(boxes), line_overlap)):
        for i in members:
            rows[i] = number
    return rows


def reading_lines(doc: ReceiptDocument, *, line_overlap: float = 0.5) -> list[list[int]]:
    """Indices into ``doc.words`` grouped into lines, lines and words in reading order (see
    :func:`order_words`): OCR lines when every word has a ``line_id``, else clustered lines."""
    _check_overlap(line_overlap)
    extents = [corner_extent(w.corners, origin=doc.origin) for w in doc.words]
    if doc.words and all(w.line_id is not None for w in doc.words):
        by_line: dict[int, list[int]] = {}
        for i, w in enumerate(doc.words):
            by_line.setdefault(int(w.line_id), []).append(i)  # type: ignore[arg-type]
        lines = sorted(by_line.items(), key=lambda kv: (min(extents[i][1] for i in kv[1]), kv[0]))
        return [
            sorted(
                members,
                key=lambda i: (
                    extents[i][0],
                    doc.words[i].word_id if doc.words[i].word_id is not None else 0,
                    i,
                ),
            )
            for _, members in lines
        ]
    return [list(line) for line in _group_indices(extents, line_overlap)]


def reading_order(doc: ReceiptDocument, *, line_overlap: float = 0.5) -> list[int]:
    """Indices into ``doc.words`` in reading order (see :func:`order_words`)."""
    return [i for line in reading_lines(doc, line_overlap=line_overlap) for i in line]


def order_words(doc: ReceiptDocument, *, line_overlap: float = 0.5) -> list[DocWord]:
    """The receipt's words in reading order.

    When every word has an OCR ``line_id``: lines top-to-bottom by their top (after turning a
    bottom-left origin around; ties by line id), words left-to-right within a line (ties by
    ``word_id``, then input order). Otherwise words are clustered into lines by
    :func:`group_lines`. Deterministic for a given input.
    """
    return [doc.words[i] for i in reading_order(doc, line_overlap=line_overlap)]
