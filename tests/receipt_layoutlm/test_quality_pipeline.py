"""Issue 11 end to end on a tiny model: the fold cache replays the inference path exactly,
evaluate writes classified mismatches, the total picker travels checkpoint → bundle (listed in
the manifest) → every runtime, and ``train`` fits it on the training receipts only."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from tiny_layoutlm import tiny_layoutlm

torch = pytest.importorskip("torch")

from receipt_layoutlm.checkpoint import save_checkpoint  # noqa: E402
from receipt_layoutlm.document import DocWord, ReceiptDocument  # noqa: E402
from receipt_layoutlm.encoding import EncodingConfig, label_list  # noqa: E402
from receipt_layoutlm.fields import PICKER_FILE, TotalPicker, feature_names  # noqa: E402
from receipt_layoutlm.prediction import predict_document  # noqa: E402
from receipt_layoutlm.runtime import load_runtime  # noqa: E402

LABELS = label_list(["ADDRESS_LINE", "DATE", "GRAND_TOTAL", "MERCHANT_NAME"])


def _receipt(key: str, rng: random.Random) -> ReceiptDocument:
    total = f"{rng.uniform(5, 90):.2f}"
    rows = [
        [("KEDAI", "MERCHANT_NAME"), ("MAJU", "MERCHANT_NAME")],
        [("NO", "ADDRESS_LINE"), ("5,", "ADDRESS_LINE"), ("JALAN", "ADDRESS_LINE")],
        [("DATE:", None), ("25/12/2018", "DATE")],
        [("MILO", None), (f"{rng.uniform(1, 5):.2f}", None)],
        [("TOTAL", None), (total, "GRAND_TOTAL")],
        [("CASH", None), ("100.00", None)],
    ]
    words = []
    for row_no, row in enumerate(rows):
        x = 10.0
        for word_no, (text, label) in enumerate(row):
            corners = ((x, 30.0 * row_no), (x + 60, 30.0 * row_no), (x + 60, 30.0 * row_no + 20))
            corners = (*corners, (x, 30.0 * row_no + 20))
            # Each word its own OCR line, as SROIE's boxes often are; rows join them.
            words.append(DocWord(text, corners, line_id=10 * row_no + word_no, label=label))
            x += 80
    fields = {"company": "KEDAI MAJU", "date": "25/12/2018", "address": "NO 5, JALAN"}
    return ReceiptDocument(key, 400.0, 200.0, words, fields={**fields, "total": total})


@pytest.fixture(scope="module")
def docs() -> list[ReceiptDocument]:
    rng = random.Random(5)
    return [_receipt(f"t:{i}", rng) for i in range(6)]


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory, tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("q") / "best"
    save_checkpoint(
        directory,
        tiny_layoutlm(len(LABELS), len(tokenizer), seed=11, layers=1),
        tokenizer,
        LABELS,
        EncodingConfig(max_seq_length=32, stride=8),  # several windows per receipt
        extra_meta={"job_name": "layoutlm-q"},
    )
    return directory


def _row_total_picker() -> TotalPicker:
    """A hand-made picker that wants the amount on a TOTAL row (and nothing else)."""
    names = feature_names()
    weights = [8.0 if n == "row_total" else 0.0 for n in names]
    return TotalPicker(tuple(names), tuple(weights), -4.0, (0.0,) * len(names), (1.0,) * len(names))


def test_the_fold_cache_replays_predict_document(checkpoint_dir: Path, docs, tmp_path) -> None:
    from receipt_layoutlm.evaluation.fold_cache import CachedRuntime, write_fold_cache

    live = load_runtime("torch", checkpoint_dir)
    write_fold_cache(live, docs, tmp_path / "cache")
    cached = CachedRuntime(tmp_path / "cache", live.tokenizer)
    assert cached.keys == [d.key for d in docs] and cached.labels == live.labels
    for doc in docs:
        a, b = predict_document(live, doc), predict_document(cached, doc)
        assert [p.tag for p in a.predictions] == [p.tag for p in b.predictions]
        assert [p.confidence for p in b.predictions] == pytest.approx(
            [p.confidence for p in a.predictions], abs=2e-3
        )  # float16 storage
    from receipt_layoutlm.errors import EvaluationError

    other = _receipt("t:unknown", random.Random(0))
    with pytest.raises(EvaluationError, match="not in the fold cache"):
        predict_document(cached, other)


def test_evaluate_writes_classified_mismatches(checkpoint_dir: Path, docs, tmp_path) -> None:
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents
    from receipt_layoutlm.evaluation.mismatches import MISMATCH_KINDS

    result = evaluate_documents(load_runtime("torch", checkpoint_dir), docs, out_dir=tmp_path)
    task3 = result.metrics["sroie_task3"]
    rows = [json.loads(x) for x in (tmp_path / "mismatches.jsonl").read_text().splitlines()]
    # A random model gets (almost) nothing right: every wrong pair is listed, with its kind.
    assert len(rows) == 4 * len(docs) - task3["correct"] > 0
    assert {r["kind"] for r in rows} <= set(MISMATCH_KINDS)
    assert sum(task3["mismatch_kinds"].values()) == len(rows)
    report = (tmp_path / "report.md").read_text()
    assert "## Task-3 mismatches" in report and rows[0]["receipt"] in report
    assert tmp_path / "mismatches.jsonl" in result.files
    # The leaderboard convention beside it: pairs whose truth is not in the words are dropped.
    excluding = result.metrics["sroie_task3_excluding_ocr_mismatch"]
    assert excluding["expected"] == task3["expected"] - excluding["excluded_pairs"]
    assert sum(excluding["excluded_per_key"].values()) == excluding["excluded_pairs"]


@pytest.mark.slow
def test_the_picker_goes_from_checkpoint_to_bundle_and_runtimes(
    checkpoint_dir: Path, docs, tmp_path: Path
) -> None:
    import shutil

    from receipt_layoutlm.bundles import verify_bundle
    from receipt_layoutlm.export import ExportOptions, export_bundle

    without = predict_document(load_runtime("torch", checkpoint_dir), docs[0])
    with_picker = tmp_path / "best"
    shutil.copytree(checkpoint_dir, with_picker)
    _row_total_picker().save(with_picker)
    runtime = load_runtime("torch", with_picker)
    assert runtime.total_picker == _row_total_picker()
    fields = predict_document(runtime, docs[0]).fields
    assert fields["total"].text == docs[0].fields["total"]  # the TOTAL row's amount
    assert without.fields.get("total") is None or without.fields["total"].confidence < 0.9

    result = export_bundle(
        ExportOptions(
            checkpoint=str(with_picker),
            output=str(tmp_path / "bundle"),
            formats=("onnx",),
            seq_length=32,
            parity_receipts=2,
            weight_threshold=256,
            make_zip=False,
        ),
        documents=docs,
    )
    assert PICKER_FILE in result.manifest["files"]
    assert verify_bundle(tmp_path / "bundle").ok
    onnx = load_runtime("onnx", tmp_path / "bundle")
    assert onnx.total_picker == _row_total_picker()
    assert predict_document(onnx, docs[0]).fields["total"].text == docs[0].fields["total"]


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "fitted_on"), [("fit", 3), ("fit-dev", 2)])
def test_train_fits_the_picker_on_the_chosen_side_only(
    docs, tmp_path: Path, mode: str, fitted_on: int
) -> None:
    """``fit`` reads the training receipts, ``fit-dev`` the dev ones; never the left-out one."""
    from receipt_cloud.objects import open_object_store
    from receipt_dynamo import open_store
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.importers import write_jsonl
    from receipt_layoutlm.training import TrainingConfig, train

    dataset = tmp_path / "d.jsonl"
    write_jsonl(docs, dataset)
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": [d.key for d in docs[:3]],
                                 "dev": [d.key for d in docs[3:5]]}))
    result = train(
        TrainingConfig(
            model_size="tiny", epochs=1, batch_size=2, max_seq_length=64, stride=16, max_steps=2,
            total_picker=mode,  # type: ignore[arg-type]
        ),
        DatasetConfig(dataset_file=str(dataset), split_file=str(split)),
        store=open_store("sqlite", path=tmp_path / "r.sqlite3"),
        objects=open_object_store(str(tmp_path / "objects")),
        job_name="layoutlm-picker",
        output_dir=tmp_path / "work",
    )
    best = Path(result.output_dir) / "best"
    picker = json.loads((best / PICKER_FILE).read_text())
    assert picker["fitted_on"]["receipts"] == fitted_on
    run = json.loads((Path(result.output_dir) / "run.json").read_text())
    assert run["total_picker"] == picker["fitted_on"]
    assert load_runtime("torch", best).total_picker is not None
