"""Field extraction: parsing tables and span selection (receipt_layoutlm.fields)."""

from __future__ import annotations

import json

import pytest

from receipt_layoutlm.data import MERGE_PRESETS
from receipt_layoutlm.document import DocWord
from receipt_layoutlm.fields import (
    FIELD_LABELS,
    extract_fields,
    parse_amount,
    parse_date,
    parse_phone,
    parse_time,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9.00", 9.0),
        ("RM 9.00", 9.0),
        ("RM9.00", 9.0),
        ("9.00 RM", 9.0),
        ("$3.14", 3.14),
        ("€ 12,50", 12.5),
        ("9,00", 9.0),
        ("1,234.50", 1234.5),
        ("1.234,50", 1234.5),
        ("1,007.50", 1007.5),
        ("1,234", 1234.0),
        ("9.000", 9.0),
        ("9", 9.0),
        ("-2.00", -2.0),
        ("(2.00)", -2.0),
        ("2.00-", -2.0),
        ("TOTAL:", None),
        ("abc", None),
        ("", None),
        ("25/12/2018", None),
        ("1.2.3", None),
        ("1,23.00", None),
        ("12,34,567.00", None),
        ("RM", None),
        (None, None),
        ("1234567", 1234567.0),
        ("311136194", None),  # an invoice number, not an amount
        ("12,345,678.00", 12345678.0),
    ],
)
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25/12/2018", "2018-12-25"),
        ("12-01-19", "2019-01-12"),
        ("11.02.18", "2018-02-11"),
        ("5/3/2018", "2018-03-05"),
        ("2018-03-23", "2018-03-23"),
        ("2018/02/22", "2018-02-22"),
        ("20180304", "2018-03-04"),
        ("25032018", "2018-03-25"),
        ("04-Jan-2023", "2023-01-04"),
        ("05-JAN-2017", "2017-01-05"),
        ("19 APR 2018", "2018-04-19"),
        ("15/APR/2017", "2017-04-15"),
        ("28 MAR 18", "2018-03-28"),
        ("OCT 3, 2016", "2016-10-03"),
        ("(06/12/2016)", "2016-12-06"),
        # Day-first is invalid (month 25), so month-first is the only reading.
        ("12/25/2018", "2018-12-25"),
        ("31/02/2018", None),
        ("25/12/2018 8:13", None),
        ("APR 2018", None),
        ("9.00", None),
        ("hello", None),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_parse_date_month_first_when_asked():
    assert parse_date("01/02/2018") == "2018-02-01"
    assert parse_date("01/02/2018", dayfirst=False) == "2018-01-02"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8:13", "08:13"),
        ("08:13:39", "08:13:39"),
        ("8:13:39 PM", "20:13:39"),
        ("8:13:39PM", "20:13:39"),
        ("8.13pm", "20:13"),
        ("12:00 AM", "00:00"),
        ("12:30 p.m.", "12:30"),
        ("8.13", None),
        ("25:00", None),
        ("13:00 PM", None),
        ("8:61", None),
        ("time", None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_parse_phone():
    assert parse_phone("+1 (555) 123-4567") == "+15551234567"
    assert parse_phone("07-355 1234") == "073551234"
    assert parse_phone("12") is None
    assert parse_phone("CALL US") is None


def test_higher_confidence_merchant_span_wins_and_stray_word_stays_out():
    words = [
        ("BEST", "MERCHANT_NAME", 0.55),
        ("SHOP", "MERCHANT_NAME", 0.50),
        ("123", None, 0.99),
        ("ACME", "MERCHANT_NAME", 0.95),
        ("MARKET", "MERCHANT_NAME", 0.90),
        ("thank", None, 0.9),
        ("you", None, 0.9),
        ("ACME", "MERCHANT_NAME", 0.97),  # stray single word far below
    ]
    fields = extract_fields(words)
    merchant = fields["merchant"]
    assert merchant.text == "ACME MARKET"
    assert merchant.word_indices == (3, 4)
    assert merchant.confidence == pytest.approx((0.95 + 0.90) / 2)
    assert set(fields) == {"merchant"}


def test_multiline_address_joins_but_single_line_field_does_not():
    words = [
        ("NO.53", "ADDRESS_LINE", 0.9),
        ("JALAN", "ADDRESS_LINE", 0.9),
        ("SAGU,", "ADDRESS_LINE", 0.8),
        ("TAMAN", "ADDRESS_LINE", 0.9),
        ("DAYA,", "ADDRESS_LINE", 0.9),
        ("JOHOR.", "ADDRESS_LINE", 0.7),
        ("TOTAL", "GRAND_TOTAL", 0.9),
        ("9.00", "GRAND_TOTAL", 0.6),
    ]
    lines = [1, 1, 1, 2, 2, 3, 4, 5]
    fields = extract_fields(words, line_ids=lines)
    assert fields["address"].text == "NO.53 JALAN SAGU, TAMAN DAYA, JOHOR."
    assert fields["address"].word_indices == (0, 1, 2, 3, 4, 5)
    # The total's two words are on different lines: only the parseable one is the value.
    assert fields["total"].text == "9.00"
    assert fields["total"].value == 9.0


def test_amount_prefers_parseable_span_then_confidence_then_lowest():
    words = [
        ("SUBTOTAL", "SUBTOTAL", 0.99),
        ("8.00", "SUBTOTAL", 0.7),
        ("TOTAL:", None, 1.0),
        ("RM", "GRAND_TOTAL", 0.8),
        ("9.00", "GRAND_TOTAL", 0.8),
        ("CASH", None, 1.0),
        ("10.00", "GRAND_TOTAL", 0.8),
    ]
    lines = [1, 1, 2, 2, 2, 3, 3]
    fields = extract_fields(words, line_ids=lines)
    assert fields["subtotal"].text == "8.00"
    assert fields["subtotal"].value == 8.0
    # "RM 9.00" and "10.00" tie on mean confidence: the lowest on the receipt wins.
    assert fields["total"].text == "10.00"
    assert fields["total"].value == 10.0
    words[4] = ("9.00", "GRAND_TOTAL", 0.95)
    total = extract_fields(words, line_ids=lines)["total"]
    assert (total.text, total.value, total.word_indices) == ("RM 9.00", 9.0, (3, 4))


def test_total_prefers_grand_total_over_merged_amount():
    words = [("5.00", "AMOUNT", 0.99), ("7.50", "GRAND_TOTAL", 0.6), ("7.50", "AMOUNT", 0.9)]
    assert extract_fields(words)["total"].value == 7.5
    assert extract_fields(words)["total"].word_indices == (1,)
    only_amounts = [w for w in words if w[1] == "AMOUNT"]
    assert extract_fields(only_amounts)["total"].text == "5.00"


def test_date_and_time_from_merged_date_label():
    # Under the date_time merge, "25/12/2018 8:13:39 PM" is B-DATE B-DATE I-DATE.
    words = [
        ("DATE:", "O", 0.99),
        ("25/12/2018", "B-DATE", 0.9),
        ("8:13:39", "B-DATE", 0.8),
        ("PM", "I-DATE", 0.7),
    ]
    fields = extract_fields(words)
    assert (fields["date"].text, fields["date"].value) == ("25/12/2018", "2018-12-25")
    assert (fields["time"].text, fields["time"].value) == ("8:13:39 PM", "20:13:39")
    assert fields["time"].confidence == pytest.approx(0.75)


def test_date_span_narrowed_to_the_part_that_parses_even_without_tags():
    words = [
        ("Date", "DATE", 0.5),
        ("19", "DATE", 0.9),
        ("APR", "DATE", 0.9),
        ("2018", "DATE", 0.9),
    ]
    date = extract_fields(words)["date"]
    assert (date.text, date.value, date.word_indices) == ("19 APR 2018", "2018-04-19", (1, 2, 3))


def test_unparseable_date_still_returns_best_span_with_no_value():
    date = extract_fields([("yesterday", "DATE", 0.9)])["date"]
    assert (date.text, date.value) == ("yesterday", None)


def test_word_predictions_and_docwords_are_accepted():
    from receipt_layoutlm.encoding import WordPrediction

    preds = [
        WordPrediction(10, "ACME", "B-MERCHANT_NAME", "MERCHANT_NAME", 0.9),
        WordPrediction(11, "INC", "I-MERCHANT_NAME", "MERCHANT_NAME", 0.8),
        WordPrediction(12, "4.20", "B-GRAND_TOTAL", "GRAND_TOTAL", 0.7),
    ]
    fields = extract_fields(preds)
    assert fields["merchant"].word_indices == (10, 11)
    assert fields["total"].value == 4.2

    box = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    docs = [
        DocWord("TOTAL", box, line_id=1, label="GRAND_TOTAL"),
        DocWord("4.20", box, line_id=2, label="GRAND_TOTAL"),
    ]
    # DocWord line ids split the single-line total span.
    assert extract_fields(docs)["total"].text == "4.20"


def test_custom_field_labels_and_bad_line_ids():
    words = [("Store", "Store_name_value", 0.8), ("X", "Store_name_value", 0.8)]
    fields = extract_fields(words, field_labels={"merchant": ("Store_name_value",)})
    assert fields["merchant"].text == "Store X"
    assert "MERCHANT_NAME" in FIELD_LABELS["merchant"]
    with pytest.raises(ValueError, match="line ids"):
        extract_fields(words, line_ids=[1])


def test_every_sroie_ground_truth_date_and_total_parses(shared_data):
    entities = sorted((shared_data / "sroie" / "train" / "entities").glob("*.txt"))
    assert entities
    failures = []
    for path in entities:
        raw = path.read_bytes()
        try:
            truth = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            truth = json.loads(raw.decode("latin-1"))
        if truth.get("date") and parse_date(truth["date"]) is None:
            failures.append((path.name, "date", truth["date"]))
        if truth.get("total") and parse_amount(truth["total"]) is None:
            failures.append((path.name, "total", truth["total"]))
    assert failures == []


def _prediction(index: int, text: str, tag: str, probabilities: dict[str, float]):
    from receipt_layoutlm.encoding import WordPrediction

    confidence = 1.0 - sum(probabilities.values()) if tag == "O" else probabilities[tag[2:]]
    label = None if tag == "O" else tag[2:]
    return WordPrediction(index, text, tag, label, confidence, probabilities)


def test_total_missed_by_argmax_comes_from_the_most_probable_amount() -> None:
    words = [
        _prediction(0, "SUBTOTAL", "O", {"GRAND_TOTAL": 0.01}),
        _prediction(1, "8.50", "O", {"GRAND_TOTAL": 0.12}),
        _prediction(2, "TOTAL", "O", {"GRAND_TOTAL": 0.30}),  # probable but not an amount
        _prediction(3, "9.00", "O", {"GRAND_TOTAL": 0.41}),
        _prediction(4, "CASH", "O", {}),
        _prediction(5, "10.00", "O", {"GRAND_TOTAL": 0.20}),
    ]
    total = extract_fields(words)["total"]
    assert (total.text, total.value, total.word_indices) == ("9.00", 9.0, (3,))
    assert total.confidence == pytest.approx(0.41)
    assert "total" not in extract_fields(words, fallback_min_probability=None)
    assert "total" not in extract_fields(words, fallback_min_probability=0.5)


def test_labelled_span_beats_a_more_probable_unlabelled_word() -> None:
    words = [
        _prediction(0, "9.00", "B-GRAND_TOTAL", {"GRAND_TOTAL": 0.55}),
        _prediction(1, "12.00", "O", {"GRAND_TOTAL": 0.45}),
    ]
    assert extract_fields(words)["total"].word_indices == (0,)


def test_a_date_that_is_no_time_gives_no_time_field():
    # Unmerged labels: the date is DATE and there is no time; DATE feeds time only as a fallback.
    words = [("25/12/2018", "DATE", 0.9), ("TOTAL", "O", 0.9), ("9.00", "GRAND_TOTAL", 0.9)]
    fields = extract_fields(words)
    assert fields["date"].value == "2018-12-25"
    assert "time" not in fields
    # The field's own label still gives a span that does not parse, with value None.
    fields = extract_fields([("lunch", "TIME", 0.9), ("25/12/2018", "DATE", 0.9)])
    assert (fields["time"].text, fields["time"].value) == ("lunch", None)


def test_address_field_reads_the_sroie_merged_name_too():
    """Under the sroie/address_phone merge the address words are ADDRESS; the original name
    still wins over the merged one when both are there."""
    words = [("NO.53", "ADDRESS", 0.9), ("JALAN", "ADDRESS", 0.9), ("SAGU", "ADDRESS", 0.8)]
    assert extract_fields(words, line_ids=[1, 1, 2])["address"].text == "NO.53 JALAN SAGU"
    both = [("TEL", "ADDRESS", 0.99), ("03-1234", "ADDRESS", 0.99), ("X", None, 1.0),
            ("JALAN", "ADDRESS_LINE", 0.5)]
    assert extract_fields(both)["address"].text == "JALAN"


@pytest.mark.parametrize("preset", sorted(MERGE_PRESETS))
def test_every_merged_label_feeds_a_field(preset):
    """A model trained under any preset still yields fields: each merge target is read."""
    fed = {label for labels in FIELD_LABELS.values() for label in labels}
    assert set(MERGE_PRESETS[preset].values()) <= fed


@pytest.mark.parametrize("ocr_confidences", [None, [0.5, 1.0, 0.25, 0.75]])
def test_predictions_with_line_ids_normalise_as_the_general_loop_does(ocr_confidences):
    """``normalise_words`` reads ``WordPrediction``s with line ids through its own short path
    (``_from_predictions``): the same ``Word``s as the general loop, which a word carrying a
    ``line_id`` still takes."""
    import dataclasses

    from receipt_layoutlm.encoding import WordPrediction
    from receipt_layoutlm.fields._words import normalise_words

    @dataclasses.dataclass
    class WithLineId:  # what the general loop reads, plus the attribute that routes it there
        word_index: int
        text: str
        tag: str
        label: str | None
        confidence: float
        label_probabilities: dict
        line_id: int | None = None

    preds = [
        WordPrediction(7, "ACME", "B-MERCHANT_NAME", "MERCHANT_NAME", 0.9,
                       {"MERCHANT_NAME": 0.9, "GRAND_TOTAL": 0.01}),
        WordPrediction(8, "INC", "I-MERCHANT_NAME", "MERCHANT_NAME", 0.8),
        WordPrediction(9, "THANK", "O", None, 0.6, {}),
        WordPrediction(12, "4.20", "GRAND_TOTAL", "GRAND_TOTAL", 0.7, {"GRAND_TOTAL": 0.7}),
    ]
    line_ids = [0, 0, 1, 2]
    general = [WithLineId(p.word_index, p.text, p.tag, p.label, p.confidence,
                          dict(p.label_probabilities)) for p in preds]
    fast = normalise_words(preds, line_ids, ocr_confidences)
    slow = normalise_words(general, line_ids, ocr_confidences)
    assert [dataclasses.astuple(w) for w in fast] == [dataclasses.astuple(w) for w in slow]
    assert [w.line for w in fast] == line_ids and fast[3].index == 12
