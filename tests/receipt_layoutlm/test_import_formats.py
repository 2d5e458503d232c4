"""WildReceipt, CORD and JSONL importers; malformed input; the CLI round trip."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from receipt_dynamo import open_store
from receipt_layoutlm.cli import dataset_commands
from receipt_layoutlm.errors import ImportFormatError
from receipt_layoutlm.importers import (
    document_to_json,
    get_importer,
    import_documents,
    parse_jsonl,
    write_jsonl,
)
from receipt_layoutlm.importers.wildreceipt import CORE_MAP

CORD_FIXTURES = Path(__file__).parent / "fixtures" / "cord"


def cli(argv: list[str]) -> int:
    """Run this module's commands through argparse (independent of other command groups)."""
    import argparse

    parser = argparse.ArgumentParser(prog="layoutlm-cli")
    dataset_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture(scope="module")
def wild_sample(shared_data):
    path = shared_data / "wildreceipt" / "images_sample" / "test_sample.txt"
    if not path.is_file():
        pytest.skip(f"WildReceipt sample not found at {path}")
    return path


def _value_segments(path: Path, classes: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        for annotation in json.loads(line)["annotations"]:
            name = classes[annotation["label"]]
            if name in CORE_MAP and annotation["text"].strip():
                counts[CORE_MAP[name]] += 1
    return counts


def test_wildreceipt_core_labels_every_value_segment(wild_sample):
    classes = (wild_sample.parents[1] / "class_list.txt").read_text().split()
    parsed = get_importer("wildreceipt")(wild_sample)
    assert len(parsed.documents) == 30 and not parsed.problems
    labelled = Counter(w.label for d in parsed.documents for w in d.words if w.label)
    assert labelled == _value_segments(wild_sample, classes)
    for doc in parsed.documents:
        ids = [(w.line_id, w.word_id) for w in doc.words]
        assert len(set(ids)) == len(ids) and all(i is not None for pair in ids for i in pair)
        for w in doc.words:  # quads turned from bottom-left-first into top-left-first
            assert w.corners[0][1] <= w.corners[3][1]


def test_wildreceipt_native_keeps_class_names(wild_sample, tmp_path):
    parsed = get_importer("wildreceipt")(wild_sample, labels="native")
    assert len(parsed.native_labels) == 26
    labels = {w.label for d in parsed.documents for w in d.words}
    assert {"STORE_NAME_VALUE", "TOTAL_KEY", "OTHERS"} <= labels
    code = cli(["import", "wildreceipt", str(wild_sample), "--labels", "native",
                "--data-dir", str(tmp_path)])
    assert code == 0


def test_cord_fixtures_core_and_native():
    parsed = get_importer("cord")(CORD_FIXTURES)
    assert [d.key for d in parsed.documents] == [f"cord:receipt_0000{i}" for i in range(3)]
    first = parsed.documents[0]
    labels = {w.text: w.label for w in first.words}
    assert labels["NASI"] == "PRODUCT_NAME" and labels["2"] == "QUANTITY"
    assert labels["66,700"] == "GRAND_TOTAL" and labels["TOTAL"] is None  # is_key words stay O
    assert labels["2,900"] == "TIP" and labels["70,000"] == "PAYMENT_METHOD"
    assert labels["3,300"] == "CHANGE" and (first.width, first.height) == (600.0, 700.0)
    wrapped = parsed.documents[2]  # the Hugging Face "ground_truth" string form
    assert {w.text: w.label for w in wrapped.words}["EXTRA"] is None
    native = get_importer("cord")(CORD_FIXTURES, labels="native")
    assert "MENU_SUB_NM" in native.native_labels
    assert {w.text: w.label for w in native.documents[2].words}["EXTRA"] == "MENU_SUB_NM"


def test_unknown_importer_and_label_mode_are_clear_errors():
    with pytest.raises(ImportFormatError, match="sroie, wildreceipt, cord, jsonl"):
        get_importer("funsd")
    with pytest.raises(ImportFormatError, match="'core'"):
        get_importer("cord")(CORD_FIXTURES, labels="weird")


def _sroie_dir(tmp_path: Path) -> Path:
    root = tmp_path / "sroie"
    (root / "box").mkdir(parents=True)
    (root / "entities").mkdir()
    good = "10,10,200,10,200,30,10,30,SHOP ONE SDN BHD\r\n10,50,200,50,200,70,10,70,TOTAL 5.00\n\n"
    (root / "box" / "A1.txt").write_text(good, newline="")
    (root / "box" / "A2.txt").write_text(
        "10,10,200,10,200,30,10,30,SHOP TWO\n10,50,200,50,200,TOTAL 7.00\n"
        "10,90,200,90,200,110,10,110,TOTAL, RM 7.00\n"
    )
    (root / "box" / "A3.txt").write_bytes(b"10,10,200,10,200,30,10,30,CAF\xc9 TROIS\n")
    (root / "box" / "A4.txt").write_text("")
    for name, company, total in (("A1", "SHOP ONE SDN BHD", "5.00"), ("A2", "SHOP TWO", "7.00"),
                                 ("A3", "CAFÉ TROIS", ""), ("A4", "X", "1.00")):
        (root / "entities" / f"{name}.txt").write_text(
            json.dumps({"company": company, "total": total}))
    return root


def test_malformed_sroie_rows_are_line_numbered_and_the_rest_imports(tmp_path):
    parsed = get_importer("sroie")(_sroie_dir(tmp_path))
    problems = {Path(p.file).name: p for p in parsed.problems}
    assert problems["A2.txt"].line == 2 and "8 comma-separated" in problems["A2.txt"].message
    assert problems["A3.txt"].line == 1 and "latin-1" in problems["A3.txt"].message
    assert problems["A4.txt"].line == 1 and "empty" in problems["A4.txt"].message
    docs = {d.key: d for d in parsed.documents}
    assert set(docs) == {"sroie:A1", "sroie:A2", "sroie:A3"}
    assert [w.text for w in docs["sroie:A3"].words] == ["CAFÉ", "TROIS"]
    assert [w.label for w in docs["sroie:A3"].words] == ["MERCHANT_NAME"] * 2
    a2 = docs["sroie:A2"]
    assert [w.text for w in a2.words if w.label == "GRAND_TOTAL"] == ["7.00"]
    assert str(problems["A2.txt"]).startswith(str(tmp_path))


def test_truncated_json_lines_are_line_numbered(tmp_path, wild_sample):
    lines = wild_sample.read_text().splitlines()[:3]
    lines[1] = lines[1][: len(lines[1]) // 2]
    bad = tmp_path / "sample.txt"
    bad.write_text("\n".join(lines) + "\n")
    classes = (wild_sample.parents[1] / "class_list.txt").read_text()
    (tmp_path / "class_list.txt").write_text(classes)
    parsed = get_importer("wildreceipt")(bad)
    assert len(parsed.documents) == 2
    assert [(p.line, "not valid JSON" in p.message) for p in parsed.problems] == [(2, True)]

    jsonl = tmp_path / "docs.jsonl"
    write_jsonl(get_importer("cord")(CORD_FIXTURES).documents, jsonl)
    rows = jsonl.read_text().splitlines()
    jsonl.write_text("\n".join([rows[0], rows[1][:40], rows[2]]) + "\n")
    parsed = parse_jsonl(jsonl)
    assert len(parsed.documents) == 2 and [p.line for p in parsed.problems] == [2]


def test_jsonl_box_form_and_foreign_labels(tmp_path):
    path = tmp_path / "in.jsonl"
    record = {"key": "k1", "width": 100, "height": 50, "origin": "bottom-left",
              "normalized": False,
              "words": [{"text": "HI", "box": [10, 5, 30, 15], "label": "GREETING"}]}
    path.write_text(json.dumps(record) + "\n")
    core = parse_jsonl(path)
    assert core.documents[0].words[0].label is None and "GREETING" in core.problems[0].message
    native = parse_jsonl(path, labels="native")
    word = native.documents[0].words[0]
    assert word.label == "GREETING" and native.native_labels == ("GREETING",)
    assert word.corners[0] == (10.0, 15.0)  # bottom-left origin: the top is the larger y


def _store_view(path: Path) -> list[tuple]:
    store = open_store("sqlite", path=path)
    rows = []
    for receipt in store.list_receipts():
        details = store.get_receipt_details(receipt.image_id, receipt.receipt_id)
        labels = {(lab.line_id, lab.word_id): lab.label for lab in details.labels}
        rows.append(sorted(
            (w.text, w.top_left.x, w.top_left.y, w.bottom_right.x, w.bottom_right.y,
             labels.get((w.line_id, w.word_id))) for w in details.words))
    store.close()
    return sorted(rows)


def test_jsonl_round_trip_through_the_cli(tmp_path, wild_sample):
    first, second = tmp_path / "one", tmp_path / "two"
    assert cli(["import", "cord", str(CORD_FIXTURES), "--data-dir", str(first)]) == 0
    assert cli(["import", "wildreceipt", str(wild_sample), "--limit", "5",
                "--data-dir", str(first)]) == 0
    out = tmp_path / "export.jsonl"
    assert cli(["export-dataset", str(out), "--data-dir", str(first)]) == 0
    assert len(out.read_text().splitlines()) == 8
    assert cli(["import", "jsonl", str(out), "--data-dir", str(second)]) == 0
    db = "receipts.sqlite3"
    assert _store_view(first / db) == _store_view(second / db)
    assert cli(["import", "jsonl", str(out), "--data-dir", str(second)]) == 0  # all skipped
    assert len(_store_view(second / db)) == 8


def test_import_documents_skips_existing_receipts(tmp_path):
    docs = get_importer("cord")(CORD_FIXTURES).documents
    store = open_store("sqlite", path=tmp_path / "r.sqlite")
    report = import_documents(store, docs[:2], source="CORD", label_proposed_by="t")
    assert report.receipts_written == 2 and report.labels["GRAND_TOTAL"] == 2
    report = import_documents(store, docs, source="CORD", label_proposed_by="t")
    assert (report.receipts_written, report.receipts_skipped) == (1, 2)
    assert "skipped (already stored) 2" in report.summary()
    store.close()


def test_cord_keys_follow_the_path_so_splits_do_not_collide(tmp_path):
    for split, fixture in (("train", "receipt_00000.json"), ("dev", "receipt_00001.json")):
        (tmp_path / split / "json").mkdir(parents=True)
        source = CORD_FIXTURES / fixture
        (tmp_path / split / "json" / "receipt_00000.json").write_text(source.read_text())
    parsed = get_importer("cord")(tmp_path)
    assert sorted(d.key for d in parsed.documents) == [
        "cord:dev/json/receipt_00000", "cord:train/json/receipt_00000"]
    assert not parsed.problems
    store = open_store("sqlite", path=tmp_path / "r.sqlite")
    report = import_documents(store, parsed.documents, source="CORD", label_proposed_by="t")
    assert (report.receipts_written, report.receipts_skipped) == (2, 0)
    store.close()
    single = get_importer("cord")(tmp_path / "dev" / "json" / "receipt_00000.json")
    assert [d.key for d in single.documents] == ["cord:receipt_00000"]


def test_a_key_repeated_within_one_parse_is_a_problem(tmp_path):
    record = {"key": "k1", "width": 100, "height": 50,
              "words": [{"text": "HI", "box": [10, 5, 30, 15]}]}
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    parsed = parse_jsonl(path)
    assert [d.key for d in parsed.documents] == ["k1"]
    assert [(p.line, "duplicate receipt key 'k1'" in p.message) for p in parsed.problems] == [
        (2, True)]


def _wildreceipt_file(tmp_path: Path, boxes: list[list[float]]) -> Path:
    (tmp_path / "class_list.txt").write_text("\n".join(
        ["Ignore", "Store_name_value", "Total_value"]) + "\n")
    rows = []
    for i, box in enumerate(boxes):
        rows.append({"file_name": f"r{i}.jpeg", "height": 100, "width": 100,
                     "annotations": [{"box": box, "text": "SHOP", "label": 1},
                                     {"box": [10, 60, 50, 60, 50, 50, 10, 50], "text": "9.00",
                                      "label": 2}]})
    path = tmp_path / "test.txt"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_non_finite_coordinates_are_line_numbered_problems(tmp_path):
    sroie = _sroie_dir(tmp_path)
    (sroie / "box" / "A1.txt").write_text(
        "10,10,200,10,200,30,10,30,SHOP ONE SDN BHD\nnan,50,200,50,200,70,10,70,TOTAL 5.00\n"
        "10,90,inf,90,200,110,10,110,CASH 5.00\n")
    parsed = get_importer("sroie")(sroie)
    rows = sorted((p.line, "finite" in p.message) for p in parsed.problems
                  if Path(p.file).name == "A1.txt")
    assert rows == [(2, True), (3, True)]
    assert [w.text for w in {d.key: d for d in parsed.documents}["sroie:A1"].words] == [
        "SHOP", "ONE", "SDN", "BHD"]

    wild = tmp_path / "wild"
    wild.mkdir()
    path = _wildreceipt_file(wild, [[10, 30, 50, 30, 50, 20, 10, 20],
                                    [10, 30, float("nan"), 30, 50, 20, 10, 20]])
    parsed = get_importer("wildreceipt")(path)
    assert len(parsed.documents) == 2
    assert [(p.line, "NaN or infinite" in p.message) for p in parsed.problems] == [(2, True)]
    assert [w.text for w in parsed.documents[1].words] == ["9.00"]


def test_an_encoding_error_fails_one_receipt_and_the_rest_imports(tmp_path):
    from receipt_layoutlm.document import DocWord, ReceiptDocument

    good = get_importer("cord")(CORD_FIXTURES).documents
    # Without line ids the writer groups words into lines, which refuses NaN corners.
    bad = ReceiptDocument(key="test:nan", width=100.0, height=100.0, words=[
        DocWord(text="X", corners=((float("nan"), 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)))])
    store = open_store("sqlite", path=tmp_path / "r.sqlite")
    report = import_documents(store, [good[0], bad, good[1]], source="T", label_proposed_by="t")
    assert (report.receipts_written, report.receipts_failed) == (2, 1)
    assert [p.file for p in report.problems] == ["test:nan"]
    assert len(store.list_images()) == 2  # the failed receipt left no Image behind
    store.close()


def test_an_image_lost_between_receipt_and_image_write_is_repaired(tmp_path):
    from receipt_dynamo import EntityNotFoundError
    from receipt_layoutlm.records import records_from_document

    doc = get_importer("cord")(CORD_FIXTURES).documents[0]
    store = open_store("sqlite", path=tmp_path / "r.sqlite")
    records = records_from_document(doc, source="CORD", label_proposed_by="t")
    # What a process that died after the receipt write (older writer order) left behind.
    store.write_receipt(records.receipt, records.lines, records.words, records.labels)
    with pytest.raises(EntityNotFoundError):
        store.get_image(records.image.image_id)
    report = import_documents(store, [doc], source="CORD", label_proposed_by="t")
    assert report.receipts_skipped == 1
    assert store.get_image(records.image.image_id).raw_s3_key == doc.key
    store.close()


def test_export_then_import_into_the_same_store_adds_nothing(tmp_path):
    data = tmp_path / "store"
    assert cli(["import", "cord", str(CORD_FIXTURES), "--data-dir", str(data)]) == 0
    out = tmp_path / "export.jsonl"
    assert cli(["export-dataset", str(out), "--data-dir", str(data)]) == 0
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert keys and sorted(keys) == [f"cord:receipt_0000{i}" for i in range(3)]
    store = open_store("sqlite", path=data / "receipts.sqlite3")
    before = sorted((r.image_id, r.receipt_id) for r in store.list_receipts())
    report = import_documents(store, parse_jsonl(out).documents, source="JSONL",
                              label_proposed_by="import:jsonl")
    assert (report.receipts_written, report.receipts_skipped) == (0, 3)
    assert sorted((r.image_id, r.receipt_id) for r in store.list_receipts()) == before
    assert len(store.list_images()) == 3
    store.close()


def test_store_keys_of_receipts_without_a_dataset_key_are_reused(tmp_path):
    from receipt_layoutlm.importers import export_store
    from receipt_layoutlm.records import records_from_document

    doc = get_importer("cord")(CORD_FIXTURES).documents[0]
    image_id = "0b7a3d5e-1c2f-4e6a-9b8d-7f6e5d4c3b2a"  # an OCR'd image: not an import id
    records = records_from_document(doc, image_id=image_id, receipt_id=2, source="OCR",
                                    label_proposed_by="t", raw_s3_bucket="photos",
                                    raw_s3_key="raw/1.jpg")
    store = open_store("sqlite", path=tmp_path / "r.sqlite")
    store.add_image(records.image)
    store.write_receipt(records.receipt, records.lines, records.words, records.labels)
    out = tmp_path / "out.jsonl"
    assert export_store(store, out) == 1
    assert json.loads(out.read_text())["key"] == f"{image_id}#00002"
    report = import_documents(store, parse_jsonl(out).documents, source="JSONL",
                              label_proposed_by="t")
    assert (report.receipts_written, report.receipts_skipped) == (0, 1)
    assert store.get_image(image_id).raw_s3_bucket == "photos"  # the real Image is untouched
    store.close()


@pytest.mark.parametrize("fmt", ["jsonl", "cord", "wildreceipt", "sroie"])
def test_a_missing_path_is_one_clear_error(tmp_path, fmt):
    missing = tmp_path / "nonexistent"
    with pytest.raises(ImportFormatError, match=f"{missing} does not exist"):
        get_importer(fmt)(missing)


def test_empty_files_are_line_numbered_problems(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    parsed = parse_jsonl(empty)
    assert not parsed.documents
    assert [str(p) for p in parsed.problems] == [f"{empty}:1: empty file: no receipts"]
    (tmp_path / "class_list.txt").write_text("Ignore\nOthers\n")
    wild = tmp_path / "test.txt"
    wild.write_text("")
    parsed = get_importer("wildreceipt")(wild)
    assert [str(p) for p in parsed.problems] == [f"{wild}:1: empty file: no receipts"]


@pytest.mark.parametrize("limit", ["0", "-3", "two"])
def test_limit_must_be_a_positive_int(tmp_path, limit, capsys):
    with pytest.raises(SystemExit):
        cli(["import", "cord", str(CORD_FIXTURES), "--limit", limit, "--data-dir", str(tmp_path)])
    assert "--limit" in capsys.readouterr().err


def test_wildreceipt_words_keep_their_segment_through_jsonl(wild_sample, tmp_path):
    classes = (wild_sample.parents[1] / "class_list.txt").read_text().split()
    parsed = get_importer("wildreceipt")(wild_sample, labels="native")
    records = [json.loads(line) for line in wild_sample.read_text().splitlines()]
    for doc, record in zip(parsed.documents, records, strict=True):
        kept = [(i + 1, classes[a["label"]]) for i, a in enumerate(record["annotations"])
                if a["text"].strip()]
        assert sorted({(w.segment_id, w.segment_class) for w in doc.words}) == kept
        # The class stays the dataset's own name whatever --labels maps the label to.
        assert all(w.label == w.segment_class.upper() for w in doc.words)
    out = tmp_path / "wild.jsonl"
    write_jsonl(parsed.documents, out)
    again = parse_jsonl(out, labels="native").documents
    assert [d.words for d in again] == [d.words for d in parsed.documents]


def test_a_wildreceipt_segment_with_spaces_is_several_words_of_one_segment(tmp_path):
    (tmp_path / "class_list.txt").write_text("Ignore\nTotal_key\nTotal_value\n")
    row = {"file_name": "r.jpeg", "height": 100, "width": 200, "annotations": [
        {"box": [10, 30, 110, 30, 110, 20, 10, 20], "text": "TOTAL DUE", "label": 1},
        {"box": [120, 30, 160, 30, 160, 20, 120, 20], "text": "9.00", "label": 2}]}
    path = tmp_path / "test.txt"
    path.write_text(json.dumps(row) + "\n")
    words = get_importer("wildreceipt")(path).documents[0].words
    assert [(w.text, w.segment_id, w.segment_class, w.label) for w in words] == [
        ("TOTAL", 1, "Total_key", None), ("DUE", 1, "Total_key", None),
        ("9.00", 2, "Total_value", "GRAND_TOTAL")]
    # Quads split by character position (9 characters over 100 px), on one printed line.
    assert words[0].corners[1][0] == pytest.approx(10 + 100 * 5 / 9)
    assert words[1].corners[0][0] == pytest.approx(10 + 100 * 6 / 9)
    assert {w.line_id for w in words} == {1} and [w.word_id for w in words] == [1, 2, 3]


def test_jsonl_without_segments_still_loads(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps({"key": "a", "width": 100, "height": 50, "words": [
        {"text": "TOTAL", "box": [1, 1, 30, 10], "line_id": 1, "word_id": 1}]}) + "\n")
    doc = parse_jsonl(path).documents[0]
    assert (doc.words[0].segment_id, doc.words[0].segment_class) == (None, None)
    assert set(document_to_json(doc)["words"][0]) == {"text", "corners", "line_id", "word_id"}
