"""``receipt-ocr --process-local-image``: one file on disk → results JSON + annotated PNG in a
directory. Touches no store, bucket or queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from receipt_ocr.annotate import annotated_png
from receipt_ocr.engines import OcrEngine
from receipt_ocr.errors import ImageInputError
from receipt_ocr.images import load_image
from receipt_ocr.labelling import LabelledImage, label_image
from receipt_ocr.model import LoadedModel
from receipt_ocr.results import results_dict

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class LocalResult:
    """Where the outputs went, and what was read."""

    json_path: Path
    png_path: Path
    labelled: LabelledImage


def read_local_image(path: str | Path) -> bytes:
    """The bytes of the regular file ``path`` (no device, FIFO or directory; size-capped; see
    ``receipt_cloud.ocr_submit.read_image_file``); :class:`ImageInputError` otherwise."""
    from receipt_cloud.ocr_submit import InvalidImageUploadError, read_image_file

    try:
        return read_image_file(path, outcome="nothing was written")
    except InvalidImageUploadError as exc:
        raise ImageInputError(str(exc)) from None


@dataclass(frozen=True)
class LocalImage:
    """A local photo read and decoded: what ``--process-local-image`` checks before it loads
    an OCR engine or a model, so a wrong path fails in milliseconds, not after the load."""

    path: Path
    image: Image


def open_local_image(path: str | Path) -> LocalImage:
    """Read (:func:`read_local_image`) and decode ``path``; :class:`ImageInputError` (one line)
    when it is missing, not a regular file, too large, or not an image."""
    path = Path(path)
    return LocalImage(path, load_image(read_local_image(path), name=str(path)))


def process_local_image(
    path: str | Path | LocalImage, output_dir: str | Path, *, engine: OcrEngine,
    model: LoadedModel,
) -> LocalResult:
    """Label ``path`` (or an already opened :class:`LocalImage`) and write
    ``<output_dir>/<stem>.json`` and ``<stem>.png``."""
    local = path if isinstance(path, LocalImage) else open_local_image(path)
    path, image = local.path, local.image
    labelled = label_image(image, engine, model, key=f"local:{path.stem}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = results_dict(
        labelled, engine=engine.describe(), runtime=model.runtime_name,
        source={"path": str(path.resolve())},
    )
    json_path, png_path = out / f"{path.stem}.json", out / f"{path.stem}.png"
    json_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    png_path.write_bytes(annotated_png(labelled, model.entity_labels))
    return LocalResult(json_path, png_path, labelled)
