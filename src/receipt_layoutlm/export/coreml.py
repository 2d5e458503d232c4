"""PyTorch → Core ML ML program (``torch.jit.trace`` + ``ct.convert``), then weight quantization.

Fixed shapes: every input is ``[1, S]`` (``bbox`` ``[1, S, 4]``) int32, so the Neural Engine
can run the program; the encoding's windowing guarantees no window is longer than ``S``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from receipt_layoutlm.bundle_format import mlpackage_name
from receipt_layoutlm.errors import ExportError
from receipt_layoutlm.export._wrapper import INPUT_NAMES, OUTPUT_NAME, example_inputs, exportable
from receipt_layoutlm.export.exporter import BuildContext, BundleFile
from receipt_layoutlm.export.int4_recipe import (
    DEFAULT_INT4_BLOCK_SIZE,
    DEFAULT_INT4_INT8_LAYERS,
    folded_tables,
    match_layers,
    program_weight_names,
    recipe_info,
)
from receipt_layoutlm.export.quantize import QuantizeSpec, get_quantize_mode

if TYPE_CHECKING:
    from coremltools.models import MLModel
    from transformers import LayoutLMForTokenClassification

    from receipt_layoutlm.export.options import ExportOptions

TraceWrapper = Callable[["LayoutLMForTokenClassification"], torch.nn.Module]
"""Turns the model into the traced ``(input_ids, attention_mask, bbox, token_type_ids) ->
logits`` module."""


@dataclass(frozen=True)
class CoreMLOptions:
    """Knobs of the Core ML conversion."""

    seq_length: int = 512
    """Sequence length of every input (the largest, with ``seq_lengths``)."""
    seq_lengths: tuple[int, ...] = ()
    """Enumerated sequence lengths (e.g. 128, 256): with any, every sequence input takes
    ``ct.EnumeratedShapes`` of these and ``seq_length``, so the device runs a window at the
    smallest that fits it (a fixed shape keeps short receipts eligible for the Neural Engine, a
    range would not). Several enumerated inputs need iOS18/macOS15 (coremltools). Empty: one
    fixed ``seq_length``."""
    int4_block_size: int = DEFAULT_INT4_BLOCK_SIZE
    """Block size (input channels per scale) of int4 per-block quantization; 0 = per channel."""
    int4_int8_layers: tuple[str, ...] = DEFAULT_INT4_INT8_LAYERS
    """int4 mode: ``fnmatch`` patterns of PyTorch module names whose weights stay int8."""
    weight_threshold: int = 2048
    """Weights with fewer elements stay float16 (biases, LayerNorm); coremltools' default."""


@contextlib.contextmanager
def _quiet():
    """coremltools prints progress bars and torch-version warnings on every call."""
    logger = logging.getLogger("coremltools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.redirect_stderr(io.StringIO()):
                yield
    finally:
        logger.setLevel(level)


def convert_to_coreml(
    model: LayoutLMForTokenClassification,
    output_path: str | Path,
    mode: QuantizeSpec,
    options: CoreMLOptions,
    *,
    wrap: TraceWrapper = exportable,
) -> Path:
    """Convert ``model`` and save the ``.mlpackage``; ``wrap`` builds the module that is traced
    (the float16-safe :func:`exportable` wrapper)."""
    with _quiet():
        import coremltools as ct

    output_path = Path(output_path)
    lengths = _sequence_lengths(options)
    seq = lengths[-1]
    # Before any work: a recipe naming no layer of this model is a typo, not "all int4".
    int8_modules = (
        match_layers(model, options.int4_int8_layers) if mode.weight_dtype == "int4" else []
    )
    wrapper = wrap(model)
    sample = example_inputs(seq, dtype=torch.int32)
    with torch.no_grad(), _quiet():
        traced = torch.jit.trace(wrapper, sample, strict=False, check_trace=False)
    inputs = _conversion_inputs(ct, lengths)
    target = mode.deployment_target(enumerated_lengths=len(lengths) > 1)["iOS"]
    precision = (
        ct.precision.FLOAT32 if mode.compute_precision == "float32" else ct.precision.FLOAT16
    )
    try:
        with _quiet():
            mlmodel = ct.convert(
                traced,
                inputs=inputs,
                outputs=[ct.TensorType(name=OUTPUT_NAME)],
                convert_to="mlprogram",
                compute_precision=precision,
                minimum_deployment_target=getattr(ct.target, target),
                skip_model_load=True,
            )
            if mode.weight_dtype is not None:
                mlmodel = _quantize_weights(mlmodel, mode, options, model, int8_modules)
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(f"Core ML conversion ({mode.name}) failed: {exc}") from exc
    if output_path.exists():
        shutil.rmtree(output_path)
    mlmodel.short_description = "LayoutLM receipt token classifier"
    mlmodel.user_defined_metadata["quantize"] = mode.name
    mlmodel.user_defined_metadata["seq_length"] = str(seq)
    if len(lengths) > 1:
        mlmodel.user_defined_metadata["seq_lengths"] = ",".join(map(str, lengths))
    if mode.weight_dtype == "int4":
        mlmodel.user_defined_metadata["int4_block_size"] = str(options.int4_block_size)
        mlmodel.user_defined_metadata["int4_int8_layers"] = ",".join(int8_modules)
    with _quiet():
        mlmodel.save(str(output_path))
    return output_path


def _sequence_lengths(options: CoreMLOptions) -> tuple[int, ...]:
    """The program's sequence lengths, ascending; ``seq_length`` (the encoding's window) last."""
    longer = [n for n in options.seq_lengths if n > options.seq_length or n < 1]
    if longer:
        raise ExportError(
            f"enumerated sequence lengths {longer} are outside 1..{options.seq_length} (the "
            "sequence length windows are encoded at)"
        )
    return tuple(sorted({*options.seq_lengths, options.seq_length}))


def _lengths_of(options: ExportOptions) -> CoreMLOptions:
    return CoreMLOptions(seq_length=options.seq_length, seq_lengths=options.coreml_seq_lengths)


def _conversion_inputs(ct: Any, lengths: tuple[int, ...]) -> list[Any]:
    """The four int32 inputs, ``[1, S]`` (``bbox`` ``[1, S, 4]``): one fixed S, or every length
    in ``lengths`` as enumerated shapes (the largest the default)."""
    import numpy as np

    def shape(name: str, n: int) -> tuple[int, ...]:
        return (1, n, 4) if name == "bbox" else (1, n)

    if len(lengths) == 1:
        return [ct.TensorType(name=n, shape=shape(n, lengths[0]), dtype=np.int32)
                for n in INPUT_NAMES]
    return [
        ct.TensorType(
            name=n,
            shape=ct.EnumeratedShapes(
                shapes=[shape(n, k) for k in lengths], default=shape(n, lengths[-1])
            ),
            dtype=np.int32,
        )
        for n in INPUT_NAMES
    ]


def _quantize_weights(
    mlmodel: MLModel,
    mode: QuantizeSpec,
    options: CoreMLOptions,
    model: LayoutLMForTokenClassification,
    int8_modules: list[str],
) -> MLModel:
    """Linear weight quantization of the float16 program; in int4 mode the weights of
    ``int8_modules`` (the recipe's layers) are quantized to int8 per channel instead."""
    import coremltools.optimize.coreml as cto

    int8 = cto.OpLinearQuantizerConfig(
        mode="linear_symmetric",
        dtype="int8",
        granularity="per_channel",
        weight_threshold=options.weight_threshold,
    )
    if mode.weight_dtype != "int4":
        config = cto.OptimizationConfig(global_config=int8)
        return cto.linear_quantize_weights(mlmodel, config=config)
    if options.int4_block_size > 0:
        int4 = cto.OpLinearQuantizerConfig(
            mode="linear_symmetric",
            dtype="int4",
            granularity="per_block",
            block_size=options.int4_block_size,
            weight_threshold=options.weight_threshold,
        )
    else:
        int4 = cto.OpLinearQuantizerConfig(
            mode="linear_symmetric",
            dtype="int4",
            granularity="per_channel",
            weight_threshold=options.weight_threshold,
        )
    # Threshold 0: a named layer below --weight-threshold is found too (and stays float16).
    metadata = cto.get_weights_metadata(mlmodel, weight_threshold=0)
    weights = {name: meta.val for name, meta in metadata.items()}
    op_configs: dict[str, Any] = {
        const: int8 for const in program_weight_names(model, int8_modules, weights).values()
    }
    for module, const in folded_tables(model, weights).items():
        # Blocks along the hidden axis of each position row, as for the other tables.
        rows = module in int8_modules or options.int4_block_size <= 0
        hidden = weights[const].shape[-1]
        block = 0 if rows or hidden % options.int4_block_size else options.int4_block_size
        op_configs[const] = cto.OpLinearQuantizerConfig(
            mode="linear_symmetric",
            dtype="int8" if module in int8_modules else "int4",
            granularity="per_block",
            block_size=(1, 1, block),
            weight_threshold=options.weight_threshold,
        )
    config = cto.OptimizationConfig(global_config=int4, op_name_configs=op_configs)
    return cto.linear_quantize_weights(mlmodel, config=config)


class CoreMLExporter:
    """``<model_name>.mlpackage``: the fixed-shape ML program the device runs."""

    name: ClassVar[str] = "coreml"
    manifest_keys: ClassVar[tuple[str, ...]] = ("mlpackage", "weight_quantization")
    trace_wrapper: ClassVar[TraceWrapper] = staticmethod(exportable)
    """The module traced for conversion; a test replaces it to prove the gate catches a bad one."""

    def files(self, options: ExportOptions) -> tuple[BundleFile, ...]:
        return (BundleFile.primary(self.name, mlpackage_name(options.model_name)),)

    def export_info(self, options: ExportOptions) -> dict[str, Any]:
        weight_dtype = get_quantize_mode(options.quantize).weight_dtype
        lengths = {"seq_lengths": list(_sequence_lengths(_lengths_of(options)))}
        return {
            "mlpackage": mlpackage_name(options.model_name),
            **(lengths if options.coreml_seq_lengths else {}),
            "weight_quantization": recipe_info(
                weight_dtype,
                options.int4_block_size,
                options.int4_int8_layers,
                options.weight_threshold,
            ),
        }

    def build(self, context: BuildContext) -> None:
        options = context.options
        convert_to_coreml(
            context.model,
            context.staging / mlpackage_name(options.model_name),
            context.quantize,
            CoreMLOptions(
                seq_length=options.seq_length,
                seq_lengths=options.coreml_seq_lengths,
                int4_block_size=options.int4_block_size,
                int4_int8_layers=options.int4_int8_layers,
                weight_threshold=options.weight_threshold,
            ),
            wrap=type(self).trace_wrapper,
        )

    def gate_runtimes(self) -> tuple[str, ...]:
        # Core ML predict exists only on macOS; the MIL interpreter runs the program anywhere.
        return ("coreml-mil", "coreml") if sys.platform == "darwin" else ("coreml-mil",)
