"""What a start-training payload's hyperparameters may hold: each one's type and range.

The training container types its hyperparameters through ``TrainingConfig``/``DatasetConfig``
(``receipt_layoutlm``, which this torch-free Lambda cannot import), so the same ranges are
checked here, before a Job record or a SageMaker job exists: a payload that the container would
refuse after minutes of provisioning, or that would run "forever" (``epochs: 1e300``), is one
line now. Bounds beyond the configs' own are what a real run could use, with room to spare.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from receipt_cloud.errors import ReceiptCloudError
from receipt_dynamo.names import shown
from receipt_dynamo.vocabulary import ValidationStatus


class HyperparameterError(ReceiptCloudError, ValueError):
    """A hyperparameter is of the wrong type or out of range."""


_LABEL = re.compile(r"[A-Z][A-Z0-9_]{0,63}\Z")
_METRIC = re.compile(r"eval_[a-z0-9_]{1,60}\Z")
MAX_TEXT = 256


@dataclass(frozen=True)
class Rule:
    """How one hyperparameter is checked."""

    kind: str
    """``int``, ``number``, ``bool``, ``choice``, ``metric``, ``merges`` or ``labels``."""
    low: float | None = None
    """Smallest allowed number (inclusive)."""
    high: float | None = None
    """Largest allowed number (inclusive unless ``high_open``)."""
    high_open: bool = False
    """``high`` itself is not allowed (ratios in [0, 1))."""
    choices: tuple[str, ...] = ()
    """Allowed values of a ``choice`` (and the items of a ``labels`` list of statuses)."""


_RATIO = Rule("number", 0.0, 1.0, high_open=True)
_SEED = Rule("int", 0, 2**32 - 1)
RULES: dict[str, Rule] = {
    "epochs": Rule("int", 1, 1000),
    "batch_size": Rule("int", 1, 4096),
    "learning_rate": Rule("number", 1e-12, 1.0),
    "warmup_ratio": _RATIO,
    "early_stopping_patience": Rule("int", 0, 1000),
    "merge_amounts": Rule("bool"),
    "weight_decay": Rule("number", 0.0, 10.0),
    "gradient_accumulation_steps": Rule("int", 1, 1024),
    "label_smoothing": _RATIO,
    "seed": _SEED,
    "max_seq_length": Rule("int", 8, 4096),
    "stride": Rule("int", 0, 4093),
    "checkpoint_metric": Rule("metric"),
    "new_param_lr_multiplier": Rule("number", 1e-6, 1e4),
    "max_steps": Rule("int", 1, 10**7),
    "logging_steps": Rule("int", 1, 10**6),
    "save_total_limit": Rule("int", 1, 100),
    "model_size": Rule("choice", choices=("base", "tiny")),
    "dev_ratio": _RATIO,
    "split_seed": _SEED,
    "unverified": Rule("choice", choices=("o", "mask")),
    "label_merges": Rule("merges"),
    "allowed_labels": Rule("labels"),
    "statuses": Rule("labels", choices=tuple(s.value for s in ValidationStatus)),
    "downsample_empty": Rule("number", 0.0, 1.0),
    "init_layers": Rule("int", 1, 48),
    "box_embedding_init": Rule("choice", choices=("random", "position", "sinusoidal")),
    "total_picker": Rule("choice", choices=("fit", "fit-dev", "none")),
    "line_classifier": Rule("choice", choices=("fit", "fit-dev", "none")),
    "known_values": Rule("choice", choices=("fit", "none")),
    "key_lexicon": Rule("choice", choices=("fit", "none")),
}
"""Every hyperparameter a payload may set (all are ``TrainingConfig``/``DatasetConfig`` fields the
container reads) and its rule; anything else is refused."""


def number_of(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError):
        raise HyperparameterError(
            f"hyperparameter {name} must be JSON, got {shown(value)}"
        ) from None


def _labels(name: str, value: Any, rule: Rule) -> str:
    items = _json(name, value)
    allowed = rule.choices
    ok = isinstance(items, list) and len(items) <= 200 and all(
        isinstance(i, str) and (i in allowed if allowed else _LABEL.match(i)) for i in items
    )
    if not ok:
        what = f"one of {', '.join(allowed)}" if allowed else "upper-case label names"
        raise HyperparameterError(f"hyperparameter {name} must be a list of {what}, got "
                                  f"{shown(value)}")
    return json.dumps(items)


def _merges(name: str, value: Any) -> str:
    merges = _json(name, value)
    ok = isinstance(merges, dict) and len(merges) <= 200 and all(
        isinstance(k, str) and isinstance(v, str) and _LABEL.match(k) and _LABEL.match(v)
        for k, v in merges.items()
    )
    if not ok:
        raise HyperparameterError(
            f'hyperparameter {name} must be an object {{"ORIGINAL": "MERGED"}} of upper-case '
            f"label names (O drops a label), got {shown(value)}"
        )
    return json.dumps(merges)


def _ranged(name: str, value: Any, rule: Rule) -> str:
    number = number_of(value)
    high = "" if rule.high is None else f"{rule.high:g}"
    span = f"[{rule.low:g}, {high}{')' if rule.high_open else ']'}"
    wanted = f"an integer in {span}" if rule.kind == "int" else f"a number in {span}"
    bad = number is None or not math.isfinite(number)
    if not bad and rule.kind == "int":
        bad = not number.is_integer()
    if not bad and rule.low is not None:
        bad = number < rule.low
    if not bad and rule.high is not None:
        bad = number >= rule.high if rule.high_open else number > rule.high
    if bad:
        raise HyperparameterError(f"hyperparameter {name} must be {wanted}, got {shown(value)}")
    assert number is not None
    return str(int(number)) if rule.kind == "int" else repr(number)


def hyperparameter_string(name: str, value: Any) -> str:
    """``value`` checked against ``name``'s rule, as the string SageMaker passes on."""
    rule = RULES[name]
    if rule.kind == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower()
        raise HyperparameterError(f"hyperparameter {name} must be true or false, got "
                                  f"{shown(value)}")
    if rule.kind == "choice":
        if value not in rule.choices:
            raise HyperparameterError(f"hyperparameter {name} must be one of "
                                      f"{', '.join(rule.choices)}, got {shown(value)}")
        return str(value)
    if rule.kind == "metric":
        if not isinstance(value, str) or not _METRIC.match(value):
            raise HyperparameterError(
                f"hyperparameter {name} must be eval_ and a metric name (eval_f1, eval_loss), "
                f"got {shown(value)}"
            )
        return value
    if rule.kind == "merges":
        return _merges(name, value)
    if rule.kind == "labels":
        return _labels(name, value, rule)
    return _ranged(name, value, rule)


def check_combination(values: dict[str, str], *, warm_start_given: bool = False) -> None:
    """Rules between hyperparameters (the container's ``TrainingConfig`` checks them too);
    ``warm_start_given``: the payload names an ``init_from`` checkpoint."""
    if "init_layers" in values and values.get("model_size") == "tiny" and not warm_start_given:
        raise HyperparameterError(
            "hyperparameter init_layers keeps layers of a warm start: use model_size base "
            "(the default) or name the checkpoint in init_from"
        )
    length = int(values.get("max_seq_length", "512"))
    stride = int(values.get("stride", "128"))
    if stride >= length - 2:
        raise HyperparameterError(
            f"hyperparameter stride {stride} must be below max_seq_length - 2 ({length - 2})"
        )
