"""Worker benchmarks: the export worker (``export``) and the labelling worker (``ocr``).

    .venv/bin/python benchmarks/worker_bench.py export [--messages 5] [--minilm]
        [--minilm-seq 128] [--modes float32,float16,int8,int4]
    .venv/bin/python benchmarks/worker_bench.py ocr [--processes 1,2] [--images 30] ...

``ocr`` runs ``_ocr_worker_bench.py`` (beside this file; its docstring describes it) with the
remaining arguments.

``export``: a local environment (SQLite store, directory objects, SQLite queues) in a temporary
directory; N export messages of a tiny LayoutLM (``--model-size tiny``: hidden 64, 2 layers,
random, MiniLM vocabulary) queued through the auto-export handler and served by one in-process
worker in ``drain`` mode (Core ML, sequence length 64, parity on 3 SROIE receipts, measuring only):
messages per minute and seconds per export. With ``--minilm``, one message per quantize mode
for a MiniLM-size model (hidden 384, 6 layers, 12 heads, intermediate 1536; text encoder warm
started from the MiniLM package, head untrained, so parity is measured, not gated). Prints one
JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SROIE = ROOT.parent / "shared" / "data" / "sroie" / "train"
LABELS = ["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"]


def _environment(root: Path, job: str, model, tokenizer, labels, seq: int):
    """Local settings with ``runs/<job>/best`` and the Job that points at it."""
    from receipt_cloud.settings import resolve_settings
    from receipt_dynamo import Job, JobStatus
    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig

    settings = resolve_settings("local", data_dir=root / "home", environ={})
    best = root / "home" / "objects" / "runs" / job / "best"
    save_checkpoint(
        best, model, tokenizer, labels, EncodingConfig(max_seq_length=seq, stride=seq // 4)
    )
    settings.open_store().add_job(
        Job(
            job_id=str(uuid.uuid4()),
            name=job,
            status=JobStatus.SUCCEEDED,
            results={"best_checkpoint_s3_path": best.as_uri()},
        )
    )
    return settings


def _parity_file(root: Path) -> str | None:
    from receipt_layoutlm.importers import get_importer, write_jsonl

    if not SROIE.is_dir():
        return None  # the export falls back to synthetic receipts (recorded in the manifest)
    path = root / "parity.jsonl"
    write_jsonl(get_importer("sroie")(SROIE, limit=3).documents, path)
    return str(path)


def _serve(settings, job: str, quantize_modes: list[str], options) -> tuple[float, list]:
    from receipt_cloud.exports import list_exports
    from receipt_cloud.handlers.auto_export import start_export_for_job
    from receipt_cloud.worker import WorkerConfig
    from receipt_layoutlm.export_worker import run_export_worker

    for mode in quantize_modes:
        start_export_for_job(job_name=job, settings=settings, quantize=mode)
    worker = WorkerConfig(mode="drain", visibility_timeout=600, wait_seconds=0.5)
    started = time.perf_counter()
    stats = run_export_worker(settings, worker, options)
    wall = time.perf_counter() - started
    if stats.succeeded != len(quantize_modes):
        raise SystemExit(f"worker stats {stats.to_dict()}: not every export succeeded")
    return wall, list_exports(settings.open_store(), job=job)


def bench_export(args: argparse.Namespace) -> dict:
    from receipt_layoutlm.encoding import label_list
    from receipt_layoutlm.export import ParityThresholds
    from receipt_layoutlm.export_worker import ExportWorkerOptions
    from receipt_layoutlm.training._config import TrainingConfig
    from receipt_layoutlm.training.model_init import build_model

    labels = label_list(LABELS)
    measure_only = ParityThresholds(0.0, 0.0, 0.0, 0.0)
    out: dict = {
        "benchmark": "worker_export",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.system()}",
    }
    with tempfile.TemporaryDirectory(prefix="worker-bench-") as tmp:
        root = Path(tmp)
        parity = _parity_file(root)
        init = build_model(TrainingConfig(model_size="tiny", seed=1234), labels)
        tiny = _environment(
            root / "tiny", "layoutlm-bench-tiny", init.model.eval(), init.tokenizer, labels, 128
        )
        options = ExportWorkerOptions.of(
            formats=("coreml",), seq_length=64, parity_receipts=3, parity_data=parity,
            thresholds=measure_only, make_zip=False,
        )  # fmt: skip
        wall, exports = _serve(tiny, "layoutlm-bench-tiny", ["float16"] * args.messages, options)
        durations = [e.export_duration_seconds for e in exports]
        out["tiny"] = {
            "messages": args.messages,
            "wall_s": round(wall, 2),
            "messages_per_min": round(args.messages / wall * 60, 2),
            "export_s_mean": round(sum(durations) / len(durations), 2),
            "worker_overhead_s_per_message": round((wall - sum(durations)) / args.messages, 3),
            "seq_length": 64,
            "formats": ["coreml"],
        }
        if args.minilm:
            init = build_model(TrainingConfig(model_size="base"), labels)
            modes = args.modes.split(",")
            settings = _environment(
                root / "minilm", "layoutlm-bench-minilm", init.model.eval(), init.tokenizer,
                labels, args.minilm_seq,
            )  # fmt: skip
            options = ExportWorkerOptions.of(
                formats=tuple(args.minilm_formats.split(",")), seq_length=args.minilm_seq,
                parity_receipts=3, parity_data=parity, thresholds=measure_only, make_zip=False,
            )  # fmt: skip
            wall, exports = _serve(settings, "layoutlm-bench-minilm", modes, options)
            out["minilm"] = {
                "parameters": sum(p.numel() for p in init.model.parameters()),
                "seq_length": args.minilm_seq,
                "formats": options.template.formats,
                "wall_s": round(wall, 1),
                "modes": {
                    e.quantize.value: {
                        "export_s": e.export_duration_seconds,
                        "model_bytes": e.model_size_bytes,
                    }
                    for e in exports
                },
            }
    return out


def _table(result: dict) -> str:
    tiny = result["tiny"]
    lines = [
        f"export worker, tiny model ({tiny['messages']} messages, seq {tiny['seq_length']}, "
        f"{'+'.join(tiny['formats'])})",
        f"  messages/min        {tiny['messages_per_min']}",
        f"  export s (mean)     {tiny['export_s_mean']}",
        f"  worker overhead s   {tiny['worker_overhead_s_per_message']} per message",
    ]
    if "minilm" in result:
        minilm = result["minilm"]
        lines.append(
            f"MiniLM-size ({minilm['parameters']:,} parameters, seq {minilm['seq_length']}, "
            f"{'+'.join(minilm['formats'])})"
        )
        lines.append(f"  {'mode':<8} {'export s':>9} {'model bytes':>14}")
        for mode, row in minilm["modes"].items():
            lines.append(f"  {mode:<8} {row['export_s']:>9.1f} {row['model_bytes']:>14,}")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["ocr"]:
        # The labelling worker's benchmark keeps its own module and flags.
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _ocr_worker_bench import main as ocr_main

        return ocr_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="which", required=True)
    sub.add_parser("ocr", help="labelling worker throughput (see _ocr_worker_bench.py)")
    export = sub.add_parser("export", help="export worker throughput and per-mode export time")
    export.add_argument("--messages", type=int, default=5, help="tiny-model messages")
    export.add_argument("--minilm", action="store_true", help="also time a MiniLM-size model")
    export.add_argument("--minilm-seq", type=int, default=128)
    export.add_argument("--minilm-formats", default="coreml")
    export.add_argument("--modes", default="float32,float16,int8,int4")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = bench_export(args)
    print(json.dumps(result, sort_keys=True, default=list))
    print(_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
