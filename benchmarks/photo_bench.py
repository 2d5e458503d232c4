"""Photo bench: the user's metric. Receipt photos through the labelling worker's own path
(``receipt_ocr.labelling.label_image``: Tesseract → encoding → model → fields), scored against
the annotations, beside the same model on the same receipts' transcripts.

    python benchmarks/photo_bench.py sroie --model CKPT_OR_BUNDLE        # the 30 SROIE photos
    python benchmarks/photo_bench.py wildreceipt --model CKPT_OR_BUNDLE  # the 30 WildReceipt ones
    python benchmarks/photo_bench.py transcripts --model CKPT --dataset D.jsonl [--split-side dev]
        [--runtime torch|onnx|onnx-int8] [--ocr-language eng+msa] [--ocr-cache DIR]
        [--limit N] [--details FILE.jsonl]

The model must not have been trained on these receipts (SROIE: trained on the 596 training
receipts that are not among the sample photos; WildReceipt: on the 242 of ``labelled/``), see
docs/training.md. The OCR of each photo is cached (``receipt_ocr.ocr_cache``, keyed by pixels
and engine settings, default ``benchmarks/out/photo_ocr_cache``), so a rerun costs the model and
the fields only.

Figures (one JSON line, then tables):

- SROIE: task-3 F1 overall and per key, strict (the official comparison) and case-insensitive
  (``evaluation.sroie``: the annotators upper-cased mixed-case prints), for the photos and the
  transcripts, each with the fields as the worker reads them (``fields.ocr_cleanup`` on) and
  without the OCR repairs (``FieldCleanup.off()``, same model, same words) and without the
  model's line classifier (``fields.line_classifier``, when it has one) and without its known
  values (``fields.known_values``, when it has them); the photo figure
  under the "excluding OCR mismatch" convention; and the reachable share: per key, how often the
  truth occurs in the photo's OCR text (case-insensitive, and strict), the ceiling of any
  extractor reading that text. And the fields step's median milliseconds a photo, with
  everything the model has, without the line classifier and without the known values.
- transcripts: the same task-3 figures with and without the OCR repairs on a dataset's
  transcripts (by default the checkpoint's own dev split), so a field change that helps photos
  is seen not to hurt transcripts.
- WildReceipt: field exact match (``evaluation.field_match``) of store name, date, total, tax and
  subtotal, photos and transcripts, and the reachable share per field.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SROIE_SAMPLE = DATA / "sroie" / "images_sample"
WILD_SAMPLE = DATA / "wildreceipt" / "images_sample" / "test_sample.txt"
DEFAULT_CACHE = REPO / "benchmarks" / "out" / "photo_ocr_cache"


def _read_photo(path: Path, engine: Any, model: Any, key: str) -> Any:
    from receipt_ocr.images import load_image
    from receipt_ocr.labelling import label_image

    return label_image(load_image(path.read_bytes(), name=str(path)), engine, model, key=key)


@contextlib.contextmanager
def _without(runtime: Any, fitted: str) -> Iterator[None]:
    """The runtime reading fields as a model without one of its fitted field models does
    (``line_classifier``: ``line_classifier.json``; ``known_values``: ``known_values.json``)."""
    kept = getattr(runtime, fitted, None)
    setattr(runtime, fitted, None)
    try:
        yield
    finally:
        setattr(runtime, fitted, kept)


def _fields_ms(runtime: Any, document: Any, repeats: int = 20) -> dict[str, float]:
    """Median milliseconds of the fields step (``extract_fields``, as ``predict_document``
    calls it) on one receipt's predictions, with the model's line classifier and known values,
    without the classifier, and without the known values."""
    from receipt_layoutlm.fields import extract_fields
    from receipt_layoutlm.prediction import field_inputs

    predictions, inputs = field_inputs(runtime, runtime.encode(document))
    out = {}
    for name, change in (("as_fitted", {}),
                         ("without_line_classifier", {"line_classifier": None}),
                         ("without_known_values", {"known_values": None})):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            extract_fields(predictions, **{**inputs, **change})
            times.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(times)
    return out


def _scores(result: Any) -> dict[str, Any]:
    return {"f1": round(result.f1, 4),
            "per_key": {k: round(v.f1, 4) for k, v in result.per_key.items()},
            "correct": {k: v.correct for k, v in result.per_key.items()}}


def _task3(predictions: dict, truth: dict, **options: Any) -> dict[str, Any]:
    from receipt_layoutlm.evaluation import sroie_task3_f1

    return {
        "strict": _scores(sroie_task3_f1(predictions, truth, **options)),
        "case_insensitive": _scores(sroie_task3_f1(predictions, truth, case_sensitive=False,
                                                   **options)),
    }


def run_sroie(args: argparse.Namespace, engine: Any, model: Any) -> dict[str, Any]:
    from receipt_layoutlm.evaluation import SROIE_KEYS, sroie_prediction
    from receipt_layoutlm.evaluation.sroie import occurs_in_text, ocr_mismatch_pairs
    from receipt_layoutlm.fields import FieldCleanup
    from receipt_layoutlm.importers.sroie import parse_sroie
    from receipt_layoutlm.prediction import predict_document

    docs = parse_sroie(SROIE_SAMPLE, limit=args.limit).documents
    truth = {d.key: dict(d.fields) for d in docs}
    preds: dict[str, dict[str, dict[str, str]]] = {
        "photo": {}, "photo_no_cleanup": {}, "photo_no_line_classifier": {},
        "photo_no_known_values": {}, "transcript": {}, "transcript_no_cleanup": {},
        "transcript_no_line_classifier": {}, "transcript_no_known_values": {}}
    texts: dict[str, str] = {}
    fields_ms: list[dict[str, float]] = []
    for doc in docs:
        path = SROIE_SAMPLE / "img" / f"{doc.key.split(':', 1)[1]}.jpg"
        labelled = _read_photo(path, engine, model, doc.key)
        texts[doc.key] = " ".join(w.text for w in labelled.prediction.words)
        preds["photo"][doc.key] = sroie_prediction(labelled.prediction.fields)
        raw = predict_document(model.runtime, labelled.document, cleanup=FieldCleanup.off())
        preds["photo_no_cleanup"][doc.key] = sroie_prediction(raw.fields)
        for fitted in ("line_classifier", "known_values"):
            with _without(model.runtime, fitted):
                plain = predict_document(model.runtime, labelled.document)
            preds[f"photo_no_{fitted}"][doc.key] = sroie_prediction(plain.fields)
        fields_ms.append(_fields_ms(model.runtime, labelled.document))
        preds["transcript"][doc.key] = sroie_prediction(
            predict_document(model.runtime, doc).fields)
        preds["transcript_no_cleanup"][doc.key] = sroie_prediction(
            predict_document(model.runtime, doc, cleanup=FieldCleanup.off()).fields)
        for fitted in ("line_classifier", "known_values"):
            with _without(model.runtime, fitted):
                plain = predict_document(model.runtime, doc)
            preds[f"transcript_no_{fitted}"][doc.key] = sroie_prediction(plain.fields)
    out: dict[str, Any] = {"receipts": len(docs)}
    out["fields_ms_median"] = {
        name: round(statistics.median(m[name] for m in fields_ms), 3) for name in fields_ms[0]
    } if fields_ms else {}
    out.update({name: _task3(p, truth) for name, p in preds.items()})
    dropped = ocr_mismatch_pairs(truth, texts)
    out["photo_excluding_ocr_mismatch"] = _task3(preds["photo"], truth, exclude=dropped)
    out["reachable"] = {
        mode: {key: round(sum(occurs_in_text(t.get(key), texts[r], case_sensitive=mode == "strict")
                              for r, t in truth.items()) / max(1, sum(bool(t.get(key))
                                                                      for t in truth.values())), 3)
               for key in SROIE_KEYS}
        for mode in ("case_insensitive", "strict")
    }
    for mode, shares in out["reachable"].items():
        pairs = [(r, k) for r, t in truth.items() for k in SROIE_KEYS if t.get(k)]
        shares["all"] = round(sum(occurs_in_text(truth[r][k], texts[r],
                                                 case_sensitive=mode == "strict")
                                  for r, k in pairs) / len(pairs), 3)
    if args.details:
        _write_details(args.details, truth, preds, texts)
    return out


def run_wildreceipt(args: argparse.Namespace, engine: Any, model: Any) -> dict[str, Any]:
    from receipt_layoutlm.evaluation.field_match import (
        WILD_FIELD_CLASSES,
        field_match_scores,
        reachable,
        segment_truth,
    )
    from receipt_layoutlm.importers.wildreceipt import parse_wildreceipt
    from receipt_layoutlm.prediction import predict_document

    docs = parse_wildreceipt(WILD_SAMPLE, limit=args.limit).documents
    truth = {d.key: segment_truth(d.words) for d in docs}
    preds: dict[str, dict[str, dict[str, str]]] = {"photo": {}, "transcript": {}}
    texts: dict[str, str] = {}

    def texts_of(fields: dict[str, Any]) -> dict[str, str]:
        return {f: fields[f].text for f in WILD_FIELD_CLASSES if f in fields}

    for doc in docs:
        if not doc.image_path:
            raise SystemExit(f"{doc.key}: its image is not in {WILD_SAMPLE.parent}")
        labelled = _read_photo(Path(doc.image_path), engine, model, doc.key)
        texts[doc.key] = " ".join(w.text for w in labelled.prediction.words)
        preds["photo"][doc.key] = texts_of(labelled.prediction.fields)
        preds["transcript"][doc.key] = texts_of(predict_document(model.runtime, doc).fields)
    out: dict[str, Any] = {"receipts": len(docs)}
    for name, p in preds.items():
        scores = field_match_scores(p, truth)
        out[name] = {"f1": round(scores["all"].f1, 4),
                     "per_field": {f: round(s.f1, 4) for f, s in scores.items() if f != "all"},
                     "correct": {f: s.correct for f, s in scores.items() if f != "all"},
                     "expected": {f: s.expected for f, s in scores.items() if f != "all"}}
    out["reachable"] = {
        f: round(sum(reachable(t[f], texts[r]) for r, t in truth.items() if f in t)
                 / max(1, sum(f in t for t in truth.values())), 3)
        for f in WILD_FIELD_CLASSES
    }
    if args.details:
        _write_details(args.details, truth, preds, texts)
    return out


def run_transcripts(args: argparse.Namespace, model: Any) -> dict[str, Any]:
    from receipt_layoutlm.evaluation import sroie_prediction
    from receipt_layoutlm.evaluation.evaluate import checkpoint_truth
    from receipt_layoutlm.evaluation.sroie import ocr_mismatch_pairs
    from receipt_layoutlm.fields import FieldCleanup
    from receipt_layoutlm.prediction import predict_document

    given = {"dataset_file": str(args.dataset)}
    docs = checkpoint_truth(model.path, given, open_store=lambda: None,
                            split_side=args.split_side).docs[: args.limit]
    docs = [d for d in docs if d.fields]
    truth = {d.key: dict(d.fields) for d in docs}
    preds: dict[str, dict[str, dict[str, str]]] = {"cleanup": {}, "no_cleanup": {}}
    texts: dict[str, str] = {}
    for doc in docs:
        on = predict_document(model.runtime, doc)
        texts[doc.key] = " ".join(w.text for w in on.words)
        preds["cleanup"][doc.key] = sroie_prediction(on.fields)
        preds["no_cleanup"][doc.key] = sroie_prediction(
            predict_document(model.runtime, doc, cleanup=FieldCleanup.off()).fields)
    dropped = ocr_mismatch_pairs(truth, texts)
    out: dict[str, Any] = {"receipts": len(docs), "split_side": args.split_side}
    for name, p in preds.items():
        out[name] = _task3(p, truth)
        out[name + "_excluding_ocr_mismatch"] = _task3(p, truth, exclude=dropped)
    return out


def fill_cache(args: argparse.Namespace, engine: Any, started: float) -> int:
    """OCR every photo into the cache (no model): what a first run spends on Tesseract."""
    from receipt_ocr.images import load_image

    if args.dataset == "sroie":
        paths = sorted((SROIE_SAMPLE / "img").glob("*.jpg"))[: args.limit]
    else:
        from receipt_layoutlm.importers.wildreceipt import parse_wildreceipt

        docs = parse_wildreceipt(WILD_SAMPLE, limit=args.limit).documents
        paths = [Path(d.image_path) for d in docs if d.image_path]
    for path in paths:
        engine.recognize(load_image(path.read_bytes(), name=str(path)))
    seconds = time.perf_counter() - started
    print(json.dumps({"bench": "photo", "dataset": args.dataset, "ocr_only": True,
                      "engine": engine.describe(), "images": len(paths),
                      "ocr_cache_hits": engine.hits, "ocr_cache_misses": engine.misses,
                      "seconds": round(seconds, 1),
                      "ocr_s_per_new_image": round(seconds / max(1, engine.misses), 2)}))
    return 0


def _write_details(path: Path, truth: dict, preds: dict, texts: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for receipt in sorted(truth):
            row = {"receipt": receipt, "truth": truth[receipt], "ocr_text": texts[receipt],
                   **{name: p.get(receipt, {}) for name, p in preds.items()}}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _print_tables(dataset: str, out: dict[str, Any]) -> None:
    if dataset == "sroie":
        keys = ["company", "date", "address", "total"]
        print(f"\n{'setting':46} {'F1':>6}  " + "  ".join(f"{k:>8}" for k in keys))
        for name in ("photo", "photo_no_cleanup", "photo_no_line_classifier",
                     "photo_no_known_values", "photo_excluding_ocr_mismatch", "transcript",
                     "transcript_no_cleanup", "transcript_no_line_classifier",
                     "transcript_no_known_values"):
            for mode in ("strict", "case_insensitive"):
                s = out[name][mode]
                print(f"{name + ' ' + mode:46} {s['f1']:6.3f}  "
                      + "  ".join(f"{s['per_key'][k]:8.3f}" for k in keys))
        for mode, shares in out["reachable"].items():
            print(f"{'reachable ' + mode:46} {shares['all']:6.3f}  "
                  + "  ".join(f"{shares[k]:8.3f}" for k in keys))
        for name, ms in out.get("fields_ms_median", {}).items():
            print(f"{'fields step ms (median) ' + name:46} {ms:6.3f}")
        return
    fields = list(out["reachable"])
    print(f"\n{'setting':12} {'F1':>6}  " + "  ".join(f"{f:>9}" for f in fields))
    for name in ("photo", "transcript"):
        s = out[name]
        print(f"{name:12} {s['f1']:6.3f}  " + "  ".join(f"{s['per_field'][f]:9.3f}"
                                                      for f in fields))
    print(f"{'reachable':12} {'':6}  " + "  ".join(f"{out['reachable'][f]:9.3f}" for f in fields))


def report_transcripts(args: argparse.Namespace) -> int:
    from receipt_ocr.model import load_model

    args.dataset, dataset = args.dataset_file, "transcripts"
    model = load_model(args.model, runtime=args.runtime)
    started = time.perf_counter()
    out = run_transcripts(args, model)
    print(json.dumps({"bench": "photo", "dataset": dataset, "model": str(args.model),
                      "runtime": model.runtime_name,
                      "seconds": round(time.perf_counter() - started, 1), **out}))
    keys = ["company", "date", "address", "total"]
    print(f"\n{'setting':44} {'F1':>6}  " + "  ".join(f"{k:>8}" for k in keys))
    for name in ("cleanup", "no_cleanup", "cleanup_excluding_ocr_mismatch",
                 "no_cleanup_excluding_ocr_mismatch"):
        for mode in ("strict", "case_insensitive"):
            s = out[name][mode]
            print(f"{name + ' ' + mode:44} {s['f1']:6.3f}  "
                  + "  ".join(f"{s['per_key'][k]:8.3f}" for k in keys))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["sroie", "wildreceipt", "transcripts"])
    parser.add_argument("--model", type=Path,
                        help="checkpoint or bundle NOT trained on these receipts (without it: "
                        "only fill the OCR cache)")
    parser.add_argument("--runtime", default=None, help="model runtime (default: fastest)")
    parser.add_argument("--ocr-language", default=None, help="Tesseract languages (eng+msa)")
    parser.add_argument("--ocr-cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--limit", type=int, default=None, help="first N receipts only")
    parser.add_argument("--dataset", dest="dataset_file", type=Path, default=None,
                        help="transcripts: the JSONL the checkpoint was trained from")
    parser.add_argument("--split-side", choices=["dev", "train"], default="dev",
                        help="transcripts: which side of the checkpoint's split (default dev)")
    parser.add_argument("--details", type=Path, default=None,
                        help="write each receipt's truth, OCR text and predictions (JSONL)")
    args = parser.parse_args(argv)
    if args.dataset == "transcripts":
        if args.model is None or args.dataset_file is None:
            parser.error("transcripts needs --model and --dataset")
        return report_transcripts(args)
    sample = SROIE_SAMPLE if args.dataset == "sroie" else WILD_SAMPLE
    if not sample.exists():
        sys.exit(f"the {args.dataset} sample photos are not at {sample}")
    from receipt_ocr.engines import build_engine
    from receipt_ocr.model import load_model
    from receipt_ocr.ocr_cache import CachingEngine

    engine = CachingEngine(build_engine("tesseract", args.ocr_language), args.ocr_cache)
    started = time.perf_counter()
    if args.model is None:
        return fill_cache(args, engine, started)
    model = load_model(args.model, runtime=args.runtime)
    run = run_sroie if args.dataset == "sroie" else run_wildreceipt
    out = run(args, engine, model)
    result = {
        "bench": "photo", "dataset": args.dataset, "model": str(args.model),
        "runtime": model.runtime_name, "engine": engine.describe(),
        "ocr_cache_hits": engine.hits,
        "ocr_cache_misses": engine.misses, "seconds": round(time.perf_counter() - started, 1),
        **out,
    }
    print(json.dumps(result))
    _print_tables(args.dataset, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
