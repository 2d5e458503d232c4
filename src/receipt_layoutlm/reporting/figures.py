"""The report's pictures as ``data:`` URIs, drawn by the evaluation package's matplotlib plots."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import numpy as np

from receipt_layoutlm.reporting.model import ReportData


def data_uri(payload: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def learning_curves_uri(data: ReportData) -> str | None:
    """Loss, F1 and learning rate per epoch (``evaluation.summary_report.plot_curves``)."""
    from receipt_layoutlm.evaluation.summary_report import plot_curves

    if not data.epochs:
        return None
    curves = [{"epoch": r["epoch"], "loss": r.get("loss"), "eval_loss": r.get("eval_loss"),
               "f1": r.get("eval_f1"), "learning_rate": r.get("learning_rate")}
              for r in data.epochs]
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        path = plot_curves(curves, Path(tmp) / "curves.png")
        return data_uri(path.read_bytes(), "image/png")


def confusion_uri(data: ReportData) -> str | None:
    """Word-level confusion of the training's dev set
    (``evaluation.summary_report.plot_confusion``)."""
    from receipt_layoutlm.evaluation.summary_report import plot_confusion

    if data.confusion is None:
        return None
    labels, matrix = data.confusion
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        path = plot_confusion(np.asarray(matrix), labels, Path(tmp) / "confusion.png")
        return data_uri(path.read_bytes(), "image/png")
