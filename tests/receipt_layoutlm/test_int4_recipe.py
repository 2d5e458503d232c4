"""The int4 mode's recipe: named layers keep 8-bit weights in the Core ML program, the rest is
4-bit per block, and the bundle records the recipe.

A tiny random LayoutLM (hidden 64 so blocks of 32 split each row, 2 layers) and the MiniLM
tokenizer; sequence length 32. The program's weights are read back with coremltools' MIL loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_layoutlm import tiny_layoutlm

torch = pytest.importorskip("torch")
pytest.importorskip("coremltools")

from receipt_layoutlm.checkpoint import save_checkpoint  # noqa: E402
from receipt_layoutlm.encoding import EncodingConfig, label_list  # noqa: E402
from receipt_layoutlm.errors import ExportError  # noqa: E402
from receipt_layoutlm.export import (  # noqa: E402
    CoreMLOptions,
    ExportOptions,
    ParityThresholds,
    convert_to_coreml,
    export_bundle,
    get_quantize_mode,
    synthetic_documents,
)
from receipt_layoutlm.export.int4_recipe import (  # noqa: E402
    DEFAULT_INT4_INT8_LAYERS,
    match_layers,
    parse_layers,
)

SEQ = 32
LABELS = label_list(["DATE", "GRAND_TOTAL"])
LAYER_1 = [
    f"layoutlm.encoder.layer.1.{name}"
    for name in (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    )
]


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_layoutlm(len(LABELS), len(tokenizer), seed=7, hidden=64, max_positions=128)


def _program_weights(mlpackage: Path) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """``{weight constant name: (storage dtype, scale shape, dequantized value)}`` of every
    ``constexpr_blockwise_shift_scale`` (quantized weight) in the program."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto.load import load as load_milproto
    from coremltools.converters.mil.mil import types

    mlmodel = ct.models.MLModel(str(mlpackage), skip_model_load=True)
    spec = mlmodel.get_spec()
    program = load_milproto(spec, spec.specificationVersion, file_weights_dir=mlmodel.weights_dir)
    out = {}
    for op in program.functions["main"].operations:
        if op.op_type == "constexpr_blockwise_shift_scale":
            name = op.outputs[0].name.removesuffix("_quantized")
            dtype = types.builtin_to_string(op.data.dtype)
            out[name] = (dtype, op.scale.shape, np.asarray(op.materialized_val_inference()))
    return out


def _const(module: str) -> str:
    return "model_" + module.replace(".", "_") + "_weight_to_fp16"


@pytest.mark.slow
def test_mixed_recipe_keeps_the_named_layers_at_int8(model, tmp_path: Path) -> None:
    layers = ("classifier", "layoutlm.encoder.layer.1.*", "layoutlm.embeddings.position_embeddings")
    options = CoreMLOptions(
        seq_length=SEQ, int4_block_size=32, int4_int8_layers=layers, weight_threshold=256
    )
    path = convert_to_coreml(model, tmp_path / "m.mlpackage", get_quantize_mode("int4"), options)
    weights = _program_weights(path)

    int8 = {_const(name) for name in ["classifier", *LAYER_1]}
    int4 = {_const(name.replace("layer.1.", "layer.0.")) for name in LAYER_1}
    int4 |= {_const(f"layoutlm.embeddings.{t}_embeddings") for t in ("word", "x_position")}
    assert int8 | int4 <= set(weights)
    for name in int8:
        dtype, scale_shape, value = weights[name]
        assert dtype == "int8" and scale_shape[-1] == 1, name  # one scale per output channel
    for name in int4:
        dtype, scale_shape, value = weights[name]
        assert dtype == "int4" and scale_shape[-1] == value.shape[-1] // 32, name  # per block
    # The 1-D position table is folded by the converter (sliced to SEQ rows): found by value.
    [folded] = [n for n in weights if "position_embeddings" in n and "layoutlm" not in n]
    assert weights[folded][0] == "int8" and weights[folded][1] == (1, SEQ, 1)  # per position
    # int8 per channel reproduces the classifier within half a step; int4 is visibly coarser.
    reference = model.classifier.weight.detach().numpy()
    error8 = np.abs(weights[_const("classifier")][2] - reference).max()
    assert error8 <= np.abs(reference).max() / 127
    layer0 = model.layoutlm.encoder.layer[0].output.dense.weight.detach().numpy()
    error4 = np.abs(weights[_const("layoutlm.encoder.layer.0.output.dense")][2] - layer0).max()
    assert error4 > 4 * np.abs(layer0).max() / 127

    import coremltools as ct

    metadata = ct.models.MLModel(str(path), skip_model_load=True).user_defined_metadata
    recorded = metadata["int4_int8_layers"].split(",")
    assert sorted(recorded) == sorted(
        ["classifier", "layoutlm.embeddings.position_embeddings", *LAYER_1]
    )
    assert metadata["int4_block_size"] == "32"


@pytest.mark.slow
def test_every_layer_at_int4_when_the_recipe_is_empty(model, tmp_path: Path) -> None:
    options = CoreMLOptions(seq_length=SEQ, int4_int8_layers=(), weight_threshold=256)
    path = convert_to_coreml(model, tmp_path / "m.mlpackage", get_quantize_mode("int4"), options)
    weights = _program_weights(path)
    assert weights[_const("classifier")][0] == "int4"
    assert {dtype for dtype, _, _ in weights.values()} == {"int4"}
    # The folded 1-D position table [1, SEQ, 64] is blocked along each position's hidden axis
    # (coremltools alone would share one scale among 32 positions × 64 columns).
    [folded] = [n for n in weights if "position_embeddings" in n and "layoutlm" not in n]
    assert weights[folded][1] == (1, SEQ, 64 // 32)
    table = model.layoutlm.embeddings.position_embeddings.weight.detach().numpy()[:SEQ]
    steps = np.abs(table).reshape(SEQ, 2, 32).max(axis=-1, keepdims=True) / 7
    error = np.abs(weights[folded][2][0] - table).reshape(SEQ, 2, 32)
    assert (error <= steps / 2 + 1e-3).all()  # within half a step of its own row block


@pytest.mark.slow
def test_int4_bundle_records_its_recipe(model, tokenizer, tmp_path: Path) -> None:
    checkpoint = save_checkpoint(
        tmp_path / "ckpt", model, tokenizer, LABELS, EncodingConfig(max_seq_length=SEQ, stride=8)
    )
    result = export_bundle(
        ExportOptions(
            checkpoint=str(checkpoint),
            output=str(tmp_path / "bundle"),
            quantize="int4",
            formats=("coreml",),
            seq_length=SEQ,
            int4_block_size=16,
            int4_int8_layers=("classifier", "layoutlm.encoder.layer.0.output.dense"),
            weight_threshold=256,
            thresholds=ParityThresholds(int4=0.0, all_words_floor=0.0),
            make_zip=False,
        ),
        documents=synthetic_documents(1),
    )
    expected = {
        "dtype": "int4",
        "granularity": "per_block",
        "block_size": 16,
        "int8_layers": ["classifier", "layoutlm.encoder.layer.0.output.dense"],
        "weight_threshold": 256,
    }
    assert result.manifest["weight_quantization"] == expected
    config = json.loads((Path(result.bundle_uri) / "config.json").read_text())
    assert config["export"]["weight_quantization"] == expected
    weights = _program_weights(Path(result.bundle_uri) / "LayoutLM.mlpackage")
    assert weights[_const("layoutlm.encoder.layer.0.output.dense")][0] == "int8"
    assert weights[_const("layoutlm.encoder.layer.1.output.dense")][1][-1] == 128 // 16


def test_default_recipe_and_pattern_parsing(model) -> None:
    assert ExportOptions(checkpoint="c", output="o").int4_int8_layers == DEFAULT_INT4_INT8_LAYERS
    assert match_layers(model, DEFAULT_INT4_INT8_LAYERS)  # the default names real layers
    assert parse_layers("classifier, layoutlm.encoder.layer.*.output.dense") == (
        "classifier",
        "layoutlm.encoder.layer.*.output.dense",
    )
    assert parse_layers("none") == () and parse_layers("") == ()
    assert "layoutlm.pooler.dense" not in match_layers(model, ["*"])  # not in the program
    with pytest.raises(ExportError, match=r"'classifer' matches no Linear/Embedding layer"):
        match_layers(model, ["classifier", "classifer"])


def test_cli_flag_reaches_the_export_options() -> None:
    from receipt_cloud.dataclass_flags import flag_values
    from receipt_layoutlm.cli import build_parser
    from receipt_layoutlm.cli.export_commands import EXPORT_FLAGS

    def options(*argv: str) -> ExportOptions:
        args = build_parser().parse_args(["export-coreml", "--checkpoint-dir", "c", *argv])
        return ExportOptions(checkpoint="c", output="o", **flag_values(args, EXPORT_FLAGS))

    assert options().int4_int8_layers == DEFAULT_INT4_INT8_LAYERS
    assert options("--int4-int8-layers", "none").int4_int8_layers == ()
    recipe = options("--int4-int8-layers", "classifier,*.output.dense", "--int4-block-size", "16")
    assert recipe.int4_int8_layers == ("classifier", "*.output.dense")
    assert recipe.int4_block_size == 16
