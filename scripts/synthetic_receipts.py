"""Write labelled synthetic receipts as JSONL (the project's interchange format).

Only for the demo on a machine without the real data in ``../shared/data``: the receipts are
plausible (merchant, address, phone, date, time, items, subtotal, tax, total) but a model trained
on them says nothing about real receipts.

    python scripts/synthetic_receipts.py OUT.jsonl [--count 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

MERCHANTS = ["CORNER MART", "BLUE BOTTLE CAFE", "GREEN GROCER", "CITY HARDWARE", "SUNRISE BAKERY"]
STREETS = ["MAIN ST", "OAK AVENUE", "HARBOR RD", "ELM STREET", "KING BLVD"]
CITIES = ["SPRINGFIELD, IL 62704", "PORTLAND, OR 97201", "AUSTIN, TX 78701", "DENVER, CO 80202"]
ITEMS = ["MILK", "BREAD", "COFFEE", "EGGS", "APPLES", "RICE", "PASTA", "SOAP", "BATTERIES", "TEA"]
CHAR_W, LINE_H, WIDTH = 11, 26, 480


def _line(words: list[tuple[str, str | None]], y: int, x: int, line_id: int) -> list[dict]:
    out = []
    for word_id, (text, label) in enumerate(words, start=1):
        w = CHAR_W * len(text)
        out.append(
            {
                "text": text,
                "box": [x, y, x + w, y + LINE_H - 6],
                "line_id": line_id,
                "word_id": word_id,
                **({"label": label} if label else {}),
            }
        )
        x += w + CHAR_W
    return out


def _right(words: list[tuple[str, str | None]]) -> int:
    return WIDTH - 20 - CHAR_W * (sum(len(t) for t, _ in words) + len(words) - 1)


def receipt(rng: random.Random, index: int) -> dict:
    rows: list[tuple[list[tuple[str, str | None]], int]] = []

    def add(words: list[tuple[str, str | None]], x: int = 20) -> None:
        rows.append((words, x))

    add([(w, "MERCHANT_NAME") for w in rng.choice(MERCHANTS).split()])
    add([(w, "ADDRESS_LINE") for w in f"{rng.randint(1, 999)} {rng.choice(STREETS)}".split()])
    add([(w, "ADDRESS_LINE") for w in rng.choice(CITIES).split()])
    phone = f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    add([("TEL", None), *[(w, "PHONE_NUMBER") for w in phone.split()]])
    date = f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/20{rng.randint(18, 26)}"
    time = f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}"
    add([(date, "DATE"), (time, "TIME")])
    subtotal = 0.0
    for _ in range(rng.randint(2, 8)):
        qty, price = rng.randint(1, 3), rng.randint(99, 1999) / 100
        subtotal += qty * price
        name = [(w, "PRODUCT_NAME") for w in rng.choice(ITEMS).split()]
        add([*name, (str(qty), "QUANTITY")])
        amount = [(f"{qty * price:.2f}", "LINE_TOTAL")]
        add(amount, _right(amount))
    tax = round(subtotal * 0.08, 2)
    for key, value, label in (
        ("SUBTOTAL", subtotal, "SUBTOTAL"),
        ("TAX", tax, "TAX"),
        ("TOTAL", subtotal + tax, "GRAND_TOTAL"),
    ):
        add([(key, None)])
        amount = [(f"{value:.2f}", label)]
        add(amount, _right(amount))
    add([("THANK", None), ("YOU", None)])

    words: list[dict] = []
    y = 20
    for line_id, (row, x) in enumerate(rows, start=1):
        # Right-aligned amount rows are printed on the row of the words above them.
        if x == 20:
            y += LINE_H
        words.extend(_line(row, y, x, line_id))
    return {
        "key": f"synthetic:{index:04d}",
        "width": WIDTH,
        "height": y + 2 * LINE_H,
        "origin": "top-left",
        "normalized": False,
        "words": words,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for i in range(args.count):
            fh.write(json.dumps(receipt(rng, i)) + "\n")
    print(f"wrote {args.count} synthetic receipts to {args.out}")


if __name__ == "__main__":
    main()
