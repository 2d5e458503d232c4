"""The int4 mode's recipe: which layers keep 8-bit weights and how the rest is blocked.

Linear int4 on every weight costs a fine-tuned LayoutLM about 5 % of its word labels; the loss is
concentrated in a few layers. The recipe names those layers (``fnmatch`` patterns over the
PyTorch module names, e.g. ``classifier`` or ``layoutlm.encoder.layer.*.output.dense``); their
weights are quantized to int8 per channel, everything else to int4 per block. The default is
the measured one (``benchmarks/int4_sensitivity_bench.py``, docs/export.md).

Names in the Core ML program: the converter names a weight constant after the traced parameter
path (``model_layoutlm_encoder_layer_0_output_dense_weight_to_fp16``). A weight it folded into
another constant (the 1-D position table, sliced to the sequence length) is found by value.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.errors import ExportError

if TYPE_CHECKING:
    import numpy as np
    import torch

DEFAULT_INT4_BLOCK_SIZE = 32
"""Input channels per int4 scale (coremltools' default block)."""
DEFAULT_INT4_INT8_LAYERS: tuple[str, ...] = (
    "layoutlm.encoder.layer.[0-2].intermediate.dense",
    "layoutlm.encoder.layer.[01].output.dense",
)
"""Layers kept at int8 in int4 mode by default: the five Linear layers most sensitive to int4 on
a fine-tuned SROIE model (docs/export.md): +1.3 MB on 13.7 MB, and label flips on held-out
receipts halved (99.36 % vs 98.90 % agreement on confident words, all at int4)."""


def parse_layers(text: str) -> tuple[str, ...]:
    """``"a,b"`` → ``("a", "b")``; ``""`` or ``"none"`` → ``()`` (every layer at int4)."""
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    return () if parts == ("none",) else parts


def quantizable_modules(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``{module name: weight}`` of every Linear and Embedding the exported program holds (the
    weights quantization sees); the pooler is left out: token classification never reads it,
    so the traced program has no such weight."""
    import torch

    return {
        name: module.weight
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear | torch.nn.Embedding)
        and ".pooler." not in f".{name}."
    }


def match_layers(model: torch.nn.Module, patterns: Sequence[str]) -> list[str]:
    """The module names matched by ``patterns`` (in model order); a pattern that matches no
    Linear/Embedding module is an :class:`ExportError` (a typo must not silently give int4)."""
    names = list(quantizable_modules(model))
    matched: set[str] = set()
    for pattern in patterns:
        hits = fnmatch.filter(names, pattern)
        if not hits:
            raise ExportError(
                f"--int4-int8-layers: {pattern!r} matches no Linear/Embedding layer of the "
                f"model (e.g. {', '.join(names[:3])}, …)"
            )
        matched.update(hits)
    return [name for name in names if name in matched]


def _flat(name: str) -> str:
    return name.replace(".", "_") + "_weight"


def find_program_weight(
    module: str, weight: torch.Tensor, program_weights: Mapping[str, np.ndarray]
) -> list[str]:
    """Names of the weight constants in the Core ML program that hold ``module``'s weight.

    ``program_weights`` maps each weight constant of the float program to its value
    (``coremltools.optimize.coreml.get_weights_metadata``). A constant matches by its name (the
    flattened parameter path, the wrapper's prefix and a ``_to_fp16`` suffix allowed) or, failing
    that, by value (the converter folds a sliced table into a new constant)."""
    flat = _flat(module)
    by_name = [
        const
        for const in program_weights
        if (base := const.removesuffix("_to_fp16")) == flat or base.endswith("_" + flat)
    ]
    return by_name or _by_value(weight, program_weights)


def program_weight_names(
    model: torch.nn.Module, modules: Sequence[str], program_weights: Mapping[str, np.ndarray]
) -> dict[str, str]:
    """``{module name: name of its weight constant in the Core ML program}`` for ``modules``;
    one not found exactly once is an :class:`ExportError`."""
    weights = quantizable_modules(model)
    out: dict[str, str] = {}
    for module in modules:
        found = find_program_weight(module, weights[module], program_weights)
        if len(found) != 1:
            raise ExportError(
                f"int4 recipe: cannot find the weight of layer {module} in the Core ML program "
                f"({len(found)} candidates); the converter's naming has changed"
            )
        out[module] = found[0]
    return out


def folded_tables(
    model: torch.nn.Module, program_weights: Mapping[str, np.ndarray]
) -> dict[str, str]:
    """``{embedding module: constant}`` for tables the converter folded into a ``[1, S, H]``
    constant (the 1-D position table: its ids are constant, so the lookup is precomputed).

    coremltools blocks such a constant along its sequence axis (it feeds an ``add``, not a
    ``gather``): one int4 scale per 32 positions × all H columns, which alone costs a fine-tuned
    model ~6 % of its word labels. The caller gives these constants explicit per-row blocks."""
    import torch

    out = {}
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Embedding):
            continue
        found = find_program_weight(name, module.weight, program_weights)
        if len(found) == 1 and len(program_weights[found[0]].shape) == 3:
            out[name] = found[0]
    return out


def _by_value(weight: torch.Tensor, program_weights: Mapping[str, np.ndarray]) -> list[str]:
    import numpy as np

    table = weight.detach().float().numpy().astype(np.float16)
    found = []
    for const, value in program_weights.items():
        value = np.asarray(value)
        if value.ndim < 2 or value.shape[-1] != table.shape[-1] or value.dtype != np.float16:
            continue
        rows = value.reshape(-1, table.shape[-1])
        if len(rows) <= len(table) and np.array_equal(rows, table[: len(rows)]):
            found.append(const)
    return found


def recipe_info(
    weight_dtype: str | None, block_size: int, int8_layers: Sequence[str], weight_threshold: int
) -> dict[str, Any] | None:
    """What the manifest and ``config.json`` record about the Core ML weights (None: float)."""
    if weight_dtype is None:
        return None
    info: dict[str, Any] = {"dtype": weight_dtype, "weight_threshold": weight_threshold}
    if weight_dtype == "int4":
        info["granularity"] = "per_block" if block_size > 0 else "per_channel"
        info["block_size"] = block_size
        info["int8_layers"] = list(int8_layers)
    else:
        info["granularity"] = "per_channel"
    return info
