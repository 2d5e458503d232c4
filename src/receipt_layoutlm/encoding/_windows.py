"""Cutting a receipt's words into overlapping token windows at word boundaries."""

from __future__ import annotations

from collections.abc import Sequence


def plan_windows(token_counts: Sequence[int], budget: int, stride: int) -> list[tuple[int, int]]:
    """Word ranges ``[start, end)`` whose sub-tokens fit ``budget`` (max_seq_length - 2).

    Greedy: a window takes words until the next one does not fit; the next window starts at the
    longest run of trailing words of the previous one whose tokens total at most ``stride`` and
    still leave room for that next word, and at least one word later than the previous start.
    So every word is in a window and every window after the first brings at least one new word.
    Every count must be in 1..budget (over-long words are truncated before planning). No words
    gives one empty window, so runtimes still get a [CLS] [SEP] input.
    """
    n = len(token_counts)
    if n == 0:
        return [(0, 0)]
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end, used = start, 0
        while end < n and used + token_counts[end] <= budget:
            used += token_counts[end]
            end += 1
        windows.append((start, end))
        if end >= n:
            return windows
        # The overlap also leaves room for the word that did not fit, so every window brings
        # at least one new word (a long word must not make windows creep one word at a time).
        limit = min(stride, budget - token_counts[end])
        next_start, overlap = end, 0
        while next_start - 1 > start and overlap + token_counts[next_start - 1] <= limit:
            next_start -= 1
            overlap += token_counts[next_start]
        start = next_start
