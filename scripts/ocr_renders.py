"""Make OCR-realistic training receipts from a dataset JSONL (``receipt_ocr.ocr_renders``).

    python scripts/ocr_renders.py --dataset sroie_train.jsonl --out sroie_ocr.jsonl \
        [--seeds 0,1] [--limit N] [--ocr-cache DIR] [--ocr-language eng+msa] [--images DIR]

Each receipt with key values is re-printed from its boxes and transcript, degraded, read by the
worker's Tesseract settings (cached under ``--ocr-cache``, default
``benchmarks/out/render_ocr_cache``: a rerun costs rendering and matching only) and labelled from
its key values by the SROIE importer's matching. Train on the transcripts plus these with
``cat sroie_train.jsonl sroie_ocr.jsonl > mixed.jsonl``. Prints one JSON line: receipts,
seconds per receipt per stage, how often each key was fully matched in the OCR'd words.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, type=Path, help="JSONL with key values")
    parser.add_argument("--out", required=True, type=Path, help="JSONL to write")
    parser.add_argument("--seeds", default="0", help="comma-separated; one copy per seed")
    parser.add_argument("--limit", type=int, default=None, help="first N receipts only")
    parser.add_argument("--ocr-cache", type=Path, default=REPO / "benchmarks/out/render_ocr_cache")
    parser.add_argument("--ocr-language", default=None, help="Tesseract languages (eng+msa)")
    parser.add_argument("--images", type=Path, default=None,
                        help="also save each rendered page here (PNG) to look at")
    args = parser.parse_args(argv)

    from receipt_layoutlm.importers.jsonl import parse_jsonl, write_jsonl
    from receipt_layoutlm.synthetic.fonts import find_fonts
    from receipt_layoutlm.synthetic.rerender import rerender
    from receipt_ocr.engines import build_engine
    from receipt_ocr.ocr_cache import CachingEngine
    from receipt_ocr.ocr_renders import RenderStats, ocr_renders

    docs = parse_jsonl(args.dataset, limit=args.limit).documents
    seeds = [int(s) for s in args.seeds.split(",")]
    fonts = find_fonts()
    engine = CachingEngine(build_engine("tesseract", args.ocr_language), args.ocr_cache)
    if args.images:
        args.images.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            for seed in seeds:
                name = doc.key.replace(":", "_").replace("/", "_")
                rerender(doc, fonts, seed=seed).save(args.images / f"{name}-{seed}.png")
    stats = RenderStats()
    started = time.perf_counter()
    written = write_jsonl(ocr_renders(docs, engine, fonts, seeds=seeds, stats=stats), args.out)
    print(json.dumps({
        "script": "ocr_renders", "dataset": str(args.dataset), "out": str(args.out),
        "written": written, "skipped": stats.skipped, "seeds": seeds,
        "engine": engine.describe(), "ocr_cache_hits": engine.hits,
        "ocr_cache_misses": engine.misses, "seconds": round(time.perf_counter() - started, 1),
        "per_receipt": stats.per_receipt(),
        "keys_fully_matched": {k: round(v[0] / max(1, v[1]), 3) for k, v in stats.keys.items()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
