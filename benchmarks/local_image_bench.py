"""A photo to JSON: ``receipt-ocr --process-local-image`` cold start and per-photo time.

    .venv/bin/python benchmarks/local_image_bench.py --bundle BUNDLE_DIR \
        [--images ../shared/data/sroie/images_sample/img] [--starts 3] [--photos 10] \
        [--ocr-language eng]

Cold start: a fresh ``receipt-ocr`` process per run (the real CLI, ``main``), from the moment
the parent starts it to the moment OCR starts on the photo — interpreter start, imports,
checking the image, building the engine and loading the bundle; the child reports that moment
from a wrapper around ``receipt_ocr.local_image.label_image`` (the first thing after the load)
and which heavy modules it imported. Per photo: one process, the bundle loaded once, each photo
through ``process_local_image`` (read, OCR, encode, model, fields, JSON and PNG written), split
into OCR, encode, model+fields (``labelled.timings``) and the rest. Prints one JSON line, then a
table; medians over runs/photos, with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import json, sys, time
import receipt_ocr.local_image as local_image
from receipt_ocr.cli import main

inner = local_image.label_image
marks = {}

def label_image(*args, **kwargs):
    marks.setdefault("ready", time.time())
    return inner(*args, **kwargs)

local_image.label_image = label_image
code = main(sys.argv[1:])
print(json.dumps({"code": code, "ready": marks.get("ready"), "done": time.time(),
                  "heavy": sorted(m for m in ("torch", "transformers", "coremltools")
                                  if m in sys.modules)}))
"""


def _cli_args(bundle: Path, photo: Path, out: Path, language: str | None) -> list[str]:
    args = ["--process-local-image", str(photo), "--output-dir", str(out),
            "--layoutlm-model", str(bundle)]
    return args + (["--ocr-language", language] if language else [])


def cold_starts(bundle: Path, photo: Path, runs: int, language: str | None) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory(prefix="local-image-bench-") as tmp:
        for _ in range(runs):
            started = time.time()
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, *_cli_args(bundle, photo, Path(tmp), language)],
                capture_output=True, text=True, check=False,
            )
            if proc.returncode != 0:
                raise SystemExit(f"receipt-ocr failed: {proc.stderr.strip()[-500:]}")
            child = json.loads(proc.stdout.strip().splitlines()[-1])
            out.append({"cold_start_s": child["ready"] - started,
                        "photo_s": child["done"] - child["ready"],
                        "heavy_modules": child["heavy"]})
    return out


def per_photo(bundle: Path, photos: list[Path], language: str | None) -> list[dict]:
    from receipt_ocr.engines import build_engine
    from receipt_ocr.local_image import open_local_image, process_local_image
    from receipt_ocr.model_cache import FixedModel

    engine = build_engine(None, language)
    model = FixedModel(bundle).current()
    rows = []
    with tempfile.TemporaryDirectory(prefix="local-image-bench-") as tmp:
        process_local_image(photos[0], tmp, engine=engine, model=model)  # warm-up
        for photo in photos:
            started = time.perf_counter()
            result = process_local_image(open_local_image(photo), tmp, engine=engine, model=model)
            total = time.perf_counter() - started
            t = result.labelled.timings
            rows.append({"photo": photo.name, "words": len(result.labelled.prediction.words),
                         "total_s": total, "ocr_s": t["ocr_s"], "encode_s": t["encode_s"],
                         "model_fields_s": t["model_s"],
                         "rest_s": total - t["ocr_s"] - t["encode_s"] - t["model_s"]})
    return rows


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, type=Path, help="an ONNX bundle directory")
    parser.add_argument("--images", type=Path,
                        default=Path("../shared/data/sroie/images_sample/img"))
    parser.add_argument("--starts", type=int, default=3, help="fresh processes to time")
    parser.add_argument("--photos", type=int, default=10, help="photos through one process")
    parser.add_argument("--ocr-language", default=None, help="Tesseract languages (eng+msa)")
    args = parser.parse_args()
    photos = sorted(args.images.glob("*.jpg"))[: args.photos]
    if not photos:
        raise SystemExit(f"no .jpg photos in {args.images}")
    starts = cold_starts(args.bundle, photos[0], args.starts, args.ocr_language)
    rows = per_photo(args.bundle, photos, args.ocr_language)
    result = {
        "bench": "local_image", "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        "bundle": str(args.bundle), "load_avg_1min": round(os.getloadavg()[0], 2),
        "cold_start_s_p50": round(_median([s["cold_start_s"] for s in starts]), 3),
        "cold_start_s_runs": [round(s["cold_start_s"], 3) for s in starts],
        "heavy_modules": starts[0]["heavy_modules"], "photos": len(rows),
        **{f"{k}_p50": round(_median([r[k] for r in rows]), 4)
           for k in ("total_s", "ocr_s", "encode_s", "model_fields_s", "rest_s")},
    }
    print(json.dumps(result))
    print(f"\ncold start (process start → OCR starts): p50 {result['cold_start_s_p50']:.2f} s "
          f"over {len(starts)} runs {result['cold_start_s_runs']}; heavy modules imported: "
          f"{result['heavy_modules'] or 'none'}")
    print(f"per photo (one process, {len(rows)} photos, p50 s): total {result['total_s_p50']:.3f}"
          f" = OCR {result['ocr_s_p50']:.3f} + encode {result['encode_s_p50']:.4f} + model and "
          f"fields {result['model_fields_s_p50']:.4f} + read/JSON/PNG {result['rest_s_p50']:.3f}"
          f"   (load {result['load_avg_1min']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
