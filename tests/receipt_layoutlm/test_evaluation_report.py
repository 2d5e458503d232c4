"""Report files: strict JSON, Markdown tables and PNG figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from receipt_layoutlm.evaluation import (
    confusion_matrix,
    entity_metrics,
    sroie_task3_f1,
    write_report,
)


def _inputs():
    true = [["B-DATE", "O", "B-TOTAL"], ["B-MERCHANT_NAME", "I-MERCHANT_NAME", "O"]]
    pred = [["B-DATE", "O", "O"], ["B-MERCHANT_NAME", "I-MERCHANT_NAME", "B-TOTAL"]]
    labels = ["DATE", "MERCHANT_NAME", "TOTAL", "O"]
    flat_true = [t for seq in true for t in seq]
    flat_pred = [p for seq in pred for p in seq]
    task3 = sroie_task3_f1({"r": {"total": "9.00"}}, {"r": {"total": "9.00", "date": "1/1/20"}})
    metrics = {
        "entity": entity_metrics(true, pred).to_dict(),
        "sroie_task3": task3.to_dict(include_mismatches=True),
        "eval_loss": float("nan"),
    }
    curves = [
        {"epoch": 1, "loss": 1.2, "eval_loss": 1.0, "f1": 0.4, "learning_rate": 5e-5},
        {"epoch": 2, "loss": 0.7, "eval_loss": 0.8, "f1": 0.6, "learning_rate": 2.5e-5},
        {"epoch": 3, "loss": 0.5, "eval_loss": 0.75, "f1": 0.65, "learning_rate": 0.0},
    ]
    return metrics, confusion_matrix(flat_true, flat_pred, labels), labels, curves


def test_write_report_produces_readable_files(tmp_path):
    metrics, confusion, labels, curves = _inputs()
    paths = write_report(
        tmp_path / "out", metrics=metrics, confusion=confusion, labels=labels, curves=curves
    )
    names = sorted(p.name for p in paths)
    assert names == ["confusion_matrix.png", "learning_curves.png", "report.json", "report.md"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)

    def _no_nan(value):
        raise AssertionError(f"report.json contains {value}")

    report = json.loads((tmp_path / "out" / "report.json").read_text(), parse_constant=_no_nan)
    assert report["metrics"]["eval_loss"] is None
    assert math.isclose(report["metrics"]["entity"]["f1"], metrics["entity"]["f1"])
    assert report["confusion_matrix"]["labels"] == labels
    assert report["confusion_matrix"]["matrix"] == confusion.tolist()
    assert [row["epoch"] for row in report["curves"]] == [1, 2, 3]

    md = (tmp_path / "out" / "report.md").read_text()
    assert "# Evaluation report" in md
    assert "### per_label" in md
    assert "| MERCHANT_NAME | 1.0000 | 1.0000 | 1.0000 | 1 |" in md
    assert "### per_key" in md
    assert "| true \\ pred | DATE | MERCHANT_NAME | TOTAL | O |" in md
    assert "| 1 | 1.2000 | 1.0000 | 0.4000 | 5.00e-05 |" in md

    for name in ("confusion_matrix.png", "learning_curves.png"):
        with Image.open(tmp_path / "out" / name) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width > 300 and height > 200
            # Not a blank canvas: a plot has many distinct colours.
            assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 10


def test_write_report_without_figures(tmp_path):
    paths = write_report(tmp_path, metrics={"f1": 0.5}, confusion=None, labels=None, curves=None)
    assert sorted(p.name for p in paths) == ["report.json", "report.md"]
    assert "| f1 | 0.5000 |" in (tmp_path / "report.md").read_text()


def test_write_report_rejects_mismatched_labels(tmp_path):
    with pytest.raises(ValueError, match="needs 2 labels, got 3"):
        write_report(
            tmp_path,
            metrics={},
            confusion=np.eye(2, dtype=int),
            labels=["A", "B", "O"],
            curves=None,
        )
