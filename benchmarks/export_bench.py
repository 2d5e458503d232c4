"""Export benchmark: a MiniLM-size LayoutLM through every quantize mode.

    .venv/bin/python benchmarks/export_bench.py [--receipts 12] [--train-steps 60] [--seq 512]

Model: LayoutLM with MiniLM sizes (hidden 384, 6 layers, 12 heads, intermediate 1536), text
encoder warm-started from the MiniLM package (training.model_init.build_model), then fine-tuned
for ``--train-steps`` steps on SROIE receipts so the head has real decision margins (a random head
has near-tied logits that any quantization flips, which would measure nothing). Receipts: SROIE
box files from ../shared/data through importers ("sroie"); the parity receipts are not among the
training receipts. Reports export time, bundle size (bytes/parameter; limits 2 / 1 / 0.5 for
float16 / int8 / int4), parity per runtime and mode, and per-receipt latency p50/p95 of PyTorch
fp32, ONNX fp32 and ONNX int8 on this CPU. Prints one JSON line, then a table.
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
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SROIE = ROOT.parent / "shared" / "data" / "sroie" / "train"
SROIE_LABELS = ["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"]


def _sroie(n: int):
    from receipt_layoutlm.importers import get_importer

    if not SROIE.is_dir():
        return [], "none"
    docs = [d for d in get_importer("sroie")(SROIE, limit=n).documents if d.words]
    return docs, f"sroie:{SROIE}"


def _fine_tune(model, tokenizer, docs, labels, steps: int, seq: int) -> float:
    import torch

    from receipt_layoutlm.encoding import EncodingConfig, encode_receipt

    label2id = {t: i for i, t in enumerate(labels)}
    config = EncodingConfig(max_seq_length=seq, stride=seq // 4)
    windows = [
        w
        for d in docs
        for w in encode_receipt(d, tokenizer, config, label2id=label2id, unknown_label="O").windows
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    rng = np.random.default_rng(0)
    loss = float("nan")
    for _ in range(steps):
        batch = [windows[i] for i in rng.choice(len(windows), size=min(4, len(windows)))]
        length = max(len(w) for w in batch)
        arrays = [w.padded(length, tokenizer.pad_token_id) for w in batch]
        tensors = {
            "input_ids": torch.tensor([w.input_ids for w in arrays]),
            "attention_mask": torch.tensor([w.attention_mask for w in arrays]),
            "token_type_ids": torch.tensor([w.token_type_ids for w in arrays]),
            "bbox": torch.tensor([w.bbox for w in arrays]),
            "labels": torch.tensor([w.labels for w in arrays]),
        }
        out = model(**tensors)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss = out.loss.item()
    model.eval()
    return loss


def _latency(runtime, docs, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        for doc in docs:
            t0 = time.perf_counter()
            runtime.predict(doc)
            times.append(time.perf_counter() - t0)
    return {
        "p50_ms": round(1000 * float(np.percentile(times, 50)), 2),
        "p95_ms": round(1000 * float(np.percentile(times, 95)), 2),
        "n": len(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receipts", type=int, default=12, help="parity/latency receipts")
    parser.add_argument("--train-receipts", type=int, default=40)
    parser.add_argument("--train-steps", type=int, default=60)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--latency-repeats", type=int, default=2)
    parser.add_argument("--modes", default="float32,float16,int8,int4")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list
    from receipt_layoutlm.export import ExportOptions, ParityThresholds, export_bundle
    from receipt_layoutlm.export.parity_data import synthetic_documents
    from receipt_layoutlm.export.quantize import QUANTIZE_MODES
    from receipt_layoutlm.runtime import load_runtime
    from receipt_layoutlm.training._config import TrainingConfig
    from receipt_layoutlm.training.model_init import build_model

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    labels = label_list(SROIE_LABELS)
    all_docs, source = _sroie(args.train_receipts + args.receipts)
    if not all_docs:
        all_docs, source = synthetic_documents(args.train_receipts + args.receipts), "synthetic"
    parity_docs = all_docs[-args.receipts :]
    train_docs = all_docs[: -args.receipts]

    init = build_model(TrainingConfig(model_size="base"), labels)
    model, tokenizer = init.model, init.tokenizer
    t0 = time.perf_counter()
    final_loss = (
        _fine_tune(model, tokenizer, train_docs, labels, args.train_steps, args.seq)
        if args.train_steps and train_docs
        else None
    )
    train_seconds = time.perf_counter() - t0
    num_params = sum(p.numel() for p in model.parameters())

    results: dict = {
        "benchmark": "export",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.system()}",
        "model": "LayoutLM MiniLM-size (384h/6L/12H/1536i), MiniLM warm start",
        "init_source": init.source,
        "fine_tune": {"steps": args.train_steps, "loss": final_loss, "s": round(train_seconds, 1)},
        "parameters": num_params,
        "seq_length": args.seq,
        "receipts": {"source": source, "parity": len(parity_docs), "train": len(train_docs)},
        "modes": {},
    }
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        ckpt = save_checkpoint(
            Path(tmp) / "ckpt",
            model,
            tokenizer,
            labels,
            EncodingConfig(max_seq_length=args.seq, stride=args.seq // 4),
        )
        measure_only = ParityThresholds(0.0, 0.0, 0.0, 0.0)
        onnx_bundle = None
        for mode in args.modes.split(","):
            formats = ("coreml", "onnx") if onnx_bundle is None else ("coreml",)
            out = Path(tmp) / mode
            t0 = time.perf_counter()
            result = export_bundle(
                ExportOptions(
                    checkpoint=str(ckpt),
                    output=str(out),
                    quantize=mode,
                    formats=formats,
                    seq_length=args.seq,
                    thresholds=measure_only,
                    make_zip=False,
                ),
                documents=parity_docs,
            )
            if onnx_bundle is None:
                onnx_bundle = out
            manifest = result.manifest
            bpp = manifest["sizes"]["mlpackage_bytes"] / num_params
            defaults = ParityThresholds()
            results["modes"][mode] = {
                "export_s": round(time.perf_counter() - t0, 1),
                "timings": manifest["timings"],
                "mlpackage_bytes": manifest["sizes"]["mlpackage_bytes"],
                "bytes_per_param": round(bpp, 3),
                "size_limit": QUANTIZE_MODES[mode].max_bytes_per_parameter,
                "size_ok": bpp <= QUANTIZE_MODES[mode].max_bytes_per_parameter,
                "parity": [
                    {
                        "runtime": r["runtime"],
                        "mode": r["mode"],
                        "max_abs": r["max_abs_logit_diff"],
                        "mean_abs": r["mean_abs_logit_diff"],
                        "agreement": round(r["word_agreement"], 5),
                        "default_threshold": defaults.for_mode(r["mode"]),
                        "passes_default": r["word_agreement"] >= defaults.for_mode(r["mode"])
                        and r["nonfinite_outputs"] == 0,
                        "s": r["seconds"],
                    }
                    for r in manifest["parity"]["results"]
                ],
            }
            if "onnx" in formats:
                results["onnx_bytes"] = manifest["sizes"]["onnx_bytes"]
                results["onnx_int8_bytes"] = manifest["sizes"]["onnx_int8_bytes"]

        latency = {}
        for name, path in (("torch", ckpt), ("onnx", onnx_bundle), ("onnx-int8", onnx_bundle)):
            runtime = load_runtime(name, path)
            runtime.predict(parity_docs[0])  # warm-up
            latency[name] = _latency(runtime, parity_docs, args.latency_repeats)
        results["latency_per_receipt"] = latency

    print(json.dumps(results, sort_keys=True))
    print()
    print(f"{'mode':<8} {'export s':>9} {'MB':>8} {'B/param':>8} {'limit':>6}  parity")
    for mode, m in results["modes"].items():
        parity = "; ".join(
            f"{p['runtime']}({p['mode']}) max {p['max_abs']:.3g} agree {p['agreement']:.4f}"
            f"{'' if p['passes_default'] else ' BELOW DEFAULT'}"
            for p in m["parity"]
        )
        limit = m["size_limit"] if m["size_limit"] is not None else "-"
        print(
            f"{mode:<8} {m['export_s']:>9} {m['mlpackage_bytes'] / 1e6:>8.1f} "
            f"{m['bytes_per_param']:>8} {limit:>6}  {parity}"
        )
    print()
    print(f"{'runtime':<10} {'p50 ms':>8} {'p95 ms':>8}   (per receipt, {platform.machine()})")
    for name, lat in results["latency_per_receipt"].items():
        print(f"{name:<10} {lat['p50_ms']:>8} {lat['p95_ms']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
