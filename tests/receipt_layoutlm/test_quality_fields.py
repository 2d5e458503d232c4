"""Issue 11's field extraction and measurement pieces on synthetic words and probabilities:
the mismatch classifier, the fold splitter, line-level decoding and the learned total picker."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from receipt_layoutlm.data import kfold
from receipt_layoutlm.encoding import WordPrediction, printed_rows
from receipt_layoutlm.errors import CheckpointError, DatasetError
from receipt_layoutlm.evaluation import Mismatch
from receipt_layoutlm.evaluation.mismatches import (
    MISMATCH_KINDS,
    classify_mismatch,
    kind_counts,
    mismatch_markdown,
    mismatch_rows,
    worst,
    write_mismatches,
)
from receipt_layoutlm.fields import (
    PICKER_FILE,
    TotalPicker,
    candidates_for_total,
    extract_fields,
    feature_names,
    line_block,
    load_total_picker,
)

# --- mismatch classifier ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicted", "expected", "kind"),
    [
        ("", "9.00", "missing"),
        ("9.00", "", "unexpected"),
        ("NO.2&4, JALAN", "NO.2&4,JALAN", "whitespace_only"),
        ("NO 5, JALAN SAGU, JOHOR TEL: 07-1234", "NO 5, JALAN SAGU, JOHOR", "extra_words"),
        ("NO 5, JALAN SAGU", "NO 5, JALAN SAGU, 81100 JOHOR", "missing_words"),
        ("10.00", "9.00", "wrong_value"),
        ("NO 5,JALAN SAGU, 81100 JOHOR, MALAYSIA", "NO 5, JALAN SAGU, 81100 JOHOR", "extra_words"),
    ],
)
def test_mismatch_kinds(predicted: str, expected: str, kind: str) -> None:
    assert classify_mismatch(predicted, expected) == kind


def test_an_exact_match_is_not_a_mismatch() -> None:
    with pytest.raises(ValueError, match="not a mismatch"):
        classify_mismatch("9.00 ", " 9.00")


def test_mismatch_rows_counts_worst_and_files(tmp_path: Path) -> None:
    mismatches = [
        Mismatch("r1", "total", "10.00", "9.00"),
        Mismatch("r1", "address", "A B", "AB"),
        Mismatch("r2", "total", "", "5.00"),
        Mismatch("r2", "company", "SHOP SDN BHD (123-X)", "SHOP SDN BHD"),
    ]
    rows = mismatch_rows(mismatches)
    assert [r["kind"] for r in rows] == ["wrong_value", "whitespace_only", "missing", "extra_words"]
    counts = kind_counts(rows)
    assert set(counts["all"]) == set(MISMATCH_KINDS)
    assert counts["total"]["wrong_value"] == 1 and counts["total"]["missing"] == 1
    assert counts["all"]["whitespace_only"] == 1 and sum(counts["all"].values()) == 4
    assert [r["kind"] for r in worst(rows, 2)] == ["wrong_value", "missing"]
    markdown = mismatch_markdown(rows, n_worst=2)
    assert "4 mismatches" in markdown and "| r1 | total | wrong_value | 10.00 | 9.00 |" in markdown
    assert "SHOP SDN BHD (123-X)" not in markdown  # only the two worst are listed
    path = write_mismatches(tmp_path / "m" / "mismatches.jsonl", rows)
    assert [json.loads(line) for line in path.read_text().splitlines()] == rows


# --- fold splitter ------------------------------------------------------------------------


def test_folds_partition_the_receipts_and_ignore_input_order() -> None:
    keys = [f"r{i:03d}" for i in range(103)]
    folds = kfold(keys, 5, seed=7)
    held = [set(f.held_out) for f in folds]
    assert sorted(len(h) for h in held) == [20, 20, 21, 21, 21]
    assert set().union(*held) == set(keys) and sum(map(len, held)) == len(keys)
    for fold in folds:
        assert set(fold.train) | set(fold.held_out) == set(keys)
        assert not set(fold.train) & set(fold.held_out)
    assert kfold(list(reversed(keys)) + keys[:3], 5, seed=7) == folds
    assert kfold(keys, 5, seed=8) != folds


def test_fold_split_file_draws_inner_dev_from_the_training_side(tmp_path: Path) -> None:
    fold = kfold([f"r{i}" for i in range(30)], 3, seed=1)[2]
    split = json.loads(fold.write_split(tmp_path / "split.json", inner_dev=4, seed=1).read_text())
    assert len(split["dev"]) == 4 and set(split["dev"]) <= set(fold.train)
    assert set(split["train"]) | set(split["dev"]) == set(fold.train)
    assert not (set(split["train"]) | set(split["dev"])) & set(fold.held_out)
    assert fold.split_json(4, 1) == split and fold.split_json(4, 2) != split


@pytest.mark.parametrize(("n", "k", "message"), [(10, 1, "at least 2"), (3, 4, "cannot fill")])
def test_fold_errors(n: int, k: int, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        kfold([f"r{i}" for i in range(n)], k)


# --- line-level decoding --------------------------------------------------------------------


def _pred(i: int, text: str, label: str | None, probs: dict[str, float]) -> WordPrediction:
    tag = "O" if label is None else f"I-{label}"
    conf = probs.get(label, 1 - sum(probs.values())) if label else 1 - sum(probs.values())
    return WordPrediction(i, text, tag, label, conf, probs)


def _lines(spec: list[list[tuple[str, float]]], label: str = "ADDRESS_LINE"):
    """Words from (text, p(label)) per line; argmax label only where p > 0.5."""
    words, line_ids = [], []
    for line_no, line in enumerate(spec):
        for text, p in line:
            words.append(_pred(len(words), text, label if p > 0.5 else None, {label: p}))
            line_ids.append(line_no)
    return words, line_ids


def test_line_block_takes_whole_lines_and_trims_the_ends() -> None:
    words, line_ids = _lines(
        [
            [("SHOP", 0.1), ("SDN", 0.1)],
            [("(123-X)", 0.2), ("NO", 0.9), ("5,", 0.8)],
            [("JALAN", 0.9), ("SAGU,", 0.3), ("18", 0.9)],  # a wavering word mid-address
            [("81100", 0.7), ("JOHOR", 0.9), ("TEL:", 0.1), ("07-1234", 0.2)],
            [("TOTAL", 0.05)],
            [("STRAY", 0.95)],  # one confident word alone is a weaker block
        ]
    )
    fields = extract_fields(words, line_ids=line_ids, multiline="lines")
    assert fields["address"].text == "NO 5, JALAN SAGU, 18 81100 JOHOR"
    runs = extract_fields(words, line_ids=line_ids, multiline="runs")
    assert runs["address"].text != fields["address"].text  # word-level runs break at SAGU,


def test_line_block_needs_a_positive_block_and_probabilities() -> None:
    words, line_ids = _lines([[("A", 0.2), ("B", 0.4)], [("C", 0.3)]])
    assert extract_fields(words, line_ids=line_ids, multiline="lines").get("address") is None
    plain = [("NO", "ADDRESS_LINE", 0.9), ("5", "ADDRESS_LINE", 0.8)]
    # Tuples carry no probabilities: the run rules still apply.
    assert extract_fields(plain, line_ids=[0, 0], multiline="lines")["address"].text == "NO 5"
    assert line_block([], ["ADDRESS_LINE"]) is None


# --- total picker -------------------------------------------------------------------------


def _amount_receipt(rng: random.Random) -> tuple[list[WordPrediction], list[int], str]:
    """Items, subtotal, maybe tax/rounding, TOTAL, maybe CASH and CHANGE; the model's
    probabilities are noise, so only the layout and arithmetic tell the total apart."""
    rows: list[list[str]] = [["SHOP"]]
    prices = [round(rng.uniform(1, 30), 2) for _ in range(rng.randint(2, 6))]
    rows += [[f"ITEM{n}", f"{p:.2f}"] for n, p in enumerate(prices)]
    subtotal = round(sum(prices), 2)
    rows.append(["SUBTOTAL", f"{subtotal:.2f}"])
    tax = round(subtotal * 0.06, 2) if rng.random() < 0.5 else 0.0
    if tax:
        rows.append(["GST", "6%", f"{tax:.2f}"])
    total = round(subtotal + tax, 2)
    rows.append(["TOTAL", f"{total:.2f}"])
    if rng.random() < 0.7:
        cash = float(rng.choice([50, 100]) if total < 50 else 200)
        rows += [["CASH", f"{cash:.2f}"], ["CHANGE", f"{cash - total:.2f}"]]
    words, row_ids = [], []
    for row_no, row in enumerate(rows):
        for text in row:
            p = rng.uniform(0.0, 0.3)
            words.append(_pred(len(words), text, None, {"GRAND_TOTAL": p}))
            row_ids.append(row_no)
    return words, row_ids, f"{total:.2f}"


def _fit(n: int, seed: int) -> TotalPicker:
    from receipt_layoutlm.training.total_picker_fit import fit_total_picker, receipt_example

    rng = random.Random(seed)
    examples = [receipt_example(w, r, r, t) for w, r, t in (_amount_receipt(rng) for _ in range(n))]
    picker = fit_total_picker(examples)
    assert picker is not None
    return picker


def test_candidates_carry_keyword_and_arithmetic_features() -> None:
    words, rows, truth = _amount_receipt(random.Random(3))
    candidates = candidates_for_total(words, line_ids=rows, rows=rows)
    names = feature_names()
    by_text = {c.word.text: dict(zip(names, c.features, strict=True)) for c in candidates}
    assert by_text[truth]["row_total"] == 1.0 and by_text[truth]["row_subtotal"] == 0.0
    assert by_text[truth]["equals_subtotal_tax_rounding"] == 1.0
    if "CASH" in [w.text for w in words]:
        assert by_text[truth]["equals_cash_minus_change"] == 1.0
    subtotal_text = words[[w.text for w in words].index("SUBTOTAL") + 1].text
    subtotal = by_text[subtotal_text]
    assert subtotal["row_subtotal"] == 1.0 and subtotal["row_total"] == 0.0


def test_the_fitted_picker_finds_totals_the_probabilities_do_not() -> None:
    picker = _fit(60, seed=1)
    rng = random.Random(99)
    held_out = [_amount_receipt(rng) for _ in range(40)]
    picked = [
        extract_fields(w, line_ids=r, rows=r, total_picker=picker)["total"].text == t
        for w, r, t in held_out
    ]
    without = [
        (f := extract_fields(w, line_ids=r).get("total")) is not None and f.text == t
        for w, r, t in held_out
    ]
    assert sum(picked) >= 36, sum(picked)
    assert sum(without) < sum(picked)


def test_picker_round_trip_and_refusals(tmp_path: Path) -> None:
    picker = _fit(20, seed=2)
    assert load_total_picker(tmp_path) is None  # a model without a picker: old behaviour
    picker.save(tmp_path)
    loaded = load_total_picker(tmp_path)
    assert loaded == picker and loaded.fitted_on["receipts"] == 20
    data = json.loads((tmp_path / PICKER_FILE).read_text())
    data["features"] = data["features"][:-1]
    (tmp_path / PICKER_FILE).write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="other features"):
        load_total_picker(tmp_path)
    (tmp_path / PICKER_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_total_picker(tmp_path)


def test_printed_rows_join_boxes_of_one_row_across_ocr_lines() -> None:
    boxes = [(10, 100, 80, 120), (300, 102, 360, 121), (10, 130, 80, 150), (10, 160, 90, 181)]
    assert printed_rows(boxes) == [0, 0, 1, 2]


def test_a_separate_currency_word_joins_the_picked_total_when_the_model_says_so() -> None:
    names = feature_names()
    weights = tuple(8.0 if n == "row_total" else 0.0 for n in names)
    picker = TotalPicker(tuple(names), weights, -4.0, (0.0,) * len(names), (1.0,) * len(names))
    for p_currency, expected in ((0.8, "RM 9.00"), (0.2, "9.00")):
        words = [
            _pred(0, "TOTAL", None, {"GRAND_TOTAL": 0.0}),
            _pred(1, "RM", None, {"GRAND_TOTAL": p_currency}),
            _pred(2, "9.00", None, {"GRAND_TOTAL": 0.3}),
            _pred(3, "CASH", None, {"GRAND_TOTAL": 0.0}),
            _pred(4, "10.00", None, {"GRAND_TOTAL": 0.6}),
        ]
        rows = [0, 0, 0, 1, 1]
        total = extract_fields(words, line_ids=rows, rows=rows, total_picker=picker)["total"]
        assert (total.text, total.value) == (expected, 9.0)


def test_a_date_span_that_does_not_parse_widens_along_its_line() -> None:
    words = [
        ("DATE:", None, 0.9),
        ("25", "DATE", 0.8),
        ("MAR", None, 0.6),
        ("2018", None, 0.7),
        ("10:30", None, 0.9),
        ("NEXT", None, 0.9),
    ]
    fields = extract_fields(words, line_ids=[0, 0, 0, 0, 0, 1])
    assert (fields["date"].text, fields["date"].value) == ("25 MAR 2018", "2018-03-25")
    # Across a line break it does not widen: the span stays, unparsed.
    split = extract_fields(words, line_ids=[0, 0, 1, 1, 1, 1])
    assert (split["date"].text, split["date"].value) == ("25", None)
