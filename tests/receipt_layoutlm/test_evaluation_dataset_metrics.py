"""The DatasetMetric seam: metrics registered by name, each scoring only the receipts that carry
its ground truth, and ``evaluate_documents`` plus its summary looping over whichever applied."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from tiny_layoutlm import tiny_layoutlm

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.errors import EvaluationError
from receipt_layoutlm.evaluation import metric_registry
from receipt_layoutlm.evaluation.dataset_metric import DatasetMetric, MetricOptions
from receipt_layoutlm.evaluation.metric_registry import DATASET_METRICS, dataset_metrics
from receipt_layoutlm.evaluation.task3_metric import SroieTask3Metric
from receipt_layoutlm.fields import FieldValue
from receipt_layoutlm.prediction import ReceiptPrediction


def _words(*texts: str) -> list[DocWord]:
    return [DocWord(t, ((10.0 * i, 0.0), (10.0 * i + 9, 0.0), (10.0 * i + 9, 9.0),
                        (10.0 * i, 9.0))) for i, t in enumerate(texts)]


def _field(name: str, text: str) -> FieldValue:
    return FieldValue(name, text, text, 0.9, (0,))


TRUTH = {"company": "ACME", "date": "01/02/2020", "address": "1 MAIN ST", "total": "9.00"}


def test_registry_knows_both_datasets_and_refuses_an_unknown_name() -> None:
    assert list(DATASET_METRICS) == ["sroie_task3", "wildreceipt_segments"]
    assert [m.name for m in dataset_metrics()] == ["sroie_task3", "wildreceipt_segments"]
    with pytest.raises(EvaluationError, match=r"unknown dataset metric 'funsd'; registered: "
                                              r"sroie_task3, wildreceipt_segments"):
        dataset_metrics(["sroie_task3", "funsd"])


def test_sroie_metric_scores_receipts_with_fields_in_both_conventions(tmp_path) -> None:
    metric = SroieTask3Metric(MetricOptions(task3_whitespace="collapse"))
    words = _words("ACME", "01/02/2021", "9.00")
    predicted = ReceiptPrediction(words, [], {
        "merchant": _field("merchant", "ACME"),
        "date": _field("date", "01/02/2021"),
        "total": _field("total", "9.00"),
    })
    plain = ReceiptDocument("plain", 100.0, 10.0, words)
    assert metric.add(plain, predicted) is False and metric.receipts == 0
    doc = ReceiptDocument("sroie:a", 100.0, 10.0, words, fields=TRUTH)
    assert metric.add(doc, predicted) is True and metric.receipts == 1

    scores = metric.scores()
    strict = scores["sroie_task3"]
    # 3 predicted, 4 expected, 2 correct (company, total): P 2/3, R 1/2.
    assert (strict["correct"], strict["predicted"], strict["expected"]) == (2, 3, 4)
    assert strict["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    kinds = {kind: n for kind, n in strict["mismatch_kinds"].items() if n}
    assert kinds == {"missing": 1, "wrong_value": 1}
    # The date and address truths are not in the words' text: both pairs dropped.
    excluding = scores["sroie_task3_excluding_ocr_mismatch"]
    assert excluding["excluded_pairs"] == 2 and excluding["f1"] == 1.0
    assert excluding["excluded_per_key"] == {"company": 0, "date": 1, "address": 1, "total": 0}

    summary = metric.summary(scores)
    assert summary["sroie_task3_f1"] == strict["f1"]
    assert summary["sroie_task3_excluding_ocr_mismatch"]["excluded_pairs"] == 2
    (section,) = metric.report_sections()
    assert section.startswith("## Task-3 mismatches") and "2 mismatches" in section
    (written,) = metric.write_files(tmp_path)
    rows = [json.loads(line) for line in written.read_text().splitlines()]
    assert sorted(r["key"] for r in rows) == ["address", "date"]


class _CountingMetric(DatasetMetric):
    """A dataset whose ground truth is a receipt key starting with ``count:``."""

    name = "counting"

    def __init__(self, options: MetricOptions | None = None) -> None:
        self.words: list[int] = []

    def add(self, doc: ReceiptDocument, predicted: ReceiptPrediction) -> bool:
        if not doc.key.startswith("count:"):
            return False
        self.words.append(len(predicted.words))
        return True

    @property
    def receipts(self) -> int:
        return len(self.words)

    def scores(self) -> dict[str, Any]:
        return {"counting": {"words": sum(self.words), "receipts": self.receipts}}

    def summary(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        return {"counted_words": metrics["counting"]["words"]}

    def write_files(self, out_dir: Path) -> list[Path]:
        path = out_dir / "counted.txt"
        path.write_text(str(sum(self.words)))
        return [path]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory, tokenizer) -> Any:
    pytest.importorskip("torch")
    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list
    from receipt_layoutlm.runtime import load_runtime

    labels = label_list(["GRAND_TOTAL", "MERCHANT_NAME"])
    directory = tmp_path_factory.mktemp("metrics") / "best"
    save_checkpoint(directory, tiny_layoutlm(len(labels), len(tokenizer), seed=5, layers=1),
                    tokenizer, labels, EncodingConfig(max_seq_length=32, stride=8))
    return load_runtime("torch", directory)


def test_evaluate_documents_loops_over_the_metrics_that_apply(runtime, monkeypatch,
                                                             tmp_path) -> None:
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents

    monkeypatch.setitem(metric_registry.DATASET_METRICS, "counting", _CountingMetric)
    counted = ReceiptDocument("count:a", 100.0, 10.0, _words("TOTAL", "9.00", "CASH"))
    sroie = ReceiptDocument("sroie:b", 100.0, 10.0, _words("ACME", "9.00"), fields=TRUTH)

    result = evaluate_documents(runtime, [counted, sroie], out_dir=tmp_path)
    assert result.metrics["counting"] == {"words": 3, "receipts": 1}
    assert result.metrics["sroie_task3"]["num_receipts"] == 1
    assert "wildreceipt_segments" not in result.metrics  # no receipt carries segments
    assert [m.name for m in result.applied] == ["sroie_task3", "counting"]
    summary = result.summary()
    assert summary["counted_words"] == 3 and "sroie_task3_f1" in summary
    assert {"counted.txt", "mismatches.jsonl", "report.md"} <= {p.name for p in result.files}
    assert summary["report"] == [str(p) for p in result.files]

    only = evaluate_documents(runtime, [counted, sroie], dataset_metrics=["counting"])
    assert "sroie_task3" not in only.metrics and only.metrics["counting"]["words"] == 3
    with pytest.raises(EvaluationError, match="unknown dataset metric 'nope'"):
        evaluate_documents(runtime, [counted], dataset_metrics=["nope"])


def test_cross_validation_scores_a_fold_as_evaluate_does(runtime) -> None:
    from receipt_layoutlm.evaluation.crossval import score_fold
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents

    docs = [ReceiptDocument("sroie:b", 100.0, 10.0, _words("ACME", "9.00"), fields=TRUTH),
            ReceiptDocument("plain", 100.0, 10.0, _words("TOTAL"))]
    fold = score_fold(runtime, docs)
    strict = evaluate_documents(runtime, docs).metrics["sroie_task3"]
    assert fold.num_receipts == 1 == strict["num_receipts"]
    assert (fold.overall.correct, fold.overall.predicted, fold.overall.expected) == (
        strict["correct"], strict["predicted"], strict["expected"])
    assert fold.f1 == strict["f1"]


def test_cross_validation_reports_both_conventions_from_one_pass(runtime) -> None:
    from receipt_layoutlm.evaluation.crossval import fold_scores, score_fold
    from receipt_layoutlm.evaluation.evaluate import evaluate_documents
    from receipt_layoutlm.evaluation.task3_metric import EXCLUDING_OCR_MISMATCH, STRICT

    # date and address are not in the words: the excluding convention drops those two pairs.
    docs = [ReceiptDocument("sroie:b", 100.0, 10.0, _words("ACME", "9.00"), fields=TRUTH)]
    both = fold_scores(runtime, docs)
    assert both[STRICT].f1 == score_fold(runtime, docs).f1
    metrics = evaluate_documents(runtime, docs).metrics
    for name in (STRICT, EXCLUDING_OCR_MISMATCH):
        assert (both[name].overall.correct, both[name].overall.expected) == (
            metrics[name]["correct"], metrics[name]["expected"])
    assert both[EXCLUDING_OCR_MISMATCH].overall.expected == 2 < both[STRICT].overall.expected
