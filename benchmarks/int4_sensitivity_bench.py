"""int4 recipe search: per-layer sensitivity to 4-bit weights, then the smallest 8-bit set that
passes the int4 gate, confirmed through real Core ML exports.

    python benchmarks/int4_sensitivity_bench.py --checkpoint .quality/base/fold-0/run/best \
        --dataset sroie_train.jsonl --split .quality/base/fold-0/split.json \
        [--receipts 12] [--block-sizes 32,16] [--keep 0,1,2,4,6,8] [--verify auto|none]

1. Sensitivity (PyTorch, fast): every Linear/Embedding weight of the fine-tuned model is
   quantized ALONE to int4 exactly as coremltools' ``linear_symmetric`` per-block int4 does it
   (scale = max|w|/7 per block of ``block`` input channels, float16 weights and scales; the 1-D
   position table, which the converter folds into a ``[1, S, H]`` constant, per row as the
   export blocks it, and once more in coremltools' own blocks of ``block`` positions × H, to
   show what that costs), and the model runs through the
   parity gate's own comparison (``export.parity.run_parity``) against float32: agreement on all
   words, on confident words (reference top-2 margin > the gate's noise floor) and mean |Δlogit|.
2. Recipes (PyTorch): everything int4 except the k most sensitive layers at int8 (per channel),
   for each k in ``--keep`` and each block size.
3. Verify (real): ``export_bundle`` of float16, int8, int4 with every layer at 4 bit, and int4
   with the recipe chosen in step 2 (the smallest k whose confident agreement clears the gate's
   threshold + ``--headroom``); the Core ML program runs in the MIL interpreter, as the gate.

Held-out receipts: ``--split`` is a fold's ``split.json`` (``benchmarks/quality_bench.py``); the
receipts of ``--dataset`` in neither its ``train`` nor its ``dev`` list are used, by key: the
first ``--receipts`` choose the recipe (steps 1-2), the next ``--verify-receipts`` confirm it
(step 3), so the confirmation is out of sample. Prints one JSON line, then tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

INT4_MAX = 7  # linear_symmetric int4: [-7, 7]
INT8_MAX = 127
POSITION = "layoutlm.embeddings.position_embeddings"
COARSE = POSITION + "[coremltools blocks]"


def fake_quantize(weight: np.ndarray, qmax: int, block: int, *, row_groups: bool = False):
    """coremltools ``linear_symmetric`` quantize→dequantize of a ``[out, in]`` table.

    ``block`` > 0: one scale per ``block`` input channels of each row; 0: one per row.
    ``row_groups``: one scale per ``block`` ROWS over all columns (the folded position table,
    whose blocks run along the sequence axis)."""
    w = weight.astype(np.float16).astype(np.float32)
    rows, cols = w.shape
    if row_groups:
        group = block if block > 0 and rows % block == 0 else rows
        blocks = w.reshape(rows // group, group * cols)
    elif block > 0 and cols % block == 0:
        blocks = w.reshape(rows, cols // block, block)
    else:
        blocks = w.reshape(rows, 1, cols)
    scale = (np.abs(blocks).max(axis=-1, keepdims=True) / qmax).astype(np.float16)
    scale = np.where(scale == 0, np.float16(1), scale).astype(np.float32)
    q = np.clip(np.round(blocks / scale), -qmax, qmax)
    return (q * scale).astype(np.float16).astype(np.float32).reshape(rows, cols)


class Patches:
    """One shared model; each candidate runtime swaps its own quantized weights in."""

    def __init__(self, model, threshold: int) -> None:
        from receipt_layoutlm.export.int4_recipe import quantizable_modules

        self.weights = {
            name: w for name, w in quantizable_modules(model).items() if w.numel() > threshold
        }
        self.original = {name: w.detach().clone() for name, w in self.weights.items()}
        self.active: object = None
        self._cache: dict[tuple[str, int, int, bool], Any] = {}

    def quantized(self, name: str, qmax: int, block: int, coarse: bool = False):
        """``coarse``: the folded 1-D position table in coremltools' own blocks (``block``
        positions × all columns) instead of the export's per-row blocks."""
        import torch

        key = (name, qmax, block, coarse)
        if key not in self._cache:
            row_groups = coarse and name == POSITION
            value = fake_quantize(self.original[name].numpy(), qmax, block, row_groups=row_groups)
            self._cache[key] = torch.from_numpy(value)
        return self._cache[key]

    def apply(self, owner: object, plan: dict[str, tuple]) -> None:
        """Weights of ``plan`` (name → (qmax, block[, coarse])) quantized, others float32."""
        if self.active is owner:
            return
        import torch

        with torch.no_grad():
            for name, weight in self.weights.items():
                spec = plan.get(name)
                weight.copy_(self.quantized(name, *spec) if spec else self.original[name])
        self.active = owner


def candidate(reference, patches: Patches, label: str, plan: dict[str, tuple[int, int]]):
    from receipt_layoutlm.runtime import Runtime

    class _Quantized(Runtime):
        name = label

        def __init__(self) -> None:
            super().__init__(
                tokenizer=reference.tokenizer,
                labels=reference.labels,
                encoding_config=reference.encoding_config,
                source=Path(label),
                quantize="int4",
            )

        def run_window(self, arrays):
            patches.apply(self, plan)
            return reference.run_window(arrays)

    return _Quantized()


def measure(reference, patches, plans: dict[str, dict[str, tuple[int, int]]], docs):
    """``{label: RuntimeParity}`` for each plan (one reference pass for all)."""
    from receipt_layoutlm.export.parity import run_parity

    runtimes = [candidate(reference, patches, label, plan) for label, plan in plans.items()]
    # The reference must run with float32 weights: make it the active "plan" first.
    report = run_parity(_Float(reference, patches), runtimes, docs)
    return {r.runtime: r for r in report.results}


class _Float:
    """The reference runtime with every patch removed before each window."""

    def __init__(self, runtime, patches: Patches) -> None:
        self._runtime, self._patches = runtime, patches
        self.name, self.quantize, self.labels = runtime.name, runtime.quantize, runtime.labels
        self.tokenizer, self.encoding_config = runtime.tokenizer, runtime.encoding_config

    def predict_windows(self, encoded):
        self._patches.apply(self, {})
        return self._runtime.predict_windows(encoded)


def _row(r) -> dict[str, Any]:
    return {
        "agreement": round(r.word_agreement, 5),
        "confident": round(r.confident_agreement, 5),
        "confident_words": r.confident_words,
        "mean_abs": round(r.mean_abs_logit_diff, 5),
        "max_abs": round(r.max_abs_logit_diff, 3),
    }


def _held_out_docs(dataset: str, split: str | None, limit: int):
    from receipt_layoutlm.data import load_dataset_file

    docs = [d for d in load_dataset_file(dataset) if d.words]
    if split:
        seen = json.loads(Path(split).read_text(encoding="utf-8"))
        used = set(seen.get("train", [])) | set(seen.get("dev", []))
        docs = [d for d in docs if d.key not in used]
    return sorted(docs, key=lambda d: d.key)[:limit]


def sensitivity(reference, patches, docs, block: int):
    plans = {name: {name: (INT4_MAX, block)} for name in patches.weights}
    if POSITION in patches.weights:  # what the folded table costs in coremltools' own blocks
        plans[COARSE] = {POSITION: (INT4_MAX, block, True)}
    return {name: _row(r) for name, r in measure(reference, patches, plans, docs).items()}


def recipes(reference, patches, docs, ranking: list[str], blocks: list[int], keep: list[int]):
    plans = {}
    for block in blocks:
        for k in keep:
            int8 = set(ranking[:k])
            plans[f"b{block}-k{k}"] = {
                name: (INT8_MAX, 0) if name in int8 else (INT4_MAX, block)
                for name in patches.weights
            }
    return {label: _row(r) for label, r in measure(reference, patches, plans, docs).items()}


def verify(checkpoint: str, docs, seq: int, block: int, layers: tuple[str, ...], also=()):
    """Real bundles (Core ML only) through the gate's measurement; thresholds at 0. ``also``:
    more int4 recipes ``(label, block, layers)``."""
    from receipt_layoutlm.export import ExportOptions, ParityThresholds, export_bundle

    runs = [
        ("float16", "float16", block, ()),
        ("int8", "int8", block, ()),
        ("int4 all", "int4", block, ()),
        *([("int4 recipe", "int4", block, layers)] if layers else []),
        *((label, "int4", size, more) for label, size, more in also),
    ]
    out = {}
    with tempfile.TemporaryDirectory(prefix="int4-bench-") as tmp:
        for label, mode, size, int8_layers in runs:
            t0 = time.perf_counter()
            result = export_bundle(
                ExportOptions(
                    checkpoint=checkpoint,
                    output=str(Path(tmp) / label.replace(" ", "-")),
                    quantize=mode,
                    formats=("coreml",),
                    seq_length=seq,
                    int4_block_size=size,
                    int4_int8_layers=int8_layers,
                    thresholds=ParityThresholds(0.0, 0.0, 0.0, 0.0, all_words_floor=0.0),
                    make_zip=False,
                ),
                documents=docs,
            )
            [r] = result.parity.results
            out[label] = {
                **_row(r),
                "mlpackage_bytes": result.model_size_bytes,
                "bytes_per_param": result.manifest["bytes_per_parameter"],
                "passes_default_gate": _passes(r, mode),
                "export_s": round(time.perf_counter() - t0, 1),
            }
    return out


def _passes(r, mode: str) -> bool:
    from receipt_layoutlm.export import ParityThresholds

    default = ParityThresholds()
    return (
        r.confident_agreement >= default.for_mode(mode)
        and r.word_agreement >= default.all_words_floor
        and r.nonfinite_outputs == 0
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="fine-tuned checkpoint directory (required)")
    parser.add_argument("--dataset", help="JSONL dataset with the parity receipts")
    parser.add_argument("--split", help="fold split.json: use receipts in neither train nor dev")
    parser.add_argument("--receipts", type=int, default=12, help="for steps 1-2")
    parser.add_argument("--verify-receipts", type=int, default=20, help="step 3: the next ones")
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--block-sizes", default="32,16")
    parser.add_argument("--keep", default="0,1,2,3,4,6,8,12", help="8-bit set sizes to try")
    parser.add_argument("--weight-threshold", type=int, default=2048)
    parser.add_argument("--headroom", type=float, default=0.005, help="above the threshold")
    parser.add_argument(
        "--verify",
        choices=("auto", "none", "only"),
        default="auto",
        help="step 3 after 1-2 (auto), not at all, or alone (only: int4 at the first block)",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="BLOCK:PATTERNS",
        help="another int4 recipe for step 3 (repeatable), e.g. 16: or 32:classifier",
    )
    args = parser.parse_args()
    if not args.checkpoint or not args.dataset:
        parser.error("--checkpoint (a fine-tuned model) and --dataset are required")

    import torch

    from receipt_layoutlm.checkpoint import load_checkpoint
    from receipt_layoutlm.export import ParityThresholds
    from receipt_layoutlm.export.int4_recipe import parse_layers
    from receipt_layoutlm.runtime import load_runtime

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    started = time.perf_counter()
    checkpoint = load_checkpoint(Path(args.checkpoint))
    reference = load_runtime("torch", checkpoint)
    # The recipe is chosen on the first receipts and confirmed on the NEXT ones (out of sample).
    held_out = _held_out_docs(args.dataset, args.split, args.receipts + args.verify_receipts)
    docs, verify_docs = held_out[: args.receipts], held_out[args.receipts :]
    patches = Patches(checkpoint.model, args.weight_threshold)
    blocks = [int(b) for b in args.block_sizes.split(",")]
    keep = [int(k) for k in args.keep.split(",")]

    single: dict[str, Any] = {}
    ranking: list[str] = []
    sets: dict[str, Any] = {}
    if args.verify != "only":
        single = sensitivity(reference, patches, docs, blocks[0])
        # Flipped confident words first; mean |Δlogit| breaks the (many) ties at 0-1 flips.
        ranking = sorted(
            (n for n in single if not n.endswith("]")),
            key=lambda n: (single[n]["confident"], -single[n]["mean_abs"]),
        )
        sets = recipes(reference, patches, docs, ranking, blocks, keep)

    threshold = ParityThresholds().int4 + args.headroom
    passing = [(k, b) for b in blocks for k in keep if sets.get(f"b{b}-k{k}", {}).get(
        "confident", 0.0) >= threshold]  # fmt: skip
    # Smallest 8-bit set first, then the larger block (smaller file).
    choice = min(passing, key=lambda kb: (kb[0], -kb[1])) if passing else None
    results: dict[str, Any] = {
        "benchmark": "int4_sensitivity",
        "checkpoint": args.checkpoint,
        "receipts": len(docs),
        "words": sum(len(d.words) for d in docs),
        "seq_length": args.seq,
        "sensitivity_block": blocks[0],
        "sensitivity": single,
        "ranking": ranking,
        "recipes": sets,
        "threshold_with_headroom": threshold,
        "choice": None if choice is None else {
            "block_size": choice[1], "int8_layers": ranking[: choice[0]]
        },
    }  # fmt: skip
    also = []
    for text in args.also:
        size, _, patterns = text.partition(":")
        also.append((f"int4 b{size} {patterns or 'all'}", int(size), parse_layers(patterns)))
    if args.verify == "only" or (choice is not None and args.verify == "auto"):
        block, layers = (choice[1], tuple(ranking[: choice[0]])) if choice else (blocks[0], ())
        results["verify"] = verify(args.checkpoint, verify_docs, args.seq, block, layers, also)
        results["verify_receipts"] = len(verify_docs)
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, sort_keys=True))
    _tables(results)
    return 0


def _tables(results: dict[str, Any]) -> None:
    print(f"\nper layer alone at int4 (block {results['sensitivity_block']}), most sensitive first")
    print(f"{'layer':<60} {'mean|Δ|':>8} {'max|Δ|':>7} {'all':>8} {'confident':>9}")
    for name in [*results["ranking"], *(n for n in results["sensitivity"] if n.endswith("]"))]:
        r = results["sensitivity"][name]
        print(
            f"{name:<60} {r['mean_abs']:>8.4f} {r['max_abs']:>7.2f} "
            f"{r['agreement']:>8.4f} {r['confident']:>9.4f}"
        )
    print("\nint4 with the k most sensitive layers at int8")
    print(f"{'recipe':<10} {'mean|Δ|':>8} {'max|Δ|':>7} {'all':>8} {'confident':>9}")
    for label, r in results["recipes"].items():
        print(
            f"{label:<10} {r['mean_abs']:>8.4f} {r['max_abs']:>7.2f} "
            f"{r['agreement']:>8.4f} {r['confident']:>9.4f}"
        )
    print(f"\nchoice: {results['choice']}")
    for label, r in results.get("verify", {}).items():
        print(
            f"{label[:40]:<40} {r['mlpackage_bytes'] / 1e6:>5.1f} MB "
            f"{r['bytes_per_param']:>6.3f} B/p "
            f"all {r['agreement']:.4f} confident {r['confident']:.4f} "
            f"max|Δ| {r['max_abs']:.2f} {'PASS' if r['passes_default_gate'] else 'refused'}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
