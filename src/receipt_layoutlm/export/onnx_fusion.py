"""Fuse the exported graph's attention into ONNX Runtime's contrib ``Attention`` op.

ONNX Runtime's transformer optimizer (``onnxruntime.transformers.optimizer``, model type
``bert``) fuses LayerNorm and GELU in the torch.export graph by itself, but its attention
pattern is the one the TorchScript exporter used to write, and two details of today's graph
keep it from matching:

- the mask: it follows ``Add ← Mul ← Sub ← Cast ← Unsqueeze ← Unsqueeze ← attention_mask``;
  the exporter folds the two unsqueezes (``[:, None, None, :]``) into one with axes ``[1, 2]``;
- the score scale: it looks for the mask's ``Mul`` as the first ``Mul`` feeding the scores'
  ``Add``, and Hugging Face's eager attention scales the scores with a ``Mul`` too, which comes
  first; a ``Div`` by the reciprocal (the TorchScript graph's form) is what it expects there.

:func:`fuse_attention` rewrites those two spots (same arithmetic: a division by ``1/c`` instead
of a product with ``c``, last-bit differences only), runs the optimizer, and keeps the fused
graph only when every layer got its ``Attention`` node; otherwise the plain graph stays and the
reason is logged, so an ONNX Runtime whose patterns moved costs speed, never a bundle.

The fused ``Attention`` reads the mask as per-row lengths (its mask index, a ``ReduceSum``):
right padding only, which is what the encoding spec makes (``EncodedWindow.padded``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.errors import ExportError

log = logging.getLogger(__name__)

MASK_INPUT = "attention_mask"
FUSED_OPS = ("Attention", "SkipLayerNormalization", "BiasGelu", "Gelu", "EmbedLayerNormalization")
"""The contrib ops counted in :attr:`FusionReport.fused` (what the optimizer can emit here)."""


@dataclass(frozen=True)
class FusionReport:
    """What :func:`fuse_attention` did to one graph."""

    fused: dict[str, int] = field(default_factory=dict)
    """Contrib op → number of nodes in the written graph (``Attention`` is one per layer)."""
    rewrites: dict[str, int] = field(default_factory=dict)
    """``mask_unsqueeze`` / ``score_scale``: nodes rewritten for the optimizer's pattern."""
    applied: bool = False
    """True when the written graph is the fused one; False when the plain graph was kept."""
    reason: str = ""
    """Why the plain graph was kept (empty when fused)."""


def _initializer_value(graph: Any, name: str) -> Any:
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for node in graph.node:
        if node.op_type == "Constant" and name in node.output:
            return numpy_helper.to_array(node.attribute[0].t)
    return None


def _split_mask_unsqueeze(graph: Any) -> int:
    """``Unsqueeze(attention_mask, [1, 2])`` → two unsqueezes, one axis each."""
    import numpy as np
    from onnx import helper, numpy_helper

    count = 0
    for node in list(graph.node):
        if node.op_type != "Unsqueeze" or node.input[0] != MASK_INPUT or len(node.input) < 2:
            continue
        axes = _initializer_value(graph, node.input[1])
        if axes is None or [int(a) for a in np.ravel(axes)] != [1, 2]:
            continue
        names = [f"{node.name or 'mask'}_axis_{axis}" for axis in (1, 2)]
        for name, axis in zip(names, (1, 2), strict=True):
            graph.initializer.append(numpy_helper.from_array(np.array([axis], np.int64), name))
        middle = f"{node.output[0]}_axis_1"
        first = helper.make_node("Unsqueeze", [MASK_INPUT, names[0]], [middle], name=f"{middle}_0")
        second = helper.make_node("Unsqueeze", [middle, names[1]], list(node.output),
                                  name=f"{middle}_1")
        position = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(position, second)
        graph.node.insert(position, first)
        count += 1
    return count


def _scale_as_division(graph: Any) -> int:
    """``Mul(MatMul(Transpose, Transpose), c)`` (the attention scores times a scalar) →
    ``Div(…, 1/c)``."""
    from onnx import numpy_helper

    producers = {out: node for node in graph.node for out in node.output}
    reciprocals: dict[str, str] = {}
    count = 0
    for node in graph.node:
        if node.op_type != "Mul" or len(node.input) != 2:
            continue
        scores = producers.get(node.input[0])
        if scores is None or scores.op_type != "MatMul":
            continue
        if any(getattr(producers.get(i), "op_type", None) != "Transpose" for i in scores.input):
            continue
        scale = _initializer_value(graph, node.input[1])
        if scale is None or scale.size != 1:
            continue
        if node.input[1] not in reciprocals:
            name = f"{node.input[1]}_reciprocal"
            graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(scale.dtype),
                                                             name))
            reciprocals[node.input[1]] = name
        node.op_type = "Div"
        node.input[1] = reciprocals[node.input[1]]
        count += 1
    return count


def fuse_attention(
    source: str | Path, destination: str | Path, *, num_heads: int, hidden_size: int,
    num_layers: int,
) -> FusionReport:
    """Write ``source`` with fused attention (see the module docstring) to ``destination``;
    when the optimizer does not give one ``Attention`` per layer, ``destination`` is a copy of
    ``source`` and the report says why."""
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    source, destination = Path(source), Path(destination)
    model = onnx.load(str(source))
    rewrites = {
        "mask_unsqueeze": _split_mask_unsqueeze(model.graph),
        "score_scale": _scale_as_division(model.graph),
    }
    try:
        # opt_level 0: only the optimizer's own fusions, no ORT session pass that could write
        # machine-specific kernels into a file that ships to other machines.
        optimized = optimize_model(
            model, model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0
        )
    except Exception as exc:  # an optimizer failure must not cost the bundle
        return _keep_plain(source, destination, rewrites, {}, f"optimizer failed: {exc}")
    stats = optimized.get_fused_operator_statistics()
    fused = {op: int(stats.get(op, 0)) for op in FUSED_OPS if stats.get(op)}
    if fused.get("Attention", 0) != num_layers:
        return _keep_plain(
            source, destination, rewrites, fused,
            f"{fused.get('Attention', 0)} Attention nodes for {num_layers} layers",
        )
    try:
        optimized.save_model_to_file(str(destination), use_external_data_format=False)
    except Exception as exc:
        raise ExportError(f"could not write the fused ONNX graph {destination}: {exc}") from exc
    return FusionReport(fused=fused, rewrites=rewrites, applied=True)


def _keep_plain(
    source: Path, destination: Path, rewrites: dict[str, int], fused: dict[str, int], reason: str
) -> FusionReport:
    log.warning("ONNX attention fusion not applied (%s); the bundle keeps the plain graph", reason)
    if source != destination:
        shutil.copyfile(source, destination)
    return FusionReport(fused=fused, rewrites=rewrites, applied=False, reason=reason)
