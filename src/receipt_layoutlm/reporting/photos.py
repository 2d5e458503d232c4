"""The labelling worker's results in the raw object store → photos with boxes coloured by label.

The worker writes one results JSON per image under ``ocr_results/`` and an annotated PNG under
``receipts/``. This reader accepts the shapes that JSON can reasonably take, so the report works
with whatever the worker writes:

- the receipt itself (``words``, ``fields``) or ``{"receipts": [receipt, ...]}``;
- per word: ``text``, ``label`` (``None``/``"O"`` = unlabelled) and its geometry as
  ``corners`` (``[[x, y]×4]`` or ``[{"x", "y"}×4]``), ``box`` (``[x0, y0, x1, y1]`` or
  ``{"x", "y", "width", "height"}``) or ``bounding_box`` (either form);
- the frame: ``coordinates {"origin", "units"}`` (``receipt-ocr``'s results, format 1), or
  ``origin`` (``top-left`` default, ``bottom-left``) and ``normalized`` (fractions of the image);
- fields as ``{name: {"value"|"text", "confidence"}}`` or ``{name: value}``;
- the model that labelled it: ``model {"version", "runtime"}``, or ``label_proposed_by``,
  ``model_version``, ``bundle_version``, ``model`` as text;
- the photo: ``image {"s3_key"}`` (``receipt-ocr``), else the first of ``image_key``, ``s3_key``,
  ``raw_key``, ``image_s3_key``, ``image`` that names an object in the raw store; else the
  worker's annotated PNG (``annotated_key``, ``annotated_image_key``, or the results key with
  ``ocr_results/`` → ``receipts/`` and ``.json`` → ``.png``) shown as it is; else the boxes on a
  blank page of the words' extent.
"""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw

from receipt_layoutlm.reporting.inputs import FieldValue, ReceiptResults, Word, parse
from receipt_layoutlm.reporting.model import LabelledPhoto, ReportData

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore

log = logging.getLogger(__name__)

RESULTS_PREFIX = "ocr_results/"
ANNOTATED_PREFIX = "receipts/"
IMAGE_KEYS = ("image_key", "s3_key", "raw_key", "image_s3_key", "image")
ANNOTATED_KEYS = ("annotated_key", "annotated_image_key")
MODEL_KEYS = ("model", "label_proposed_by", "model_version", "bundle_version")
MAX_SIDE = 1100
MAX_BLANK_SIDE = 4000
"""Largest blank page drawn when the photo is missing (pixels a side)."""


def label_colour(label: str) -> tuple[int, int, int]:
    """The label's colour: the one palette of the report, the worker's PNG and the review app."""
    from receipt_dynamo.label_colours import label_colour as shared

    return shared(label)


def _frame(receipt: ReceiptResults) -> tuple[bool, bool]:
    """(normalized, bottom-left origin) of the word coordinates."""
    if receipt.coordinates is not None:
        return (receipt.coordinates.units == "normalized",
                receipt.coordinates.origin == "bottom-left")
    return receipt.normalized, receipt.origin == "bottom-left"


def _image_keys(receipt: dict[str, Any]) -> list[str]:
    image = receipt.get("image")
    keys = [image[k] for k in ("s3_key", "key")
            if isinstance(image, dict) and isinstance(image.get(k), str) and image[k]]
    return keys + [receipt[k] for k in IMAGE_KEYS if receipt.get(k) and isinstance(receipt[k], str)]


def _original_filename(receipt: dict[str, Any]) -> str | None:
    image = receipt.get("image")
    name = image.get("original_filename") if isinstance(image, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _model(receipt: dict[str, Any]) -> str:
    for key in MODEL_KEYS:
        value = receipt.get(key)
        if isinstance(value, dict):
            return " ".join(str(value[k]) for k in ("version", "runtime")
                            if isinstance(value.get(k), str | int | float) and value.get(k))
        if isinstance(value, str | int | float) and value:
            return str(value)
    return ""


def _receipts(payload: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(payload.get("receipts"), list):
        return [{**{k: v for k, v in payload.items() if k != "receipts"}, **r}
                for r in payload["receipts"] if isinstance(r, dict)]
    return [payload]


def _fields(receipt: ReceiptResults) -> list[tuple[str, str, float | None]]:
    out = []
    for name, value in receipt.fields.items():
        if isinstance(value, FieldValue):
            text = value.value if value.value is not None else value.text
            out.append((name, text or "", value.confidence))
        else:
            out.append((name, value or "", None))
    return out


def _load_image(raw: ObjectStore, keys: list[str]) -> tuple[Image.Image, str] | None:
    for key in keys:
        if key and raw.exists(key):
            image = Image.open(io.BytesIO(raw.get_bytes(key)))
            image.load()
            return image, key
    return None


def _clamp(points: list[tuple[float, float]], width: int, height: int
           ) -> tuple[list[tuple[float, float]], bool]:
    """The points moved inside the image, and whether any had to move."""
    inside = [(min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height)))
              for x, y in points]
    return inside, inside != points


def _draw(image: Image.Image, words: list[Word], receipt: ReceiptResults
          ) -> tuple[Image.Image, int]:
    """Outline every labelled word in its label's colour (unlabelled words thin grey); boxes
    outside the image are clamped to its edges. Returns the image and how many were clamped."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    normalized, flip = _frame(receipt)
    draw = ImageDraw.Draw(image, "RGBA")
    line = max(2, round(max(width, height) / 500))
    clamped = 0
    for word in words:
        pts = word.points()
        if not pts:
            continue
        if normalized:
            pts = [(x * width, y * height) for x, y in pts]
        if flip:
            pts = [(x, height - y) for x, y in pts]
        pts, moved = _clamp(pts, width, height)
        clamped += moved
        if word.label and word.label != "O":
            r, g, b = label_colour(word.label)
            draw.polygon(pts, outline=(r, g, b, 255), fill=(r, g, b, 60), width=line)
        else:
            draw.polygon(pts, outline=(128, 128, 128, 160), width=1)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image, clamped


def _blank_page(words: list[Word], normalized: bool) -> Image.Image:
    """A white page of the words' extent, at most ``MAX_BLANK_SIDE`` a side (boxes beyond it are
    clamped when drawn)."""
    if normalized:
        return Image.new("RGB", (MAX_SIDE, MAX_SIDE), "white")
    points = [p for w in words for p in (w.points() or [])]
    xs = [x for x, _ in points] or [100.0]
    ys = [y for _, y in points] or [100.0]
    side = [min(max(int(max(v)) + 20, 20), MAX_BLANK_SIDE) for v in (xs, ys)]
    return Image.new("RGB", (side[0], side[1]), "white")


def photo_from_results(name: str, raw_receipt: dict[str, Any], raw: ObjectStore,
                       problems: list[str] | None = None) -> LabelledPhoto | None:
    """One labelled photo (see the module docstring for what is read); None, with one line in
    ``problems``, when the receipt does not validate."""
    problems = [] if problems is None else problems
    receipt = parse(ReceiptResults, raw_receipt, f"{raw.uri(name)}: not a results JSON",
                    problems)
    if receipt is None:
        return None
    words = receipt.words
    mirrored = ANNOTATED_PREFIX + name.removeprefix(RESULTS_PREFIX).removesuffix(".json") + ".png"
    counts: dict[str, int] = {}
    for word in words:
        if word.label and word.label != "O":
            counts[word.label] = counts.get(word.label, 0) + 1
    note, clamped = "", 0
    found = _load_image(raw, _image_keys(raw_receipt))
    if found is not None:
        image, clamped = _draw(found[0], words, receipt)
    else:
        annotated_keys = [raw_receipt[k] for k in ANNOTATED_KEYS
                          if isinstance(raw_receipt.get(k), str) and raw_receipt[k]]
        annotated = _load_image(raw, [*annotated_keys, mirrored])
        if annotated is not None:
            image = annotated[0].convert("RGB")
            note = f"the worker's annotated image {annotated[1]}"
            image.thumbnail((MAX_SIDE, MAX_SIDE))
        else:
            image, clamped = _draw(_blank_page(words, _frame(receipt)[0]), words, receipt)
            note = "original photo not found: boxes on a blank page"
    if clamped:
        problems.append(f"{raw.uri(name)}: {clamped} word box(es) outside the image, drawn "
                        "clamped to its edges")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return LabelledPhoto(name=_original_filename(raw_receipt) or name,
                         image_bytes=buffer.getvalue(), image_mime="image/jpeg",
                         fields=_fields(receipt), labels=sorted(counts.items()), note=note,
                         model=_model(raw_receipt), results_key=name)


def read_labelled_photos(data: ReportData, raw: ObjectStore, *, limit: int) -> None:
    """Up to ``limit`` receipts from the results JSON under ``ocr_results/`` (newest names last
    in key order); unreadable files become problems, not failures."""
    keys = sorted(k for k in raw.list(RESULTS_PREFIX) if k.endswith(".json"))
    data.photos_total = len(keys)
    for key in keys:
        if len(data.photos) >= limit:
            break
        try:
            payload = json.loads(raw.get_bytes(key))
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            for receipt in _receipts(payload):
                photo = photo_from_results(key, receipt, raw, data.problems)
                if photo is not None:
                    data.photos.append(photo)
        except (OSError, ValueError, TypeError, KeyError, IndexError, RecursionError,
                Image.DecompressionBombError) as exc:
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            data.problems.append(f"{raw.uri(key)}: not a readable results JSON ({reason})")
