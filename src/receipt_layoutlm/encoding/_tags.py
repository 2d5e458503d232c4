"""BIO tags and the label list that maps them to ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from receipt_layoutlm.errors import EncodingError

OUTSIDE = "O"


def _is_outside(label: str | None) -> bool:
    return label is None or label == "" or label == OUTSIDE


def bio_tags(labels: Sequence[str | None], merged: Mapping[str, str] | None = None) -> list[str]:
    """Per-word entity labels in reading order → ``O`` / ``B-X`` / ``I-X``.

    A span starts wherever the ORIGINAL label changes; ``merged`` then renames each span's label
    (a merge target of ``O`` drops it). So two adjacent spans with different original labels
    that merge into one label stay two spans: ``B-X, B-X``.
    """
    tags: list[str] = []
    previous: str | None = None
    for label in labels:
        if _is_outside(label):
            tags.append(OUTSIDE)
            previous = None
            continue
        name = merged.get(label, label) if merged else label
        if _is_outside(name):
            tags.append(OUTSIDE)
        else:
            tags.append(("I-" if label == previous else "B-") + str(name))
        previous = label
    return tags


def label_list(entity_labels: Iterable[str]) -> list[str]:
    """``["O", "B-A", "I-A", "B-B", "I-B", ...]`` with entities sorted; ids are list positions."""
    entities = set()
    for label in entity_labels:
        if _is_outside(label):
            continue
        if label.startswith(("B-", "I-")):
            raise EncodingError(
                f"entity label {label!r} already carries a BIO prefix; pass bare entity names"
            )
        entities.add(label)
    out = [OUTSIDE]
    for entity in sorted(entities):
        out += [f"B-{entity}", f"I-{entity}"]
    return out
