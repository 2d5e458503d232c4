"""File names of a checkpoint directory and of an export bundle: the one place they are spelled.

Training writes checkpoints, export reads them and writes bundles, the runtimes and the registry
read bundles; each of them imports these names from here instead of repeating the literals.

A checkpoint directory::

    model.safetensors + config.json          Hugging Face save_pretrained
    tokenizer.json + tokenizer_config.json + vocab.txt
    label_map.json  encoding.json  checkpoint.json
    [total_picker.json]  [line_classifier.json]  [known_values.json]  [key_lexicon.json]

A bundle directory::

    <model_name>.mlpackage/  model.onnx  model.int8.onnx   (the formats built)
    vocab.txt  tokenizer_config.json  config.json  label_map.json  encoding.json
    [total_picker.json]  [line_classifier.json]  [known_values.json]  [key_lexicon.json]
                                                            (copied from the checkpoint)
    manifest.json                                           (written, and uploaded, last)

The artifact formats a bundle can carry are registered here (:data:`ARTIFACT_FORMATS`), torch-free,
so that the exporters, the CLI help, ``--json``, the manifest readers and the workers all ask
one registry instead of naming a format by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receipt_layoutlm.errors import CheckpointError

# -- shared by checkpoints and bundles ---------------------------------------------------------
CONFIG_FILE = "config.json"
"""Hugging Face model config (a bundle's also carries ``encoding`` and ``export``)."""
VOCAB_FILE = "vocab.txt"
"""WordPiece vocabulary, one token per line (line number = id)."""
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
LABEL_MAP_FILE = "label_map.json"
"""``{"id2label", "label2id", "labels"}``."""
ENCODING_FILE = "encoding.json"
"""The encoding spec (parameters, version, tokenizer facts)."""
TOTAL_PICKER_FILE = "total_picker.json"
"""The learned total picker's weights (``fields.total_picker``); optional — a model without it
extracts fields without the picker."""
LINE_CLASSIFIER_FILE = "line_classifier.json"
"""The learned line classifier's weights (``fields.line_classifier``: which whole lines make the
company/address block); optional — a model without it reads those fields as before."""
KNOWN_VALUES_FILE = "known_values.json"
"""Merchant/address values seen on several training receipts (``fields.known_values``): a read
value that nearly spells one is replaced by it; optional — a model without it reads those
fields as before."""
KEY_LEXICON_FILE = "key_lexicon.json"
"""Printed keys by their letters, seen on several training receipts (``fields.key_lexicon``): a
word the model left outside every key and value that spells one becomes that key before
key–value pairing; optional — a model without it pairs the keys it read."""

# -- checkpoint only ---------------------------------------------------------------------------
META_FILE = "checkpoint.json"
"""Free-form checkpoint metadata (training job, epoch, metrics, dataset config)."""
TOKENIZER_FILE = "tokenizer.json"
"""The fast tokenizer's own file; bundles leave it out so ``vocab.txt`` is the one vocabulary."""
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
"""Accepted weight files, preferred first."""

# -- bundle only -------------------------------------------------------------------------------
MANIFEST_FILE = "manifest.json"
"""Sizes and sha256 of every other file plus provenance; its presence marks a complete bundle."""
DEFAULT_MODEL_NAME = "LayoutLM"
"""Default ``<model_name>.mlpackage``."""
MLPACKAGE_SUFFIX = ".mlpackage"
ONNX_FILE = "model.onnx"
ONNX_INT8_FILE = "model.int8.onnx"



# -- artifact formats --------------------------------------------------------------------------
@dataclass(frozen=True)
class ArtifactFormat:
    """One artifact format a bundle can carry (a ``--formats`` value)."""

    name: str
    """The registry name: the ``--formats`` value, the key of its timings and artifacts."""
    exporter: str
    """``module:Class`` of its exporter (``receipt_layoutlm.export.exporter.Exporter``), imported
    on first use: exporter modules load torch, coremltools or onnx."""
    size_key: str
    """The manifest ``sizes`` key of its primary artifact (the file a device or worker loads)."""
    uri_key: str
    """The ``export-coreml --json`` key of its primary artifact's URI."""
    model_size_rank: int | None = None
    """Whether its primary artifact can stand for the bundle's model size, and before which
    others (lower first); None: never."""


ARTIFACT_FORMATS: dict[str, ArtifactFormat] = {
    "onnx": ArtifactFormat(
        "onnx", "receipt_layoutlm.export.onnx_export:OnnxExporter",
        size_key="onnx_bytes", uri_key="onnx_uri", model_size_rank=1,
    ),
    "coreml": ArtifactFormat(
        "coreml", "receipt_layoutlm.export.coreml:CoreMLExporter",
        size_key="mlpackage_bytes", uri_key="mlpackage_uri", model_size_rank=0,
    ),
}  # fmt: skip
"""Registered formats by name. Their order is the build and parity-gate order (the fast ONNX
runtimes first); a new format is one line here plus its runtime's line in
``receipt_layoutlm.runtime.registry``."""
DEFAULT_FORMATS: tuple[str, ...] = ("coreml", "onnx")
"""Formats built when none are asked for; a new format is opt-in (``--formats``) until added."""


def format_names() -> tuple[str, ...]:
    """Every registered format, in build order."""
    return tuple(ARTIFACT_FORMATS)


def artifact_format(name: str) -> ArtifactFormat:
    """The format registered as ``name``; ``KeyError`` when none is (exporters check names)."""
    return ARTIFACT_FORMATS[name]


def model_size_keys() -> tuple[str, ...]:
    """Manifest ``sizes`` keys, in order of preference, that give a bundle's model size: the
    Core ML package the device runs, else the ONNX model."""
    ranked = [f for f in ARTIFACT_FORMATS.values() if f.model_size_rank is not None]
    return tuple(f.size_key for f in sorted(ranked, key=lambda f: f.model_size_rank or 0))


def mlpackage_name(model_name: str = DEFAULT_MODEL_NAME) -> str:
    return f"{model_name}{MLPACKAGE_SUFFIX}"


def find_mlpackage(bundle_dir: str | Path) -> Path:
    """The one ``*.mlpackage`` directory in a bundle; :class:`CheckpointError` otherwise."""
    bundle_dir = Path(bundle_dir)
    found = sorted(p for p in bundle_dir.glob(f"*{MLPACKAGE_SUFFIX}") if p.is_dir())
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise CheckpointError(
            f"bundle {bundle_dir} has {what} .mlpackage directories (expected exactly one); "
            "export it with formats including coreml"
        )
    return found[0]


def model_size_bytes(sizes: Mapping[str, int]) -> int:
    """The bundle's model size from a manifest's ``sizes`` table (0 when none is recorded)."""
    for key in model_size_keys():
        if key in sizes:
            return int(sizes[key])
    return 0


MAX_FITTED_FILE_BYTES = 16 * 1024 * 1024
"""A fitted field model's file larger than this is refused unread: a bundle may come from
anywhere, and none of them is near it (a lexicon of 100 000 addresses is ~8 MB)."""


def checked_fitted_version(
    data: Any, version: int, what: str, source: str, refit: str
) -> dict[str, Any]:
    """``data`` (a fitted field file's JSON) when it is an object of ``version``; else one
    :class:`CheckpointError` naming ``source`` and how to ``refit`` it."""
    if not isinstance(data, dict) or data.get("version") != version:
        found = data.get("version") if isinstance(data, dict) else None
        raise CheckpointError(f"{source}: not a {what} file of version {version} (version "
                              f"{found!r}); refit it ({refit})")
    return data


def read_fitted_file(
    directory: str | Path, name: str, what: str, *, max_bytes: int = MAX_FITTED_FILE_BYTES
) -> Any:
    """The JSON of a fitted field model stored beside a model (``TOTAL_PICKER_FILE``,
    ``LINE_CLASSIFIER_FILE``, ``KNOWN_VALUES_FILE``, ``KEY_LEXICON_FILE``); None when the
    directory has none. One :class:`CheckpointError` naming the file when it is too large,
    unreadable or not JSON; what the JSON must hold is the reader's to check."""
    path = Path(directory) / name
    if not path.is_file():
        return None
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CheckpointError(f"{path}: {what} file of {size} bytes refused (at most "
                                  f"{max_bytes})")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: unreadable {what} ({exc})") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise CheckpointError(f"{path}: unreadable {what} (not valid JSON: {exc})") from None
