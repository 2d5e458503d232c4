"""The project's interchange format: JSON lines, one receipt per line (docs/dataset-formats.md).

    {"key": "sroie:X51005230605", "width": 463, "height": 1000, "origin": "top-left",
     "normalized": false, "image_path": "...", "fields": {"total": "9.00"},
     "words": [{"text": "TOTAL", "corners": [[x, y], [x, y], [x, y], [x, y]],
                "line_id": 3, "word_id": 1, "label": "GRAND_TOTAL", "confidence": 0.98,
                "segment_id": 12, "segment_class": "Total_value"}]}

``corners`` are top-left, top-right, bottom-right, bottom-left; instead of them a word may give
``"box": [x0, y0, x1, y1]`` (axis-aligned, x0 < x1, y0 < y1 in the document's frame). The writer
always writes corners, so a round trip is exact. ``segment_id``/``segment_class`` (optional)
name the dataset segment a word comes from and its native class (WildReceipt). Labels: with
``labels="core"`` a label outside the core labels (``receipt_dynamo.CORE_LABELS``) is dropped
(one problem per receipt);
``labels="native"`` keeps every well-formed label. An empty file is a problem on line 1; a key
repeated within one parse is a problem on the repeating line.

:func:`export_store` writes a store's receipts in this format under their dataset keys
(``records.dataset_key``), so importing the export into the same store adds nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from receipt_dynamo.limits import finite_float
from receipt_dynamo.vocabulary import LABEL_RULE, is_label_name
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import DatasetError
from receipt_layoutlm.importers._report import ParseResult, Problem
from receipt_layoutlm.importers._sources import (
    existing_path,
    label_mode,
    read_dataset_file,
    split_lines,
)

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore

_ORIGINS = ("top-left", "bottom-left")


def document_to_json(doc: ReceiptDocument) -> dict[str, Any]:
    """One document as a JSONL record (optional keys only when set)."""
    record: dict[str, Any] = {
        "key": doc.key,
        "width": doc.width,
        "height": doc.height,
        "origin": doc.origin,
        "normalized": doc.normalized,
    }
    if doc.image_path:
        record["image_path"] = doc.image_path
    if doc.fields:
        record["fields"] = dict(doc.fields)
    words = []
    for word in doc.words:
        item: dict[str, Any] = {"text": word.text, "corners": [list(c) for c in word.corners]}
        for name in ("line_id", "word_id", "label", "segment_id", "segment_class"):
            if getattr(word, name) is not None:
                item[name] = getattr(word, name)
        if word.confidence != 1.0:
            item["confidence"] = word.confidence
        words.append(item)
    record["words"] = words
    return record


def write_jsonl(docs: Iterable[ReceiptDocument], out: str | Path | IO[str]) -> int:
    """Write documents as JSON lines to a path or an open text file; returns the count.

    A path is written through a temp file beside it and renamed over it at the end, so a killed
    or failed export leaves the previous file whole. A value JSON cannot carry (NaN, infinity)
    is a DatasetError naming the receipt; nothing writes a bare ``Infinity`` token.
    """
    if isinstance(out, str | Path):
        return _write_jsonl_file(docs, Path(out))
    count = 0
    for doc in docs:
        try:
            line = json.dumps(document_to_json(doc), ensure_ascii=False, allow_nan=False)
        except ValueError as exc:
            raise DatasetError(f"receipt {doc.key!r} cannot be written as JSON ({exc})") from None
        out.write(line + "\n")
        count += 1
    return count


def _write_jsonl_file(docs: Iterable[ReceiptDocument], path: Path) -> int:
    if path.is_dir():
        raise DatasetError(f"{path} is a directory; pass the path of the .jsonl file to write")
    try:  # closed by the `with` below; opened here so a failure to create it reads as one line
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
            delete=False,
        )
    except OSError as exc:
        raise DatasetError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with handle:
            count = write_jsonl(docs, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


def export_store(
    store: ReceiptStore,
    out: str | Path | IO[str],
    *,
    statuses: Sequence[str] = ("VALID",),
    include_unlabelled: bool = False,
) -> int:
    """Write the store's receipts as JSONL (one label per word among ``statuses``, see
    ``records.resolve_word_labels``); returns the number written.

    Receipts without a label of those statuses are left out unless ``include_unlabelled``. Each
    receipt is keyed by ``records.dataset_key``: its import key, else ``<image id>#<receipt id>``.
    """
    from receipt_dynamo import EntityValidationError, ValidationStatus
    from receipt_layoutlm.records import dataset_key, document_from_details, store_key

    wanted = tuple(str(s).upper() for s in statuses)
    known = [status.value for status in ValidationStatus]
    if unknown := [s for s in wanted if s not in known]:
        raise DatasetError(
            f"unknown label status {unknown[0]!r}; use one of {', '.join(known)} (--status)"
        )

    def documents() -> Iterator[ReceiptDocument]:
        for receipt in sorted(store.list_receipts(), key=lambda r: (r.image_id, r.receipt_id)):
            try:
                details = store.get_receipt_details(receipt.image_id, receipt.receipt_id)
            except EntityValidationError as exc:  # e.g. an infinite corner stored long ago
                raise DatasetError(
                    f"receipt {store_key(receipt.image_id, int(receipt.receipt_id))} cannot be "
                    f"exported: {exc}; fix or delete it (nothing was written)"
                ) from None
            doc = document_from_details(details, statuses=wanted)
            if include_unlabelled or any(w.label for w in doc.words):
                yield replace(doc, key=dataset_key(details.receipt))

    return write_jsonl(documents(), out)


def _number(value: Any, name: str) -> float:
    number = finite_float(value)
    if number is None:
        raise ValueError(f"{name} must be a finite number, got {str(value)[:40]}")
    return number


def _point(value: Any, name: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{name} must be 4 [x, y] points, got {json.dumps(value)[:60]}")
    return _number(value[0], name), _number(value[1], name)


def _object(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be a JSON object, got {json.dumps(item)[:60]}")
    return item


def _word(item: dict[str, Any], index: int, origin: str) -> DocWord:
    where = f"words[{index}]"
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}.text must be a non-empty string")
    if "corners" in item:
        corners = item["corners"]
        if not isinstance(corners, list) or len(corners) != 4:
            raise ValueError(f"{where}.corners must be 4 [x, y] points")
        points = tuple(_point(p, f"{where}.corners") for p in corners)
    elif "box" in item:
        box = item["box"]
        if not isinstance(box, list) or len(box) != 4:
            raise ValueError(f"{where}.box must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (_number(v, f"{where}.box") for v in box)
        low, high = min(y0, y1), max(y0, y1)
        top, bottom = (low, high) if origin == "top-left" else (high, low)
        left, right = min(x0, x1), max(x0, x1)
        points = ((left, top), (right, top), (right, bottom), (left, bottom))
    else:
        raise ValueError(f"{where} needs 'corners' or 'box'")
    label = item.get("label")
    if label is not None and not is_label_name(label):
        raise ValueError(f"{where}.label {label!r} is not {LABEL_RULE}")
    ids = {}
    for name in ("line_id", "word_id", "segment_id"):
        value = item.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where}.{name} must be an integer")
        ids[name] = value
    segment_class = item.get("segment_class")
    if segment_class is not None and (not isinstance(segment_class, str) or not segment_class):
        raise ValueError(f"{where}.segment_class must be a non-empty string")
    confidence = _number(item.get("confidence", 1.0), f"{where}.confidence")
    return DocWord(text=text, corners=points, label=label, confidence=confidence,  # type: ignore[arg-type]
                   segment_class=segment_class, **ids)


def document_from_json(record: dict[str, Any]) -> ReceiptDocument:
    """One JSONL record → a document (ValueError naming the bad field)."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    key = record.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError("'key' must be a non-empty string")
    origin = record.get("origin", "top-left")
    if origin not in _ORIGINS:
        raise ValueError(f"'origin' must be one of {_ORIGINS}, got {origin!r}")
    words = record.get("words")
    if not isinstance(words, list):
        raise ValueError("'words' must be a list")
    fields = record.get("fields") or {}
    if not isinstance(fields, dict):
        raise ValueError("'fields' must be an object")
    return ReceiptDocument(
        key=key,
        width=_number(record.get("width"), "width"),
        height=_number(record.get("height"), "height"),
        words=[_word(_object(item, f"words[{i}]"), i, origin) for i, item in enumerate(words)],
        origin=origin,
        normalized=bool(record.get("normalized", False)),
        fields={str(k): str(v) for k, v in fields.items() if v is not None},
        image_path=record.get("image_path"),
    )


def parse_jsonl(
    path: str | Path,
    *,
    images: str | Path | None = None,
    labels: str = "core",
    limit: int | None = None,
) -> ParseResult:
    """Read a JSONL file (or a directory of ``*.jsonl``) into documents."""
    from receipt_dynamo import CORE_LABELS

    del images  # records carry their own image_path
    root = existing_path(path, "a .jsonl file or a directory of them")
    native = label_mode(labels) == "native"
    files = [root] if root.is_file() else sorted(root.glob("*.jsonl"))
    if not files:
        from receipt_layoutlm.errors import ImportFormatError

        raise ImportFormatError(f"{root} holds no *.jsonl files; pass a .jsonl file or its folder")
    result = ParseResult()
    used: set[str] = set()
    for jsonl_file in files:
        text = read_dataset_file(jsonl_file, result.problems)
        if text is None:
            continue
        for number, line in enumerate(split_lines(text), 1):
            if limit is not None and len(result.documents) >= limit:
                break
            if not line.strip():
                continue
            try:
                doc = document_from_json(json.loads(line))
            except json.JSONDecodeError as exc:
                result.problems.append(Problem(str(jsonl_file), number,
                                               f"not valid JSON ({exc.msg}); receipt skipped"))
                continue
            except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
                result.problems.append(Problem(str(jsonl_file), number,
                                               f"{exc}; receipt skipped"))
                continue
            doc_labels = {w.label for w in doc.words if w.label}
            foreign = doc_labels - set(CORE_LABELS)
            if foreign and not native:
                result.problems.append(Problem(
                    str(jsonl_file), number,
                    f"labels {sorted(foreign)} are not core labels; dropped (use --labels native "
                    "to keep them)"))
                doc.words = [
                    w if w.label not in foreign else replace(w, label=None) for w in doc.words
                ]
            if result.add_document(doc, str(jsonl_file), number) and native:
                used |= foreign
    result.native_labels = tuple(sorted(used))
    return result
