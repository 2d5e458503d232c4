"""Review app server time on a big SQLite store (default 10,000 receipts with PENDING labels).

Fills a temporary local environment with N receipts of W words (a third of them with PENDING
proposals, confidences spread over (0, 1]) and a photo each, then times requests through the
app in-process (Starlette's TestClient: the ASGI app and the store, no network or browser):
the receipt page, its JSON, the queue's first page and a later page, and a relabel save.
Prints one JSON line and a table of median / p95 milliseconds.

    python benchmarks/review_bench.py [--receipts 10000] [--words 40] [--requests 50]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _synthetic_receipt import synthetic_receipt

from receipt_cloud.settings import resolve_settings

LINES = 10
PHOTO_KEY = "raw/bench.png"


def fill(settings: Any, n_receipts: int, n_words: int) -> tuple[list[str], float]:
    from PIL import Image

    raw = settings.open_objects("raw")
    buffer = io.BytesIO()
    Image.new("RGB", (600, 1800), "white").save(buffer, format="PNG")
    raw.put_bytes(PHOTO_KEY, buffer.getvalue(), content_type="image/png")
    bucket, _ = raw.location(PHOTO_KEY)
    rng = random.Random(7)
    ids = []
    started = time.perf_counter()
    with settings.open_store() as store:
        for start in range(0, n_receipts, 500):
            with store.table.atomic():  # SQLite: one transaction per 500 receipts
                for _ in range(start, min(n_receipts, start + 500)):
                    parts = synthetic_receipt(
                        n_words, n_lines=LINES, bucket=bucket, key=PHOTO_KEY, label_every=3,
                        confidence=lambda: round(rng.uniform(0.05, 1.0), 4))
                    store.write_receipt(*parts)
                    ids.append(parts[0].image_id)
    return ids, time.perf_counter() - started


def timed(call: Any, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    times.sort()
    return {"median_ms": statistics.median(times),
            "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "requests": repeats}


def measure(settings: Any, ids: list[str], repeats: int) -> dict[str, dict[str, float]]:
    from starlette.testclient import TestClient

    from receipt_review import ReviewConfig
    from receipt_review.app import create_app
    from receipt_review.state import ReviewState

    client = TestClient(create_app(ReviewState.from_settings(settings,
                                                             ReviewConfig(reviewer="bench"))))
    rng = random.Random(11)
    picks = iter([rng.choice(ids) for _ in range(repeats * 4)])
    client.get(f"/receipts/{ids[0]}/1")  # warm: templates compiled, palette loaded
    results = {
        "receipt_page": timed(lambda: client.get(f"/receipts/{next(picks)}/1"), repeats),
        "receipt_json": timed(lambda: client.get(f"/api/receipts/{next(picks)}/1"), repeats),
        "queue_first_page": timed(lambda: client.get("/"), max(3, repeats // 5)),
    }
    cursor = client.get("/api/queue").json()["cursor"]
    results["queue_next_page"] = timed(lambda: client.get("/api/queue",
                                                          params={"cursor": cursor}),
                                       max(3, repeats // 5))

    def relabel() -> Any:
        image = next(picks)
        page = client.get(f"/receipts/{image}/1").text
        form = {n: re.search(rf'name="{n}" value="([^"]*)"', page).group(1)
                for n in ("csrf", "version")}
        return client.post(f"/receipts/{image}/1/label",
                           data={**form, "line_id": "1", "word_id": "2", "label": "TAX"})

    results["open_and_relabel"] = timed(relabel, max(5, repeats // 5))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=40)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = resolve_settings("local", data_dir=Path(tmp), environ={})
        ids, fill_s = fill(settings, args.receipts, args.words)
        results = measure(settings, ids, args.requests)
    print(json.dumps({"receipts": args.receipts, "words": args.words, "backend": "sqlite",
                      "fill_s": round(fill_s, 1), "results": results}))
    print(f"{args.receipts} receipts x {args.words} words in SQLite (filled in {fill_s:.0f} s); "
          "server time in-process")
    print(f"{'request':<18} {'median ms':>10} {'p95 ms':>8} {'n':>4}")
    for name, r in results.items():
        print(f"{name:<18} {r['median_ms']:>10.1f} {r['p95_ms']:>8.1f} {r['requests']:>4}")


if __name__ == "__main__":
    main()
