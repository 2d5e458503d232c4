"""What a synthetic receipt says: printed rows of (text, label) words, and its ground-truth fields.

Rows are laid out by :mod:`receipt_layoutlm.synthetic.render`; this module only decides the text.
Every value that carries a core label is printed as its own words, so the labels are exact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

Word = tuple[str, str | None]
"""(text, core label or None)."""

MERCHANTS = (
    "CORNER MART", "BLUE BOTTLE CAFE", "GREEN GROCER", "CITY HARDWARE", "SUNRISE BAKERY",
    "HARBOR PHARMACY", "MAPLE BOOKSHOP", "NORTHSIDE DELI", "PIXEL ELECTRONICS", "FRESH FARM MARKET",
)
STREETS = ("MAIN ST", "OAK AVENUE", "HARBOR RD", "ELM STREET", "KING BLVD", "MILL LANE", "5TH AVE")
CITIES = (
    "SPRINGFIELD, IL 62704", "PORTLAND, OR 97201", "AUSTIN, TX 78701", "DENVER, CO 80202",
    "MADISON, WI 53703", "RALEIGH, NC 27601",
)
ITEMS = (
    "MILK", "WHOLE WHEAT BREAD", "COFFEE BEANS", "EGGS DOZEN", "APPLES", "BASMATI RICE", "PASTA",
    "HAND SOAP", "AA BATTERIES", "GREEN TEA", "ORANGE JUICE", "CHEDDAR", "PAPER TOWELS", "BANANAS",
)
PAYMENTS = ("VISA", "MASTERCARD", "CASH", "DEBIT", "AMEX")
FOOTERS = ("THANK YOU", "THANK YOU FOR SHOPPING", "PLEASE COME AGAIN", "HAVE A NICE DAY")


@dataclass
class Row:
    """One printed row: words on the left and, optionally, right-aligned words."""

    left: list[Word]
    right: list[Word] = field(default_factory=list)
    centered: bool = False
    """Header rows (merchant, address) are centred."""


@dataclass
class ReceiptContent:
    """The rows of one receipt, top to bottom, and the SROIE-style ground-truth fields."""

    rows: list[Row]
    fields: dict[str, str]


def _labelled(text: str, label: str | None) -> list[Word]:
    return [(w, label) for w in text.split()]


def _money(value: float) -> str:
    return f"{value:.2f}"


def receipt_content(rng: random.Random) -> ReceiptContent:
    """A plausible receipt: header, date/time, 2–8 items, subtotal, tax, total, payment."""
    merchant = rng.choice(MERCHANTS)
    street = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"
    city = rng.choice(CITIES)
    phone = f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    date = f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/20{rng.randint(18, 26)}"
    time = f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}"
    rows = [
        Row(_labelled(merchant, "MERCHANT_NAME"), centered=True),
        Row(_labelled(street, "ADDRESS_LINE"), centered=True),
        Row(_labelled(city, "ADDRESS_LINE"), centered=True),
        Row([("TEL", None), *_labelled(phone, "PHONE_NUMBER")], centered=True),
        Row([("DATE", None), (date, "DATE")], [(time, "TIME")]),
    ]
    subtotal = 0.0
    for _ in range(rng.randint(2, 8)):
        qty, price = rng.randint(1, 4), rng.randint(49, 2499) / 100
        line_total = round(qty * price, 2)
        subtotal += line_total
        name = _labelled(rng.choice(ITEMS), "PRODUCT_NAME")
        if qty > 1:
            rows.append(Row(name))
            rows.append(Row([(str(qty), "QUANTITY"), ("@", None), (_money(price), "UNIT_PRICE")],
                            [(_money(line_total), "LINE_TOTAL")]))
        else:
            rows.append(Row(name, [(_money(line_total), "LINE_TOTAL")]))
    subtotal = round(subtotal, 2)
    rate = rng.choice((0.05, 0.06, 0.07, 0.08, 0.0825))
    tax = round(subtotal * rate, 2)
    total = round(subtotal + tax, 2)
    payment = rng.choice(PAYMENTS)
    rows += [
        Row([("SUBTOTAL", None)], [(_money(subtotal), "SUBTOTAL")]),
        Row([("TAX", None), (f"{rate * 100:g}%", None)], [(_money(tax), "TAX")]),
        Row([("TOTAL", None)], [(_money(total), "GRAND_TOTAL")]),
        Row([(payment, "PAYMENT_METHOD")], [(_money(total), None)]),
        Row(_labelled(rng.choice(FOOTERS), None), centered=True),
    ]
    fields = {"company": merchant, "address": f"{street} {city}", "date": date,
              "total": _money(total)}
    return ReceiptContent(rows=rows, fields=fields)
