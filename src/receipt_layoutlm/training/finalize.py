"""The last phase of a training run: pick the best epoch, save best/, write the report and
run.json, upload everything and mark the Job succeeded."""

from __future__ import annotations

import logging
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_dynamo.vocabulary import JobStatus
from receipt_layoutlm.encoding import ENCODING_VERSION
from receipt_layoutlm.errors import TrainingError
from receipt_layoutlm.training.key_lexicon_fit import fit_key_lexicon
from receipt_layoutlm.training.known_values_fit import fit_known_values
from receipt_layoutlm.training.phases import EncodedData, Fitting, PreparedData
from receipt_layoutlm.training.run_context import RunContext, TrainResult
from receipt_layoutlm.versions import library_versions

if TYPE_CHECKING:
    from receipt_layoutlm.runtime import Runtime

log = logging.getLogger(__name__)


def metric_key(checkpoint_metric: str) -> str:
    """The metrics.jsonl key of a ``--checkpoint-metric`` (``eval_`` prefixed)."""
    name = checkpoint_metric
    return name if name.startswith("eval_") else f"eval_{name}"


def best_row(rows: list[dict[str, Any]], checkpoint_metric: str, greater_is_better: bool) -> dict:
    """The metrics.jsonl row of the best evaluation by ``checkpoint_metric``."""
    key = metric_key(checkpoint_metric)
    scored = [r for r in rows if key in r]
    if not scored:
        raise TrainingError(f"no evaluation produced {key}; nothing to pick a best model by")
    pick = max if greater_is_better else min
    return pick(scored, key=lambda r: r[key])


def _results(ctx: RunContext, rows: list[dict[str, Any]], final: dict[str, Any]) -> dict:
    key = metric_key(ctx.config.checkpoint_metric)
    best = best_row(rows, ctx.config.checkpoint_metric, ctx.config.greater_is_better)
    return {
        "best_f1": float(best.get("eval_f1", final.get("eval_f1", 0.0))),
        "best_epoch": int(best["epoch"]),
        "best_step": int(best["step"]),
        "best_metric": {key: float(best[key])},
        "final_eval": {k: float(v) for k, v in final.items() if isinstance(v, int | float)},
        "epochs_run": len(rows),
    }


def _run_record(
    ctx: RunContext,
    data: PreparedData,
    encoded: EncodedData,
    fit: Fitting,
    resume_from: Path | None,
) -> dict[str, Any]:
    init = encoded.init
    return {
        "job_name": ctx.job_name,
        "job_id": ctx.recorder.job.job_id,
        "config": ctx.config.to_dict(),
        "dataset_config": ctx.dataset_config.to_dict(),
        "encoding": ctx.encoding_config.to_dict(),
        "dataset": data.info,
        "split": data.split.to_dict(),
        "model": {
            "source": init.source,
            "new_tensors": init.new_tensors if init.copied_tensors else ["<all>"],
            "parameters": int(sum(p.numel() for p in fit.trainer.model.parameters())),
        },
        "versions": {
            "python": platform.python_version(),
            "encoding": ENCODING_VERSION,
            **library_versions(),
        },
        "resumed_from": str(resume_from) if resume_from else None,
    }


def _save_best(
    ctx: RunContext, data: PreparedData, encoded: EncodedData, fit: Fitting, results: dict
) -> None:
    from receipt_layoutlm.checkpoint import save_checkpoint

    best_dir = ctx.run_dir.best
    if best_dir.exists():
        shutil.rmtree(best_dir)
    save_checkpoint(
        best_dir,
        fit.trainer.model,
        encoded.init.tokenizer,
        data.labels,
        ctx.encoding_config,
        extra_meta={
            "job_name": ctx.job_name,
            "job_id": ctx.recorder.job.job_id,
            "best_epoch": results["best_epoch"],
            "best_f1": results["best_f1"],
            "split_hashes": data.split.hashes,
            "merges": ctx.dataset_config.merges,
            # evaluate --split-side and the export parity gate read the split and data back.
            "dataset_config": ctx.dataset_config.to_dict(),
            # evaluate --label-set reads a mix's per-dataset labels back.
            **({"dataset_labels": data.dataset_labels} if data.dataset_labels else {}),
        },
    )


def _fit_line_classifier(ctx: RunContext, data: PreparedData) -> dict[str, Any] | None:
    """Fit the line classifier on the best model's predictions for the training (``fit``) or
    dev (``fit-dev``) receipts and store it in best/; None when the run does not fit one or
    nothing could be fitted."""
    if ctx.config.line_classifier == "none":
        return None
    from receipt_layoutlm.training.line_classifier_fit import (
        fit_line_classifier,
        runtime_line_examples,
    )

    source = data.split.dev if ctx.config.line_classifier == "fit-dev" else data.split.train
    return _fit_on_best(
        ctx, "line_classifier", lambda runtime: fit_line_classifier(
            runtime_line_examples(runtime, source)
        )
    )


_ANNOTATION_FITS: dict[str, Callable[[Any], Any]] = {
    "known_values": fit_known_values,
    "key_lexicon": fit_key_lexicon,
}
"""The fitted field files read from the receipts' annotations alone (no model): the
``TrainingConfig`` field that asks for one → the function that fits it."""


def _fit_from_annotations(ctx: RunContext, data: PreparedData, name: str) -> dict[str, Any] | None:
    """Fit ``name`` (a key of :data:`_ANNOTATION_FITS`: the known merchant/address values, the
    key lexicon) on the TRAINING receipts' annotations (dev receipts stay out, so ``evaluate
    --split-side dev`` stays honest) and store it in best/; None when the run does not fit it
    or the receipts hold nothing to fit it on."""
    if getattr(ctx.config, name) == "none":
        return None
    fitted = _ANNOTATION_FITS[name](data.split.train)
    if fitted is None:
        return None
    fitted.save(ctx.run_dir.best)
    log.info("%s fitted on %s", name.replace("_", " "), dict(fitted.fitted_on))
    return dict(fitted.fitted_on)


def _fit_picker(ctx: RunContext, data: PreparedData) -> dict[str, Any] | None:
    """Fit the total picker on the best model's predictions for the training receipts
    (``fit``) or the dev receipts (``fit-dev``: predictions the model was not trained on, so
    its probabilities are as confident as on new receipts) and store it in best/; None when
    the run does not fit one or nothing could be fitted."""
    from receipt_layoutlm.fields import FIELD_LABELS

    total_labels = set(FIELD_LABELS["total"])
    has_total_label = any(t[2:] in total_labels for t in data.labels if t != "O")
    source = data.split.dev if ctx.config.total_picker == "fit-dev" else data.split.train
    fit_docs = [d for d in source if (d.fields or {}).get("total")]
    if ctx.config.total_picker == "none" or not has_total_label or not fit_docs:
        return None
    from receipt_layoutlm.training.total_picker_fit import fit_total_picker, runtime_examples

    return _fit_on_best(
        ctx, "total_picker", lambda runtime: fit_total_picker(runtime_examples(runtime, fit_docs))
    )


def _fit_on_best(ctx: RunContext, what: str, fit: Callable[[Runtime], Any]) -> dict | None:
    """Run ``fit`` on the best model's runtime and store what it fitted in best/ (``save``),
    timed as ``<what>_s``; its ``fitted_on`` counts, or None when nothing could be fitted."""
    from receipt_layoutlm.runtime import load_runtime

    started = time.monotonic()
    fitted = fit(load_runtime("torch", ctx.run_dir.best))
    if fitted is None:
        return None
    fitted.save(ctx.run_dir.best)
    ctx.timings[f"{what}_s"] = time.monotonic() - started
    log.info("%s fitted on %s", what.replace("_", " "), dict(fitted.fitted_on))
    return dict(fitted.fitted_on)


def _write_report(
    ctx: RunContext, labels: list[str], fit: Fitting, rows: list[dict], results: dict
) -> list[Path]:
    from receipt_layoutlm.evaluation import confusion_matrix, write_report

    words = fit.metrics_fn.last
    if words is None:
        return []
    entities = ["O", *sorted({t[2:] for t in labels if t != "O"})]
    true_flat = [t for seq in words.true_tags for t in seq]
    pred_flat = [t for seq in words.pred_tags for t in seq]
    curves = [
        {
            "epoch": r["epoch"],
            "loss": r.get("loss"),
            "eval_loss": r.get("eval_loss"),
            "f1": r.get("eval_f1"),
            "learning_rate": r.get("learning_rate"),
        }
        for r in rows
    ]
    return write_report(
        ctx.run_dir.root,
        metrics={"entity": words.metrics.to_dict(), "best": results},
        confusion=confusion_matrix(true_flat, pred_flat, entities),
        labels=entities,
        curves=curves,
    )


def finalize(
    ctx: RunContext,
    data: PreparedData,
    encoded: EncodedData,
    fit: Fitting,
    resume_from: Path | None,
    steps_this_run: int,
) -> TrainResult:
    """Evaluate the best model once more, then (rank 0) save, report, upload and record it."""
    run_dir = ctx.run_dir
    rows = run_dir.read_rows()
    best_metric = metric_key(ctx.config.checkpoint_metric)
    fit.recorder_cb.active = False  # the final evaluation is not an epoch's
    results = _results(ctx, rows, fit.trainer.evaluate())
    if not ctx.main:
        return TrainResult(
            job=ctx.recorder.job, status=JobStatus.SUCCEEDED, output_dir=run_dir.root, epochs=rows
        )
    run = _run_record(ctx, data, encoded, fit, resume_from)
    _save_best(ctx, data, encoded, fit, results)
    run["total_picker"] = _fit_picker(ctx, data)
    run["line_classifier"] = _fit_line_classifier(ctx, data)
    for name in _ANNOTATION_FITS:
        run[name] = _fit_from_annotations(ctx, data, name)
    report_files = _write_report(ctx, data.labels, fit, rows, results)
    fit.sync.sync()  # the last checkpoints and metrics.jsonl
    best_uri = run_dir.upload_best()
    results["best_checkpoint_s3_path"] = best_uri
    results["run_uri"] = run_dir.objects.uri(run_dir.prefix)
    ctx.timings["total_s"] = time.monotonic() - ctx.started
    run["timings"] = ctx.timings
    run["results"] = results
    # run.json goes up once, after best/ verified, so it names the checkpoint's URI.
    run_dir.upload_files([run_dir.write_run(run), *report_files])
    if ctx.best_model_dir is not None:
        shutil.copytree(run_dir.best, ctx.best_model_dir, dirs_exist_ok=True)
    job = ctx.recorder.update(status=JobStatus.SUCCEEDED, status_message=None, results=results)
    log.info(
        "job %s succeeded: best %s %.4f at epoch %d → %s",
        ctx.job_name,
        best_metric,
        results["best_metric"][best_metric],
        results["best_epoch"],
        best_uri,
    )
    return TrainResult(
        job=job,
        status=JobStatus.SUCCEEDED,
        output_dir=run_dir.root,
        best_f1=results["best_f1"],
        best_epoch=results["best_epoch"],
        best_checkpoint_uri=best_uri,
        epochs=rows,
        resumed_from=str(resume_from) if resume_from else None,
        steps_this_run=steps_this_run,
    )
