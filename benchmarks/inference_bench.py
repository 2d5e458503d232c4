"""Inference cost of the whole prediction path on ONNX int8: encode + model + fields per SROIE
receipt (issue 11's bar: under 30 ms for the median receipt on this CPU).

    .venv/bin/python benchmarks/inference_bench.py --checkpoint RUN/best \
        --dataset sroie_train.jsonl [--split-file FOLD/split.json] [--receipts 100] \
        [--threads 1,2] [--repeats 3] [--fit-picker 120]

The checkpoint is exported to an ONNX bundle (``export_bundle`` with its parity gate, seq 512)
in a temporary directory. A checkpoint without ``total_picker.json`` gets one fitted first on
``--fit-picker`` training receipts (``training.total_picker_fit``, what ``train`` does), so the
fields step includes the picker as it runs in production. Measured receipts are the split file's
held-out receipts (its ``test`` side, or every receipt in neither ``train`` nor ``dev``: a
``quality_bench.py`` fold), else the dataset's last ``--receipts``; never the picker's. Each
receipt is timed ``--repeats`` times after one warm-up pass; a receipt's time is its fastest
repeat (the machine is shared), and the table gives the median and p95 over receipts, split into
encode (``runtime.encode``), model (``predict_windows``) and fields (the rest of
``prediction.predict_document``: decoding, printed rows, ``extract_fields`` with the picker).
Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _receipts(args: argparse.Namespace):
    from receipt_layoutlm.data import load_dataset_file

    docs = load_dataset_file(args.dataset)
    measured = docs[-args.receipts:]
    if args.split_file:
        split = json.loads(Path(args.split_file).read_text(encoding="utf-8"))
        seen = set(split.get("train", [])) | set(split.get("dev", []))
        held_out = [d for d in docs if d.key in set(split["test"])] if split.get("test") else [
            d for d in docs if d.key not in seen]
        measured = held_out or measured
    measured = measured[: args.receipts]
    keys = {d.key for d in measured}
    picker_docs = [d for d in docs if d.key not in keys and (d.fields or {}).get("total")]
    return measured, picker_docs[: args.fit_picker]


def _prepare_checkpoint(checkpoint: Path, root: Path, picker_docs) -> Path:
    from receipt_layoutlm.bundle_format import TOTAL_PICKER_FILE

    copy = root / "checkpoint"
    shutil.copytree(checkpoint, copy)
    if (copy / TOTAL_PICKER_FILE).exists() or not picker_docs:
        return copy
    from receipt_layoutlm.runtime import load_runtime
    from receipt_layoutlm.training.total_picker_fit import fit_total_picker, runtime_examples

    picker = fit_total_picker(runtime_examples(load_runtime("torch", copy), picker_docs))
    if picker is not None:
        picker.save(copy)
    return copy


def _export(checkpoint: Path, root: Path) -> Path:
    from receipt_layoutlm.export import ExportOptions, export_bundle

    bundle = root / "bundle"
    export_bundle(ExportOptions(checkpoint=str(checkpoint), output=str(bundle),
                                formats=("onnx",), seq_length=512, parity_receipts=5,
                                make_zip=False, export_id="inference-bench"))
    return bundle


class _TimedModel:
    """The runtime, with the time spent in ``predict_windows`` (the model) recorded, so that
    ``predict_document`` itself is timed and its model share read off, not re-composed here."""

    def __init__(self, runtime) -> None:
        self._runtime = runtime
        self.model_s = 0.0

    def __getattr__(self, name: str):
        return getattr(self._runtime, name)

    def predict_windows(self, encoded):
        started = time.perf_counter()
        try:
            return self._runtime.predict_windows(encoded)
        finally:
            self.model_s += time.perf_counter() - started


def _time_receipt(runtime, doc) -> dict[str, float]:
    from receipt_layoutlm.prediction import predict_document

    timed = _TimedModel(runtime)
    t0 = time.perf_counter()
    encoded = runtime.encode(doc)
    t1 = time.perf_counter()
    predict_document(timed, doc, encoded=encoded)
    t2 = time.perf_counter()
    return {"encode": t1 - t0, "model": timed.model_s, "fields": t2 - t1 - timed.model_s,
            "total": t2 - t0}


def _measure(bundle: Path, docs, threads: int, repeats: int) -> dict:
    import numpy as np

    from receipt_layoutlm.runtime import load_runtime

    runtime = load_runtime("onnx-int8", bundle, threads=threads)
    for doc in docs:  # warm-up: sessions, tokenizer caches
        _time_receipt(runtime, doc)
    best = []
    for doc in docs:
        runs = [_time_receipt(runtime, doc) for _ in range(repeats)]
        best.append(min(runs, key=lambda r: r["total"]))
    out: dict = {"threads": threads, "receipts": len(docs),
                 "picker": getattr(runtime, "total_picker", None) is not None}
    for stage in ("encode", "model", "fields", "total"):
        values = np.asarray([r[stage] for r in best]) * 1000
        out[f"{stage}_p50_ms"] = round(float(np.percentile(values, 50)), 2)
        out[f"{stage}_p95_ms"] = round(float(np.percentile(values, 95)), 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, type=Path, help="a trained checkpoint")
    parser.add_argument("--dataset", required=True, type=Path, help="SROIE JSONL dataset")
    parser.add_argument("--split-file", type=Path, help="measure its test (or dev) receipts")
    parser.add_argument("--receipts", type=int, default=100)
    parser.add_argument("--threads", default="1,2", help="ONNX Runtime intra-op threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-picker", type=int, default=120,
                        help="training receipts to fit a total picker on when none is stored")
    args = parser.parse_args()
    measured, picker_docs = _receipts(args)
    with tempfile.TemporaryDirectory(prefix="inference-bench-") as tmp:
        root = Path(tmp)
        checkpoint = _prepare_checkpoint(args.checkpoint, root, picker_docs)
        bundle = _export(checkpoint, root)
        runs = [_measure(bundle, measured, int(n), args.repeats)
                for n in args.threads.split(",")]
    result = {"bench": "inference", "machine": f"{platform.machine()} {os.cpu_count()} cpu",
              "runtime": "onnx-int8", "seq_length": 512, "checkpoint": str(args.checkpoint),
              "load_avg_1min": round(os.getloadavg()[0], 2), "runs": runs}
    print(json.dumps(result))
    print(f"\n{'threads':>7} {'rcpt':>5}  {'encode':>13} {'model':>13} {'fields':>13} "
          f"{'total':>13}   (ms per receipt, p50 / p95; picker {runs[0]['picker']})")
    for r in runs:
        cells = "".join(f" {r[f'{s}_p50_ms']:>6.1f}/{r[f'{s}_p95_ms']:<6.1f}"
                        for s in ("encode", "model", "fields", "total"))
        print(f"{r['threads']:>7} {r['receipts']:>5} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
