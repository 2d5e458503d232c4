"""File names inside a bundle directory (shared by export, runtimes, registry and the OCR cache)."""

from __future__ import annotations

from pathlib import Path

from receipt_layoutlm.errors import CheckpointError

DEFAULT_MODEL_NAME = "LayoutLM"
ONNX_FILE = "model.onnx"
ONNX_INT8_FILE = "model.int8.onnx"
VOCAB_FILE = "vocab.txt"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
CONFIG_FILE = "config.json"
LABEL_MAP_FILE = "label_map.json"
ENCODING_FILE = "encoding.json"
MANIFEST_FILE = "manifest.json"


def mlpackage_name(model_name: str = DEFAULT_MODEL_NAME) -> str:
    return f"{model_name}.mlpackage"


def find_mlpackage(bundle_dir: str | Path) -> Path:
    """The one ``*.mlpackage`` directory in a bundle; :class:`CheckpointError` otherwise."""
    bundle_dir = Path(bundle_dir)
    found = sorted(p for p in bundle_dir.glob("*.mlpackage") if p.is_dir())
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise CheckpointError(
            f"bundle {bundle_dir} has {what} .mlpackage directories (expected exactly one); "
            "export it with formats including coreml"
        )
    return found[0]
