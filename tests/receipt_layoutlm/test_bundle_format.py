"""The one definition of checkpoint/bundle file names, and the provenance versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from receipt_layoutlm import bundle_format
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.versions import LIBRARIES, library_versions


def test_find_mlpackage_needs_exactly_one(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"has no \.mlpackage"):
        bundle_format.find_mlpackage(tmp_path)
    (tmp_path / bundle_format.mlpackage_name()).mkdir()
    (tmp_path / "LayoutLM.mlpackage.zip").write_bytes(b"")  # a file, not a package
    assert bundle_format.find_mlpackage(tmp_path) == tmp_path / "LayoutLM.mlpackage"
    (tmp_path / bundle_format.mlpackage_name("Other")).mkdir()
    with pytest.raises(CheckpointError, match=r"has 2 \.mlpackage"):
        bundle_format.find_mlpackage(tmp_path)


def test_model_size_prefers_the_core_ml_package() -> None:
    assert bundle_format.model_size_bytes({"onnx_bytes": 5, "mlpackage_bytes": 3}) == 3
    assert bundle_format.model_size_bytes({"onnx_bytes": 5, "onnx_int8_bytes": 2}) == 5
    assert bundle_format.model_size_bytes({}) == 0


def test_checkpoint_and_runtimes_use_the_same_names() -> None:
    from receipt_layoutlm import checkpoint
    from receipt_layoutlm.runtime import runtime_class

    assert checkpoint.LABEL_MAP_FILE is bundle_format.LABEL_MAP_FILE
    assert checkpoint.META_FILE == "checkpoint.json"
    onnx, onnx_int8 = runtime_class("onnx"), runtime_class("onnx-int8")
    assert (onnx.model_file, onnx_int8.model_file) == (
        bundle_format.ONNX_FILE,
        bundle_format.ONNX_INT8_FILE,
    )


def test_library_versions_leave_out_what_is_not_installed(monkeypatch) -> None:
    from receipt_layoutlm import versions

    assert {"receipt-labeler", "torch"} <= set(library_versions()) <= set(LIBRARIES)
    monkeypatch.setattr(versions, "LIBRARIES", ("pytest", "no-such-distribution-r8"))
    assert library_versions() == {"pytest": pytest.__version__}


def test_the_worker_ranks_runtimes_by_what_each_declares(tmp_path: Path) -> None:
    import importlib.util
    import sys

    from receipt_layoutlm.runtime import choose_runtime, ranked_runtimes, runnable_runtimes

    # coreml-mil has no speed rank: a worker never picks the op-by-op interpreter by itself.
    assert ranked_runtimes() == ("onnx-int8", "onnx", "coreml", "torch")
    assert runnable_runtimes(tmp_path) == []
    with pytest.raises(CheckpointError, match=r"no model.int8.onnx, model.onnx, .*PyTorch"):
        choose_runtime(tmp_path)
    (tmp_path / bundle_format.WEIGHT_FILES[0]).write_bytes(b"")
    (tmp_path / bundle_format.ONNX_FILE).write_bytes(b"")
    (tmp_path / bundle_format.mlpackage_name()).mkdir()
    expected = [
        *(["onnx"] if importlib.util.find_spec("onnxruntime") else []),
        *(["coreml"] if sys.platform == "darwin" else []),
        "torch",
    ]
    assert runnable_runtimes(tmp_path) == expected
    assert choose_runtime(tmp_path) == expected[0]
    with pytest.raises(CheckpointError, match="runtime onnx-int8 cannot run"):
        choose_runtime(tmp_path, "onnx-int8")


def test_model_size_keys_and_formats_come_from_the_registry() -> None:
    assert bundle_format.model_size_keys() == ("mlpackage_bytes", "onnx_bytes")
    assert bundle_format.format_names() == ("onnx", "coreml")
    assert set(bundle_format.DEFAULT_FORMATS) <= set(bundle_format.format_names())
    assert {f.uri_key for f in bundle_format.ARTIFACT_FORMATS.values()} == {
        "mlpackage_uri",
        "onnx_uri",
    }
