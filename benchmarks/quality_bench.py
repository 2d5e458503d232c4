"""SROIE task-3 F1 by K-fold cross-validation: mean ± spread over K seeded receipt-level folds.

Three steps, so field-extraction changes are re-scored in seconds without retraining:

    # 1. train one model per fold (held-out fold never seen; checkpoint picked on an inner dev
    #    slice of the training side), any extra `layoutlm-cli train` flags after --
    python benchmarks/quality_bench.py train --dataset sroie_train.jsonl --folds 5 \
        --work-dir .quality --variant base -- --init-from "$MINILM" --epochs 3 ...
    # 2. cache each fold model's window logits (held-out fold + its training side)
    python benchmarks/quality_bench.py cache --dataset sroie_train.jsonl --folds 5 \
        --work-dir .quality --variant base
    # what the OCR words allow at best (no model): share of keys that are a block of words
    python benchmarks/quality_bench.py ceiling --dataset sroie_train.jsonl
    # 3. score: fields through prediction.predict_document on the cached logits
    python benchmarks/quality_bench.py score --dataset sroie_train.jsonl --folds 5 \
        --work-dir .quality --variant base [--picker stored]

Prints one JSON line, then a table (per fold and mean ± sample standard deviation), each
extraction setting under both conventions ``evaluate`` reports: strict and excluding OCR
mismatch (a pair whose truth is not in the receipt's text is dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


_CLI = "import sys; from receipt_layoutlm.cli import main; sys.exit(main(sys.argv[1:]))"


def _folds(args: argparse.Namespace):
    from receipt_layoutlm.data import kfold, load_dataset_file

    docs = load_dataset_file(args.dataset)
    return docs, kfold([d.key for d in docs], args.folds, seed=args.fold_seed)


def _fold_dir(args: argparse.Namespace, index: int) -> Path:
    return Path(args.work_dir) / args.variant / f"fold-{index}"


def cmd_train(args: argparse.Namespace, extra: list[str]) -> int:
    """Train each fold not yet trained (``best/`` present = done), one subprocess per fold."""
    _, folds = _folds(args)
    for fold in folds:
        if args.only is not None and fold.index not in args.only:
            continue
        fold_dir = _fold_dir(args, fold.index)
        if (fold_dir / "run" / "best" / "checkpoint.json").exists():
            print(f"fold {fold.index}: trained already", file=sys.stderr)
            continue
        fold_dir.mkdir(parents=True, exist_ok=True)
        split = fold.write_split(fold_dir / "split.json", args.inner_dev, args.fold_seed)
        command = [
            sys.executable, "-c", _CLI, "train",
            "--job-name", f"layoutlm-cv-{args.variant}-{fold.index}",
            "--dataset", str(args.dataset), "--split-file", str(split),
            "--data-dir", str(fold_dir / "receipts-home"),
            "--output-dir", str(fold_dir / "run"), "--no-auto-export", *extra,
        ]  # fmt: skip
        started = time.perf_counter()
        print(f"fold {fold.index}: {' '.join(command)}", file=sys.stderr, flush=True)
        with open(fold_dir / "train.log", "ab") as log_file:
            rc = subprocess.call(command, stdout=log_file, stderr=subprocess.STDOUT)
        print(
            f"fold {fold.index}: rc {rc} in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        if rc != 0:
            return rc
    return 0


def _best(args: argparse.Namespace, index: int) -> Path:
    return _fold_dir(args, index) / "run" / "best"


def cmd_cache(args: argparse.Namespace) -> int:
    """Run each fold's model once over every receipt (held-out and training side; the
    held-out fold alone with ``--held-out-only``, enough for ``score --picker none|stored``)."""
    from receipt_layoutlm.evaluation.fold_cache import INDEX_FILE, write_fold_cache
    from receipt_layoutlm.runtime import load_runtime

    docs, folds = _folds(args)
    for fold in folds:
        if args.only is not None and fold.index not in args.only:
            continue
        out = _fold_dir(args, fold.index) / "cache"
        if (out / INDEX_FILE).exists() or not _best(args, fold.index).is_dir():
            continue
        started = time.perf_counter()
        chosen = [d for d in docs if d.key in set(fold.held_out)] if args.held_out_only else docs
        write_fold_cache(load_runtime("torch", _best(args, fold.index)), chosen, out)
        print(f"fold {fold.index}: cached in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


def _runtimes(args: argparse.Namespace, folds):
    from receipt_layoutlm.encoding import load_tokenizer
    from receipt_layoutlm.evaluation.fold_cache import CachedRuntime

    runtimes = {}
    for fold in folds:
        cache = _fold_dir(args, fold.index) / "cache"
        if (cache / "index.json").exists():
            runtimes[fold.index] = CachedRuntime(cache, load_tokenizer(_best(args, fold.index)))
    return runtimes


def _pickers(args, folds, runtimes, by_key) -> dict[str, dict[int, object]]:
    """Per fold, pickers fitted on the fold model's predictions for the receipts it trained on
    (``insample``: exactly what ``train`` stores in best/), for its inner dev receipts only
    (``innerdev``: not trained on, but few), and on the other folds' held-out predictions
    (``crossfit``); none sees the fold's held-out receipts."""
    from receipt_layoutlm.training.total_picker_fit import fit_total_picker, runtime_examples

    held = {
        f.index: runtime_examples(runtimes[f.index], [by_key[k] for k in f.held_out])
        for f in folds
        if f.index in runtimes
    }
    out: dict[str, dict[int, object]] = {"insample": {}, "innerdev": {}, "crossfit": {}}
    for fold in folds:
        if fold.index not in runtimes:
            continue
        split = json.loads((_fold_dir(args, fold.index) / "split.json").read_text())
        train_side = runtime_examples(runtimes[fold.index], [by_key[k] for k in split["train"]])
        inner_dev = runtime_examples(runtimes[fold.index], [by_key[k] for k in split["dev"]])
        out["insample"][fold.index] = fit_total_picker(train_side)
        out["innerdev"][fold.index] = fit_total_picker(inner_dev)
        others = [e for j, examples in held.items() if j != fold.index for e in examples]
        out["crossfit"][fold.index] = fit_total_picker(others) if others else None
        for mode, fitted in out.items():
            if fitted[fold.index] is not None:
                path = _fold_dir(args, fold.index) / f"total_picker.{mode}"
                path.mkdir(exist_ok=True)
                fitted[fold.index].save(path)
    return out


def _fitted(pickers, stored, mode: str, index: int) -> dict[str, object]:
    """The fitted field files a fold's runtime reads in extraction setting ``mode``: with
    ``stored``, what the fold's ``train`` stored beside its best checkpoint."""
    import dataclasses

    from receipt_layoutlm.fields import FittedFields

    fitted = stored[index] if mode == "stored" else FittedFields(pickers[mode][index])
    return {f.name: getattr(fitted, f.name) for f in dataclasses.fields(fitted)}


def cmd_score(args: argparse.Namespace) -> int:
    from receipt_layoutlm.evaluation.crossval import fold_scores, summarize
    from receipt_layoutlm.evaluation.mismatches import (
        mismatch_markdown,
        mismatch_rows,
        write_mismatches,
    )
    from receipt_layoutlm.evaluation.task3_metric import EXCLUDING_OCR_MISMATCH, STRICT
    from receipt_layoutlm.fields import load_fitted_fields

    docs, folds = _folds(args)
    by_key = {d.key: d for d in docs}
    runtimes = _runtimes(args, folds)
    if not runtimes:
        raise SystemExit(f"no fold caches under {args.work_dir}/{args.variant}; run cache first")
    pickers = {"none": dict.fromkeys(runtimes)}
    if set(args.picker) - {"none", "stored"}:
        pickers.update(_pickers(args, folds, runtimes, by_key))
    stored = {index: load_fitted_fields(_best(args, index)) for index in runtimes}
    results = {}
    for multiline in args.multiline:
        for mode in args.picker:
            fold_results = []
            for fold in folds:
                if fold.index not in runtimes:
                    continue
                runtime = runtimes[fold.index]
                for attribute, fitted in _fitted(pickers, stored, mode, fold.index).items():
                    setattr(runtime, attribute, fitted)
                held_out = [by_key[k] for k in fold.held_out]
                fold_results.append(fold_scores(
                    runtime, held_out, multiline=multiline, whitespace=args.whitespace))
            name = f"{multiline}+{mode}"
            strict = [r[STRICT] for r in fold_results]
            results[name] = summarize(strict)
            results[f"{name} (excl. OCR mismatch)"] = summarize(
                [r[EXCLUDING_OCR_MISMATCH] for r in fold_results])
            rows = [r for res in strict for r in mismatch_rows(res.mismatches)]
            out = Path(args.work_dir) / args.variant / "score" / name
            write_mismatches(out / "mismatches.jsonl", rows)
            (out / "report.md").write_text(mismatch_markdown(rows, n_worst=40), encoding="utf-8")
    print(json.dumps({"variant": args.variant, "whitespace": args.whitespace, "results": results}))
    _print_table(results)
    return 0


def _reachable(texts: list[str], truth: str, whitespace: str) -> bool:
    from receipt_layoutlm.evaluation import normalize_whitespace

    target = normalize_whitespace(truth, whitespace)
    for start in range(len(texts)):
        joined = ""
        for stop in range(start, len(texts)):
            joined = normalize_whitespace(f"{joined} {texts[stop]}", whitespace)
            if joined == target:
                return True
            if len(joined) > len(target):
                break
    return False


def cmd_ceiling(args: argparse.Namespace) -> int:
    """The best task-3 recall any extraction from these OCR words can reach: the share of keys
    whose ground truth is some contiguous block of words in reading order (the encoding spec's).
    Keys whose transcription differs from the OCR (``SEITA`` vs ``SETIA``) are out of reach."""
    from receipt_layoutlm.encoding import reading_order

    docs, _ = _folds(args)
    keys = ("company", "date", "address", "total")
    reached = {(k, w): 0 for k in keys for w in ("collapse", "remove")}
    counted = dict.fromkeys(keys, 0)
    for doc in docs:
        texts = [doc.words[i].text for i in reading_order(doc)]
        for key in keys:
            truth = (doc.fields or {}).get(key)
            if not truth:
                continue
            counted[key] += 1
            for whitespace in ("collapse", "remove"):
                reached[key, whitespace] += _reachable(texts, truth, whitespace)
    out = {w: {k: reached[k, w] / max(counted[k], 1) for k in keys} for w in ("collapse", "remove")}
    for w in out:
        out[w]["all"] = sum(reached[k, w] for k in keys) / max(sum(counted.values()), 1)
    print(json.dumps({"receipts": len(docs), "ceiling": out}))
    print(f"\n{'whitespace':<10} " + " ".join(f"{k:>8}" for k in (*keys, "all")))
    for w, row in out.items():
        print(f"{w:<10} " + " ".join(f"{row[k]:>8.3f}" for k in (*keys, "all")))
    return 0


def _print_table(results: dict) -> None:
    keys = ("company", "date", "address", "total")
    print(
        f"\n{'extraction':<42} {'folds':>5} {'task-3 F1':>15} " + " ".join(f"{k:>15}" for k in keys)
    )
    for name, r in results.items():
        cells = [f"{r['f1']['mean']:.3f} ± {r['f1']['std']:.3f}"]
        cells += [f"{r['per_key'][k]['mean']:.3f} ± {r['per_key'][k]['std']:.3f}" for k in keys]
        print(f"{name:<42} {r['folds']:>5} " + " ".join(f"{c:>15}" for c in cells))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["train", "cache", "score", "ceiling"])
    parser.add_argument("--dataset", required=True, type=Path, help="SROIE JSONL dataset")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-seed", type=int, default=42)
    parser.add_argument("--work-dir", type=Path, default=Path(".quality"))
    parser.add_argument("--variant", default="base", help="name of the recipe being measured")
    parser.add_argument("--inner-dev", type=int, default=40, help="checkpoint-selection receipts")
    parser.add_argument("--only", type=int, action="append", help="fold index (repeatable)")
    parser.add_argument(
        "--multiline", action="append", choices=["runs", "lines"], help="score: repeatable"
    )
    parser.add_argument(
        "--picker",
        action="append",
        choices=["none", "insample", "innerdev", "crossfit", "stored"],
        help="repeatable; stored: the fold run's own total picker, line classifier and known "
        "values (the recipe as train stores it)",
    )
    parser.add_argument("--whitespace", choices=["collapse", "remove"], default="collapse")
    parser.add_argument(
        "--held-out-only",
        action="store_true",
        help="cache: the held-out fold only (5x faster; score --picker none/stored needs no more)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    args.multiline = args.multiline or ["runs", "lines"]
    args.picker = args.picker or ["none", "insample", "innerdev", "crossfit"]
    if args.step == "train":
        return cmd_train(args, extra)
    if args.step == "cache":
        return cmd_cache(args)
    if args.step == "ceiling":
        return cmd_ceiling(args)
    return cmd_score(args)


if __name__ == "__main__":
    raise SystemExit(main())
