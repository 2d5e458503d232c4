"""Issue 18's field repairs for OCR'd words (``fields.ocr_cleanup``) through ``extract_fields``,
and the two task-3 conventions and WildReceipt field matching they are scored with."""

from __future__ import annotations

import pytest

from receipt_layoutlm.encoding import WordPrediction
from receipt_layoutlm.evaluation import sroie_task3_f1
from receipt_layoutlm.evaluation.field_match import (
    field_match_scores,
    field_matches,
    reachable,
    segment_truth,
)
from receipt_layoutlm.evaluation.sroie import occurs_in_text, ocr_mismatch_pairs
from receipt_layoutlm.fields import FieldCleanup, extract_fields
from receipt_layoutlm.fields.ocr_cleanup import is_debris


def _word(i: int, text: str, label: str | None, p: float) -> WordPrediction:
    tag = "O" if label is None else f"I-{label}"
    probabilities = {} if label is None else {label: p}
    return WordPrediction(i, text, tag, label, p, probabilities)


def _company_line() -> tuple[list[WordPrediction], list[int], list[float]]:
    texts = ["|", "UNIHAKKA", "INTERNATIONAL", "SDN", "BHD", "”", "Ee"]
    words = [_word(i, t, "MERCHANT_NAME", 0.9) for i, t in enumerate(texts)]
    words.append(_word(7, "TOTAL", None, 0.9))
    ocr = [0.9, 0.95, 0.93, 0.9, 0.9, 0.6, 0.12, 0.9]
    return words, [1] * 7 + [2], ocr


def test_debris_at_the_edges_of_a_text_field_is_trimmed():
    words, lines, ocr = _company_line()
    fields = extract_fields(words, line_ids=lines, ocr_confidences=ocr)
    merchant = fields["merchant"]
    assert merchant.text == "UNIHAKKA INTERNATIONAL SDN BHD"
    assert merchant.word_indices == (1, 2, 3, 4)
    # Off: the words as the model labelled them, debris included.
    raw = extract_fields(words, line_ids=lines, ocr_confidences=ocr, cleanup=FieldCleanup.off())
    assert raw["merchant"].text == "| UNIHAKKA INTERNATIONAL SDN BHD ” Ee"


def test_inner_punctuation_stays_and_transcripts_are_untouched():
    texts = ["NO.53", "55,57", "&", "59,", "JALAN", "SAGU", "-"]
    words = [_word(i, t, "ADDRESS", 0.9) for i, t in enumerate(texts)]
    fields = extract_fields(words, line_ids=[1] * 7)  # no OCR confidences: transcripts (1.0)
    assert fields["address"].text == "NO.53 55,57 & 59, JALAN SAGU"
    only_debris = [_word(0, "|", "ADDRESS", 0.9), _word(1, ":", "ADDRESS", 0.9)]
    assert extract_fields(only_debris, line_ids=[1, 1])["address"].text == "| :"


@pytest.mark.parametrize(
    ("text", "confidence", "debris"),
    [("|", 0.9, True), ("——", 0.9, True), ("a.", 0.9, False), ("Ee", 0.12, True),
     ("Ee", 0.5, False), ("&", 1.0, True), ("ÉTÉ", 0.9, False), ("_", 0.9, True)],
)
def test_is_debris(text, confidence, debris):
    assert is_debris(text, confidence, FieldCleanup().min_edge_confidence) is debris


def test_split_amounts_are_rejoined_before_the_total_is_read():
    words = [
        _word(0, "TOTAL", None, 0.9),
        _word(1, "7.", "GRAND_TOTAL", 0.4),
        _word(2, "30", "GRAND_TOTAL", 0.8),
        _word(3, "CASH", None, 0.9),
        _word(4, "10", "GRAND_TOTAL", 0.2),
        _word(5, ".00", None, 0.9),
    ]
    lines = [1, 1, 1, 2, 2, 2]
    fields = extract_fields(words, line_ids=lines)
    assert fields["total"].text == "7.30"
    assert fields["total"].value == pytest.approx(7.30)
    assert fields["total"].word_indices == (1, 2)
    raw = extract_fields(words, line_ids=lines, cleanup=FieldCleanup.off())
    assert raw["total"].text != "7.30"


def test_the_pickers_candidates_are_the_glued_amounts_it_will_be_shown():
    from receipt_layoutlm.fields import candidates_for_total

    words = [_word(0, "TOTAL", None, 0.9), _word(1, "7.", "GRAND_TOTAL", 0.4),
             _word(2, "30", "GRAND_TOTAL", 0.8), _word(3, "CASH", None, 0.9),
             _word(4, "10.00", None, 0.9)]
    lines = [1, 1, 1, 2, 2]
    fitted_on = [c.word.text for c in candidates_for_total(words, line_ids=lines)]
    assert fitted_on == ["7.30", "10.00"]  # a picker fitted on OCR'd receipts sees the join
    raw = candidates_for_total(words, line_ids=lines, cleanup=FieldCleanup.off())
    assert [c.word.text for c in raw] == ["30", "10.00"]  # the truth was no candidate


def test_amount_halves_on_different_lines_are_not_joined():
    words = [_word(0, "12.", "GRAND_TOTAL", 0.9), _word(1, "30", "GRAND_TOTAL", 0.9)]
    fields = extract_fields(words, line_ids=[1, 2])
    assert fields["total"].text in {"12.", "30"}  # a line break is no split amount


def test_ocr_confidences_must_align_with_words():
    words, lines, _ = _company_line()
    with pytest.raises(ValueError, match="OCR confidences"):
        extract_fields(words, line_ids=lines, ocr_confidences=[0.9])


# --- task-3 conventions -------------------------------------------------------------------

TRUTH = {
    "r1": {"company": "GERBANG ALAF SDN BHD", "total": "9.00"},
    "r2": {"company": "SHOP", "total": "5.00"},
}
PRED = {
    "r1": {"company": "Gerbang Alaf Sdn Bhd", "total": "9.00"},
    "r2": {"company": "SHOP", "total": "5.80"},
}


def test_case_insensitive_comparison_is_an_option():
    keys = ["company", "total"]
    assert sroie_task3_f1(PRED, TRUTH, keys=keys).overall.correct == 2
    assert sroie_task3_f1(PRED, TRUTH, keys=keys, case_sensitive=False).overall.correct == 3


def test_excluding_ocr_mismatch_drops_pairs_whose_truth_is_not_in_the_text():
    texts = {"r1": "Gerbang Alaf Sdn Bhd TOTAL RM9.00", "r2": "SH0P TOTAL 5.80"}
    dropped = ocr_mismatch_pairs(TRUTH, texts, keys=["company", "total"])
    # case kept: r1's upper-case company is not in its mixed-case text; r2's OCR misread both.
    assert dropped == {("r1", "company"), ("r2", "company"), ("r2", "total")}
    result = sroie_task3_f1(PRED, TRUTH, keys=["company", "total"], exclude=dropped)
    assert (result.overall.correct, result.overall.predicted, result.overall.expected) == (1, 1, 1)
    assert occurs_in_text("gerbang  alaf", texts["r1"], case_sensitive=False)
    assert not occurs_in_text("", texts["r1"])


# --- WildReceipt field matching -----------------------------------------------------------


class _W:
    def __init__(self, text: str, segment_id: int, segment_class: str) -> None:
        self.text, self.segment_id, self.segment_class = text, segment_id, segment_class


def test_wildreceipt_field_truth_and_matching():
    words = [_W("WENDY'S", 1, "Store_name_value"), _W("REG3", 2, "Store_name_value"),
             _W("$12.50", 3, "Total_value"), _W("07/22/2014", 4, "Date_value"),
             _W("TOTAL", 5, "Total_key")]
    truth = segment_truth(words)
    assert truth == {"merchant": ["WENDY'S", "REG3"], "total": ["$12.50"],
                     "date": ["07/22/2014"]}
    assert field_matches("merchant", "Wendy's", truth["merchant"])
    assert field_matches("merchant", "WENDY'S REG3", truth["merchant"])
    assert field_matches("total", "12.50", truth["total"])  # parsed values agree
    assert not field_matches("total", "12.05", truth["total"])
    assert field_matches("date", "07/22/2014", truth["date"])
    scores = field_match_scores({"r": {"merchant": "wendys", "total": "12.50", "tax": "1.00"}},
                                {"r": truth})
    assert (scores["all"].correct, scores["all"].predicted, scores["all"].expected) == (1, 3, 3)
    assert reachable(truth["merchant"], "wendy's reg 3 total")
