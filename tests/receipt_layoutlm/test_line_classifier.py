"""Issue 18 item 4: the line classifier for the company block — its line features, the fit on
labelled receipts, choosing whole lines at extraction, and the JSON it is stored as."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from receipt_rows import receipt_from_rows, train_tiny

from receipt_layoutlm.bundle_format import LINE_CLASSIFIER_FILE
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import WordPrediction
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.fields import (
    LineClassifier,
    LineModel,
    extract_fields,
    load_line_classifier,
)
from receipt_layoutlm.fields._words import normalise_words
from receipt_layoutlm.fields.line_features import feature_names, line_features, receipt_lines

LABEL = "MERCHANT_NAME"
PEOPLE = ["TAN WOON YANN", "LIM AH KOW", "SITI BINTI ALI", "WONG MEI LING"]
SHOPS = ["KEDAI MAJU", "UNIHAKKA INTERNATIONAL", "GOLDEN SCOOP", "BOOK TA .K", "SYARIKAT GIN"]


def _pred(index: int, text: str, p: float) -> WordPrediction:
    label = LABEL if p >= 0.5 else None
    tag = "O" if label is None else f"I-{label}"
    return WordPrediction(index, text, tag, label, max(p, 1 - p), {LABEL: p})


def _receipt(rng: random.Random) -> tuple[list[WordPrediction], list[int], list[str | None], str]:
    """A person's name line, the shop's name with its suffix, a registration number, an
    address and a total. The word model is as sure of the name above as of the shop (the
    mistake the photos show); only the lines' patterns and order tell them apart."""
    shop = f"{rng.choice(SHOPS)} {rng.choice(['SDN BHD', 'ENTERPRISE', 'TRADING'])}"
    lines: list[tuple[str, float, bool]] = []
    if rng.random() < 0.7:
        lines.append((rng.choice(PEOPLE), rng.uniform(0.5, 0.9), False))
    lines.append((shop, rng.uniform(0.5, 0.9), True))
    if rng.random() < 0.7:
        lines.append((f"({rng.randint(10000, 999999)}-{rng.choice('AHKUVXW')})",
                      rng.uniform(0.4, 0.8), False))
    lines += [("NO 5, JALAN BESAR", rng.uniform(0.0, 0.3), False),
              ("TOTAL 12.30", 0.0, False)]
    words, line_ids, gold = [], [], []
    for line_no, (text, p, in_field) in enumerate(lines):
        for token in text.split():
            words.append(_pred(len(words), token, p))
            line_ids.append(line_no)
            gold.append(LABEL if in_field else None)
    return words, line_ids, gold, shop


def _fit(n: int, seed: int) -> LineClassifier:
    from receipt_layoutlm.training.line_classifier_fit import (
        fit_line_classifier,
        receipt_line_examples,
    )

    rng = random.Random(seed)
    examples = []
    for _ in range(n):
        words, line_ids, gold, _ = _receipt(rng)
        examples += receipt_line_examples(words, line_ids, None, gold)
    classifier = fit_line_classifier(examples)
    assert classifier is not None and set(classifier.models) == {"merchant"}
    return classifier


def test_line_features_read_patterns_position_and_neighbours() -> None:
    texts = [("TAN WOON YANN", 0.8), ("KEDAI MAJU SDN BHD", 0.7), ("(123456-A)", 0.6),
             ("TEL: 03-12345678", 0.0)]
    preds, line_ids = [], []
    for line_no, (text, p) in enumerate(texts):
        for token in text.split():
            preds.append(_pred(len(preds), token, p))
            line_ids.append(line_no)
    words = normalise_words(preds, line_ids)
    lines = receipt_lines(words)
    assert [len(line) for line in lines] == [3, 4, 1, 2]
    rows = [dict(zip(feature_names(), row, strict=True))
            for row in line_features(words, lines, (LABEL,))[1]]
    assert [r["company_suffix"] for r in rows] == [0.0, 1.0, 0.0, 0.0]
    assert [r["registration"] for r in rows] == [0.0, 0.0, 1.0, 0.0]
    assert rows[3]["phone"] == 1.0 and rows[3]["digits"] > 0.5
    assert [r["rank"] for r in rows] == [0.0, 1.0, 2.0, 3.0] and rows[0]["first"] == 1.0
    assert rows[0]["p_mean"] == pytest.approx(0.8) and rows[0]["p_gap_best"] == 0.0
    assert rows[0]["below_company_suffix"] == 1.0 and rows[0]["above_exists"] == 0.0
    assert rows[2]["above_company_suffix"] == 1.0 and rows[3]["below_exists"] == 0.0
    # A word without a line: no lines, the classifier stands aside.
    assert receipt_lines(normalise_words([("A", None, 1.0)], None)) == []


def test_the_fitted_classifier_drops_the_lines_the_word_model_keeps() -> None:
    classifier = _fit(80, seed=1)
    rng = random.Random(99)
    held_out = [_receipt(rng) for _ in range(40)]
    right_with = right_without = 0
    for words, line_ids, _, shop in held_out:
        with_it = extract_fields(words, line_ids=line_ids, line_classifier=classifier)
        without = extract_fields(words, line_ids=line_ids)
        right_with += with_it["merchant"].text == shop
        right_without += without["merchant"].text == shop
    assert right_with >= 36, right_with
    assert right_without < right_with


def test_no_line_in_the_field_reads_the_field_as_before() -> None:
    names = feature_names()
    never = LineClassifier(tuple(names), {"merchant": LineModel(
        (0.0,) * len(names), -10.0, (0.0,) * len(names), (1.0,) * len(names))})
    words, line_ids, _, _ = _receipt(random.Random(4))
    assert extract_fields(words, line_ids=line_ids, line_classifier=never) == extract_fields(
        words, line_ids=line_ids)
    # Only the fields it has a model for: the address is read by the word model's rules.
    fields = extract_fields(words, line_ids=line_ids, line_classifier=_fit(20, seed=3))
    assert fields.get("address") == extract_fields(words, line_ids=line_ids).get("address")


def test_classifier_round_trip_and_refusals(tmp_path: Path) -> None:
    classifier = _fit(30, seed=2)
    assert load_line_classifier(tmp_path) is None  # a model without one: fields as before
    classifier.save(tmp_path)
    loaded = load_line_classifier(tmp_path)
    assert loaded == classifier and loaded.fitted_on["merchant"]["receipts"] == 30
    path = tmp_path / LINE_CLASSIFIER_FILE
    data = json.loads(path.read_text())
    for broken, message in (
        ({**data, "features": data["features"][:-1]}, "other features"),
        ({**data, "version": 99}, "version 99"),
        ({**data, "models": {"merchant": {"weights": [1.0]}}}, "not a line classifier"),
    ):
        path.write_text(json.dumps(broken))
        with pytest.raises(CheckpointError, match=message):
            load_line_classifier(tmp_path)
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable line classifier"):
        load_line_classifier(tmp_path)


def _labelled_receipt(key: str, rng: random.Random) -> ReceiptDocument:
    rows = [
        [(rng.choice(PEOPLE).split()[0], None)],
        [("KEDAI", LABEL), ("MAJU", LABEL), ("SDN", LABEL), ("BHD", LABEL)],
        [("NO", "ADDRESS_LINE"), ("5,", "ADDRESS_LINE"), ("JALAN", "ADDRESS_LINE")],
        [("TOTAL", None), (f"{rng.uniform(5, 90):.2f}", "GRAND_TOTAL")],
    ]
    return receipt_from_rows(key, rows, {"company": "KEDAI MAJU SDN BHD"})


@pytest.mark.slow
def test_fit_fields_fits_onto_a_checkpoint_and_the_bundle_carries_it(tokenizer, tmp_path) -> None:
    """``layoutlm-cli fit-fields`` → line_classifier.json in the checkpoint → the export copies
    it and lists it in the manifest → the ONNX runtime applies the same classifier."""
    pytest.importorskip("torch")
    from tiny_layoutlm import tiny_layoutlm

    from receipt_layoutlm.bundles import verify_bundle
    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.cli import main
    from receipt_layoutlm.encoding import EncodingConfig, label_list
    from receipt_layoutlm.export import ExportOptions, export_bundle
    from receipt_layoutlm.importers import write_jsonl
    from receipt_layoutlm.prediction import predict_document
    from receipt_layoutlm.runtime import load_runtime

    labels = label_list(["ADDRESS_LINE", "GRAND_TOTAL", LABEL])
    checkpoint = tmp_path / "best"
    save_checkpoint(checkpoint, tiny_layoutlm(len(labels), len(tokenizer), seed=3, layers=1),
                    tokenizer, labels, EncodingConfig(max_seq_length=32, stride=8))
    rng = random.Random(7)
    docs = [_labelled_receipt(f"t:{i}", rng) for i in range(6)]
    write_jsonl(docs, tmp_path / "d.jsonl")
    assert load_runtime("torch", checkpoint).line_classifier is None

    assert main(["fit-fields", str(checkpoint), "--dataset", str(tmp_path / "d.jsonl")]) == 0
    fitted = load_line_classifier(checkpoint)
    assert fitted is not None and set(fitted.models) == {"merchant", "address"}
    assert fitted.fitted_on["merchant"]["receipts"] == 6
    torch_runtime = load_runtime("torch", checkpoint)
    assert torch_runtime.line_classifier == fitted

    result = export_bundle(
        ExportOptions(checkpoint=str(checkpoint), output=str(tmp_path / "bundle"),
                      formats=("onnx",), seq_length=32, parity_receipts=2,
                      weight_threshold=256, make_zip=False),
        documents=docs,
    )
    assert LINE_CLASSIFIER_FILE in result.manifest["files"]
    assert verify_bundle(tmp_path / "bundle").ok
    onnx = load_runtime("onnx", tmp_path / "bundle")
    assert onnx.line_classifier == fitted
    # The tiny model's words are noise; the classifier's lines decide, the same in both.
    assert predict_document(onnx, docs[0]).fields["merchant"].text == predict_document(
        torch_runtime, docs[0]).fields["merchant"].text


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "fitted_on"), [("fit", 3), ("fit-dev", 2)])
def test_train_fits_the_line_classifier_on_the_chosen_side_only(
    tmp_path: Path, mode: str, fitted_on: int
) -> None:
    """``--line-classifier fit`` reads the training receipts, ``fit-dev`` the dev ones."""
    pytest.importorskip("torch")
    from receipt_layoutlm.runtime import load_runtime

    rng = random.Random(9)
    docs = [_labelled_receipt(f"t:{i}", rng) for i in range(6)]
    output_dir = train_tiny(tmp_path, docs, train_keys=[d.key for d in docs[:3]],
                            dev_keys=[d.key for d in docs[3:5]], job_name="layoutlm-lines",
                            line_classifier=mode)
    best = output_dir / "best"
    classifier = load_line_classifier(best)
    assert classifier is not None and classifier.fitted_on["merchant"]["receipts"] == fitted_on
    run = json.loads((output_dir / "run.json").read_text())
    assert run["line_classifier"] == json.loads(json.dumps(dict(classifier.fitted_on)))
    assert load_runtime("torch", best).line_classifier == classifier


@pytest.mark.parametrize("name", ["total_picker.json", "line_classifier.json",
                                  "known_values.json"])
def test_every_fitted_file_is_read_one_way(tmp_path: Path, name: str) -> None:
    from receipt_layoutlm.bundle_format import read_fitted_file

    assert read_fitted_file(tmp_path, name, "fitted model") is None
    (tmp_path / name).write_text('{"version": 1}')
    assert read_fitted_file(tmp_path, name, "fitted model") == {"version": 1}
    with pytest.raises(CheckpointError, match=r"fitted model file of 14 bytes refused"):
        read_fitted_file(tmp_path, name, "fitted model", max_bytes=10)
    (tmp_path / name).write_text("{oops")
    with pytest.raises(CheckpointError, match=rf"{name}: unreadable fitted model \(not valid JSON"):
        read_fitted_file(tmp_path, name, "fitted model")


def test_the_fitted_field_files_are_loaded_together(tmp_path: Path) -> None:
    from receipt_layoutlm.fields import FittedFields, load_fitted_fields

    assert load_fitted_fields(tmp_path) == FittedFields()  # a model from before the files
    assert load_fitted_fields(tmp_path / "no-such-dir") == FittedFields()
    classifier = _fit(60, 0)
    classifier.save(tmp_path)
    fitted = load_fitted_fields(tmp_path)
    assert fitted.line_classifier == classifier
    assert fitted.total_picker is None and fitted.known_values is None
