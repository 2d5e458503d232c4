"""WildReceipt (OpenMMLab): one JSON object per line, one labelled text segment per annotation.

``{"file_name", "height", "width", "annotations": [{"box": [8 floats], "text", "label"}]}``;
``label`` is a 0-based line index into ``class_list.txt`` (looked up next to the annotation file
or in a parent directory). The quad starts at the bottom-left corner (image coordinates, y down)
and runs BL, BR, TR, TL. A segment is split into words on whitespace (quads proportional to
character positions, as for SROIE lines; nearly every segment in this release is one word), and
each word keeps its segment: ``segment_id`` (the annotation's 1-based index in its receipt) and
``segment_class`` (the class name, e.g. ``Total_value``), which the segment metric
(``evaluation.segments``) groups and scores by. Line ids come from the encoding spec's line
clustering (``encoding.group_lines``), so reading order is computed in one place only; segments
on one printed row share a line id, hence the separate segment id.

``labels="core"`` maps the value classes to core labels (:data:`CORE_MAP`; keys, ``Others`` and
``Ignore`` get no label); ``labels="native"`` keeps all 26 class names, upper-cased.
Segments with empty text are skipped (they carry nothing to read); a segment with NaN or
infinite coordinates is skipped with a line-numbered problem; an empty file is a problem on line 1.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import group_lines
from receipt_layoutlm.errors import EncodingError, ImportFormatError
from receipt_layoutlm.importers._report import ParseResult, Problem
from receipt_layoutlm.importers._sources import (
    all_finite,
    decode_text,
    existing_path,
    label_mode,
    read_dataset_file,
    split_lines,
)
from receipt_layoutlm.importers.sroie import words_from_line

CORE_MAP = {
    "Store_name_value": "MERCHANT_NAME",
    "Store_addr_value": "ADDRESS_LINE",
    "Tel_value": "PHONE_NUMBER",
    "Date_value": "DATE",
    "Time_value": "TIME",
    "Prod_item_value": "PRODUCT_NAME",
    "Prod_quantity_value": "QUANTITY",
    "Prod_price_value": "LINE_TOTAL",
    "Subtotal_value": "SUBTOTAL",
    "Tax_value": "TAX",
    "Tips_value": "TIP",
    "Total_value": "GRAND_TOTAL",
}
"""WildReceipt value class → core label; every other class maps to no label."""

DEFAULT_CLASSES = (
    "Ignore", "Store_name_value", "Store_name_key", "Store_addr_value", "Store_addr_key",
    "Tel_value", "Tel_key", "Date_value", "Date_key", "Time_value", "Time_key",
    "Prod_item_value", "Prod_item_key", "Prod_quantity_value", "Prod_quantity_key",
    "Prod_price_value", "Prod_price_key", "Subtotal_value", "Subtotal_key", "Tax_value",
    "Tax_key", "Tips_value", "Tips_key", "Total_value", "Total_key", "Others",
)  # fmt: skip
"""The release's class list, used when no ``class_list.txt`` is found."""

_NOT_ANNOTATIONS = {"class_list.txt", "dict.txt"}


def native_label(class_name: str) -> str:
    """A class name upper-cased: ``Store_name_value`` → ``STORE_NAME_VALUE``."""
    return class_name.upper()


def _find_class_list(start: Path) -> Path | None:
    for directory in (start, *start.parents[:2]):
        candidate = directory / "class_list.txt"
        if candidate.is_file():
            return candidate
    return None


def read_class_list(path: Path) -> list[str]:
    """Class names; a class id is the 0-based line index."""
    text, _ = decode_text(path)
    return [line.strip() for line in split_lines(text) if line.strip()]


def _corners(box: list[float]) -> tuple[tuple[float, float], ...]:
    points = [(float(box[i]), float(box[i + 1])) for i in range(0, 8, 2)]
    bottom_left, bottom_right, top_right, top_left = points
    return (top_left, top_right, bottom_right, bottom_left)


def _parse_receipt(
    record: dict, where: Path, number: int, classes: list[str], native: bool,
    problems: list[Problem],
) -> ReceiptDocument:
    annotations = record.get("annotations", [])
    if not isinstance(annotations, list):
        raise ValueError(f"'annotations' must be a list of objects, got {annotations!r:.60}")
    words = []
    for index, annotation in enumerate(annotations):
        if not isinstance(annotation, dict):
            problems.append(Problem(str(where), number, f"annotation {index} is not an object; "
                                    "segment skipped"))
            continue
        text = str(annotation.get("text", "")).strip()
        if not text:
            continue
        box = annotation.get("box")
        if not isinstance(box, list) or len(box) != 8:
            problems.append(Problem(str(where), number, f"annotation {index}: box is not 8 "
                                    "numbers; segment skipped"))
            continue
        if not all_finite(float(v) for v in box):
            problems.append(Problem(str(where), number, f"annotation {index}: box {box!r} holds "
                                    "NaN or infinite coordinates; segment skipped"))
            continue
        class_id = annotation.get("label")
        label = name = None
        if isinstance(class_id, int) and 0 <= class_id < len(classes):
            name = classes[class_id]
            label = native_label(name) if native else CORE_MAP.get(name)
        else:
            problems.append(Problem(str(where), number, f"annotation {index}: label "
                                    f"{class_id!r} is not a class id (0..{len(classes) - 1}); "
                                    "segment imported without a label"))
        words += [
            replace(word, line_id=None, word_id=None, label=label, segment_id=index + 1,
                    segment_class=name)
            for word in words_from_line(text, _corners(box), 0)  # type: ignore[arg-type]
        ]
    numbered = [
        replace(word, line_id=line_id, word_id=word_id)
        for line_id, line in enumerate(group_lines(words), 1)
        for word_id, word in enumerate(line, 1)
    ]
    file_name = str(record["file_name"])
    image = where.parent / file_name
    width, height = float(record["width"]), float(record["height"])
    if not all_finite((width, height)):
        raise ValueError(f"width/height {width}/{height} must be finite numbers")
    return ReceiptDocument(
        key=f"wildreceipt:{file_name}",
        width=width,
        height=height,
        words=numbered,
        image_path=str(image) if image.is_file() else None,
    )


def _annotation_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.glob("*.txt") if p.name not in _NOT_ANNOTATIONS)


def parse_wildreceipt(
    path: str | Path,
    *,
    images: str | Path | None = None,
    labels: str = "core",
    limit: int | None = None,
) -> ParseResult:
    """Read a WildReceipt annotation file (or a directory of them) into documents.

    ``images`` is accepted for a uniform importer signature; image paths come from the JSON.
    """
    del images  # the annotation names its image relative to itself
    root = existing_path(path, "a WildReceipt annotation file (e.g. train.txt) or its directory")
    native = label_mode(labels) == "native"
    result = ParseResult()
    class_file = _find_class_list(root if root.is_dir() else root.parent)
    if class_file is None:
        classes = list(DEFAULT_CLASSES)
        result.problems.append(Problem(str(root), None, "no class_list.txt next to the "
                                       "annotations or above them; using the release's 26 classes"))
    else:
        classes = read_class_list(class_file)
    if native:
        result.native_labels = tuple(native_label(name) for name in classes)
    annotation_files = _annotation_files(root)
    if not annotation_files:
        raise ImportFormatError(
            f"{root} holds no WildReceipt annotation files (*.txt besides class_list.txt); pass "
            "the annotation file (e.g. train.txt) or its directory"
        )
    for annotation_file in annotation_files:
        text = read_dataset_file(annotation_file, result.problems)
        if text is None:
            continue
        for number, line in enumerate(split_lines(text), 1):
            if limit is not None and len(result.documents) >= limit:
                return result
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("expected a JSON object")
                doc = _parse_receipt(record, annotation_file, number, classes, native,
                                     result.problems)
                result.add_document(doc, str(annotation_file), number)
            except json.JSONDecodeError as exc:
                result.problems.append(Problem(str(annotation_file), number,
                                               f"not valid JSON ({exc.msg}); receipt skipped"))
            except (KeyError, TypeError, ValueError, AttributeError, EncodingError) as exc:
                result.problems.append(Problem(str(annotation_file), number,
                                               f"malformed receipt ({exc!r}); receipt skipped"))
    return result
