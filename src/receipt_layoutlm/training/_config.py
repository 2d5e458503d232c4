"""Training hyperparameters (defaults from the architecture's Training section)."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from receipt_layoutlm.errors import TrainingError


@dataclass(frozen=True)
class TrainingConfig:
    """Hyperparameters of one training run; recorded in the Job and run.json."""

    epochs: int = 10
    """Maximum training epochs (early stopping may end sooner)."""
    batch_size: int = 8
    """Windows per device per step."""
    learning_rate: float = 5e-5
    """Peak learning rate (AdamW, linear decay)."""
    warmup_ratio: float = 0.1
    """Share of all steps spent warming the learning rate up linearly from 0."""
    early_stopping_patience: int = 2
    """Epochs without improvement of ``checkpoint_metric`` before stopping (0 disables)."""
    weight_decay: float = 0.01
    """AdamW weight decay (not applied to biases and LayerNorm weights)."""
    gradient_accumulation_steps: int = 1
    """Steps whose gradients are summed before one optimizer update."""
    label_smoothing: float = 0.0
    """Label smoothing factor of the cross-entropy loss."""
    seed: int = 42
    """Seed for model init, data order and dropout."""
    max_seq_length: int = 512
    """Tokens per window including [CLS]/[SEP] (the encoding spec's ``max_seq_length``)."""
    stride: int = 128
    """Tokens of overlap between consecutive windows of a long receipt."""
    checkpoint_metric: str = "eval_f1"
    """Metric that picks the best checkpoint and drives early stopping (``eval_`` + a key of the
    evaluation metrics, e.g. ``eval_f1`` or ``eval_loss``; losses are minimised)."""
    new_param_lr_multiplier: float = 1.0
    """Learning-rate multiplier for tensors that start fresh (2-D box embeddings and the
    classification head after a warm start)."""
    model_size: Literal["base", "tiny"] = "base"
    """Without ``pretrained``/``init_from``: ``tiny`` builds a 2-layer model from scratch (tests);
    ``base`` warm-starts from the MiniLM package (``pretrained.minilm_dir()``)."""
    pretrained: str | None = None
    """A LayoutLM checkpoint directory or hub id to fine-tune."""
    init_from: str | None = None
    """A local BERT-family checkpoint whose text encoder warm-starts a new LayoutLM."""
    box_embedding_init: Literal["random", "position", "sinusoidal"] = "random"
    """How a warm start's new 2-D box embeddings begin: ``random`` (normal, initializer_range),
    ``position`` (from the 1-D position table) or ``sinusoidal`` (``training.box_init``)."""
    init_layers: int | None = None
    """Keep only the first N encoder layers of a warm start (``init_from`` or the MiniLM
    default); None keeps them all. Fewer layers make a faster model (docs/export.md times it;
    docs/training.md gives its folds)."""
    total_picker: Literal["fit", "fit-dev", "none"] = "fit"
    """After training, ``fit`` the learned total picker on the training receipts' predictions
    (receipts with ground-truth fields, e.g. SROIE) and store it in best/; ``fit-dev`` fits it
    on the dev receipts' predictions instead (better after longer training, whose training-set
    probabilities are overconfident: docs/training.md); ``none`` skips it."""
    line_classifier: Literal["fit", "fit-dev", "none"] = "none"
    """After training, ``fit`` the company/address line classifier (``fields.line_classifier``)
    on the training receipts' predictions and store it in best/; ``fit-dev`` fits it on the dev
    receipts' instead; ``none`` (the default) skips it. ``layoutlm-cli fit-fields`` fits one onto
    a trained checkpoint, OCR'd re-renders included."""
    known_values: Literal["fit", "none"] = "none"
    """After training, ``fit`` the known merchant/address values (``fields.known_values``) on
    the training receipts' ground-truth fields — only values seen on at least 2 receipts — and
    store them in best/, so a read value that nearly spells one is replaced by it; ``none``
    (the default: the values ship inside every bundle, so it is the data owner's choice)
    skips it."""
    key_lexicon: Literal["fit", "none"] = "fit"
    """After training, ``fit`` the key lexicon (``fields.key_lexicon``: printed keys by their
    letters, each seen on at least 2 training receipts) on the training receipts' word labels
    and store it in best/, so a key the model leaves unread still finds its value; it acts only
    for label sets that name keys (``--labels native``) and none is stored for others.
    ``none`` skips it."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (smoke runs); evaluates and saves once at the end."""
    logging_steps: int = 10
    """Steps between progress log lines (JobMetric rows are per epoch regardless)."""
    save_total_limit: int = 2
    """Local checkpoints kept besides the best one."""

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (
                math.isfinite(self.learning_rate) and self.learning_rate > 0,
                f"learning_rate must be a finite positive number, got {self.learning_rate}",
            ),
            (0.0 <= self.warmup_ratio < 1.0, "warmup_ratio must be in [0, 1)"),
            (self.early_stopping_patience >= 0, "early_stopping_patience must be >= 0"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1"),
            (0.0 <= self.label_smoothing < 1.0, "label_smoothing must be in [0, 1)"),
            (self.max_seq_length >= 8, "max_seq_length must be >= 8"),
            (0 <= self.stride < self.max_seq_length - 2, "stride must be in [0, max_seq_length-2)"),
            (self.checkpoint_metric.strip() != "", "checkpoint_metric must be a metric name"),
            (
                math.isfinite(self.new_param_lr_multiplier) and self.new_param_lr_multiplier > 0,
                "new_param_lr_multiplier must be a finite positive number",
            ),
            (self.model_size in ("base", "tiny"), "model_size must be 'base' or 'tiny'"),
            (
                self.box_embedding_init in ("random", "position", "sinusoidal"),
                "box_embedding_init must be random, position or sinusoidal",
            ),
            (
                self.total_picker in ("fit", "fit-dev", "none"),
                "total_picker must be fit, fit-dev or none",
            ),
            (
                self.line_classifier in ("fit", "fit-dev", "none"),
                "line_classifier must be fit, fit-dev or none",
            ),
            (
                self.known_values in ("fit", "none"),
                "known_values must be fit or none",
            ),
            (self.key_lexicon in ("fit", "none"), "key_lexicon must be fit or none"),
            (self.max_steps is None or self.max_steps >= 1, "max_steps must be >= 1"),
            (self.init_layers is None or self.init_layers >= 1, "init_layers must be >= 1"),
            (
                self.init_layers is None
                or not (self.pretrained or (self.model_size == "tiny" and not self.init_from)),
                "init_layers needs a warm start (--init-from or --model-size base)",
            ),
            (
                not (self.pretrained and self.init_from),
                "pass --pretrained or --init-from, not both",
            ),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise TrainingError("invalid training config: " + "; ".join(problems))

    @property
    def greater_is_better(self) -> bool:
        return "loss" not in self.checkpoint_metric

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainingConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_strings(cls, values: Mapping[str, str]) -> tuple[TrainingConfig, dict[str, str]]:
        """Typed config from string values (SageMaker hyperparameters); returns the config and
        the keys it does not know (for the dataset config and the entrypoint)."""
        return _from_strings(cls, values)


def _convert(name: str, raw: Any, annotation: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("", "none", "null"):
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(name, text, inner[0])
    if origin is Literal:
        if text not in args:
            raise TrainingError(f"{name} must be one of {', '.join(map(str, args))}, got {text!r}")
        return text
    if origin is tuple:
        import json

        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = [p for p in text.split(",") if p]
        return tuple(parsed if isinstance(parsed, list) else [parsed])
    if annotation is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise TrainingError(f"{name} must be true or false, got {text!r}")
    try:
        if annotation is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError(text)
            return int(number)
        if annotation is float:
            return float(text)
    except ValueError:
        raise TrainingError(f"{name} must be a {annotation.__name__}, got {text!r}") from None
    if origin in (dict, Mapping) or annotation in (dict, Mapping) or "Mapping" in str(annotation):
        import json

        return json.loads(text)
    return text


def _from_strings(cls: type, values: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    typed = {
        k.replace("-", "_"): _convert(k, v, hints[k.replace("-", "_")])
        for k, v in values.items()
        if k.replace("-", "_") in known
    }
    rest = {k: v for k, v in values.items() if k.replace("-", "_") not in known}
    return cls(**typed), rest


def config_from_strings(cls: type, values: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
    """Any config dataclass from string values; returns it and the unknown keys."""
    return _from_strings(cls, values)
