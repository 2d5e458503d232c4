"""CORD v1/v2 (Clova): one JSON per receipt, words grouped into categorised ``valid_line``s.

``{"valid_line": [{"category": "menu.nm", "words": [{"quad": {"x1","y1",…,"x4","y4"}, "text",
"is_key"}]}], "meta": {"image_size": {"width", "height"}}}``; the quad runs top-left, top-right,
bottom-right, bottom-left in image pixels. A Hugging Face ``cord-v2`` row (``{"ground_truth":
"<that JSON as a string>"}``) is unwrapped. PATH is one file or a directory of ``*.json``
(searched recursively, e.g. CORD v1's ``json/``).

Each ``valid_line`` becomes one line (line id = its 1-based position). Words marked
``is_key: 1`` are the printed key (``TOTAL``, ``CASH``), not the value, and get no label.
Core map (:data:`CORE_MAP`); a category not listed gets no label. Decisions:
``sub_total.service_price`` → TIP (the service charge is the gratuity line of these
restaurant bills); ``total.cashprice``/``creditcardprice``/``emoneyprice`` → PAYMENT_METHOD (the
amount tendered by that method). ``labels="native"`` uses the category upper-cased with dots
as underscores (``menu.nm`` → ``MENU_NM``).
"""

from __future__ import annotations

import json
from pathlib import Path

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.importers._report import ParseResult, Problem
from receipt_layoutlm.importers._sources import (
    all_finite,
    existing_path,
    label_mode,
    read_dataset_file,
)

CORE_MAP = {
    "menu.nm": "PRODUCT_NAME",
    "menu.cnt": "QUANTITY",
    "menu.unitprice": "UNIT_PRICE",
    "menu.price": "LINE_TOTAL",
    "menu.discountprice": "DISCOUNT",
    "sub_total.subtotal_price": "SUBTOTAL",
    "sub_total.tax_price": "TAX",
    "sub_total.discount_price": "DISCOUNT",
    "sub_total.service_price": "TIP",
    "total.total_price": "GRAND_TOTAL",
    "total.changeprice": "CHANGE",
    "total.cashprice": "PAYMENT_METHOD",
    "total.creditcardprice": "PAYMENT_METHOD",
    "total.emoneyprice": "PAYMENT_METHOD",
}
"""CORD category → core label; every other category maps to no label."""


def native_label(category: str) -> str:
    """``menu.sub_nm`` → ``MENU_SUB_NM``."""
    return category.replace(".", "_").upper()


class NonFiniteError(ValueError):
    """A CORD receipt gives a NaN or infinite coordinate or size."""


def _corners(quad: dict) -> tuple[tuple[float, float], ...]:
    corners = tuple((float(quad[f"x{i}"]), float(quad[f"y{i}"])) for i in (1, 2, 3, 4))
    if not all_finite(v for point in corners for v in point):
        raise NonFiniteError(f"quad {quad!r} holds NaN or infinite coordinates")
    return corners


def parse_cord_record(
    data: dict, *, key: str, native: bool, image_path: str | None = None
) -> tuple[ReceiptDocument, set[str]]:
    """One CORD ground-truth object → a document and the native labels it used."""
    if isinstance(data.get("ground_truth"), str):
        data = json.loads(data["ground_truth"])
    elif isinstance(data.get("ground_truth"), dict):
        data = data["ground_truth"]
    size = data["meta"]["image_size"]
    if not all_finite((float(size["width"]), float(size["height"]))):
        raise NonFiniteError(f"meta.image_size {size!r} is not finite")
    words: list[DocWord] = []
    used: set[str] = set()
    for line_id, line in enumerate(data.get("valid_line", []), 1):
        category = str(line.get("category", ""))
        word_id = 0
        for word in line.get("words", []):
            text = str(word.get("text", "")).strip()
            if not text:
                continue
            word_id += 1
            label = None
            if not word.get("is_key") and category:
                label = native_label(category) if native else CORE_MAP.get(category)
            if label and native:
                used.add(label)
            words.append(DocWord(text=text, corners=_corners(word["quad"]),  # type: ignore[arg-type]
                                 line_id=line_id, word_id=word_id, label=label))
    doc = ReceiptDocument(key=key, width=float(size["width"]), height=float(size["height"]),
                          words=words, image_path=image_path)
    return doc, used


def _image_for(json_file: Path) -> str | None:
    # CORD v1 keeps json/<name>.json beside image/<name>.png.
    for folder in (json_file.parent, json_file.parent.parent / "image"):
        for suffix in (".png", ".jpg", ".jpeg"):
            candidate = folder / (json_file.stem + suffix)
            if candidate.is_file():
                return str(candidate)
    return None


def _key(json_file: Path, root: Path) -> str:
    if json_file == root:
        return f"cord:{json_file.stem}"
    return f"cord:{json_file.relative_to(root).with_suffix('').as_posix()}"


def parse_cord(
    path: str | Path,
    *,
    images: str | Path | None = None,
    labels: str = "core",
    limit: int | None = None,
) -> ParseResult:
    """Read one CORD JSON file or a directory of them into documents."""
    del images  # images are found beside the JSON (CORD v1 layout) when present
    root = existing_path(path, "a CORD .json file or a directory of them")
    native = label_mode(labels) == "native"
    files = [root] if root.is_file() else sorted(root.rglob("*.json"))
    if not files:
        from receipt_layoutlm.errors import ImportFormatError

        raise ImportFormatError(
            f"{root} holds no CORD *.json files; pass a CORD .json file or a folder of them "
            "(e.g. cord/train/json)"
        )
    if limit is not None:
        files = files[:limit]
    result = ParseResult()
    used: set[str] = set()
    for json_file in files:
        text = read_dataset_file(json_file, result.problems)
        if text is None:
            continue
        try:
            data = json.loads(text)
            doc, labels_used = parse_cord_record(
                data, key=_key(json_file, root), native=native, image_path=_image_for(json_file)
            )
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(str(json_file), exc.lineno,
                                           f"not valid JSON ({exc.msg}); receipt skipped"))
            continue
        except NonFiniteError as exc:
            result.problems.append(Problem(str(json_file), None, f"{exc}; receipt skipped"))
            continue
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.problems.append(Problem(str(json_file), None,
                                           f"not a CORD receipt (missing or bad {exc}); expected "
                                           "valid_line[].words[].quad and meta.image_size"))
            continue
        if result.add_document(doc, str(json_file)):
            used |= labels_used
    result.native_labels = tuple(sorted(used))
    return result
