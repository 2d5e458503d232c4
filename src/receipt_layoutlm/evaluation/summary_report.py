"""Evaluation report files: ``report.json``, ``report.md`` and PNG figures.

``metrics`` is any nested dict of numbers and strings (typically ``{"entity":
EntityMetrics.to_dict(), "sroie_task3": Task3Result.to_dict()}``); the Markdown renders its scalars
as key/value tables and every dict of per-name score dicts (``per_label``, ``per_key``) as a table
with one row per name. Matplotlib is imported inside the writers, with the Agg backend, so servers
and tests need no display.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from receipt_layoutlm.errors import EvaluationError

_LOSS_KEYS = ("loss", "train_loss", "eval_loss")
_SCORE_KEYS = ("f1", "eval_f1", "precision", "eval_precision", "recall", "eval_recall", "field_f1")
_LR_KEYS = ("learning_rate", "lr")


def _jsonable(value: Any) -> Any:
    """Numbers, strings, lists and dicts only; NaN/inf become null so the file is strict JSON."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return _jsonable(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value).replace("|", "\\|")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _is_row_table(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(
            isinstance(v, Mapping) and all(_is_scalar(x) for x in v.values())
            for v in value.values()
        )
    )


def _markdown_section(data: Mapping[str, Any], title: str, level: int) -> list[str]:
    lines = [f"{'#' * level} {title}", ""]
    scalars = [(k, v) for k, v in data.items() if _is_scalar(v)]
    if scalars:
        lines += _table(["metric", "value"], scalars)
    for key, value in data.items():
        if _is_scalar(value):
            continue
        if _is_row_table(value):
            columns: list[str] = []
            for row in value.values():
                columns += [c for c in row if c not in columns]
            lines += [f"{'#' * (level + 1)} {key}", ""]
            lines += _table(
                ["name", *columns],
                [[name, *(row.get(c) for c in columns)] for name, row in value.items()],
            )
        elif isinstance(value, Mapping):
            lines += _markdown_section(value, str(key), level + 1)
        elif isinstance(value, list):
            lines += [
                f"{'#' * (level + 1)} {key}",
                "",
                f"{len(value)} entries (see report.json).",
                "",
            ]
    return lines


def _curve_columns(curves: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in curves:
        columns += [k for k, v in row.items() if _is_scalar(v) and k not in columns]
    return columns


def render_markdown(
    metrics: Mapping[str, Any],
    *,
    confusion: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    curves: Sequence[Mapping[str, Any]] | None = None,
    sections: Sequence[str] = (),
) -> str:
    """The Markdown text of ``report.md`` (exposed so CLIs can print it); ``sections`` are
    Markdown blocks appended at the end (e.g. the task-3 mismatches)."""
    lines = _markdown_section(_jsonable(metrics), "Evaluation report", 1)
    if curves:
        columns = _curve_columns(curves)
        lines += ["## Learning curves", ""]
        lines += _table(columns, [[row.get(c) for c in columns] for row in curves])
    if confusion is not None and labels is not None:
        lines += ["## Confusion matrix (rows: true, columns: predicted)", ""]
        lines += _table(
            ["true \\ pred", *labels],
            [[lab, *r] for lab, r in zip(labels, confusion.tolist(), strict=True)],
        )
    for section in sections:
        lines += [section.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def plot_confusion(confusion: np.ndarray, labels: Sequence[str], path: Path) -> Path:
    """Heat map of ``confusion`` coloured by row share (recall per true label), with counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
    n = len(labels)
    side = max(5.0, 0.55 * n + 2.5)
    fig, ax = plt.subplots(figsize=(side, side * 0.9))
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Word-level confusion (colour: share of true row)")
    if n <= 40:
        for i in range(n):
            for j in range(n):
                if counts[i, j]:
                    colour = "white" if shares[i, j] > 0.6 else "black"
                    ax.text(
                        j,
                        i,
                        str(int(counts[i, j])),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color=colour,
                    )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _series(curves: Sequence[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, row in enumerate(curves):
        value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            epoch = row.get("epoch", i + 1)
            xs.append(float(epoch) if isinstance(epoch, int | float) else float(i + 1))
            ys.append(float(value))
    return xs, ys


def plot_curves(curves: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Loss, score (F1/precision/recall) and learning-rate panels against ``epoch``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    panels = [("loss", _LOSS_KEYS), ("score", _SCORE_KEYS), ("learning rate", _LR_KEYS)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (title, keys) in zip(axes, panels, strict=True):
        drawn = False
        for key in keys:
            xs, ys = _series(curves, key)
            if xs:
                ax.plot(xs, ys, marker="o", label=key)
                drawn = True
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    axes[2].ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(
    out_dir: str | Path,
    *,
    metrics: Mapping[str, Any],
    confusion: np.ndarray | None,
    labels: Sequence[str] | None,
    curves: list[dict] | None,
    sections: Sequence[str] = (),
) -> list[Path]:
    """Write ``report.json``, ``report.md`` and, when given, ``confusion_matrix.png`` and
    ``learning_curves.png`` into ``out_dir`` (created); returns the written paths.

    ``curves`` holds one dict per epoch (``epoch``, ``loss``/``eval_loss``, ``f1``/``eval_f1``,
    ``learning_rate``/``lr``…); ``labels`` names the rows/columns of ``confusion``; ``sections``
    are extra Markdown blocks for ``report.md``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if confusion is not None:
        confusion = np.asarray(confusion)
        if labels is None or confusion.shape != (len(labels), len(labels)):
            raise EvaluationError(
                f"confusion matrix of shape {confusion.shape} needs {confusion.shape[0]} labels, "
                f"got {None if labels is None else len(labels)}; pass the labels used to build it"
            )
    payload: dict[str, Any] = {"metrics": _jsonable(metrics)}
    if confusion is not None and labels is not None:
        payload["confusion_matrix"] = {"labels": list(labels), "matrix": confusion.tolist()}
    if curves:
        payload["curves"] = _jsonable(curves)
    written = []
    json_path = out / "report.json"
    json_path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written.append(json_path)
    md_path = out / "report.md"
    md_path.write_text(
        render_markdown(
            metrics, confusion=confusion, labels=labels, curves=curves, sections=sections
        ),
        encoding="utf-8",
    )
    written.append(md_path)
    if confusion is not None and labels is not None:
        written.append(plot_confusion(confusion, labels, out / "confusion_matrix.png"))
    if curves:
        written.append(plot_curves(curves, out / "learning_curves.png"))
    return written
