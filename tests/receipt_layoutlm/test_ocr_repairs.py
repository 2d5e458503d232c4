"""The field repairs of misread characters and inner debris (``fields.ocr_cleanup``): each one
alone, table-driven, then through ``extract_fields`` with its ``FieldCleanup`` switch on and off.
That they are inert on clean transcripts is ``test_fields_golden.py`` (626 SROIE transcripts,
fields unchanged)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from test_ocr_cleanup import _word

from receipt_layoutlm.encoding import WordPrediction
from receipt_layoutlm.fields import FieldCleanup, extract_fields
from receipt_layoutlm.fields.address_text import ends_before_contact
from receipt_layoutlm.fields.company_name import (
    company_suffix,
    ends_at_legal_suffix,
    is_complete_legal_name,
    registration_number,
)
from receipt_layoutlm.fields.ocr_cleanup import (
    SYMBOL_WORDS,
    date_alone,
    date_candidates,
    decimal_point,
    drop_inner_debris,
    letter_confusions,
    repair_date,
    strip_glued_debris,
)


def _texts(span: list[SimpleNamespace]) -> list[str]:
    return [w.text for w in span]


@pytest.mark.parametrize(
    ("texts", "kept"),
    [
        (["TAMAN", "BERKELEY", "|", "41150", "KLANG"], ["TAMAN", "BERKELEY", "41150", "KLANG"]),
        (["JALAN", "ANGSA,", "|", "|", "TAMAN"], ["JALAN", "ANGSA,", "TAMAN"]),
        (["A", "”", "—", "_", ";", "B"], ["A", "B"]),
        # The symbol words of the training truth stay.
        (["GIFT", "&", "HOME", "-", "DECO", "(KI", ")", "NO", ":", "20", ",", "/", "."],
         ["GIFT", "&", "HOME", "-", "DECO", "(KI", ")", "NO", ":", "20", ",", "/", "."]),
        # Only inside: the edges are trim_edges' business.
        (["|", "SHOP", "|"], ["|", "SHOP", "|"]),
        (["|", ":"], ["|", ":"]),
        ([], []),
        (["SHOP"], ["SHOP"]),
    ],
)
def test_drop_inner_debris(texts, kept):
    span = [SimpleNamespace(text=t) for t in texts]
    assert _texts(drop_inner_debris(span)) == kept


def test_symbol_words_are_the_frozen_training_set():
    assert {"&", "-", ":", "(", ")"} <= SYMBOL_WORDS
    assert not {"|", "”", "—", "_"} & SYMBOL_WORDS


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("08/69/2017", ("08/09/2017", "2017-09-08")),  # 6 read for 0
        ("14/16/2017", ("14/10/2017", "2017-10-14")),
        ("18/63/18", ("18/03/18", "2018-03-18")),
        ("92/03/2018", ("02/03/2018", "2018-03-02")),  # 9 read for 0
        ("O8/09/2017", ("08/09/2017", "2017-09-08")),  # a letter read for a digit
        ("31/19/2018", ("31/10/2018", "2018-10-31")),
        ("35/12/2018", None),  # no single confusion gives a date
        ("13/13/2018", None),
        ("DATE", None),
        ("", None),
        ("16/18/2018", None),  # 10/18/2018 and 16/10/2018: ambiguous, nothing printed
        ("Date " * 6 + "08/69/2017", None),  # longer than any printed date: not tried
    ],
)
def test_repair_date(text, repaired):
    assert repair_date(text, lambda: []) == repaired


@pytest.mark.parametrize(
    ("text", "alone"),
    [
        ("DATE:11/03/18", ("11/03/18", "2018-03-11")),  # the label word glued
        (":26/03/18", ("26/03/18", "2018-03-26")),
        ("21/05/2018TIME:", ("21/05/2018", "2018-05-21")),
        ("20180428/191204", ("20180428", "2018-04-28")),  # the time glued by a slash
        ("Date: 26/03/2018", ("26/03/2018", "2018-03-26")),  # a span of two words
        ("15/APR/2017x", ("15/APR/2017", "2017-04-15")),
        ("NO:K074-001096(06/12/2016)", ("(06/12/2016)", "2016-12-06")),  # brackets stay
        ("(06/12/2016)", None),
        ("(06/12/2016", ("06/12/2016", "2016-12-06")),
        ("11/03/18", None),  # the date alone already
        (" 11/03/18 ", None),
        ("19 APR 2018", None),  # several words make the date: not this repair's
        ("11/03/18 12/03/18", None),  # two dates: which one is not for a rule to say
        ("DATE:45/03/18", None),  # no valid date in it
        ("0123456789", None),  # ten digits are a phone, not yyyymmdd
        ("", None),
    ],
)
def test_date_alone(text, alone):
    assert date_alone(text) == alone


def test_a_date_read_with_its_label_is_the_date_alone():
    words = [_word(0, "DATE:11/03/18", "DATE", 0.9), _word(1, "TOTAL", None, 0.9)]
    fields = extract_fields(words, line_ids=[1, 2])
    assert (fields["date"].text, fields["date"].value) == ("11/03/18", "2018-03-11")
    kept = extract_fields(words, line_ids=[1, 2],
                          cleanup=FieldCleanup(date_alone=False, sole_date=False))
    assert kept["date"].text == "DATE:11/03/18"


def test_an_ambiguous_date_takes_the_candidate_printed_elsewhere():
    assert set(date_candidates("16/18/2018")) == {"2018-10-18", "2018-10-16"}
    asked = []

    def printed():
        asked.append(True)
        return [None, "2018-10-16", "2017-01-01"]

    assert repair_date("16/18/2018", printed) == ("16/10/2018", "2018-10-16")
    assert repair_date("08/69/2017", printed) == ("08/09/2017", "2017-09-08")
    assert len(asked) == 1  # asked only when the candidates are ambiguous
    both = ["2018-10-16", "2018-10-18"]
    assert repair_date("16/18/2018", lambda: both) is None


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("27,90", "27.90"),
        ("RM27,90", "RM27.90"),
        ("RM 1234,05", "RM 1234.05"),
        ("1,007.50", "1,007.50"),  # a thousands group
        ("1,234", "1,234"),
        ("1,234,56", "1,234,56"),  # not one amount: left as printed
        ("27.90", "27.90"),
        ("27,9", "27,9"),
    ],
)
def test_decimal_point(text, written):
    assert decimal_point(text) == written


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("CLOCKED!", "CLOCKED!"),  # a WildReceipt store name: '!' is left alone
        ("JALAN $S21/39", "JALAN SS21/39"),
        ("JALAN $$21/39,", "JALAN SS21/39,"),
        ("LOT 1851~A & 1851-B", "LOT 1851-A & 1851-B"),
        ("~ A", "~ A"),
        ("MA$", "MAS"),
        ("TOTAL $8.20", "TOTAL $8.20"),  # an amount's currency stays
        ("NO.3, JALAN SS21/39", "NO.3, JALAN SS21/39"),
    ],
)
def test_letter_confusions(text, read):
    assert letter_confusions(text) == read


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("__UNIHAKKA INTERNATIONAL", "UNIHAKKA INTERNATIONAL"),
        ("NO, 53, “SAAR", "NO, 53, SAAR"),
        ("[P.NISANTHI] X", "P.NISANTHI X"),
        ("JOHOR| BAHRU", "JOHOR BAHRU"),
        ("SEL|ANGOR", "SEL|ANGOR"),  # inside a word: not glued to an end
        ("A | B", "A | B"),  # a word of its own: drop_inner_debris judges it
        ("(M) SDN BHD", "(M) SDN BHD"),
        ("NANDO'S", "NANDO'S"),
    ],
)
def test_strip_glued_debris(text, read):
    assert strip_glued_debris(text) == read


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("UNIHAKKA INTERNATIONAL SON BHD", "UNIHAKKA INTERNATIONAL SDN BHD"),
        ("MR D.I.Y. (JOHOR) S0N. BHD", "MR D.I.Y. (JOHOR) SDN. BHD"),
        ("SUN VICTORY SDN BHD", "SUN VICTORY SDN BHD"),
        ("JASON BHD", "JASON BHD"),
        ("SONY CENTRE", "SONY CENTRE"),
        ("SON BHDX", "SON BHDX"),
    ],
)
def test_company_suffix(text, read):
    assert company_suffix(text) == read


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("BROADVIEW MARKETING SDN BHD(728384-M)", "BROADVIEW MARKETING SDN BHD"),
        ("MYNEWS RETAIL SB (306295-X)", "MYNEWS RETAIL SB"),
        ("(306295-X)", "(306295-X)"),  # nothing but the number: left for the model's word
        ("KEDAI (M) SDN BHD", "KEDAI (M) SDN BHD"),
        ("RESTORAN 1982 (KL)", "RESTORAN 1982 (KL)"),
        # What follows the number is cut with it: no training company holds a number.
        ("KING'S CONFECTIONERY S/B 273500-U (KSB)", "KING'S CONFECTIONERY S/B"),
        ("PERNIAGAAN ZHENG HUI JM0325965-V", "PERNIAGAAN ZHENG HUI"),
        ("FILL IN ENTERPRISE COMPANY NO: MA0057302-M", "FILL IN ENTERPRISE"),
        ("URBAN IDEA SDN BHD (417940-M),", "URBAN IDEA SDN BHD"),
        ("ACME SDN BHD CO. REG. NO. (123456-K)", "ACME SDN BHD"),
        # A registration label whose number is on the next line.
        ("ADVANCO COMPANY COMPANY REG. NO.", "ADVANCO COMPANY"),
        ("DION REALTIES SDN BHD (CO.", "DION REALTIES SDN BHD"),
        # Not a registration: a company called CO., a short number, NO without CO.
        ("AEON CO. (M) BHD", "AEON CO. (M) BHD"),
        ("AMPANG 210 FIRST CITY PARKING SDN BHD", "AMPANG 210 FIRST CITY PARKING SDN BHD"),
        ("KEDAI NO. 1 TRADING", "KEDAI NO. 1 TRADING"),
        ("TESCO NO. 1", "TESCO NO. 1"),
        ("COMPANY NO: 12345-A", "COMPANY NO: 12345-A"),  # nothing but the label and number
    ],
)
def test_registration_number(text, read):
    assert registration_number(text) == read


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("GUARDIAN HEALTH AND BEAUTY SDN BHD BANDAR BARU RAWANG",
         "GUARDIAN HEALTH AND BEAUTY SDN BHD"),
        ("AEON CO. (M) BHD. LOT 1", "AEON CO. (M) BHD."),  # the print's period kept
        ("MAKASSAR FRESH MARKET S/B.", "MAKASSAR FRESH MARKET S/B"),
        ("MYNEWS RETAIL SB OUTLET", "MYNEWS RETAIL SB"),
        ("AA BHD SUBANG HEALTHCARE SDN BHD", "AA BHD SUBANG HEALTHCARE SDN BHD"),  # the last
        ("MR. D.I.Y. (M) SDN BHD", "MR. D.I.Y. (M) SDN BHD"),
        ("THREE STOOGES BISTRO & CAFE", "THREE STOOGES BISTRO & CAFE"),  # no suffix
        ("BHDR TRADING", "BHDR TRADING"),  # a word that starts like one
        # A bracketed qualifier after the suffix is the name's (one training value).
        ("CHECKERS HYPERMARKET SDN BHD (JALAN KLANG LAMA)",
         "CHECKERS HYPERMARKET SDN BHD (JALAN KLANG LAMA)"),
        ("ACME SDN BHD (KL) BRANCH", "ACME SDN BHD"),
    ],
)
def test_ends_at_legal_suffix(text, read):
    assert ends_at_legal_suffix(text) == read


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("NO 1&3, JALAN WANGSA DELIMA 12, 53300 KUALA LUMPUR 03-41318972",
         "NO 1&3, JALAN WANGSA DELIMA 12, 53300 KUALA LUMPUR"),
        ("SEKSYEN U3, 40150 SHAH ALAM 013-336 3999", "SEKSYEN U3, 40150 SHAH ALAM"),
        ("JLN TMN SUBANG JASA 3, 40150 SELANGOR 17/05/17", "JLN TMN SUBANG JASA 3, 40150 SELANGOR"),
        ("43300 SERI KEMBANGAN TEL: 03-8961", "43300 SERI KEMBANGAN"),
        # Address numbers that are neither.
        ("LOT 1851-A & 1851-B, JALAN KPB 6, 43300", "LOT 1851-A & 1851-B, JALAN KPB 6, 43300"),
        ("NO. 17-G, JALAN 7/118B, SS21/39, 47400", "NO. 17-G, JALAN 7/118B, SS21/39, 47400"),
        ("TEL 03-41318972", "TEL 03-41318972"),  # nothing before it: left to the model
    ],
)
def test_ends_before_contact(text, read):
    assert ends_before_contact(text) == read


@pytest.mark.parametrize(
    ("line", "complete"),
    [
        ("TK DIVISION KITCHEN SDN BHD", True),
        ("MIZU MENTAI SDN. BHD.", True),
        ("LAVENDER CONFECTIONERY & BAKERY S/B", True),
        ("AEON CO. (M) BHD", True),
        # The end of a name begun on the line above.
        ("RESTAURANT SDN BHD", False),
        ("SDN. BHD.", False),
        ("CO. (M) SDN BHD", False),
        ("& TEA LEAF (M) SDN. BHD.", False),
        # No legal suffix at its end.
        ("SOON HUAT MACHINERY ENTERPRISE", False),
        ("GUARDIAN SDN BHD BANDAR BARU", False),
    ],
)
def test_is_complete_legal_name(line, complete):
    assert is_complete_legal_name(line) is complete


def test_a_merchant_over_lines_is_its_last_line_when_that_is_a_whole_legal_name():
    def merchant(lines: list[str]) -> str | None:
        words, line_ids = [], []
        for number, line in enumerate(lines):
            for text in line.split():
                words.append(_word(len(words), text, "MERCHANT_NAME", 0.9))
                line_ids.append(number)
        found = extract_fields(words, line_ids=line_ids).get("merchant")
        off = extract_fields(words, line_ids=line_ids,
                             cleanup=FieldCleanup(legal_name_line=False))["merchant"].text
        assert off == " ".join(lines)  # the switch off reads every line
        return None if found is None else found.text

    assert merchant(["SUSHI MENTAI - NAHKOTA CHERAS", "MIZU MENTAI SDN. BHD."]) == (
        "MIZU MENTAI SDN. BHD.")
    assert merchant(["TAN CHAY YEE", "SOON HUAT MACHINERY SDN BHD"]) == (
        "SOON HUAT MACHINERY SDN BHD")
    # A name wrapped over lines stays whole; so does a single line.
    assert merchant(["POPULAR BOOK", "CO. (M) SDN BHD"]) == "POPULAR BOOK CO. (M) SDN BHD"
    assert merchant(["LIAN CHI PU TIAN VEGETARIAN", "RESTAURANT SDN BHD"]) == (
        "LIAN CHI PU TIAN VEGETARIAN RESTAURANT SDN BHD")
    assert merchant(["MIZU MENTAI SDN. BHD."]) == "MIZU MENTAI SDN. BHD."


def _receipt() -> tuple[list[WordPrediction], list[int]]:
    rows = [
        [("TAMAN", "ADDRESS"), ("BERKELEY", "ADDRESS"), ("|", "ADDRESS"), ("41150", "ADDRESS")],
        [("DATE", None), ("08/69/2017", "DATE")],
        [("TOTAL", None), ("27,90", "GRAND_TOTAL")],
        [("__ZHENG", "MERCHANT_NAME"), ("HU$", "MERCHANT_NAME"), ("SON", "MERCHANT_NAME"),
         ("BHD", "MERCHANT_NAME"), ("88", "MERCHANT_NAME")],
    ]
    words, lines = [], []
    for line, row in enumerate(rows):
        for text, label in row:
            words.append(_word(len(words), text, label, 0.9))
            lines.append(line)
    return words, lines


@pytest.mark.parametrize(
    ("switch", "field", "repaired", "raw"),
    [
        ("drop_inner_debris", "address", "TAMAN BERKELEY 41150", "TAMAN BERKELEY | 41150"),
        ("repair_dates", "date", "08/09/2017", "08/69/2017"),
        ("decimal_point", "total", "27.90", "27,90"),
        ("letter_confusions", "merchant", "ZHENG HUS SDN BHD", "ZHENG HU$ SDN BHD"),
        ("company_suffix", "merchant", "ZHENG HUS SDN BHD", "ZHENG HUS SON BHD"),
        ("strip_glued_debris", "merchant", "ZHENG HUS SDN BHD", "__ZHENG HUS SDN BHD"),
        ("ends_at_legal_suffix", "merchant", "ZHENG HUS SDN BHD", "ZHENG HUS SDN BHD 88"),
    ],
)
def test_each_repair_is_a_switch(switch, field, repaired, raw):
    words, lines = _receipt()
    assert extract_fields(words, line_ids=lines)[field].text == repaired
    off = FieldCleanup(**{switch: False})
    assert extract_fields(words, line_ids=lines, cleanup=off)[field].text == raw
    none = extract_fields(words, line_ids=lines, cleanup=FieldCleanup.off())[field].text
    # Four repairs act on the merchant: with all off it reads as the model's words do.
    assert none == (raw if field != "merchant" else "__ZHENG HU$ SON BHD 88")


def test_repaired_fields_carry_their_values_and_words():
    words, lines = _receipt()
    fields = extract_fields(words, line_ids=lines)
    assert fields["date"].value == "2017-09-08"
    assert fields["date"].word_indices == (5,)
    assert fields["total"].value == pytest.approx(27.9)
    assert fields["address"].word_indices == (0, 1, 3)
    assert fields["merchant"].value == fields["merchant"].text == "ZHENG HUS SDN BHD"
    raw = extract_fields(words, line_ids=lines, cleanup=FieldCleanup(repair_dates=False))
    assert raw["date"].value is None


def test_off_turns_every_switch_off():
    off = FieldCleanup.off()
    switches = [f.name for f in dataclasses.fields(FieldCleanup) if f.default is True]
    assert {"drop_inner_debris", "repair_dates", "decimal_point", "letter_confusions",
            "company_suffix", "registration_number", "strip_glued_debris", "trim_edges",
            "rejoin_amounts", "date_alone", "sole_date", "cash_rounding",
            "ends_at_legal_suffix", "address_ends_before_contact",
            "legal_name_line"} == set(switches)
    assert not any(getattr(off, name) for name in switches)
    assert off.min_edge_confidence == FieldCleanup().min_edge_confidence


def test_a_date_no_word_was_labelled_for_is_the_one_date_printed():
    words = [_word(0, "INVOICE", None, 0.9), _word(1, "DATE:09/02/17", None, 0.9),
             _word(2, "TOTAL", None, 0.9), _word(3, "9.00", "GRAND_TOTAL", 0.9)]
    fields = extract_fields(words, line_ids=[1, 1, 2, 2])
    assert (fields["date"].text, fields["date"].value) == ("09/02/17", "2017-02-09")
    assert fields["date"].word_indices == (1,) and fields["date"].confidence == 0.0
    assert "date" not in extract_fields(words, line_ids=[1, 1, 2, 2],
                                        cleanup=FieldCleanup(sole_date=False))
    # Fields that mirror the labels (the review page: no fallback) get no date either.
    assert "date" not in extract_fields(words, line_ids=[1, 1, 2, 2],
                                        fallback_min_probability=None)
    # The same date printed twice is still one date; two different dates are none.
    again = [*words, _word(4, "09/02/2017", None, 0.9)]
    assert extract_fields(again, line_ids=[1, 1, 2, 2, 3])["date"].text == "09/02/17"
    other = [*words, _word(4, "10/02/17", None, 0.9)]
    assert "date" not in extract_fields(other, line_ids=[1, 1, 2, 2, 3])
    # A labelled date is never replaced.
    labelled = [*words, _word(4, "10/02/17", "DATE", 0.9)]
    assert extract_fields(labelled, line_ids=[1, 1, 2, 2, 3])["date"].text == "10/02/17"


def test_a_date_read_that_is_no_date_gives_way_to_the_one_date_printed():
    words = [_word(0, "TEL", None, 0.9), _word(1, "03-4043", "DATE", 0.9),
             _word(2, "16-04-2018", None, 0.9)]
    fields = extract_fields(words, line_ids=[1, 1, 2])
    assert (fields["date"].text, fields["date"].value) == ("16-04-2018", "2018-04-16")
    alone = extract_fields(words[:2], line_ids=[1, 1])  # no date printed: the read stays
    assert (alone["date"].text, alone["date"].value) == ("03-4043", None)


@pytest.mark.parametrize(
    ("amounts", "picked", "total"),
    [
        (["71.02", "ROUNDING", "-0.02", "71.00"], "71.02", "71.00"),  # 2 cents down
        (["13.58", "13.60"], "13.58", "13.60"),  # 2 cents up
        (["31.47", "RM31.45"], "31.47", "RM31.45"),  # the printed word, currency and all
        (["12.98", "10.00", "2.00"], "12.98", "12.98"),  # no rounded total printed
        (["26.82", "26.80"], "26.80", "26.80"),  # on the grid already: never moved
        (["26.83", "26.80"], "26.83", "26.83"),  # 3 cents: not a rounding
    ],
)
def test_a_total_off_the_5_cent_grid_is_the_cash_rounded_total_printed(amounts, picked, total):
    words = [_word(n, text, "GRAND_TOTAL" if text == picked else None, 0.9)
             for n, text in enumerate(amounts)]
    fields = extract_fields(words, line_ids=list(range(len(words))), fallback_min_probability=None)
    assert fields["total"].text == total
    raw = extract_fields(words, line_ids=list(range(len(words))), fallback_min_probability=None,
                         cleanup=FieldCleanup(cash_rounding=False))
    assert raw["total"].text == picked


def test_the_sole_printed_date_goes_through_the_repairs_of_any_date():
    # ":26/03/18" parses as it is; read as the sole date it is cut like a labelled date is.
    words = [_word(0, "DATE", None, 0.9), _word(1, ":26/03/18", None, 0.9)]
    fields = extract_fields(words, line_ids=[1, 1])
    assert (fields["date"].text, fields["date"].value) == ("26/03/18", "2018-03-26")
    kept = extract_fields(words, line_ids=[1, 1], cleanup=FieldCleanup(date_alone=False))
    assert kept["date"].text == ":26/03/18"


def test_name_and_address_rules_read_whitespace_runs_as_one_space():
    # OCR text is hostile: a run of 5 000 spaces once made the registration search cubic.
    # Whitespace runs count as one space, so such a text is read like the plain one.
    spaces = " " * 5000
    assert registration_number(f"ACME SDN BHD{spaces}(123456-K)") == "ACME SDN BHD"
    assert registration_number(f"ACME{spaces}") == f"ACME{spaces}"  # nothing cut: as given
    assert ends_before_contact(f"JALAN 1{spaces}TEL\t\n03-41318972") == "JALAN 1"
    assert ends_at_legal_suffix(f"ACME SDN BHD{spaces}") == f"ACME SDN BHD{spaces}"
