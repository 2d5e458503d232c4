"""Line classifier bench: the company/address line classifier judged where it was not fitted.

    python benchmarks/line_classifier_bench.py --model CKPT --dataset train.jsonl \
        [--dataset renders.jsonl] [--folds 5] [--limit N]

The checkpoint predicts once on every receipt of the datasets (its training transcripts and
their OCR'd re-renders, ``receipt_ocr.ocr_renders``; never the sample photos); the receipts are
dealt into folds by receipt (a render goes with its transcript: keys ``K`` and ``K#ocr0``), and
each fold's receipts are read with a classifier fitted on the other folds
(``training.line_classifier_fit``), beside the same fields without one. Prints one JSON line and
a table: SROIE task-3 F1 (strict and case-insensitive, per key) for transcripts and renders,
each split by the checkpoint's own dev and training sides (the word model was trained on the
training side, so its probabilities there are overconfident: the dev side is the honest one).
The photo figure is ``benchmarks/photo_bench.py`` on a checkpoint the classifier was fitted
onto (``layoutlm-cli fit-fields``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _predict(runtime: Any, docs: list[Any], dev: set[str]) -> list[dict[str, Any]]:
    from receipt_layoutlm.prediction import field_inputs
    from receipt_layoutlm.training.line_classifier_fit import receipt_line_examples

    out = []
    for doc in docs:
        if not doc.fields:
            continue
        encoded = runtime.encode(doc)
        predictions, inputs = field_inputs(runtime, encoded)
        base = doc.key.split("#", 1)[0]
        out.append({
            "key": doc.key, "base": base, "render": "#" in doc.key, "dev": base in dev,
            "truth": dict(doc.fields), "predictions": predictions,
            "inputs": inputs,
            "examples": receipt_line_examples(predictions, encoded.line_index,
                                              inputs["ocr_confidences"],
                                              [w.label for w in encoded.words]),
        })
    return out


def _cross_fitted(receipts: list[dict[str, Any]], folds: int) -> dict[str, dict]:
    from receipt_layoutlm.data import kfold
    from receipt_layoutlm.evaluation import sroie_prediction
    from receipt_layoutlm.fields import extract_fields
    from receipt_layoutlm.training.line_classifier_fit import fit_line_classifier

    preds: dict[str, dict] = {"without": {}, "with": {}}
    for fold in kfold((r["base"] for r in receipts), folds, seed=0):
        held_out = set(fold.held_out)
        fitted = fit_line_classifier(
            [e for r in receipts if r["base"] not in held_out for e in r["examples"]])
        for r in receipts:
            if r["base"] not in held_out:
                continue
            for name, classifier in (("without", None), ("with", fitted)):
                fields = extract_fields(
                    r["predictions"], **{**r["inputs"], "line_classifier": classifier})
                preds[name][r["key"]] = sroie_prediction(fields)
    return preds


def _scores(receipts: list[dict[str, Any]], preds: dict[str, dict]) -> dict[str, Any]:
    from receipt_layoutlm.evaluation import sroie_task3_f1

    out: dict[str, Any] = {}
    for subset in ("transcripts_dev", "transcripts_train", "renders_dev", "renders_train"):
        kind, side = subset.split("_")
        chosen = [r for r in receipts if r["render"] == (kind == "renders")
                  and r["dev"] == (side == "dev")]
        if not chosen:
            continue
        truth = {r["key"]: r["truth"] for r in chosen}
        out[subset] = {"receipts": len(chosen)}
        for name, by_key in preds.items():
            p = {k: by_key[k] for k in truth}
            for mode, case in (("strict", True), ("case_insensitive", False)):
                result = sroie_task3_f1(p, truth, case_sensitive=case)
                out[subset][f"{name}_{mode}"] = {
                    "f1": round(result.f1, 4),
                    "per_key": {k: round(v.f1, 4) for k, v in result.per_key.items()}}
    return out


def predicted_receipts(
    description: str, argv: list[str] | None
) -> tuple[argparse.Namespace, list[dict[str, Any]], float]:
    """The benches' shared start: parse ``--model/--dataset/--folds/--limit``, predict once on
    every receipt (``_predict``). The checkpoint's own known values are dropped: both
    benches compare fields without a lexicon to fields with folds-fitted ones, and a stored
    lexicon (fitted on the training side) would be in every figure. Returns the
    arguments, the receipts and the start time."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", type=Path, required=True, help="checkpoint directory")
    parser.add_argument("--dataset", type=Path, action="append", required=True,
                        help="labelled receipts (JSONL), repeatable: transcripts, renders")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="first N receipts per dataset")
    args = parser.parse_args(argv)
    from receipt_layoutlm.data import DatasetConfig, load_documents
    from receipt_layoutlm.evaluation.evaluate import checkpoint_truth
    from receipt_layoutlm.runtime import load_runtime

    runtime = load_runtime("torch", args.model)
    runtime.known_values = None
    dev = {d.key for d in checkpoint_truth(args.model, {"dataset_file": str(args.dataset[0])},
                                           open_store=lambda: None, split_side="dev").docs}
    started = time.perf_counter()
    docs = [d for f in args.dataset
            for d in load_documents(None, DatasetConfig(dataset_file=str(f)))[: args.limit]]
    return args, _predict(runtime, docs, dev), started


def main(argv: list[str] | None = None) -> int:
    args, receipts, started = predicted_receipts(__doc__.splitlines()[0], argv)
    predicted = time.perf_counter() - started
    scores = _scores(receipts, _cross_fitted(receipts, args.folds))
    print(json.dumps({"bench": "line_classifier", "model": str(args.model),
                      "datasets": [str(f) for f in args.dataset], "folds": args.folds,
                      "predict_s": round(predicted, 1),
                      "seconds": round(time.perf_counter() - started, 1), **scores}))
    keys = ["company", "date", "address", "total"]
    print(f"\n{'subset / fields':44} {'F1':>6}  " + "  ".join(f"{k:>8}" for k in keys))
    for subset, figures in scores.items():
        for name in ("without_strict", "with_strict", "without_case_insensitive",
                     "with_case_insensitive"):
            s = figures[name]
            print(f"{subset + ' ' + name:44} {s['f1']:6.3f}  "
                  + "  ".join(f"{s['per_key'][k]:8.3f}" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
