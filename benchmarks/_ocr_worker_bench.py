"""Labelling worker throughput (``worker_bench.py ocr``): receipts per minute on the SROIE sample
photos with Tesseract and a MiniLM-size int8 ONNX bundle, with one and with two worker
processes, and the time split into download, OCR, encode, model and write.

    .venv/bin/python benchmarks/worker_bench.py ocr [--processes 1,2] [--images 30]
        [--bundle DIR]     # an exported bundle; default: build a MiniLM-size one here
        [--ocr-language eng --ocr-scale 1.0]   # the engine's defaults are eng+msa at 1.5x
        [--ocr-binding pytesseract]            # default: tesserocr when installed

Each run gets a fresh local environment (SQLite store, local objects, SQLite queue): the images
are submitted (``receipt_cloud.ocr_submit``), the bundle is promoted, then N processes each build
the worker's services (engine, model cache → bundle, store) and drain the queue through
``receipt_cloud.worker.run_worker`` with the worker's own per-job function. Throughput is jobs
over the wall time from the moment every process is ready (model loaded) to the last job done;
start-up is reported apart. The default bundle is LayoutLM with MiniLM sizes (384 hidden, 6
layers), warm-started from the MiniLM package and not fine-tuned: its speed is what is measured,
not its labels (so the export's parity thresholds are off here). Prints one JSON line, a table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "data" / "sroie" / "images_sample" / "img"
STAGES = ("download_s", "decode_s", "ocr_s", "encode_s", "model_s", "write_s")


def build_bundle(root: Path) -> Path:
    """A MiniLM-size LayoutLM exported to ONNX (+ int8) at sequence length 512."""
    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list
    from receipt_layoutlm.export import ExportOptions, ParityThresholds, export_bundle
    from receipt_layoutlm.training._config import TrainingConfig
    from receipt_layoutlm.training.model_init import build_model

    labels = label_list(["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"])
    init = build_model(TrainingConfig(model_size="base"), labels)
    checkpoint = root / "checkpoint"
    save_checkpoint(checkpoint, init.model.eval(), init.tokenizer, labels, EncodingConfig(),
                    extra_meta={"job_name": "layoutlm-bench"})
    bundle = root / "objects" / "bundles" / "layoutlm-bench" / "bench"
    export_bundle(ExportOptions(
        checkpoint=str(checkpoint), output=str(bundle), formats=("onnx",), seq_length=512,
        parity_receipts=3, make_zip=False, export_id="bench",
        thresholds=ParityThresholds(float32=0.0, float16=0.0, int8=0.0, int4=0.0),
    ))
    return bundle


def _engine(language: str | None, scale: float | None, binding: str | None = None):
    import dataclasses

    from receipt_ocr.engines.tesseract import TesseractConfig, TesseractEngine

    config = TesseractConfig()
    if language:
        config = dataclasses.replace(config, language=language)
    if binding:
        config = dataclasses.replace(config, binding=binding)
    if scale:
        preprocessing = dataclasses.replace(config.preprocessing, scale=scale)
        config = dataclasses.replace(config, preprocessing=preprocessing)
    return TesseractEngine(config)


def _worker(data_dir: str, cache: str, engine: tuple, ready, start, results) -> None:
    from receipt_cloud.settings import resolve_settings
    from receipt_cloud.worker import WorkerConfig, apply_queue_limits, run_worker
    from receipt_ocr.job import process_ocr_job
    from receipt_ocr.options import OcrWorkerOptions
    from receipt_ocr.worker import build_services

    started = time.perf_counter()
    settings = resolve_settings("local", data_dir=data_dir)
    services = build_services(settings, OcrWorkerOptions(engine="tesseract", cache_path=cache))
    services.engine = _engine(*engine)
    startup = time.perf_counter() - started
    ready.put(os.getpid())
    start.wait()
    timings: list[dict[str, float]] = []

    def handle(message) -> None:
        timings.append(process_ocr_job(message.body, services).timings)

    config = WorkerConfig(mode="drain", visibility_timeout=120, wait_seconds=1.0,
                          handle_signals=False)
    run_worker(apply_queue_limits(settings.open_queue("ocr_jobs"), config), handle, config)
    results.put({"startup_s": startup, "timings": timings, "done": time.time()})


def run(processes: int, images: list[Path], bundle: Path, root: Path, engine: tuple) -> dict:
    import shutil

    from receipt_cloud.ocr_submit import submit_settings
    from receipt_cloud.settings import resolve_settings
    from receipt_layoutlm.bundles import BundleRegistry

    data = root / f"data-{processes}"
    settings = resolve_settings("local", data_dir=data)
    target = data / "objects" / "bundles" / "layoutlm-bench" / "bench"
    shutil.copytree(bundle, target)
    BundleRegistry.from_settings(settings).promote(str(target))
    submit_settings(images, settings)
    ctx = mp.get_context("spawn")
    ready, results, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    args = (str(data), str(root / "cache"), engine, ready, start, results)
    procs = [ctx.Process(target=_worker, args=args) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=600)
    began = time.time()
    start.set()
    outputs = [results.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
    wall = max(o["done"] for o in outputs) - began
    load = os.getloadavg()[0]
    timings = [t for o in outputs for t in o["timings"]]
    totals = {s: sum(t.get(s, 0.0) for t in timings) for s in STAGES}
    busy = sum(totals.values())
    return {
        "processes": processes,
        "receipts": len(timings),
        "wall_s": round(wall, 2),
        "receipts_per_min": round(60 * len(timings) / wall, 1),
        "startup_s": round(max(o["startup_s"] for o in outputs), 2),
        "load_avg_1min_after": round(load, 2),
        "per_receipt_s": {s.removesuffix("_s"): round(totals[s] / len(timings), 4) for s in STAGES},
        "share": {s.removesuffix("_s"): round(totals[s] / busy, 3) for s in STAGES},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts")
    parser.add_argument("--images", type=int, default=30, help="sample photos (max 30)")
    parser.add_argument("--bundle", type=Path, default=None, help="bundle directory to use")
    parser.add_argument("--ocr-language", default=None, help="Tesseract languages (eng+msa)")
    parser.add_argument("--ocr-scale", type=float, default=None, help="upscale factor (1.5)")
    parser.add_argument("--ocr-binding", choices=["tesserocr", "pytesseract"], default=None,
                        help="how Tesseract is called (default: tesserocr when installed)")
    args = parser.parse_args(argv)
    if not SAMPLE.is_dir():
        sys.exit(f"SROIE sample photos not found at {SAMPLE}")
    images = sorted(SAMPLE.glob("*.jpg"))[: args.images]
    with tempfile.TemporaryDirectory(prefix="ocr-worker-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        bundle = args.bundle or build_bundle(root / "build")
        build_s = time.perf_counter() - t0
        engine = (args.ocr_language, args.ocr_scale, args.ocr_binding)
        runs = [run(int(n), images, bundle, root, engine) for n in args.processes.split(",")]
    from receipt_ocr.engines.tesseract import tesseract_version

    result = {
        "bench": "ocr_worker",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        "engine": _engine(args.ocr_language, args.ocr_scale, args.ocr_binding).describe(),
        "tesseract": tesseract_version(),
        "bundle": str(args.bundle or "MiniLM-size LayoutLM, ONNX int8, seq 512"),
        "bundle_build_s": round(build_s, 1),
        "runs": runs,
    }
    print(json.dumps(result))
    head = "  ".join(f"{s.removesuffix('_s'):>8}" for s in STAGES)
    print(f"\n{'procs':>5} {'rcpt':>5} {'wall s':>7} {'rcpt/min':>9} {'start s':>7}  {head}  "
          "(seconds per receipt)")
    for r in runs:
        split = "  ".join(f"{r['per_receipt_s'][s.removesuffix('_s')]:8.3f}" for s in STAGES)
        print(f"{r['processes']:>5} {r['receipts']:>5} {r['wall_s']:>7.1f} "
              f"{r['receipts_per_min']:>9.1f} {r['startup_s']:>7.1f}  {split}")
    for r in runs:
        print(f"share of busy time ({r['processes']} proc): " + ", ".join(
            f"{k} {v:.1%}" for k, v in r["share"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
