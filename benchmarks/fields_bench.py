"""The fields step alone (issue 21's bar: 1 ms at the median receipt, total picker and line
classifier on): everything ``prediction.predict_document`` does besides the model — printed
rows, decoding, ``extract_fields`` with the bundle's ``total_picker.json``,
``line_classifier.json`` and ``known_values.json`` and the OCR repairs — on a bundle's outputs
computed once.

    .venv/bin/python benchmarks/fields_bench.py --bundle BUNDLE [--dataset sroie_sample_30.jsonl]
        [--receipts 30] [--repeats 5] [--flush-mb 48] [--baseline-src ../main/src]

Each receipt is encoded and run through the bundle's ONNX int8 model once; then its fields step
is ``predict_document`` with a runtime that hands back those outputs after reading ``--flush-mb``
MB of memory, as the model's weights do in the whole path (the step then starts with the caches
flushed; ``--flush-mb 0`` gives the warm figure). A receipt's time is the calling thread's CPU
time of ``predict_document`` less that model slot, fastest of ``--repeats`` after one warm-up
pass; the table gives p50/p95 over receipts. ``--baseline-src`` (another checkout's ``src``) adds
that code beside this tree's, in the same process: its ``receipt_layoutlm`` is copied to a
temporary package ``receipt_layoutlm_base`` and both run on the same outputs, receipt by receipt,
in alternating order; every receipt's words and fields must be the same in both (counted).
Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SROIE = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "sroie" / "train"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", required=True, help="an ONNX bundle (with its picker files)")
    parser.add_argument("--dataset", help="JSONL dataset (default: SROIE train)")
    parser.add_argument("--receipts", type=int, default=30, help="the dataset's last N")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flush-mb", type=float, default=48.0,
                        help="memory read in the model's place (0: warm caches)")
    parser.add_argument("--baseline-src", help="a src directory to time beside this tree's")
    return parser.parse_args()


def _receipts(args: argparse.Namespace) -> list[Any]:
    if args.dataset:
        from receipt_layoutlm.data import load_dataset_file

        return load_dataset_file(args.dataset)[-args.receipts:]
    from receipt_layoutlm.importers.sroie import parse_sroie

    return parse_sroie(SROIE).documents[-args.receipts:]


def _baseline_package(src: Path, root: Path) -> str:
    """``src``'s package copied under ``root`` as ``receipt_layoutlm_base`` (its imports of
    itself renamed), importable beside this tree's."""
    target = root / "receipt_layoutlm_base"
    shutil.copytree(src / "receipt_layoutlm", target,
                    ignore=shutil.ignore_patterns("__pycache__"))
    name = re.compile(r"\breceipt_layoutlm\b")
    for path in target.rglob("*.py"):
        path.write_text(name.sub("receipt_layoutlm_base", path.read_text(encoding="utf-8")),
                        encoding="utf-8")
    sys.path.insert(0, str(root))
    return "receipt_layoutlm_base"


class _Replay:
    """A runtime for ``predict_document`` that hands back stored outputs, after reading the
    flush array in the model's place (its thread time kept, to take off)."""

    def __init__(self, package: str, runtime: Any, bundle: str, flush: Any) -> None:
        fields = __import__(f"{package}.fields", fromlist=["fields"])
        self.predict_document = __import__(
            f"{package}.prediction", fromlist=["prediction"]).predict_document
        self.labels = runtime.labels
        self.encoding_config = runtime.encoding_config
        self.total_picker = fields.load_total_picker(bundle)
        self.line_classifier = fields.load_line_classifier(bundle)
        self.known_values = fields.load_known_values(bundle)
        self.outputs: list[Any] = []
        self.model_s = 0.0
        self._flush = flush

    def predict_windows(self, encoded: Any) -> list[Any]:
        started = time.thread_time()
        if self._flush is not None:
            self._flush.sum()
        self.model_s = time.thread_time() - started
        return self.outputs

    def fields_step(self, encoded: Any, outputs: list[Any]) -> tuple[float, Any]:
        self.outputs = outputs
        started = time.thread_time()
        result = self.predict_document(self, None, encoded=encoded)
        return time.thread_time() - started - self.model_s, result


def _same(a: Any, b: Any) -> bool:
    def fields(p: Any) -> dict[str, Any]:
        return {n: (f.text, f.value, f.confidence, f.word_indices) for n, f in p.fields.items()}

    return a.to_dict() == b.to_dict() and fields(a) == fields(b)


def _measure(versions: dict[str, _Replay], cases: list[tuple[Any, list[Any]]],
             repeats: int) -> tuple[dict[str, list[float]], int]:
    best = {name: [float("inf")] * len(cases) for name in versions}
    differ = 0
    for rep in range(repeats + 1):  # the first pass warms up
        for k, (encoded, outputs) in enumerate(cases):
            order = list(versions) if (k + rep) % 2 else list(versions)[::-1]
            results = {}
            for name in order:
                seconds, results[name] = versions[name].fields_step(encoded, outputs)
                if rep:
                    best[name][k] = min(best[name][k], seconds)
            if rep == 0 and len(results) == 2:
                differ += not _same(*results.values())
    return best, differ


def main() -> int:
    args = _arguments()
    import numpy as np

    from receipt_layoutlm.runtime import load_runtime

    runtime = load_runtime("onnx-int8", Path(args.bundle), threads=1)
    cases = []
    for doc in _receipts(args):
        encoded = runtime.encode(doc)
        cases.append((encoded, [np.array(o) for o in runtime.predict_windows(encoded)]))
    flush = np.ones(int(args.flush_mb * 2**20 / 8)) if args.flush_mb > 0 else None
    with tempfile.TemporaryDirectory(prefix="fields-bench-") as tmp:
        packages = {"this tree": "receipt_layoutlm"}
        if args.baseline_src:
            packages = {"baseline": _baseline_package(Path(args.baseline_src), Path(tmp)),
                        **packages}
        versions = {name: _Replay(package, runtime, args.bundle, flush)
                    for name, package in packages.items()}
        best, differ = _measure(versions, cases, args.repeats)
    summary = {}
    for name, seconds in best.items():
        ms = np.asarray(seconds) * 1000
        summary[name] = {"p50_ms": round(float(np.percentile(ms, 50)), 3),
                         "p95_ms": round(float(np.percentile(ms, 95)), 3)}
    result: dict[str, Any] = {
        "bench": "fields", "bundle": args.bundle, "receipts": len(cases),
        "repeats": args.repeats, "flush_mb": args.flush_mb,
        "load_avg_1min": round(os.getloadavg()[0], 2), "versions": summary,
        "picker": versions["this tree"].total_picker is not None,
        "line_classifier": versions["this tree"].line_classifier is not None,
        "known_values": versions["this tree"].known_values is not None,
    }
    if args.baseline_src:
        result["median_ratio"] = round(statistics.median(
            a / b for a, b in zip(best["this tree"], best["baseline"], strict=True)), 3)
        result["receipts_differing"] = differ
    print(json.dumps(result))
    print(f"\n{'code':>10}  {'fields p50':>10} {'p95':>7}   (ms CPU per receipt, {len(cases)} "
          f"receipts, {args.flush_mb:g} MB flushed before each, load "
          f"{result['load_avg_1min']})")
    for name, figures in summary.items():
        print(f"{name:>10}  {figures['p50_ms']:>10.3f} {figures['p95_ms']:>7.3f}")
    if args.baseline_src:
        print(f"this tree / baseline, median per receipt: {result['median_ratio']}; receipts "
              f"whose words or fields differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
