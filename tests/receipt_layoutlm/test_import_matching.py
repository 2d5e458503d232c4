"""SROIE word splitting and value matching on small hand-made receipts."""

from __future__ import annotations

import pytest

from receipt_layoutlm.importers._matching import find_text, value_fully_matched
from receipt_layoutlm.importers._values import date_readings, parse_amount
from receipt_layoutlm.importers.sroie import CORE_LABELS, BoxLine, label_words, words_from_line


def test_word_quads_are_proportional_and_follow_a_slanted_line():
    # Top edge rises 20 px over 200 px; "AB CD" has 5 characters of 40 px.
    corners = ((0.0, 20.0), (200.0, 0.0), (200.0, 30.0), (0.0, 50.0))
    first, second = words_from_line("AB CD", corners, line_id=7)
    assert (first.text, second.text) == ("AB", "CD")
    assert first.corners[0] == pytest.approx((0.0, 20.0))
    assert first.corners[1] == pytest.approx((80.0, 12.0))
    assert first.corners[2] == pytest.approx((80.0, 42.0))
    assert second.corners[0] == pytest.approx((120.0, 8.0))
    assert second.corners[2] == pytest.approx((200.0, 30.0))
    assert (second.line_id, second.word_id) == (7, 2)


@pytest.mark.parametrize(
    ("value", "text"),
    [("25/12/2018", "25-12-2018"), ("12-01-19", "12/01/2019"), ("30 DEC 17", "30/12/2017"),
     ("OCT 3, 2016", "03-10-2016"), ("20180428", "2018-04-28")],
)
def test_dates_compare_by_meaning(value, text):
    assert date_readings(value) & date_readings(text)


def test_register_number_before_a_date_does_not_hide_it():
    assert "2018-03-10" in date_readings("ORD #07 -REG #19- 10/03/2018")


@pytest.mark.parametrize("text", ["9.00", "RM9.00", "RM 9.00", "9.0", "$9.00", "9.00SR", "9,00",
                                  "9.00*"])
def test_amount_spellings(text):
    assert parse_amount(text) == parse_amount("9") == 9.0


@pytest.mark.parametrize("text", ["(2.00)", "9,00", "1,234.50", "2.00-", "abc", "25."])
def test_amounts_read_as_fields_parsing_reads_them(text):
    from receipt_layoutlm.fields.parsing import parse_amount as fields_amount

    assert parse_amount(text) == fields_amount(text)


@pytest.mark.parametrize("text", ["01-02-19", "25 DEC 18", "2018-04-28", "OCT 3, 2016"])
def test_date_readings_are_fields_parsing_readings(text):
    from receipt_layoutlm.fields.parsing import parse_date

    assert parse_date(text) in date_readings(text)
    assert parse_date(text, dayfirst=False) in date_readings(text)


def test_fuzzy_text_match_over_two_lines():
    tokens = ["TAN", "WOON", "BOOK", "TA", ".K(TAMAN", "DAYA)", "SDN", "BND", "789417-W"]
    match = find_text("BOOK TA .K (TAMAN DAYA) SDN BHD", tokens)
    assert match is not None
    assert [tokens[i] for i in match.tokens] == tokens[2:8]
    assert value_fully_matched("BOOK TA .K (TAMAN DAYA) SDN BHD", tokens[2:8])
    assert not value_fully_matched("BOOK TA .K (TAMAN DAYA) SDN BHD", tokens[2:6])


def _line(number, y, x0, x1, text):
    return BoxLine(number, ((x0, y), (x1, y), (x1, y + 20), (x0, y + 20)), text)


def test_total_prefers_lowest_keyword_row_and_labels_only_the_amount():
    lines = [
        _line(1, 10, 10, 300, "KEDAI MAJU SDN BHD"),
        _line(2, 40, 10, 300, "DATE: 25/12/2018 8:13:39 PM"),
        _line(3, 80, 10, 200, "ITEM A 9.00"),
        _line(4, 120, 10, 100, "SUBTOTAL"), _line(5, 120, 250, 300, "9.00"),
        _line(6, 160, 10, 120, "TOTAL: RM"), _line(7, 161, 250, 300, "9.00"),
        _line(8, 200, 10, 100, "CASH"), _line(9, 200, 250, 300, "9.00"),
    ]
    words = [w for i, line in enumerate(lines, 1) for w in words_from_line(line.text,
                                                                            line.corners, i)]
    fields = {"company": "KEDAI MAJU SDN. BHD.", "date": "25-12-2018", "total": "RM 9.00"}
    labelled, complete = label_words(words, lines, fields, CORE_LABELS)
    by_label = {}
    for w in labelled:
        by_label.setdefault(w.label, []).append((w.line_id, w.text))
    assert by_label["GRAND_TOTAL"] == [(7, "9.00")]
    assert by_label["DATE"] == [(2, "25/12/2018")]
    assert [t for _, t in by_label["MERCHANT_NAME"]] == ["KEDAI", "MAJU", "SDN", "BHD"]
    assert complete == {"date": True, "total": True, "company": True}
