"""Store throughput on SQLite and on DynamoDB-over-moto (a local moto server subprocess).

Writes N receipts x M words (+1 label per word, + a few lines) with write_receipt, reads them back
per receipt (get_receipt_details) and by validation status (GSI3), and prints one JSON line and a
table of items/s. Usage: python benchmarks/store_bench.py [--receipts 100] [--words 100]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from _synthetic_receipt import synthetic_receipt

from receipt_dynamo import ReceiptStore, ValidationStatus, create_table, open_store

LINES_PER_RECEIPT = 5


@contextmanager
def moto_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()  # a hung server must not outlive the benchmark
            proc.wait()


def run(store: ReceiptStore, n_receipts: int, n_words: int) -> dict[str, float]:
    receipts = [synthetic_receipt(n_words, n_lines=LINES_PER_RECEIPT, bucket="bench",
                                  key="{image_id}.png", confidence=lambda: 0.8)
                for _ in range(n_receipts)]
    items = sum(1 + len(lines) + len(words) + len(labels)
                for _, lines, words, labels in receipts)
    start = time.perf_counter()
    for parts in receipts:
        store.write_receipt(*parts)
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    read = 0
    for receipt, *_ in receipts:
        details = store.get_receipt_details(receipt.image_id, receipt.receipt_id)
        read += 1 + len(details.lines) + len(details.words) + len(details.labels)
    read_s = time.perf_counter() - start
    assert read == items, (read, items)
    start = time.perf_counter()
    pending = store.list_labels_by_status(ValidationStatus.PENDING)
    status_s = time.perf_counter() - start
    assert len(pending) == n_receipts * n_words
    return {"items": items, "write_items_per_s": items / write_s,
            "read_by_receipt_items_per_s": read / read_s,
            "read_by_status_items_per_s": len(pending) / status_s,
            "write_s": write_s, "read_by_receipt_s": read_s, "read_by_status_s": status_s}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=100)
    parser.add_argument("--words", type=int, default=100)
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store("sqlite", path=Path(tmp) / "bench.sqlite") as store,
    ):
        results["sqlite"] = run(store, args.receipts, args.words)
    with moto_server() as url:
        for var, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                           ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ.setdefault(var, value)
        import boto3

        name = f"bench-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1"), name)
        with open_store("dynamodb", table_name=name, endpoint_url=url,
                        region="us-east-1") as store:
            results["dynamodb-moto"] = run(store, args.receipts, args.words)
    print(json.dumps({"receipts": args.receipts, "words": args.words, "results": results}))
    print(f"{'backend':<14} {'items':>7} {'write/s':>10} {'by-receipt/s':>13} {'by-status/s':>12}")
    for backend, r in results.items():
        print(f"{backend:<14} {r['items']:>7.0f} {r['write_items_per_s']:>10.0f} "
              f"{r['read_by_receipt_items_per_s']:>13.0f} {r['read_by_status_items_per_s']:>12.0f}")


if __name__ == "__main__":
    main()
