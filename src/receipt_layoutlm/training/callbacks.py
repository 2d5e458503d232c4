"""Trainer callbacks: JobMetric rows + metrics.jsonl per epoch, checkpoint sync to the runs
object store, graceful interruption (SIGTERM/SIGINT) and a NaN-loss guard."""

from __future__ import annotations

import json
import logging
import math
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from receipt_layoutlm.errors import TrainingError
from receipt_layoutlm.training.run_dir import RunDir, checkpoint_dirs, upload_checkpoint

log = logging.getLogger(__name__)


class InterruptFlag:
    """Set by SIGTERM (spot reclaim, ``docker stop``) or the first SIGINT; the Trainer then
    stops after the current step with a checkpoint. A second SIGINT raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    @property
    def is_set(self) -> bool:
        return self.reason is not None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            log.warning("%s: stopping after the current step with a checkpoint", reason)

    def _handle(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.is_set:
            raise KeyboardInterrupt
        self.set(f"received {signal.Signals(signum).name}")

    def install(self) -> None:
        # Signal handlers can only be set from the main thread (not under some test runners).
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


class InterruptCallback(TrainerCallback):
    """Turns the interrupt flag into a clean stop: save a checkpoint, end training."""

    def __init__(self, interrupt_flag: InterruptFlag) -> None:
        self.interrupt_flag = interrupt_flag

    def _check(self, state: Any, control: Any) -> Any:
        if self.interrupt_flag.is_set and not control.should_training_stop:
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        return self._check(state, control)

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        control = self._check(state, control)
        epoch = float(state.epoch or 0)
        if self.interrupt_flag.is_set and abs(epoch - round(epoch)) > 1e-4:
            # Stopped part-way through an epoch: that partial epoch is not evaluated or logged
            # (the resumed run finishes and evaluates it); the checkpoint is still saved.
            control.should_evaluate = False
            control.should_log = False
            control.should_save = True
        return control


def epoch_number(state: Any) -> int:
    # Evaluations happen at epoch ends (or, with max_steps, part-way through epoch 1).
    return max(1, math.ceil(round(float(state.epoch or 0), 4)))


class EpochRecorder(TrainerCallback):
    """Collects the training log and, at each evaluation, writes one metrics.jsonl row and the
    epoch's JobMetric rows (loss, learning_rate, eval precision/recall/F1 overall + per label)."""

    def __init__(
        self,
        metrics_path: Path,
        write_metrics: Callable[[list[dict[str, Any]]], None] | None,
        *,
        per_label_support: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.metrics_path = metrics_path
        self.write_metrics = write_metrics
        self.per_label_support = per_label_support
        self.pending: dict[str, float] = {}
        self.active = True
        """False for evaluations that are not an epoch's (the final one on the best model)."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> Any:
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None:
            if not math.isfinite(float(loss)):
                raise TrainingError(
                    f"training loss became {loss} at step {state.global_step}; lower the "
                    "learning rate or check the data"
                )
            self.pending["loss"] = float(loss)
        if "learning_rate" in logs:
            self.pending["learning_rate"] = float(logs["learning_rate"])
        return control

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any):
        if not state.is_world_process_zero or not self.active:
            return control
        metrics = dict(metrics or {})
        row: dict[str, Any] = {
            "epoch": epoch_number(state),
            "epoch_float": float(state.epoch or 0),
            "step": int(state.global_step),
            **self.pending,
        }
        for key, value in metrics.items():
            if isinstance(value, int | float) and key not in row:
                row[key] = float(value)
        self.pending = {}
        with self.metrics_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
        if self.write_metrics is not None:
            self.write_metrics(self._metric_rows(row))
        log.info(
            "epoch %s: loss %s, eval f1 %.4f (precision %.4f, recall %.4f)",
            row["epoch"],
            f"{row['loss']:.4f}" if "loss" in row else "n/a",
            row.get("eval_f1", float("nan")),
            row.get("eval_precision", float("nan")),
            row.get("eval_recall", float("nan")),
        )
        return control

    def _metric_rows(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        skip = {"epoch", "epoch_float", "step"}
        out = [
            {"metric_name": k, "value": v, "epoch": row["epoch"], "step": row["step"]}
            for k, v in row.items()
            if k not in skip and not k.startswith("eval_runtime") and "per_second" not in k
        ]
        if self.per_label_support is not None:
            per_label = self.per_label_support()
            if per_label:
                out.append(
                    {
                        "metric_name": "eval_per_label",
                        "value": per_label,
                        "epoch": row["epoch"],
                        "step": row["step"],
                    }
                )
        return out


class CheckpointSync(TrainerCallback):
    """After each save, upload new ``checkpoint-*`` dirs to ``<run>/checkpoints/`` and delete
    remote ones the Trainer rotated away locally, so a restart elsewhere can resume; then upload
    metrics.jsonl."""

    def __init__(self, run_dir: RunDir) -> None:
        self.run_dir = run_dir
        self.uploaded: set[str] = set()

    def sync(self) -> list[str]:
        objects, prefix = self.run_dir.objects, self.run_dir.checkpoints_prefix
        local = [p.name for p in checkpoint_dirs(self.run_dir.checkpoints)]
        for name in local:
            # The newest checkpoint may be re-saved at the same step (interrupt at an epoch end).
            if name not in self.uploaded or name == local[-1]:
                upload_checkpoint(objects, self.run_dir.checkpoints / name, f"{prefix}/{name}")
                self.uploaded.add(name)
        remote = {key[len(prefix) + 1 :].split("/", 1)[0] for key in objects.list(prefix + "/")}
        for name in remote - set(local):
            for key in list(objects.list(f"{prefix}/{name}/")):
                objects.delete(key)
        self.run_dir.upload_metrics()
        return local

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.is_world_process_zero:
            self.sync()
        return control
