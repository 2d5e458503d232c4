"""Reading dataset files the way they really are: mixed encodings, images only for their size."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from receipt_dynamo.vocabulary import CORE_LABELS
from receipt_layoutlm.errors import ImportFormatError
from receipt_layoutlm.importers._report import Problem

LABEL_MODES = ("core", "native")


def label_mode(labels: str) -> str:
    """Check a ``--labels`` value."""
    if labels not in LABEL_MODES:
        raise ImportFormatError(
            f"unknown label mode {labels!r}: use 'core' (the {len(CORE_LABELS)} receipt labels) "
            "or 'native' (the dataset's own label names)"
        )
    return labels


def existing_path(path: str | Path, expected: str) -> Path:
    """``path`` as a Path; ImportFormatError naming it when it does not exist."""
    root = Path(path)
    if not root.exists():
        raise ImportFormatError(f"{root} does not exist; pass {expected}")
    return root


def split_lines(text: str) -> list[str]:
    """``text`` cut at ``\n`` (a ``\r`` before it dropped), and nowhere else.

    ``str.splitlines`` also cuts at U+2028, U+2029, U+0085 and other separators that are plain
    characters inside a JSON string or a latin-1 byte 0x85; it would break a receipt in two.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def empty_file(path: Path, text: str) -> Problem | None:
    """The line-numbered problem of a file with nothing but whitespace, else None."""
    return None if text.strip() else Problem(str(path), 1, "empty file: no receipts")


def all_finite(values: Iterable[float]) -> bool:
    """True when no coordinate is NaN or infinite (they would break line grouping)."""
    return all(math.isfinite(v) for v in values)


def decode_bytes(data: bytes, name: str) -> tuple[str, list[Problem]]:
    """UTF-8 (BOM tolerated) or, failing that, latin-1 — reported with the first bad line."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(name, line, "not valid UTF-8; file read as latin-1")
        return data.decode("latin-1"), [problem]


def decode_text(path: Path) -> tuple[str, list[Problem]]:
    """A text file's content, see :func:`decode_bytes`."""
    return decode_bytes(path.read_bytes(), str(path))


def read_dataset_file(path: Path, problems: list[Problem]) -> str | None:
    """A dataset file's text with its decoding problems appended to ``problems``; None (and an
    ``empty file`` problem) when it holds nothing."""
    text, decoding = decode_text(path)
    problems.extend(decoding)
    if empty := empty_file(path, text):
        problems.append(empty)
        return None
    return text


def image_size(path: Path, problems: list[Problem]) -> tuple[int, int] | None:
    """Pixel size of an image (header only), or None with a problem noted."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow ships with the train extra
        problems.append(Problem(str(path), None, "pillow not installed; size from the boxes"))
        return None
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as exc:
        problems.append(Problem(str(path), None, f"unreadable image ({exc}); size from the boxes"))
        return None
