"""Active learning on SROIE: does labelling the receipts the review queue puts first (the model's
least certain) teach more than labelling random ones?

Per held-out fold (``--eval-folds`` of ``--folds`` seeded receipt-level folds): start from
``--initial`` labelled receipts drawn at random from the fold's training side, train, score
SROIE task-3 F1 on the held-out fold; then ``--rounds`` times add ``--step`` receipts — chosen
by the review queue's order (lowest confidence among the words the model gives a label, i.e. the
receipt's least certain proposal; receipts with no proposal last) or at random — and train and
score again. Both curves share round 0. Every training starts from scratch (or from
``--init-from``) with the same config, so the curves differ only in which receipts were added.

    python benchmarks/active_learning_bench.py --sroie ../shared/data/sroie/train \
        --initial 100 --step 50 --rounds 3 --folds 5 --eval-folds 1 \
        --model-size base --init-from "$MINILM" --epochs 3 --batch-size 4

Prints one JSON line (both curves per fold) and a table (F1 by labelled receipts).
CPU cost: (1 + 2 x rounds) trainings per fold plus predicting the unlabelled pool each
uncertainty round; the tiny config runs in minutes, the real recipe in hours on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_docs(args: argparse.Namespace) -> list[Any]:
    from receipt_layoutlm.importers import get_importer

    parsed = get_importer("sroie")(args.sroie, limit=args.limit or None)
    return [doc for doc in parsed.documents if doc.fields]


def train_on(docs: list[Any], args: argparse.Namespace, work: Path, name: str) -> Path:
    """Train one model on ``docs``; returns its best checkpoint directory."""
    from receipt_cloud.objects import open_object_store
    from receipt_dynamo import open_store
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.training import TrainingConfig, train

    config = TrainingConfig(
        model_size=args.model_size, init_from=args.init_from, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate,
        new_param_lr_multiplier=args.new_param_lr_multiplier,
        max_seq_length=args.max_seq_length, stride=args.stride, seed=args.seed,
        total_picker="none", early_stopping_patience=args.epochs,
    )
    with open_store("sqlite", path=work / "jobs.sqlite3") as store:
        result = train(config, DatasetConfig(dev_ratio=args.dev_ratio, split_seed=args.seed),
                       store=store, objects=open_object_store(str(work / "objects")),
                       job_name=name, output_dir=work / name, documents=docs)
    if result.status.value != "SUCCEEDED":
        raise RuntimeError(f"training {name} ended {result.status.value}")
    return work / "objects" / "runs" / name / "best"


def predictions(checkpoint: Path, docs: list[Any]) -> dict[str, Any]:
    from receipt_layoutlm.prediction import predict_document
    from receipt_layoutlm.runtime import load_runtime

    runtime = load_runtime("torch", checkpoint)
    return {doc.key: predict_document(runtime, doc) for doc in docs}


def task3_f1(checkpoint: Path, held_out: list[Any]) -> float:
    from receipt_layoutlm.evaluation.sroie import sroie_prediction, sroie_task3_f1

    predicted = predictions(checkpoint, held_out)
    result = sroie_task3_f1({k: sroie_prediction(p.fields) for k, p in predicted.items()},
                            {doc.key: doc.fields for doc in held_out})
    return float(result.f1)


def queue_order(checkpoint: Path, pool: list[Any]) -> list[Any]:
    """``pool`` in the review queue's order: the receipt's least certain proposal first."""
    predicted = predictions(checkpoint, pool)

    def uncertainty(doc: Any) -> float:
        proposals = [p.confidence for p in predicted[doc.key].predictions if p.label]
        return min(proposals) if proposals else 2.0  # no proposal: not in the queue

    return sorted(pool, key=lambda doc: (uncertainty(doc), doc.key))


def run_fold(fold: Any, by_key: dict[str, Any], args: argparse.Namespace,
             work: Path) -> dict[str, Any]:
    rng = random.Random(args.seed + fold.index)
    held_out = [by_key[k] for k in fold.held_out]
    pool_keys = list(fold.train)
    rng.shuffle(pool_keys)
    start = [by_key[k] for k in pool_keys[: args.initial]]
    rest = [by_key[k] for k in pool_keys[args.initial:]]
    first = train_on(start, args, work, f"al-f{fold.index}-r0")
    base = task3_f1(first, held_out)
    curves: dict[str, Any] = {}
    for arm in ("uncertainty", "random"):
        labelled, pool, checkpoint = list(start), list(rest), first
        points = [{"labelled": len(labelled), "f1": base}]
        for round_ in range(1, args.rounds + 1):
            if arm == "uncertainty":
                ordered = queue_order(checkpoint, pool)
            else:
                ordered = random.Random(args.seed * 1000 + round_).sample(pool, len(pool))
            chosen, pool = ordered[: args.step], ordered[args.step:]
            labelled += chosen
            checkpoint = train_on(labelled, args, work, f"al-f{fold.index}-{arm}-r{round_}")
            points.append({"labelled": len(labelled), "f1": task3_f1(checkpoint, held_out)})
            print(f"fold {fold.index} {arm} round {round_}: {points[-1]}", flush=True)
        curves[arm] = points
    return {"fold": fold.index, "held_out": len(held_out), "curves": curves}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sroie", default="../shared/data/sroie/train", help="SROIE split")
    parser.add_argument("--limit", type=int, default=0, help="receipts read (0: all)")
    parser.add_argument("--initial", type=int, default=100)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--eval-folds", type=int, default=1, help="folds to run (of --folds)")
    parser.add_argument("--model-size", choices=("base", "tiny"), default="tiny")
    parser.add_argument("--init-from", default=None, help="local BERT-family checkpoint")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--new-param-lr-multiplier", type=float, default=1.0)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--dev-ratio", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", default=None, help="keep runs here (default: a temp dir)")
    args = parser.parse_args(argv)
    from receipt_layoutlm.data import kfold

    started = time.perf_counter()
    docs = load_docs(args)
    by_key = {doc.key: doc for doc in docs}
    folds = kfold(by_key, args.folds, seed=args.seed)[: args.eval_folds]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = [run_fold(fold, by_key, args, work) for fold in folds]
    settings = {k: v for k, v in vars(args).items() if k not in ("work_dir",)}
    print(json.dumps({"receipts": len(docs), "settings": settings, "folds": results,
                      "seconds": round(time.perf_counter() - started)}))
    print(f"{'fold':>4} {'labelled':>8} {'uncertainty F1':>15} {'random F1':>10}")
    for fold in results:
        pairs = zip(fold["curves"]["uncertainty"], fold["curves"]["random"], strict=True)
        for unc, rnd in pairs:
            print(f"{fold['fold']:>4} {unc['labelled']:>8} {unc['f1']:>15.3f} {rnd['f1']:>10.3f}")


if __name__ == "__main__":
    main()
