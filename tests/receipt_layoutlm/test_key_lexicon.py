"""The key lexicon (``fields.key_lexicon``): printed keys the model left unread, recognised by
their letters before key–value pairing; fitted on training receipts' key labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from word_logits_runtime import WordLogitsRuntime

from receipt_layoutlm.bundle_format import KEY_LEXICON_FILE
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import EncodingConfig, WordPrediction, label_list
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.fields import KeyLexicon, load_fitted_fields, load_key_lexicon
from receipt_layoutlm.fields.key_lexicon import key_letters
from receipt_layoutlm.training.key_lexicon_fit import fit_key_lexicon

NATIVE = label_list(["TIPS_KEY", "TIPS_VALUE", "TAX_KEY", "TAX_VALUE", "TOTAL_KEY",
                     "TOTAL_VALUE", "STORE_NAME_VALUE", "TEL_KEY", "OTHERS", "IGNORE"])
LEXICON = KeyLexicon(keys={"gratuity": "TIPS_KEY", "tip": "TIPS_KEY", "tel": "TEL_KEY"})


def _prediction(position: int, text: str, label: str | None, **probabilities: float):
    return WordPrediction(word_index=position, text=text,
                          tag="O" if label is None else f"B-{label}", label=label,
                          confidence=0.9, label_probabilities=probabilities)


def test_keys_are_compared_by_their_case_folded_letters() -> None:
    assert key_letters("18%Gratuity") == "gratuity"
    assert key_letters("*Tip:") == "tip"
    assert key_letters("Sous-Total") == "soustotal"
    assert key_letters("TVA 20%") == "tva"
    assert key_letters("Straße") == "strasse"
    assert key_letters("12.50") == ""


def test_a_word_the_model_left_outside_every_key_and_value_becomes_the_key() -> None:
    predictions = [_prediction(0, "18%Gratuity", "OTHERS", TIPS_KEY=0.12),
                   _prediction(1, "Tip", None, TIPS_KEY=0.3),
                   _prediction(2, "8.43", "TAX_VALUE")]
    relabelled = LEXICON.relabel(predictions, NATIVE)
    assert [p.label for p in relabelled] == ["TIPS_KEY", "TIPS_KEY", "TAX_VALUE"]
    # A run of lexicon keys is one key (B- then I-); its confidence is the model's own.
    assert [p.tag for p in relabelled[:2]] == ["B-TIPS_KEY", "I-TIPS_KEY"]
    assert relabelled[0].confidence == pytest.approx(0.12)
    assert relabelled[2] is predictions[2]


@pytest.mark.parametrize("label", ["TAX_KEY", "TAX_VALUE", "STORE_NAME_VALUE"])
def test_a_word_the_model_read_as_a_key_or_value_is_left_alone(label: str) -> None:
    predictions = [_prediction(0, "Gratuity", label)]
    assert LEXICON.relabel(predictions, NATIVE)[0] is predictions[0]


def test_only_keys_the_model_can_pair_with_a_value_are_given() -> None:
    # TEL_KEY without TEL_VALUE among the model's labels, and a label set without any pair.
    tel = [_prediction(0, "TEL", "OTHERS")]
    assert LEXICON.relabel(tel, NATIVE)[0] is tel[0]
    core = label_list(["MERCHANT_NAME", "GRAND_TOTAL"])
    tip = [_prediction(0, "Tip", None)]
    assert LEXICON.relabel(tip, core)[0] is tip[0]
    assert KeyLexicon(keys={}).relabel(tip, NATIVE)[0] is tip[0]
    # Plain labels (no BIO) stay plain.
    plain = ["O", "TIPS_KEY", "TIPS_VALUE", "OTHERS"]
    assert LEXICON.relabel(tip, plain)[0].tag == "TIPS_KEY"


def _doc(key: str, *words: tuple[str, str | None]) -> ReceiptDocument:
    return ReceiptDocument(key, 100.0, 100.0, [
        DocWord(text, [[0, n], [9, n], [9, n + 1], [0, n + 1]], label=label)
        for n, (text, label) in enumerate(words)])


def test_fit_keeps_letters_that_mostly_name_one_key_on_two_receipts() -> None:
    docs = [
        _doc("w:1", ("Gratuity:", "TIPS_KEY"), ("5.00", "TIPS_VALUE"), ("Total", "TOTAL_KEY"),
             ("Tip", "TIPS_KEY")),
        _doc("w:2", ("GRATUITY", "TIPS_KEY"), ("Total", "TOTAL_KEY")),
        # The re-render of receipt 1 is the same receipt: "Tip" stays on one receipt.
        _doc("w:1#ocr0", ("Tip", "TIPS_KEY")),
        # "Total" is a product's name twice more: 2 of 4 is no majority.
        _doc("w:3", ("Total", "PROD_ITEM_VALUE"), ("Total", None), ("x", "TAX_KEY")),
    ]
    lexicon = fit_key_lexicon(docs)
    assert lexicon is not None and lexicon.keys == {"gratuity": "TIPS_KEY"}
    assert lexicon.fitted_on["receipts"] == 3
    assert fit_key_lexicon(docs, min_count=1).keys == {"gratuity": "TIPS_KEY",
                                                       "tip": "TIPS_KEY"}
    assert fit_key_lexicon([_doc("s:1", ("TOTAL", "GRAND_TOTAL"))]) is None
    with pytest.raises(ValueError, match="min_count must be at least 1"):
        fit_key_lexicon(docs, min_count=0)


def test_saved_lexicon_loads_back_and_travels_with_the_fitted_fields(tmp_path: Path) -> None:
    assert load_key_lexicon(tmp_path) is None
    LEXICON.save(tmp_path)
    assert load_key_lexicon(tmp_path) == KeyLexicon(keys=LEXICON.keys)
    assert load_fitted_fields(tmp_path).key_lexicon == KeyLexicon(keys=LEXICON.keys)


@pytest.mark.parametrize(("stored", "message"), [
    ({"version": 2, "keys": {}}, r"not a key-lexicon file of version 1 \(version 2\)"),
    ({"version": 1, "keys": []}, r"'keys' must map a key's letters to its label"),
    ({"version": 1, "keys": {"tip": "TIPS_VALUE"}}, r"key 'tip' must name a label ending in "
                                                    r"_KEY, got 'TIPS_VALUE'"),
    ({"version": 1, "keys": {"Tip:": "TIPS_KEY"}}, r"key 'Tip:' is not a printed key's "
                                                   r"case-folded letters"),
    ({"version": 1, "keys": {"t" * 201: "TIPS_KEY"}}, r"key 't{40}' is not a printed key's"),
    ({"version": 1, "keys": {}, "fitted_on": []}, r"fitted_on must be an object"),
])
def test_a_malformed_lexicon_is_refused_naming_the_file(tmp_path: Path, stored, message) -> None:
    (tmp_path / KEY_LEXICON_FILE).write_text(json.dumps(stored), encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"key_lexicon\.json: " + message):
        load_key_lexicon(tmp_path)


def test_predict_document_gives_a_lexicon_keys_value_its_class(tokenizer) -> None:
    from receipt_layoutlm.prediction import predict_document

    def word(text: str, x: float, y: float) -> DocWord:
        return DocWord(text, [[x, y], [x + 60, y], [x + 60, y + 12], [x, y + 12]])

    doc = ReceiptDocument("wildreceipt:t", 400.0, 100.0, [
        word("Tax", 10, 20), word("1.20", 200, 20),
        word("18%Gratuity", 10, 40), word("8.43", 200, 40),
        word("Total", 10, 60), word("60.00", 200, 60)])
    tags = {"Tax": "B-TAX_KEY", "1.20": "B-TAX_VALUE", "18%Gratuity": "B-OTHERS",
            "8.43": "B-TAX_VALUE", "Total": "B-TOTAL_KEY", "60.00": "B-TOTAL_VALUE"}

    def logits_of(text: str, _: int) -> np.ndarray:
        row = np.zeros(len(NATIVE), dtype=np.float32)
        row[NATIVE.index(tags[text])] = 5.0
        return row

    runtime = WordLogitsRuntime(NATIVE, tokenizer, logits_of,
                                encoding_config=EncodingConfig(max_seq_length=64, stride=16))
    without = predict_document(runtime, doc)
    assert [p.label for p in without.predictions][2:4] == ["OTHERS", "TAX_VALUE"]
    runtime.key_lexicon = LEXICON
    read = predict_document(runtime, doc)
    assert [p.label for p in read.predictions] == [
        "TAX_KEY", "TAX_VALUE", "TIPS_KEY", "TIPS_VALUE", "TOTAL_KEY", "TOTAL_VALUE"]
    assert read.fields["tip"].value == pytest.approx(8.43)
    assert read.fields["tax"].value == pytest.approx(1.2)
    # key_pairing=False reads the labels as decoded, lexicon and all.
    raw = predict_document(runtime, doc, key_pairing=False)
    assert [p.label for p in raw.predictions][2:4] == ["OTHERS", "TAX_VALUE"]


def _tipped(key: str, tip_key: str) -> ReceiptDocument:
    from receipt_rows import receipt_from_rows

    return receipt_from_rows(key, [
        [("CAFE", "STORE_NAME_VALUE")],
        [("Tax", "TAX_KEY"), ("1.20", "TAX_VALUE")],
        [(tip_key, "TIPS_KEY"), ("3.00", "TIPS_VALUE")],
        [("Total", "TOTAL_KEY"), ("16.20", "TOTAL_VALUE")],
    ], {})


def test_fit_fields_writes_the_lexicon_the_runtime_and_bundle_text_side_carry(
    tokenizer, tmp_path: Path, capsys
) -> None:
    """``fit-fields --key-lexicon fit --line-classifier none`` → key_lexicon.json in the
    checkpoint → the runtime loads it and the bundle's text side copies it."""
    pytest.importorskip("torch")
    from tiny_layoutlm import tiny_layoutlm

    from receipt_layoutlm.checkpoint import load_checkpoint, save_checkpoint
    from receipt_layoutlm.cli import main
    from receipt_layoutlm.export.text_side import bundle_encoding, write_text_side
    from receipt_layoutlm.importers import write_jsonl
    from receipt_layoutlm.runtime import load_runtime

    checkpoint = tmp_path / "best"
    save_checkpoint(checkpoint, tiny_layoutlm(len(NATIVE), len(tokenizer), seed=3, layers=1),
                    tokenizer, NATIVE, EncodingConfig(max_seq_length=32, stride=8))
    write_jsonl([_tipped("w:1", "Gratuity:"), _tipped("w:2", "18%GRATUITY"),
                 _tipped("w:3", "Tip")], tmp_path / "d.jsonl")
    assert main(["fit-fields", str(checkpoint), "--dataset", str(tmp_path / "d.jsonl"),
                 "--key-lexicon", "fit", "--line-classifier", "none"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["key_lexicon"]["kept"] == 3  # gratuity, tax, total: "tip" is on one receipt
    lexicon = load_key_lexicon(checkpoint)
    assert lexicon is not None and lexicon.keys == {
        "gratuity": "TIPS_KEY", "tax": "TAX_KEY", "total": "TOTAL_KEY"}
    assert not (checkpoint / "line_classifier.json").exists()
    assert load_runtime("torch", checkpoint).key_lexicon == lexicon

    staging = tmp_path / "staging"
    staging.mkdir()
    loaded = load_checkpoint(checkpoint)
    write_text_side(staging, loaded, bundle_encoding(loaded, 32), {"export_id": "e"})
    assert (staging / KEY_LEXICON_FILE).read_bytes() == (
        checkpoint / KEY_LEXICON_FILE).read_bytes()


@pytest.mark.slow
def test_train_fits_the_lexicon_on_the_training_side_only(tmp_path: Path) -> None:
    """``train`` (default ``--key-lexicon fit``) on key-labelled receipts: best/key_lexicon.json
    from the training receipts' labels (the dev receipts' key stays out), recorded in run.json;
    ``--key-lexicon none`` stores none."""
    pytest.importorskip("torch")
    from receipt_rows import train_tiny

    docs = [_tipped(f"w:{i}", "Gratuity") for i in range(3)]
    docs += [_tipped(f"w:{i}", "Service") for i in range(3, 5)]
    (tmp_path / "fit").mkdir()
    (tmp_path / "none").mkdir()
    output_dir = train_tiny(tmp_path / "fit", docs, train_keys=[d.key for d in docs[:3]],
                            dev_keys=[d.key for d in docs[3:]], job_name="layoutlm-keys")
    lexicon = load_key_lexicon(output_dir / "best")
    assert lexicon is not None and lexicon.keys["gratuity"] == "TIPS_KEY"
    assert "service" not in lexicon.keys
    run = json.loads((output_dir / "run.json").read_text())
    assert run["key_lexicon"] == json.loads(json.dumps(dict(lexicon.fitted_on)))
    none_dir = train_tiny(tmp_path / "none", docs, train_keys=[d.key for d in docs[:3]],
                          dev_keys=[d.key for d in docs[3:]], job_name="layoutlm-nokeys",
                          key_lexicon="none")
    assert load_key_lexicon(none_dir / "best") is None


def test_a_render_counts_as_its_transcript_but_two_receipts_of_one_image_count_twice() -> None:
    from receipt_layoutlm.document import render_key

    assert _doc(render_key("sroie:X5", 3)).source_key == "sroie:X5"
    assert _doc("img-1#00002").source_key == "img-1#00002"  # a store receipt's own key
    two = [_doc("img-1#00001", ("Tip", "TIPS_KEY")), _doc("img-1#00002", ("Tip", "TIPS_KEY"))]
    assert fit_key_lexicon(two).keys == {"tip": "TIPS_KEY"}
    rendered = [_doc("w:1", ("Tip", "TIPS_KEY")), _doc(render_key("w:1", 0), ("Tip", "TIPS_KEY"))]
    assert fit_key_lexicon(rendered).keys == {}
