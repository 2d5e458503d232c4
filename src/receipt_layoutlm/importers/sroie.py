"""ICDAR 2019 SROIE: task-1 line boxes + task-3 key values → labelled word-level receipts.

Layout of PATH: ``box/<ID>.txt`` (one text line per row: ``x1,y1,…,x4,y4,transcript``, a
clockwise quad from the top-left, split on the first 8 commas only), ``entities/<ID>.txt`` (JSON
with ``company``, ``date``, ``address``, ``total``) and optionally ``img/<ID>.jpg`` (or
``images=DIR``) for the receipt size; without an image the size is the extent of the boxes.

Words: each line is split on whitespace; a word's quad is cut out of the line quad in proportion
to character positions (spaces count as characters), interpolating along the quad's top and
bottom edges so slanted lines stay slanted.

Word labels come from the key values (core label in brackets; ``labels="native"`` uses the
upper-cased key name instead):

- company (MERCHANT_NAME), address (ADDRESS_LINE): the words spelling the value, compared on
  letters and digits only, exact first, else the most similar whole-word run (rapidfuzz) if it
  is at least 80 % similar; a value may run over consecutive lines.
- date (DATE): every word run whose date reads the same as the value's, whatever the notation
  (``25/12/2018`` = ``25-12-18`` = ``25 DEC 2018``). Only the date's own words are labelled: a
  line ``25/12/2018 8:13:39 PM`` labels ``25/12/2018``.
- total (GRAND_TOTAL): a word whose amount equals the value (``9.00`` = ``RM9.00`` = ``9.0``).
  When several do, the one on a visual row with a total keyword (TOTAL, ROUNDED, NETT, AMOUNT
  DUE…, but not SUBTOTAL, TOTAL QTY…) wins, the lowest such row on the receipt; without a
  keyword row, the lowest occurrence not on a CASH/CHANGE row. Only the amount word is labelled:
  on ``TOTAL: RM 9.00`` that is ``9.00``; a fused ``RM9.00`` is one word and labelled whole.

Coverage per key: the share of receipts with a non-empty value whose every value token was
matched to a labelled word (see :func:`~receipt_layoutlm.importers._matching.value_fully_matched`;
for date and total: the value was found at all).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from receipt_layoutlm.document import DocWord, Point, ReceiptDocument
from receipt_layoutlm.encoding import group_lines
from receipt_layoutlm.importers._matching import find_text, value_fully_matched
from receipt_layoutlm.importers._report import (
    KeyCoverage,
    ParseResult,
    Problem,
    UnmatchedValue,
)
from receipt_layoutlm.importers._sources import (
    all_finite,
    decode_text,
    existing_path,
    image_size,
    label_mode,
    split_lines,
)
from receipt_layoutlm.importers._values import date_readings, find_dates, parse_amount

CORE_LABELS = {
    "company": "MERCHANT_NAME",
    "address": "ADDRESS_LINE",
    "date": "DATE",
    "total": "GRAND_TOTAL",
}
"""SROIE key → core label."""

NATIVE_LABELS = {key: key.upper() for key in CORE_LABELS}
"""SROIE key → native label (the key name, upper-cased)."""

# Keys are matched in this order; a word already claimed by an earlier key is not relabelled.
_MATCH_ORDER = ("date", "total", "company", "address")

_TOTAL_KEYWORD = re.compile(
    r"TOTAL|ROUND|NETT|NET\s?AMT|GRAND|PAYABLE|JUMLAH|\bTTL\b|\bTL\b|\bDUE\b"
    r"|(AMOUNT|AMT)\s?(PAID|INCL|TO\s?BE\s?PAID)"
)
_NOT_TOTAL = re.compile(
    r"SUB\s?-?\s?TOTAL|TOTAL\s?(QTY|QUANTITY|ITEM|DISC|SAVING|GST|TAX|EXCL|NO\b)"
)
_PAYMENT_ROW = re.compile(r"CASH|CHANGE|TENDER|PAID|CREDIT|VISA|MASTER")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG")


@dataclass(frozen=True)
class BoxLine:
    """One row of a box file."""

    number: int
    """1-based line number in the file."""
    corners: tuple[Point, Point, Point, Point]
    """Top-left, top-right, bottom-right, bottom-left in image pixels."""
    text: str
    """The transcript (may contain commas)."""


def read_box_file(path: Path) -> tuple[list[BoxLine], list[Problem]]:
    """Parse one box file; malformed rows become problems, the rest is returned."""
    text, problems = decode_text(path)
    lines: list[BoxLine] = []
    for number, row in enumerate(split_lines(text), 1):
        if not row.strip():
            continue  # blank and trailing lines carry nothing
        parts = row.split(",", 8)
        try:
            if len(parts) < 9:
                raise ValueError
            coords = [float(p) for p in parts[:8]]
        except ValueError:
            problems.append(
                Problem(
                    str(path),
                    number,
                    "expected 8 comma-separated coordinates then the text "
                    f"(x1,y1,…,x4,y4,text); row skipped: {row[:60]!r}",
                )
            )
            continue
        if not all_finite(coords):
            problems.append(Problem(str(path), number, "coordinates must be finite numbers (not "
                                    f"NaN or infinity); row skipped: {row[:60]!r}"))
            continue
        transcript = parts[8].strip()
        if not transcript:
            continue  # a box without text has no word to label
        corners = tuple((coords[i], coords[i + 1]) for i in range(0, 8, 2))
        lines.append(BoxLine(number, corners, transcript))  # type: ignore[arg-type]
    if not lines and not problems:
        problems.append(Problem(str(path), 1, "empty box file: no text lines; receipt skipped"))
    return lines, problems


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def words_from_line(
    text: str, corners: tuple[Point, Point, Point, Point], line_id: int
) -> list[DocWord]:
    """Split a line into words with quads proportional to character positions."""
    top_left, top_right, bottom_right, bottom_left = corners
    n = len(text)
    words = []
    for word_id, match in enumerate(re.finditer(r"\S+", text), 1):
        a, b = match.start() / n, match.end() / n
        words.append(
            DocWord(
                text=match.group(),
                corners=(
                    _lerp(top_left, top_right, a),
                    _lerp(top_left, top_right, b),
                    _lerp(bottom_left, bottom_right, b),
                    _lerp(bottom_left, bottom_right, a),
                ),
                line_id=line_id,
                word_id=word_id,
            )
        )
    return words


def read_entities(path: Path) -> tuple[dict[str, str], list[Problem]]:
    """The key values of one receipt (empty values dropped)."""
    text, problems = decode_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg}); no labels"))
        return {}, problems
    if not isinstance(data, dict):
        problems.append(Problem(str(path), 1, "expected a JSON object of key values; no labels"))
        return {}, problems
    # A null value means "not given": searching for the text 'None' would label a wrong word.
    fields = {
        str(k).lower(): str(v).strip()
        for k, v in data.items()
        if v is not None and str(v).strip()
    }
    return fields, problems


class _Rows:
    """Visual rows of the box lines (SROIE often boxes ``TOTAL:`` and ``9.00`` separately)."""

    def __init__(self, lines: list[BoxLine]) -> None:
        boxes = [DocWord(text=line.text, corners=line.corners, line_id=i) for i, line in
                 enumerate(lines)]
        self.row_of: dict[int, int] = {}
        self.text: list[str] = []
        for row, members in enumerate(group_lines(boxes)):
            for box in members:
                self.row_of[box.line_id] = row  # type: ignore[index]
            self.text.append(" ".join(box.text for box in members).upper())


def _amount_candidates(value: str, words: list[DocWord]) -> list[int]:
    target = parse_amount(value)
    if target is None:
        return []
    needs_fraction = "." in value
    return [
        i for i, w in enumerate(words)
        if (not needs_fraction or "." in w.text) and parse_amount(w.text) == target
    ]


def _match_total(value: str, words: list[DocWord], rows: _Rows, tops: list[float]) -> list[int]:
    candidates = _amount_candidates(value, words)
    if not candidates:
        return []

    def row_text(i: int) -> str:
        return rows.text[rows.row_of[words[i].line_id - 1]]  # type: ignore[operator]

    def lowest(indices: list[int]) -> int:
        return max(indices, key=lambda i: (tops[i], i))

    keyword = [i for i in candidates if _TOTAL_KEYWORD.search(_NOT_TOTAL.sub(" ", row_text(i)))]
    if keyword:
        return [lowest(keyword)]
    not_payment = [i for i in candidates if not _PAYMENT_ROW.search(row_text(i))]
    return [lowest(not_payment or candidates)]


def _match_date(value: str, words: list[DocWord]) -> list[int]:
    target = date_readings(value)
    if not target:
        return []
    matched: list[int] = []
    by_line: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        by_line.setdefault(w.line_id, []).append(i)  # type: ignore[arg-type]
    for members in by_line.values():
        # Word i occupies [offset, offset + len) of the line's text joined with single spaces.
        offsets, pos = [], 0
        for i in members:
            offsets.append(pos)
            pos += len(words[i].text) + 1
        line_text = " ".join(words[i].text for i in members)
        for start, end, readings in find_dates(line_text):
            if readings & target:
                matched.extend(
                    i for i, off in zip(members, offsets, strict=True)
                    if off < end and start < off + len(words[i].text)
                )
    return matched


def label_words(
    words: list[DocWord], lines: list[BoxLine], fields: dict[str, str], label_map: dict[str, str]
) -> tuple[list[DocWord], dict[str, bool]]:
    """Words with labels derived from the key values, and per key whether it was fully labelled."""
    rows = _Rows(lines)
    tops = [min(c[1] for c in w.corners) for w in words]
    texts = [w.text for w in words]
    owner: dict[int, str] = {}
    complete: dict[str, bool] = {}
    for key in _MATCH_ORDER:
        value = fields.get(key)
        if not value:
            continue
        if key == "total":
            found = _match_total(value, words, rows, tops)
        elif key == "date":
            found = _match_date(value, words)
        else:
            match = find_text(value, texts)
            found = list(match.tokens) if match else []
        claimed = [i for i in found if i not in owner]
        for i in claimed:
            owner[i] = key
        if key in ("company", "address"):
            complete[key] = bool(claimed) and value_fully_matched(value, [texts[i] for i in
                                                                          claimed])
        else:
            complete[key] = bool(claimed)
    labelled = [
        replace(w, label=label_map[owner[i]]) if i in owner else w for i, w in enumerate(words)
    ]
    return labelled, complete


def _find_image(receipt_id: str, directories: list[Path]) -> Path | None:
    for directory in directories:
        for suffix in _IMAGE_SUFFIXES:
            candidate = directory / f"{receipt_id}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def parse_sroie(
    path: str | Path,
    *,
    images: str | Path | None = None,
    labels: str = "core",
    limit: int | None = None,
) -> ParseResult:
    """Read a SROIE directory (``box/``, ``entities/``, optional ``img/``) into documents."""
    root = existing_path(path, "a SROIE split directory (box/, entities/), e.g. sroie/train")
    label_map = CORE_LABELS if label_mode(labels) == "core" else NATIVE_LABELS
    box_dir = root / "box"
    if not box_dir.is_dir():
        from receipt_layoutlm.errors import ImportFormatError

        raise ImportFormatError(
            f"{root} is not a SROIE directory: expected {box_dir}/<ID>.txt box files "
            "(and entities/<ID>.txt); point PATH at the split, e.g. sroie/train"
        )
    image_dirs = [Path(images)] if images else [root / "img"]
    result = ParseResult(coverage={key: KeyCoverage() for key in label_map})
    if label_map is NATIVE_LABELS:
        result.native_labels = tuple(NATIVE_LABELS.values())
    box_files = sorted(box_dir.glob("*.txt"))
    box_names = {f.name for f in box_files}
    result.problems.extend(
        Problem(str(orphan), None, f"no {box_dir / orphan.name}: the receipt's words are "
                "missing; receipt skipped")
        for orphan in sorted((root / "entities").glob("*.txt"))
        if orphan.name not in box_names
    )
    if limit is not None:
        box_files = box_files[:limit]
    for box_file in box_files:
        receipt_id = box_file.stem
        lines, problems = read_box_file(box_file)
        result.problems.extend(problems)
        if not lines:
            continue
        words = [
            w for line_id, line in enumerate(lines, 1)
            for w in words_from_line(line.text, line.corners, line_id)
        ]
        entities_file = root / "entities" / box_file.name
        fields: dict[str, str] = {}
        if entities_file.is_file():
            fields, problems = read_entities(entities_file)
            result.problems.extend(problems)
        else:
            result.problems.append(
                Problem(str(box_file), None, f"no {entities_file}; imported without labels")
            )
        key = f"sroie:{receipt_id}"
        words, complete = label_words(words, lines, fields, label_map)
        for name, ok in complete.items():
            coverage = result.coverage.setdefault(name, KeyCoverage())
            coverage.total += 1
            coverage.labelled += ok
            if not ok:
                result.unmatched.append(UnmatchedValue(name, key, fields[name]))
        image = _find_image(receipt_id, image_dirs)
        size = image_size(image, result.problems) if image else None
        if size is None:
            xs = [c[0] for line in lines for c in line.corners]
            ys = [c[1] for line in lines for c in line.corners]
            size = (max(1.0, max(xs)), max(1.0, max(ys)))
        result.add_document(
            ReceiptDocument(
                key=key,
                width=float(size[0]),
                height=float(size[1]),
                words=words,
                fields=fields,
                image_path=str(image) if image else None,
            ),
            str(box_file),
        )
    return result
