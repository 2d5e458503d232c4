"""ONNX attention fusion: the exported graph gets one contrib ``Attention`` node per layer and
computes what the plain graph computes (tiny model, two layers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_layoutlm import tiny_layoutlm

from receipt_layoutlm.export.onnx_export import export_onnx
from receipt_layoutlm.export.onnx_fusion import fuse_attention

LAYERS = 2

# Every test reads the graphs the module fixture exports.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("fusion")
    model = tiny_layoutlm(5, 200, seed=7, layers=LAYERS)
    plain = export_onnx(model, root / "plain.onnx")
    report = fuse_attention(
        plain, root / "fused.onnx", num_heads=2, hidden_size=32, num_layers=LAYERS
    )
    return plain, root / "fused.onnx", report


def _feeds(length: int, real: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(length)
    corner = rng.integers(0, 900, (1, length, 2))
    mask = np.zeros((1, length), np.int64)
    mask[:, :real] = 1  # right padding, as the encoding spec pads
    return {
        "input_ids": rng.integers(5, 200, (1, length)).astype(np.int64),
        "attention_mask": mask,
        "bbox": np.concatenate([corner, corner + 20], -1).astype(np.int64),
        "token_type_ids": np.zeros((1, length), np.int64),
    }


def test_every_layer_gets_one_fused_attention_node(graphs) -> None:
    import onnx

    _, fused_path, report = graphs
    assert report.applied, report.reason
    assert report.rewrites == {"mask_unsqueeze": 1, "score_scale": LAYERS}
    assert report.fused["Attention"] == LAYERS
    assert report.fused["SkipLayerNormalization"] == 2 * LAYERS + 1
    ops = [n.op_type for n in onnx.load(str(fused_path)).graph.node]
    assert ops.count("Attention") == LAYERS and "Softmax" not in ops


@pytest.mark.parametrize(("length", "real"), [(9, 9), (40, 40), (64, 37)])
def test_fused_graph_computes_what_the_plain_one_does(graphs, length: int, real: int) -> None:
    import onnxruntime as ort

    plain, fused, _ = graphs
    feeds = _feeds(length, real)
    outs = [
        ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
        for p in (plain, fused)
    ]
    np.testing.assert_allclose(outs[1][:, :real], outs[0][:, :real], atol=1e-4, rtol=1e-4)


def test_a_graph_the_optimizer_cannot_fuse_is_kept_as_it_is(graphs, tmp_path: Path) -> None:
    plain, _, _ = graphs
    report = fuse_attention(
        plain, tmp_path / "kept.onnx", num_heads=2, hidden_size=32, num_layers=LAYERS + 1
    )
    assert not report.applied and "Attention nodes for 3 layers" in report.reason
    assert (tmp_path / "kept.onnx").read_bytes() == plain.read_bytes()
