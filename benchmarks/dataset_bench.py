"""Dataset build time: import SROIE receipts into a fresh SQLite store, load them back as
documents (one index query + one details query per receipt), split, and encode to windows.

Prints one JSON line, then a table.

    .venv/bin/python benchmarks/dataset_bench.py            # all 626 SROIE train receipts
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
SROIE = REPO.parent / "shared" / "data" / "sroie" / "train"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="receipts (default all)")
    parser.add_argument("--seq", type=int, default=512)
    args = parser.parse_args()
    if not SROIE.is_dir():
        sys.exit(f"SROIE data not found at {SROIE}")

    from receipt_dynamo import open_store
    from receipt_layoutlm.data import (
        DatasetConfig,
        encode_documents,
        entity_labels,
        load_documents,
        split_documents,
    )
    from receipt_layoutlm.encoding import EncodingConfig, label_list, load_tokenizer
    from receipt_layoutlm.importers import get_importer, import_documents
    from receipt_layoutlm.pretrained import minilm_dir

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        parsed = get_importer("sroie")(SROIE, limit=args.limit)
        timings["parse_s"] = time.perf_counter() - t
        store = open_store("sqlite", path=Path(tmp) / "receipts.sqlite3")
        t = time.perf_counter()
        import_documents(store, parsed.documents, source="SROIE", label_proposed_by="bench")
        timings["import_s"] = time.perf_counter() - t
        config = DatasetConfig()
        t = time.perf_counter()
        docs = load_documents(store, config)
        timings["load_s"] = time.perf_counter() - t
        split = split_documents(docs, config)
        tokenizer = load_tokenizer(minilm_dir())
        labels = label_list(entity_labels(docs, config))
        t = time.perf_counter()
        encoded = encode_documents(docs, tokenizer, EncodingConfig(max_seq_length=args.seq),
                                   labels, config)  # fmt: skip
        timings["encode_s"] = time.perf_counter() - t
    windows = sum(len(r.windows) for r in encoded.receipts)
    result = {
        "bench": "dataset",
        "receipts": len(docs),
        "words": sum(len(d.words) for d in docs),
        "windows": windows,
        "split": split.counts,
        **timings,
        "import_receipts_per_s": len(docs) / timings["import_s"],
        "load_receipts_per_s": len(docs) / timings["load_s"],
        "encode_windows_per_s": windows / timings["encode_s"],
    }
    print(json.dumps(result))
    print(f"\n{'stage':10} {'seconds':>8} {'rate':>20}")
    print(f"{'parse':10} {timings['parse_s']:8.2f}")
    print(
        f"{'import':10} {timings['import_s']:8.2f} {result['import_receipts_per_s']:12.1f} rcpt/s"
    )
    print(f"{'load':10} {timings['load_s']:8.2f} {result['load_receipts_per_s']:12.1f} rcpt/s")
    print(f"{'encode':10} {timings['encode_s']:8.2f} {result['encode_windows_per_s']:12.1f} win/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
