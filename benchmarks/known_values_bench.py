"""Known-values bench: merchant/address snapping judged where the lexicon was not fitted.

    python benchmarks/known_values_bench.py --model CKPT --dataset train.jsonl \
        [--dataset renders.jsonl] [--folds 5] [--limit N]

The approach of ``line_classifier_bench.py`` (whose prediction and scoring it reuses): the
checkpoint predicts once on every receipt of the datasets (its training transcripts and their
OCR'd re-renders; never the sample photos), the receipts are dealt into folds by receipt (a
render goes with its transcript), and each fold is read with a line classifier AND known values
fitted on the other folds only (``training.known_values_fit`` over their ground truth), beside
the same fields without either and with the line classifier alone. The known values are tried
at an a-priori grid of thresholds (rapidfuzz ratio 80/85/90/95), whole-string matches only
(``w``) or also a known value inside a longer read text (``p``). Prints one JSON line and
tables: SROIE task-3 F1 (strict and case-insensitive, per key) for transcripts and renders
split by the checkpoint's dev and training sides, the per-fold case-insensitive F1 of each
variant (what the default is chosen on), and the snapping cost per receipt.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time
from types import SimpleNamespace
from typing import Any

from receipt_layoutlm.fields.known_values import KNOWN_FIELDS

os.environ.setdefault("HF_HUB_OFFLINE", "1")

RATIOS = (80.0, 85.0, 90.0, 95.0)


def _variants(known: Any) -> dict[str, Any]:
    """Grid name → known values with that threshold and partial setting."""
    return {f"kv{int(r)}{'p' if partial else 'w'}": dataclasses.replace(
        known, min_ratio=r, partial=partial)
        for r in RATIOS for partial in (False, True)}


def _snapped(known: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as ``extract_fields(..., known_values=known)`` gives them: snapping is its
    last step, so the variants share one extraction."""
    return {name: known.snap(name, value) if name in KNOWN_FIELDS else value
            for name, value in fields.items()}


def _cross_fitted(receipts: list[dict[str, Any]], folds: int) -> tuple[dict, list[dict], list]:
    """Per variant, each receipt's task-3 strings read with models fitted on the other folds;
    which fold each receipt was held out in; the snapping times at the default parameters
    (µs a receipt)."""
    from receipt_layoutlm.data import kfold
    from receipt_layoutlm.evaluation import sroie_prediction
    from receipt_layoutlm.fields import extract_fields
    from receipt_layoutlm.training.known_values_fit import fit_known_values
    from receipt_layoutlm.training.line_classifier_fit import fit_line_classifier

    preds: dict[str, dict] = {}
    fold_of: list[dict] = []
    snap_us: list[float] = []
    for n, fold in enumerate(kfold((r["base"] for r in receipts), folds, seed=0)):
        held_out = set(fold.held_out)
        train = [r for r in receipts if r["base"] not in held_out]
        classifier = fit_line_classifier([e for r in train for e in r["examples"]])
        known = fit_known_values(
            [SimpleNamespace(key=r["key"], fields=r["truth"]) for r in train])
        variants = _variants(known)
        for r in receipts:
            if r["base"] not in held_out:
                continue
            fold_of.append({"key": r["key"], "fold": n})
            plain = extract_fields(r["predictions"], **{**r["inputs"], "line_classifier": None})
            lined = extract_fields(r["predictions"],
                                   **{**r["inputs"], "line_classifier": classifier})
            preds.setdefault("without", {})[r["key"]] = sroie_prediction(plain)
            preds.setdefault("line_classifier", {})[r["key"]] = sroie_prediction(lined)
            started = time.perf_counter()
            _snapped(known, lined)  # the defaults, timed
            snap_us.append((time.perf_counter() - started) * 1e6)
            for name, variant in variants.items():
                preds.setdefault(name, {})[r["key"]] = sroie_prediction(_snapped(variant, lined))
    return preds, fold_of, snap_us


def _per_fold(receipts: list[dict], preds: dict, fold_of: list[dict]) -> dict[str, Any]:
    """Per kind (transcripts/renders) and variant, the case-insensitive F1 of each fold."""
    from receipt_layoutlm.evaluation import sroie_task3_f1

    fold = {f["key"]: f["fold"] for f in fold_of}
    folds = sorted(set(fold.values()))
    out: dict[str, Any] = {}
    for kind in ("transcripts", "renders"):
        chosen = [r for r in receipts if r["render"] == (kind == "renders")]
        if not chosen:
            continue
        out[kind] = {name: [round(sroie_task3_f1(
            {r["key"]: by_key[r["key"]] for r in chosen if fold[r["key"]] == k},
            {r["key"]: r["truth"] for r in chosen if fold[r["key"]] == k},
            case_sensitive=False).f1, 4) for k in folds] for name, by_key in preds.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    from line_classifier_bench import _scores, predicted_receipts

    # The lexicon under test is the folds' own (predicted_receipts drops a stored one).
    args, receipts, started = predicted_receipts(__doc__.splitlines()[0], argv)
    predicted = time.perf_counter() - started
    preds, fold_of, snap_us = _cross_fitted(receipts, args.folds)
    scores = _scores(receipts, preds)
    per_fold = _per_fold(receipts, preds, fold_of)
    snap = {"receipts": len(snap_us), "p50_us": round(statistics.median(snap_us), 1),
            "p95_us": round(sorted(snap_us)[int(0.95 * (len(snap_us) - 1))], 1)}
    print(json.dumps({"bench": "known_values", "model": str(args.model),
                      "datasets": [str(f) for f in args.dataset], "folds": args.folds,
                      "predict_s": round(predicted, 1), "snap": snap, "per_fold": per_fold,
                      "seconds": round(time.perf_counter() - started, 1), **scores}))
    _print_tables(scores, per_fold, snap)
    return 0


def _print_tables(scores: dict[str, Any], per_fold: dict[str, Any], snap: dict) -> None:
    keys = ["company", "date", "address", "total"]
    for mode in ("strict", "case_insensitive"):
        print(f"\n{mode}: {'subset / fields':40} {'F1':>6}  "
              + "  ".join(f"{k:>8}" for k in keys))
        for subset, figures in scores.items():
            for name in (n[: -len(mode) - 1] for n in figures if n.endswith("_" + mode)):
                s = figures[f"{name}_{mode}"]
                print(f"{subset + ' ' + name:50} {s['f1']:6.3f}  "
                      + "  ".join(f"{s['per_key'][k]:8.3f}" for k in keys))
    for kind, variants in per_fold.items():
        base = variants["line_classifier"]
        print(f"\nper fold, {kind}, case-insensitive F1 (Δ vs line classifier alone):")
        for name, figures in variants.items():
            deltas = " ".join(f"{f - b:+.3f}" for f, b in zip(figures, base, strict=True))
            print(f"  {name:16} " + " ".join(f"{f:.3f}" for f in figures) + f"   Δ {deltas}")
    print(f"\nsnapping (the defaults, merchant + address): p50 {snap['p50_us']} µs, "
          f"p95 {snap['p95_us']} µs a receipt over {snap['receipts']} receipts")


if __name__ == "__main__":
    raise SystemExit(main())
