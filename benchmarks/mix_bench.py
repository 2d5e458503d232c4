"""One model on SROIE + WildReceipt (``train --mix``) against each single-dataset model, on each
dataset's held-out receipts (issue 18, item 6).

    python benchmarks/mix_bench.py --joint .receipts/objects/runs/layoutlm-mix/best \
        --single sroie=.receipts/objects/runs/layoutlm-sroie/best \
        --single wild=.receipts/objects/runs/layoutlm-wild/best \
        --heldout sroie=sroie_heldout.jsonl --heldout wild=wild_test.jsonl

Per dataset it scores, through ``evaluation.evaluate.evaluate_documents`` (the ``evaluate``
command's code): the single-dataset model; the joint model read with that dataset's labels
(``evaluate --label-set``: the probability of labels the dataset never annotates counts as O);
and the joint model read with all of its labels (what the mask changes at read time). Metrics:
word-level entity F1, SROIE task-3 F1 (receipts with fields), WildReceipt segment macro F1
(receipts with segments). Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _MemoRuntime:
    """A runtime whose window logits are computed once per receipt: the joint model's two
    readings (all labels, one dataset's labels) share one forward pass."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._logits: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    def predict_windows(self, encoded: Any) -> Any:
        if encoded.key not in self._logits:
            self._logits[encoded.key] = self._runtime.predict_windows(encoded)
        return self._logits[encoded.key]


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep:
            raise SystemExit(f"{flag} takes NAME=PATH, got {value!r}")
        out[name] = path
    return out


def _scores(metrics: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"receipts": metrics["receipts"], "entity_f1": metrics["entity"]["f1"]}
    if "sroie_task3" in metrics:
        row["task3_f1"] = metrics["sroie_task3"]["f1"]
        row["task3_per_key"] = {k: v["f1"] for k, v in metrics["sroie_task3"]["per_key"].items()}
    if "wildreceipt_segments" in metrics:
        segments = metrics["wildreceipt_segments"]
        row["segment_macro_f1"] = segments["macro_f1"]
        row["segment_micro_f1"] = segments.get("micro_f1")
    return row


def evaluate_one(runtime: Any, docs: list[Any], merges: dict[str, str]) -> dict[str, Any]:
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents

    started = time.monotonic()
    row = _scores(evaluate_documents(runtime, docs, merges=merges).metrics)
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def _merges(model_dir: Path) -> dict[str, str]:
    from receipt_layoutlm.checkpoint import read_meta

    return dict(read_meta(model_dir).get("merges") or {})


def run(joint: Path, singles: dict[str, str], heldout: dict[str, str], runtime_name: str) -> dict:
    from receipt_layoutlm.data import load_dataset_file
    from receipt_layoutlm.runtime import load_runtime
    from receipt_layoutlm.training.label_masks import LabelSetRuntime, recorded_label_set

    joint_runtime = _MemoRuntime(load_runtime(runtime_name, joint))
    results: dict[str, Any] = {}
    for name, path in heldout.items():
        docs = list(load_dataset_file(path))
        rows: dict[str, Any] = {}
        if name in singles:
            single = Path(singles[name])
            rows["single"] = evaluate_one(load_runtime(runtime_name, single), docs,
                                          _merges(single))
        label_set = recorded_label_set(joint, name)
        rows["joint, its labels"] = evaluate_one(
            LabelSetRuntime(joint_runtime, label_set), docs, _merges(joint)
        )
        rows["joint, all labels"] = evaluate_one(joint_runtime, docs, _merges(joint))
        results[name] = rows
    return results


def _print_table(results: dict[str, Any]) -> None:
    print(f"\n{'dataset':<8} {'model':<20} {'receipts':>8} {'entity F1':>9} {'task-3 F1':>9} "
          f"{'segment macro F1':>16}")
    for name, rows in results.items():
        for model, row in rows.items():
            task3 = row.get("task3_f1")
            macro = row.get("segment_macro_f1")
            print(f"{name:<8} {model:<20} {row['receipts']:>8} {row['entity_f1']:>9.3f} "
                  f"{'' if task3 is None else f'{task3:.3f}':>9} "
                  f"{'' if macro is None else f'{macro:.3f}':>16}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joint", required=True, type=Path, help="the --mix model's best/")
    parser.add_argument("--single", action="append", default=[], metavar="NAME=DIR",
                        help="a single-dataset model for dataset NAME (repeatable)")
    parser.add_argument("--heldout", action="append", required=True, metavar="NAME=FILE.jsonl",
                        help="held-out receipts of dataset NAME (repeatable)")
    parser.add_argument("--runtime", default="torch")
    args = parser.parse_args(argv)
    results = run(args.joint, _pairs(args.single, "--single"),
                  _pairs(args.heldout, "--heldout"), args.runtime)
    print(json.dumps({"bench": "mix", "joint": str(args.joint), "results": results}))
    _print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
