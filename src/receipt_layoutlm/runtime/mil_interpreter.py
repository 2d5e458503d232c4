"""Run a saved Core ML ML program on any OS with coremltools' own op semantics.

Core ML's ``predict`` exists only on macOS. Elsewhere, the ``.mlpackage`` is re-loaded with
coremltools' MIL loader (``converters.mil.frontend.milproto``) and executed op by op through
each op's ``value_inference()`` — the numpy reference semantics coremltools uses for constant
folding — with every result cast to the dtype the program declares for it. So a float16 program
really computes in float16 and shows float16 failures (the all-NaN mask bug) on Linux.

Speed: constants and the materialised ``constexpr_*`` (quantized) weights are computed once per
interpreter and cached; ``linear`` and ``matmul`` accumulate in float32 through BLAS and round the
result to the declared dtype (numpy has no float16 BLAS; Apple's float16 kernels also accumulate
in higher precision). Everything else is the op's reference implementation.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from receipt_layoutlm.errors import ExportError

log = logging.getLogger(__name__)


class _Value:
    """Stands in for coremltools' builtin value wrapper: ops read only ``var._sym_val.val``."""

    __slots__ = ("val",)

    def __init__(self, val: Any) -> None:
        self.val = val


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()):
            yield


def _fast_linear(op: Any) -> np.ndarray:
    x = np.asarray(op.x.val, dtype=np.float32)
    weight = np.asarray(op.weight.val, dtype=np.float32)
    out = x @ weight.T
    if op.bias is not None:
        out += np.asarray(op.bias.val, dtype=np.float32)
    return out


def _fast_matmul(op: Any) -> np.ndarray:
    x = np.asarray(op.x.val, dtype=np.float32)
    y = np.asarray(op.y.val, dtype=np.float32)
    if op.transpose_x.val:
        x = np.swapaxes(x, -1, -2)
    if op.transpose_y.val:
        y = np.swapaxes(y, -1, -2)
    return np.matmul(x, y)


def _shape(op: Any) -> np.ndarray:
    # The op's reference reads the declared (symbolic, with enumerated shapes) type; the value
    # being run has the real one.
    return np.array(np.shape(op.x.val), dtype=np.int32)


def _expand_dims(op: Any) -> np.ndarray:
    # As _shape: the reference builds the result's shape from the declared type.
    x = op.x.val
    rank = np.ndim(x) + np.size(op.axes.val)
    axes = tuple(int(a) + rank if a < 0 else int(a) for a in np.atleast_1d(op.axes.val))
    return np.expand_dims(x, axes)


def _reshape(op: Any) -> np.ndarray:
    # As _shape. A 0 in the target shape copies the input's dimension, -1 is inferred.
    x = op.x.val
    shape = [int(d) for d in np.atleast_1d(op.shape.val)]
    return np.reshape(x, [x.shape[i] if d == 0 else d for i, d in enumerate(shape)])


_FAST_OPS = {
    "linear": _fast_linear,
    "matmul": _fast_matmul,
    # Ops whose reference reads the declared shape: with enumerated shapes it is symbolic.
    "shape": _shape,
    "expand_dims": _expand_dims,
    "reshape": _reshape,
}


def input_shapes(spec: Any) -> dict[str, tuple[tuple[int, ...], ...]]:
    """Per input of a Core ML model spec, the shapes it accepts: its enumerated shapes
    (``ct.EnumeratedShapes``, sorted) or its one fixed shape."""
    out: dict[str, tuple[tuple[int, ...], ...]] = {}
    for feature in spec.description.input:
        array = feature.type.multiArrayType
        enumerated = [tuple(int(d) for d in s.shape) for s in array.enumeratedShapes.shapes]
        out[feature.name] = tuple(sorted(set(enumerated))) or (tuple(int(d) for d in array.shape),)
    return out


class MILInterpreter:
    """A loaded ML program that can be run with numpy inputs.

    >>> interp = MILInterpreter("LayoutLM.mlpackage")
    >>> interp.predict({"input_ids": ids, ...})["logits"]
    """

    def __init__(self, mlpackage: str | Path, *, function: str = "main") -> None:
        path = Path(mlpackage)
        if not path.exists():
            raise ExportError(f"Core ML package {path} does not exist")
        with _quiet():
            import coremltools as ct
            from coremltools.converters.mil.frontend.milproto.load import load as load_milproto
            from coremltools.converters.mil.mil.types.type_mapping import nptype_from_builtin

            mlmodel = ct.models.MLModel(str(path), skip_model_load=True)
            spec = mlmodel.get_spec()
            if spec.WhichOneof("Type") != "mlProgram":
                raise ExportError(f"{path} is not an ML program (only mlprogram can be run)")
            program = load_milproto(
                spec, spec.specificationVersion, file_weights_dir=mlmodel.weights_dir
            )
        if function not in program.functions:
            raise ExportError(f"{path} has no function {function!r}")
        self.path = path
        self._np_dtype = nptype_from_builtin
        self._function = program.functions[function]
        self.input_shapes = input_shapes(spec)
        """Per input, every shape the program accepts (several with enumerated lengths)."""
        self.input_specs: dict[str, tuple[tuple[int, ...], np.dtype]] = {
            name: (self.input_shapes[name][-1], np.dtype(nptype_from_builtin(var.dtype)))
            for name, var in self._function.inputs.items()
        }
        """Per input, its largest accepted shape and its dtype."""
        self.output_names = [var.name for var in self._function.outputs]
        self.op_counts = Counter(op.op_type for op in self._function.operations)
        self._ops: list[Any] = []
        self.nonfinite_constants: list[str] = []
        self._load_constants()

    def _load_constants(self) -> None:
        """Materialise every const/constexpr once; keep the ops that depend on inputs."""
        for op in self._function.operations:
            if op.blocks:
                raise ExportError(
                    f"op {op.name} ({op.op_type}) has nested blocks; control flow is not "
                    "supported by the MIL interpreter"
                )
            if op.op_type == "const":
                values = [op.outputs[0].val]
            elif op.op_type.startswith("constexpr_"):
                with _quiet():
                    result = op.materialized_val_inference()
                values = list(result) if isinstance(result, (tuple, list)) else [result]
                for var, value in zip(op.outputs, values, strict=True):
                    var._sym_val = _Value(np.asarray(value))
            else:
                self._ops.append(op)
                continue
            for var, value in zip(op.outputs, values, strict=True):
                arr = np.asarray(value)
                if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
                    self.nonfinite_constants.append(var.name)

    def predict(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the program; ``feeds`` maps each input name to an array of the declared shape."""
        missing = set(self.input_specs) - set(feeds)
        if missing:
            raise ExportError(f"missing inputs {sorted(missing)} for {self.path.name}")
        for name, var in self._function.inputs.items():
            _, dtype = self.input_specs[name]
            value = np.asarray(feeds[name])
            if tuple(value.shape) not in self.input_shapes[name]:
                expected = " or ".join(str(shape) for shape in self.input_shapes[name])
                raise ExportError(
                    f"input {name} has shape {tuple(value.shape)}, the program expects "
                    f"{expected} (pad windows to one of the bundle's sequence lengths)"
                )
            var._sym_val = _Value(value.astype(dtype, copy=False))
        try:
            with np.errstate(all="ignore"), _quiet():
                for op in self._ops:
                    self._run(op)
            return {
                var.name: np.array(var._sym_val.val, copy=True) for var in self._function.outputs
            }
        finally:
            # Drop activations so a long-lived interpreter holds only the weights.
            for op in self._ops:
                for var in op.outputs:
                    var._sym_val = None
            for var in self._function.inputs.values():
                var._sym_val = None

    def _run(self, op: Any) -> None:
        fast = _FAST_OPS.get(op.op_type)
        try:
            result = fast(op) if fast is not None else op.value_inference()
        except NotImplementedError:
            raise ExportError(
                f"op type {op.op_type} ({op.name}) has no reference implementation in "
                "coremltools; the MIL interpreter cannot run this program"
            ) from None
        values = result if isinstance(result, (tuple, list)) else (result,)
        for var, value in zip(op.outputs, values, strict=True):
            dtype = self._np_dtype(var.dtype)
            var._sym_val = _Value(np.asarray(value).astype(dtype, copy=False))
