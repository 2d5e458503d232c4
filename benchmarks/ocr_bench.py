"""OCR preprocessing choices on the SROIE sample photos: exact-token recall against the
transcripts and seconds per image, for a handful of Tesseract configurations.

Prints one JSON line, then a table. Tesseract runs single-threaded (OMP_THREAD_LIMIT=1).

    .venv/bin/python benchmarks/ocr_bench.py              # 30 images x 9 configurations
    .venv/bin/python benchmarks/ocr_bench.py --limit 10 --configs "eng psm6,default"

``default`` is what the engine uses (eng+msa, psm 6, Tesseract's Otsu, 1.5x Lanczos).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "data" / "sroie" / "images_sample"


def configurations() -> dict[str, object]:
    from receipt_ocr.engines.tesseract import TesseractConfig
    from receipt_ocr.preprocess import Preprocessing

    native = Preprocessing(scale=1.0)
    eng = {"language": "eng"}
    return {
        "eng psm6": TesseractConfig(psm=6, preprocessing=native, **eng),
        "eng psm4": TesseractConfig(psm=4, preprocessing=native, **eng),
        "eng psm11": TesseractConfig(psm=11, preprocessing=native, **eng),
        "eng sauvola": TesseractConfig(thresholding=2, preprocessing=native, **eng),
        "eng deskew": TesseractConfig(preprocessing=Preprocessing(deskew=True), **eng),
        "eng x1.5": TesseractConfig(preprocessing=Preprocessing(scale=1.5), **eng),
        "eng x2": TesseractConfig(preprocessing=Preprocessing(scale=2.0), **eng),
        "eng+msa": TesseractConfig(preprocessing=native),
        "default": TesseractConfig(),
        "default+deskew": TesseractConfig(preprocessing=Preprocessing(scale=1.5, deskew=True)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="images (default all 30)")
    parser.add_argument("--configs", default=None, help="comma-separated configuration names")
    args = parser.parse_args()
    if not (SAMPLE / "img").is_dir():
        sys.exit(f"SROIE sample images not found at {SAMPLE / 'img'}")
    from PIL import Image

    from receipt_ocr.engines.tesseract import TesseractEngine, tesseract_version
    from receipt_ocr.recall import sroie_transcript, token_recall

    images = sorted((SAMPLE / "img").glob("*.jpg"))[: args.limit]
    configs = configurations()
    chosen = args.configs.split(",") if args.configs else list(configs)
    rows = []
    for name in chosen:
        engine = TesseractEngine(configs[name])
        matched = total = 0
        started = time.perf_counter()
        for path in images:
            with Image.open(path) as image:
                result = engine.recognize(image.convert("RGB"))
            m, t = token_recall(
                sroie_transcript(SAMPLE / "box" / f"{path.stem}.txt"),
                (w.text for w in result.words),
            )
            matched, total = matched + m, total + t
        seconds = (time.perf_counter() - started) / len(images)
        rows.append(
            {"config": name, "engine": engine.describe(), "recall": round(matched / total, 4),
             "s_per_image": round(seconds, 3)}
        )
        print(f"# {name}: recall {matched / total:.4f}, {seconds:.2f} s/image", file=sys.stderr)
    best = max(rows, key=lambda r: r["recall"])
    print(json.dumps({"bench": "ocr", "images": len(images), "tesseract": tesseract_version(),
                      "omp_thread_limit": 1, "best": best["config"],
                      "load_avg_1min": round(os.getloadavg()[0], 2), "results": rows}))
    print(f"\n{'config':12} {'recall':>7} {'s/image':>8}  engine")
    for r in rows:
        print(f"{r['config']:12} {r['recall']:7.4f} {r['s_per_image']:8.2f}  {r['engine']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
