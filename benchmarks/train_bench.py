"""Training throughput: dynamic padding (length-grouped batches, pad to the longest window) vs
padding every batch to 512, same data (a SROIE subset) and model (MiniLM-sized LayoutLM).

Prints one JSON line, then a table. On CUDA it also measures bf16 and reports MFU
(6 · parameters · processed tokens/s ÷ peak FLOP/s, ``--peak-tflops``, default H100 bf16 dense).

    .venv/bin/python benchmarks/train_bench.py --receipts 200 --steps 12

transformers' LengthGroupedSampler sorts by length within megabatches of
``min(n // (4 · batch), 50) · batch`` windows, so with few receipts (40 → megabatches of one
batch) length grouping does nothing; 200 receipts give megabatches of 48 windows, close to what
training on the full SROIE split (128) gets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
SROIE = REPO.parent / "shared" / "data" / "sroie" / "train"


def _windows(receipts: int, seq: int):
    from receipt_layoutlm.data import DatasetConfig, encode_documents, entity_labels, window_rows
    from receipt_layoutlm.encoding import EncodingConfig, label_list, load_tokenizer
    from receipt_layoutlm.importers import get_importer
    from receipt_layoutlm.pretrained import minilm_dir

    if not SROIE.is_dir():
        sys.exit(f"SROIE data not found at {SROIE}")
    docs = get_importer("sroie")(SROIE, limit=receipts).documents
    tokenizer = load_tokenizer(minilm_dir())
    labels = label_list(entity_labels(docs, DatasetConfig()))
    encoded = encode_documents(docs, tokenizer, EncodingConfig(max_seq_length=seq), labels)
    return window_rows(encoded), labels, tokenizer


def _measure(model, rows, *, steps, batch_size, pad_to, device, bf16) -> dict:
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from receipt_layoutlm.training.collator import LayoutLMCollator

    collate = LayoutLMCollator(pad_token_id=0, pad_to_length=pad_to)
    sampler = LengthGroupedSampler(
        batch_size, lengths=[r["length"] for r in rows], generator=torch.Generator().manual_seed(0)
    )
    order = list(sampler)
    batches = [
        [rows[i] for i in order[j : j + batch_size]] for j in range(0, len(order), batch_size)
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()

    def step(batch):
        inputs = {k: v.to(device) for k, v in collate(batch).items()}
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return inputs

    step(batches[0])  # warm-up (allocations, kernels)
    if device.type == "cuda":
        torch.cuda.synchronize()
    samples = real = processed = 0
    start = time.perf_counter()
    for i in range(steps):
        inputs = step(batches[(i + 1) % len(batches)])
        samples += inputs["input_ids"].shape[0]
        real += int(inputs["attention_mask"].sum())
        processed += inputs["input_ids"].numel()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {
        "samples_per_s": samples / seconds,
        "real_tokens_per_s": real / seconds,
        "processed_tokens_per_s": processed / seconds,
        "padding_share": 1 - real / processed,
        "seconds": seconds,
        "steps": steps,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="GPU peak (bf16 dense)")
    args = parser.parse_args()

    import torch

    from receipt_layoutlm.pretrained import minilm_dir
    from receipt_layoutlm.training import TrainingConfig, build_model

    rows, labels, _ = _windows(args.receipts, args.seq)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_model(TrainingConfig(init_from=str(minilm_dir())), labels).model.to(device)
    params = sum(p.numel() for p in model.parameters())
    runs = {}
    modes = [("dynamic", None, False), ("pad512", args.seq, False)]
    if device.type == "cuda":
        modes += [("dynamic_bf16", None, True), ("pad512_bf16", args.seq, True)]
    for name, pad_to, bf16 in modes:
        runs[name] = _measure(
            model, rows, steps=args.steps, batch_size=args.batch_size, pad_to=pad_to,
            device=device, bf16=bf16,
        )  # fmt: skip
        if device.type == "cuda":
            runs[name]["mfu"] = (
                6 * params * runs[name]["processed_tokens_per_s"] / (args.peak_tflops * 1e12)
            )
    result = {
        "bench": "train",
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "receipts": args.receipts,
        "windows": len(rows),
        "parameters": params,
        "batch_size": args.batch_size,
        "runs": runs,
        "dynamic_vs_pad512_samples": runs["dynamic"]["samples_per_s"]
        / runs["pad512"]["samples_per_s"],
        "dynamic_vs_pad512_real_tokens": runs["dynamic"]["real_tokens_per_s"]
        / runs["pad512"]["real_tokens_per_s"],
    }
    print(json.dumps(result))
    print(f"\n{'mode':14} {'samples/s':>10} {'real tok/s':>11} {'padding':>8} {'MFU':>6}")
    for name, r in runs.items():
        mfu = f"{r['mfu']:.1%}" if "mfu" in r else "-"
        print(
            f"{name:14} {r['samples_per_s']:10.2f} {r['real_tokens_per_s']:11.0f} "
            f"{r['padding_share']:8.1%} {mfu:>6}"
        )
    print(f"dynamic / pad512 samples/s ratio: {result['dynamic_vs_pad512_samples']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
