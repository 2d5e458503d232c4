"""The Hugging Face Trainer this package trains with: its arguments and a subclass with a
learning-rate multiplier for fresh tensors, dataset-ordered evaluation and, for a mix of
datasets, the per-dataset label-mask loss (``training.label_masks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from receipt_layoutlm.training._config import TrainingConfig


def training_arguments(config: TrainingConfig, checkpoints_dir: Path, *, main: bool) -> Any:
    """``TrainingArguments`` of ``config``: evaluate and save every epoch (or once at
    ``max_steps``), keep the best by ``checkpoint_metric``."""
    import torch
    from transformers import TrainingArguments

    steps_mode = config.max_steps is not None
    strategy = "steps" if steps_mode else "epoch"
    return TrainingArguments(
        output_dir=str(checkpoints_dir),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if steps_mode else -1,
        learning_rate=config.learning_rate,
        # Deliberate: transformers 5 folded warmup_ratio into warmup_steps, which reads a value
        # below 1 as a share of all steps (warmup_ratio is validated to [0, 1)).
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        label_smoothing_factor=config.label_smoothing,
        seed=config.seed,
        eval_strategy=strategy,
        save_strategy=strategy,
        logging_strategy=strategy,
        eval_steps=config.max_steps if steps_mode else None,
        save_steps=config.max_steps if steps_mode else 500,
        logging_steps=config.max_steps if steps_mode else config.logging_steps,
        load_best_model_at_end=True,
        metric_for_best_model=config.checkpoint_metric,
        greater_is_better=config.greater_is_better,
        save_total_limit=config.save_total_limit,
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        remove_unused_columns=False,
        report_to="none",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        # The pooler's output is unused for token classification; DDP must tolerate that.
        ddp_find_unused_parameters=True,
        disable_tqdm=not main,
        **_mixed_precision(),
    )


def _mixed_precision() -> dict[str, bool]:
    import torch

    if not torch.cuda.is_available():
        return {}
    if torch.cuda.is_bf16_supported():
        return {"bf16": True}
    return {"fp16": True}


def make_trainer_class() -> type:
    from transformers import Trainer

    class LayoutLMTrainer(Trainer):
        """Trainer with a learning-rate multiplier for freshly initialised tensors."""

        new_param_names: frozenset[str] = frozenset()
        new_param_lr_multiplier: float = 1.0
        label_masks: Any = None
        """``DatasetLabelMasks`` of a ``--mix`` run (windows carry a ``dataset`` column)."""

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            if "dataset" not in inputs:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            import torch

            from receipt_layoutlm.training.label_masks import masked_token_loss

            inputs = dict(inputs)
            dataset = inputs.pop("dataset")
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            masks = self.label_masks
            rows = torch.tensor(masks.unannotated, device=labels.device)[dataset]
            # The Trainer divides a per-batch mean by the accumulation steps itself, unless it
            # believes the loss was already normalised over the accumulated batch.
            scaled = self.model_accepts_loss_kwargs and num_items_in_batch is not None
            loss = masked_token_loss(
                outputs.logits, labels, rows, masks.outside_id,
                reduction="sum" if scaled else "mean",
            )
            if scaled:
                loss = loss / num_items_in_batch
            return (loss, outputs) if return_outputs else loss

        def _get_eval_sampler(self, eval_dataset: Any) -> Any:
            # transformers groups EVAL batches by length too under group_by_length; word-level
            # decoding needs the logits in dataset order (receipt by receipt, window by window).
            from torch.utils.data import SequentialSampler

            if eval_dataset is None:
                return None
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

        def create_optimizer(self, model: Any = None) -> Any:
            if self.optimizer is not None or self.new_param_lr_multiplier == 1.0:
                return super().create_optimizer(model)
            opt_model = self.model if model is None else model
            decay = set(self.get_decay_parameter_names(opt_model))
            base_lr = self.args.learning_rate
            groups = []
            for is_new in (False, True):
                for use_decay in (True, False):
                    params = [
                        p
                        for n, p in opt_model.named_parameters()
                        if p.requires_grad
                        and (n in decay) == use_decay
                        and (n.removeprefix("module.") in self.new_param_names) == is_new
                    ]
                    if params:
                        groups.append(
                            {
                                "params": params,
                                "weight_decay": self.args.weight_decay if use_decay else 0.0,
                                "lr": base_lr * (self.new_param_lr_multiplier if is_new else 1.0),
                            }
                        )
            optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            self.optimizer = optimizer_cls(groups, **kwargs)
            return self.optimizer

    return LayoutLMTrainer
