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
from typing import Any

from PIL import Image, ImageDraw

from receipt_layoutlm.reporting.model import LabelledPhoto, ReportData

log = logging.getLogger(__name__)

RESULTS_PREFIX = "ocr_results/"
ANNOTATED_PREFIX = "receipts/"
IMAGE_KEYS = ("image_key", "s3_key", "raw_key", "image_s3_key", "image")
ANNOTATED_KEYS = ("annotated_key", "annotated_image_key")
MODEL_KEYS = ("model", "label_proposed_by", "model_version", "bundle_version")
MAX_SIDE = 1100


def label_colour(label: str) -> tuple[int, int, int]:
    """A stable colour per label (matplotlib's tab20 over the core label order, then a hash)."""
    from matplotlib import colormaps

    from receipt_dynamo import CORE_LABELS

    names = list(CORE_LABELS)
    index = names.index(label) if label in names else sum(map(ord, label))
    r, g, b, _ = colormaps["tab20"](index % 20)
    return int(r * 255), int(g * 255), int(b * 255)


def _rectangle(box: Any) -> list[tuple[float, float]]:
    if isinstance(box, dict):
        x, y, w, h = (float(box[k]) for k in ("x", "y", "width", "height"))
        x0, y0, x1, y1 = x, y, x + w, y + h
    else:
        x0, y0, x1, y1 = (float(v) for v in box)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _points(word: dict[str, Any]) -> list[tuple[float, float]] | None:
    if "corners" in word:
        return [(float(p["x"]), float(p["y"])) if isinstance(p, dict)
                else (float(p[0]), float(p[1])) for p in word["corners"]]
    for key in ("box", "bounding_box"):
        if key in word:
            return _rectangle(word[key])
    return None


def _frame(receipt: dict[str, Any]) -> tuple[bool, bool]:
    """(normalized, bottom-left origin) of the word coordinates."""
    coordinates = receipt.get("coordinates")
    if isinstance(coordinates, dict):
        return (coordinates.get("units") == "normalized",
                coordinates.get("origin") == "bottom-left")
    return bool(receipt.get("normalized")), receipt.get("origin") == "bottom-left"


def _image_keys(receipt: dict[str, Any]) -> list[str]:
    image = receipt.get("image")
    keys = [str(image[k]) for k in ("s3_key", "key") if isinstance(image, dict) and image.get(k)]
    return keys + [str(receipt[k]) for k in IMAGE_KEYS
                   if receipt.get(k) and isinstance(receipt[k], str)]


def _model(receipt: dict[str, Any]) -> str:
    for key in MODEL_KEYS:
        value = receipt.get(key)
        if isinstance(value, dict):
            return " ".join(str(value[k]) for k in ("version", "runtime") if value.get(k))
        if value:
            return str(value)
    return ""


def _receipts(payload: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(payload.get("receipts"), list):
        return [{**{k: v for k, v in payload.items() if k != "receipts"}, **r}
                for r in payload["receipts"] if isinstance(r, dict)]
    return [payload]


def _fields(receipt: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    out = []
    for name, value in (receipt.get("fields") or {}).items():
        if isinstance(value, dict):
            text = value.get("value", value.get("text"))
            confidence = value.get("confidence")
            out.append((str(name), "" if text is None else str(text),
                        float(confidence) if isinstance(confidence, int | float) else None))
        else:
            out.append((str(name), str(value), None))
    return out


def _load_image(raw: Any, keys: list[str]) -> tuple[Image.Image, str] | None:
    for key in keys:
        if key and raw.exists(key):
            image = Image.open(io.BytesIO(raw.get_bytes(key)))
            image.load()
            return image, key
    return None


def _draw(image: Image.Image, words: list[dict[str, Any]], receipt: dict[str, Any]) -> Image.Image:
    """Outline every labelled word in its label's colour (unlabelled words thin grey)."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    normalized, flip = _frame(receipt)
    draw = ImageDraw.Draw(image, "RGBA")
    line = max(2, round(max(width, height) / 500))
    for word in words:
        pts = _points(word)
        if not pts:
            continue
        if normalized:
            pts = [(x * width, y * height) for x, y in pts]
        if flip:
            pts = [(x, height - y) for x, y in pts]
        label = word.get("label")
        if label and label != "O":
            r, g, b = label_colour(str(label))
            draw.polygon(pts, outline=(r, g, b, 255), fill=(r, g, b, 60), width=line)
        else:
            draw.polygon(pts, outline=(128, 128, 128, 160), width=1)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def _blank_page(words: list[dict[str, Any]]) -> Image.Image:
    xs = [x for w in words for x, _ in (_points(w) or [])] or [100.0]
    ys = [y for w in words for _, y in (_points(w) or [])] or [100.0]
    return Image.new("RGB", (int(max(xs)) + 20, int(max(ys)) + 20), "white")


def photo_from_results(name: str, receipt: dict[str, Any], raw: Any) -> LabelledPhoto:
    """One labelled photo (see the module docstring for what is read)."""
    words = [w for w in receipt.get("words") or [] if isinstance(w, dict)]
    mirrored = ANNOTATED_PREFIX + name.removeprefix(RESULTS_PREFIX).removesuffix(".json") + ".png"
    counts: dict[str, int] = {}
    for word in words:
        label = word.get("label")
        if label and label != "O":
            counts[str(label)] = counts.get(str(label), 0) + 1
    note = ""
    found = _load_image(raw, _image_keys(receipt))
    if found is not None:
        image = _draw(found[0], words, receipt)
    else:
        annotated = _load_image(raw, [str(receipt[k]) for k in ANNOTATED_KEYS if receipt.get(k)]
                                + [mirrored])
        if annotated is not None:
            image = annotated[0].convert("RGB")
            note = f"the worker's annotated image {annotated[1]}"
            image.thumbnail((MAX_SIDE, MAX_SIDE))
        else:
            image = _draw(_blank_page(words), words, receipt)
            note = "original photo not found: boxes on a blank page"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return LabelledPhoto(name=name, image_bytes=buffer.getvalue(), image_mime="image/jpeg",
                         fields=_fields(receipt), labels=sorted(counts.items()), note=note,
                         model=_model(receipt))


def read_labelled_photos(data: ReportData, raw: Any, *, limit: int) -> None:
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
                data.photos.append(photo_from_results(key, receipt, raw))
        except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
            data.problems.append(f"{raw.uri(key)}: not a readable results JSON ({exc})")
