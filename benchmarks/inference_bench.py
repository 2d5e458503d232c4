"""Inference cost of the whole prediction path per runtime and thread count: encode + model +
fields per SROIE receipt (issue 21's bar: ONNX int8 p50 under 15 ms for the median receipt on
this CPU, fields under 1 ms), and a sequence-length sweep of the model alone.

    .venv/bin/python benchmarks/inference_bench.py [--checkpoint RUN/best] \
        [--dataset sroie_train.jsonl] [--split-file FOLD/split.json] [--receipts 100] \
        [--runtimes onnx-int8,onnx] [--threads 1,2] [--repeats 3] [--fit-picker 120] \
        [--lengths 128,256,384,512] [--bundle NAME=DIR ...] [--ort-config KEY=VALUE ...] [--quick]

Without ``--checkpoint`` the model is MiniLM-sized with an untrained head (the warm start of
``train``): the same shapes and so the same timings as a trained one. Without ``--dataset``
the receipts are SROIE's (``../shared/data/sroie/train``). The checkpoint is exported to an
ONNX bundle (``export_bundle`` with its parity gate, seq 512) in a temporary directory;
``--bundle NAME=DIR`` (repeatable) times existing bundles instead, side by side in one run (e.g.
a graph before and after a change); ``--ort-config KEY=VALUE`` (repeatable) adds, beside every
ONNX setup, the same one with these session config entries (variant ``NAME+cfg``). A checkpoint
without ``total_picker.json`` gets one fitted first on ``--fit-picker`` training receipts
(``training.total_picker_fit``, what ``train`` does), so the fields step includes the picker as
it runs in production (an untrained model may give no picker: the table says). Measured receipts
are the split file's held-out receipts (its ``test`` side, or every receipt in neither ``train``
nor ``dev``: a ``quality_bench.py`` fold), else the dataset's last ``--receipts``; never the
picker's. Each receipt is timed ``--repeats`` times after one warm-up pass, runtimes and thread
counts interleaved receipt by receipt so they share the machine's load; a receipt's time is its
fastest repeat (the machine is shared), and the table gives the median and p95 over receipts,
split into encode (``runtime.encode``), model (``predict_windows``) and fields (the rest of
``prediction.predict_document``: decoding, printed rows, ``extract_fields`` with the picker).
The calling thread's CPU time of the fields step and of the whole path are given too
(``*_cpu``): on a shared machine wall time counts other processes' turns, CPU time does not. With
1 thread ONNX Runtime runs the model in the calling thread, so that is the whole path's CPU time;
with more, the model's other threads are not in it (nor are the spin-waits of other sessions'
pools, which a process-wide clock would charge to whatever runs meanwhile).
The sweep runs one window of exactly N tokens (a real receipt's tokens, repeated) through
``run_window``: median of ``--repeats`` + 2 runs. ``--quick`` (``make bench``): 20 receipts,
one repeat, a 60-receipt picker. Prints one JSON line, then tables.
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
SROIE = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "sroie" / "train"


def _receipts(args: argparse.Namespace):
    if args.dataset:
        from receipt_layoutlm.data import load_dataset_file

        docs = load_dataset_file(args.dataset)
    else:
        from receipt_layoutlm.importers.sroie import parse_sroie

        docs = parse_sroie(SROIE).documents
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


def _minilm_checkpoint(root: Path, docs) -> Path:
    """MiniLM-sized LayoutLM, untrained head, labels of the receipts: timings as trained."""
    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list, load_tokenizer
    from receipt_layoutlm.pretrained import minilm_dir
    from receipt_layoutlm.training import TrainingConfig, build_model

    labels = label_list({w.label for d in docs for w in d.words if w.label})
    model = build_model(TrainingConfig(init_from=str(minilm_dir())), labels).model
    return save_checkpoint(root / "minilm", model, load_tokenizer(minilm_dir()), labels,
                           EncodingConfig())


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
        self.model_cpu_s = 0.0

    def __getattr__(self, name: str):
        return getattr(self._runtime, name)

    def predict_windows(self, encoded):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._runtime.predict_windows(encoded)
        finally:
            self.model_s += time.perf_counter() - started
            self.model_cpu_s += time.thread_time() - cpu


def _time_receipt(runtime, doc) -> dict[str, float]:
    from receipt_layoutlm.prediction import predict_document

    timed = _TimedModel(runtime)
    t0, c0 = time.perf_counter(), time.thread_time()
    encoded = runtime.encode(doc)
    t1, c1 = time.perf_counter(), time.thread_time()
    predict_document(timed, doc, encoded=encoded)
    t2, c2 = time.perf_counter(), time.thread_time()
    return {"encode": t1 - t0, "model": timed.model_s, "fields": t2 - t1 - timed.model_s,
            "total": t2 - t0, "fields_cpu": c2 - c1 - timed.model_cpu_s,
            "total_cpu": c2 - c0}


def _load(runtime_name: str, bundle: Path, checkpoint: Path | None, threads: int,
          session_config: dict[str, str] | None = None):
    from receipt_layoutlm.runtime import load_runtime

    if runtime_name == "torch":
        import torch

        torch.set_num_threads(threads)
        return load_runtime("torch", checkpoint)
    return load_runtime(runtime_name, bundle, threads=threads, session_config=session_config)


def _summary(best: list[dict[str, float]]) -> dict[str, float]:
    import numpy as np

    out = {}
    for stage in ("encode", "model", "fields", "total", "fields_cpu", "total_cpu"):
        values = np.asarray([r[stage] for r in best]) * 1000
        out[f"{stage}_p50_ms"] = round(float(np.percentile(values, 50)), 2)
        out[f"{stage}_p95_ms"] = round(float(np.percentile(values, 95)), 2)
    return out


def _measure(setups: list[dict], docs, repeats: int) -> list[dict]:
    """Every setup (variant × runtime × threads) on every receipt, interleaved receipt by
    receipt so that the machine's load falls on all of them alike."""
    for setup in setups:  # warm-up: sessions, tokenizer caches
        for doc in docs:
            _time_receipt(setup["runtime"], doc)
    best: list[list[dict[str, float]]] = [[] for _ in setups]
    for doc in docs:
        for n, setup in enumerate(setups):
            runs = [_time_receipt(setup["runtime"], doc) for _ in range(repeats)]
            best[n].append(min(runs, key=lambda r: r["total"]))
    return [
        {"variant": s["variant"], "runtime": s["name"], "threads": s["threads"],
         "receipts": len(docs), "picker": getattr(s["runtime"], "total_picker", None) is not None,
         **_summary(b)}
        for s, b in zip(setups, best, strict=True)
    ]


def _sweep(setups: list[dict], doc, lengths: list[int], repeats: int) -> list[dict]:
    """Model time of one window of exactly N tokens per setup (median of repeats)."""
    import numpy as np

    out = []
    for setup in setups:
        runtime = setup["runtime"]
        window = runtime.encode(doc).windows[0].as_arrays()
        row = {"variant": setup["variant"], "runtime": setup["name"],
               "threads": setup["threads"]}
        for length in lengths:
            arrays = {k: np.resize(v, (1, length, 4) if k == "bbox" else (1, length))
                      for k, v in window.items()}
            runtime.run_window(arrays)
            times = []
            for _ in range(repeats + 2):
                started = time.perf_counter()
                runtime.run_window(arrays)
                times.append(time.perf_counter() - started)
            row[f"seq{length}_ms"] = round(float(np.median(times)) * 1000, 2)
        out.append(row)
    return out


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path,
                        help="a trained checkpoint (default: MiniLM-sized, untrained head)")
    parser.add_argument("--dataset", type=Path, help="JSONL dataset (default: SROIE train)")
    parser.add_argument("--split-file", type=Path, help="measure its test (or dev) receipts")
    parser.add_argument("--receipts", type=int, default=100)
    parser.add_argument("--runtimes", default="onnx-int8,onnx",
                        help="runtimes to time (onnx-int8, onnx, torch)")
    parser.add_argument("--threads", default="1,2", help="intra-op threads per runtime")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-picker", type=int, default=120,
                        help="training receipts to fit a total picker on when none is stored")
    parser.add_argument("--lengths", default="128,256,384,512", help="sweep lengths ('' none)")
    parser.add_argument("--bundle", action="append", default=[], metavar="NAME=DIR",
                        help="time this existing bundle (repeatable) instead of exporting")
    parser.add_argument("--ort-config", action="append", default=[], metavar="KEY=VALUE",
                        help="also time every ONNX setup with this session config entry "
                             "(repeatable; e.g. session.intra_op.allow_spinning=0)")
    parser.add_argument("--quick", action="store_true",
                        help="20 receipts, 1 repeat, a 60-receipt picker (make bench)")
    args = parser.parse_args()
    if args.quick:
        args.receipts, args.repeats, args.fit_picker = min(args.receipts, 20), 1, 60
    return args


def main() -> int:
    args = _arguments()
    measured, picker_docs = _receipts(args)
    lengths = [int(n) for n in args.lengths.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="inference-bench-") as tmp:
        root = Path(tmp)
        checkpoint = None
        variants = dict(b.split("=", 1) for b in args.bundle)
        if not variants or "torch" in args.runtimes:
            source = args.checkpoint or _minilm_checkpoint(root, measured + picker_docs)
            checkpoint = _prepare_checkpoint(source, root, picker_docs)
            if not variants:
                variants = {"exported": str(_export(checkpoint, root))}
        config = dict(entry.split("=", 1) for entry in args.ort_config)
        setups = [
            {"variant": variant + ("+cfg" if cfg else ""), "name": name, "threads": int(n),
             "runtime": _load(name, Path(bundle), checkpoint, int(n), cfg)}
            for variant, bundle in variants.items()
            for name in args.runtimes.split(",")
            for n in args.threads.split(",")
            for cfg in ([None, config] if config and name != "torch" else [None])
        ]
        runs = _measure(setups, measured, args.repeats)
        sweep = _sweep(setups, measured[0], lengths, args.repeats) if lengths else []
    result = {"bench": "inference", "machine": f"{platform.machine()} {os.cpu_count()} cpu",
              "checkpoint": str(args.checkpoint or "minilm-untrained-head"),
              "bundles": variants if args.bundle else "exported", "ort_config": config,
              "load_avg_1min": round(os.getloadavg()[0], 2), "runs": runs, "sweep": sweep}
    print(json.dumps(result))
    _print_tables(runs, sweep, lengths, result["load_avg_1min"])
    return 0


def _print_tables(runs: list[dict], sweep: list[dict], lengths: list[int], load: float) -> None:
    print(f"\n{'variant':>10} {'runtime':>9} {'thr':>3} {'rcpt':>4}  {'encode':>13} "
          f"{'model':>13} {'fields':>13} {'total':>13}   (ms per receipt, p50 / p95; "
          f"load {load})")
    for r in runs:
        cells = "".join(f" {r[f'{s}_p50_ms']:>6.2f}/{r[f'{s}_p95_ms']:<6.2f}"
                        for s in ("encode", "model", "fields", "total"))
        print(f"{r['variant']:>10} {r['runtime']:>9} {r['threads']:>3} {r['receipts']:>4} "
              f"{cells}  cpu: fields {r['fields_cpu_p50_ms']:.2f}, total "
              f"{r['total_cpu_p50_ms']:.1f}/{r['total_cpu_p95_ms']:.1f}  picker {r['picker']}")
    if sweep:
        print(f"\n{'variant':>10} {'runtime':>9} {'thr':>3}  "
              + " ".join(f"{'seq ' + str(n):>9}" for n in lengths) + "   (model ms, median)")
        for r in sweep:
            print(f"{r['variant']:>10} {r['runtime']:>9} {r['threads']:>3}  "
                  + " ".join(f"{r[f'seq{n}_ms']:>9.1f}" for n in lengths))


if __name__ == "__main__":
    sys.exit(main())
