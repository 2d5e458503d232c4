"""Build, gate and publish an export bundle (what ``layoutlm-cli export-coreml`` runs).

Everything is built in a private staging directory; only after the parity gate passes is the
bundle moved (local) or uploaded (``s3://``) to the destination, with a ``.zip`` of it beside. A
refused or failed export leaves nothing at the destination.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.errors import ExportError
from receipt_layoutlm.export import layout
from receipt_layoutlm.export.parity import ParityReport, ParityThresholds
from receipt_layoutlm.export.quantize import DEFAULT_QUANTIZE, QuantizeMode, get_quantize_mode
from receipt_layoutlm.fields import PICKER_FILE

log = logging.getLogger(__name__)

FORMATS = ("coreml", "onnx")
"""Artefact formats a bundle can carry."""
MIN_SEQ_LENGTH = 8


@dataclass(frozen=True)
class ExportOptions:
    """One export: where from, where to, how."""

    checkpoint: str
    """Checkpoint directory or ``s3://`` prefix (written by ``save_checkpoint``)."""
    output: str
    """Destination: a local directory (must be absent or empty) or an ``s3://`` prefix (must hold
    no objects). The bundle's files go directly under it; the zip goes to ``<output>.zip``."""
    quantize: str = DEFAULT_QUANTIZE
    """``float32``, ``float16``, ``int8`` or ``int4`` (Core ML weights)."""
    formats: tuple[str, ...] = FORMATS
    """Which artefacts to build: ``coreml`` and/or ``onnx`` (ONNX adds ``model.int8.onnx``)."""
    seq_length: int = 512
    """Fixed Core ML sequence length; also the bundle's encoding ``max_seq_length``."""
    model_name: str = layout.DEFAULT_MODEL_NAME
    """Name of the ``.mlpackage`` (``<model_name>.mlpackage``)."""
    parity_receipts: int = 20
    """How many receipts the parity gate runs."""
    parity_data: str | None = None
    """JSONL dataset file (importers.jsonl) with the parity receipts."""
    thresholds: ParityThresholds = field(default_factory=ParityThresholds)
    """Minimum word-label agreement per mode."""
    int4_block_size: int = 32
    """Input channels per scale for int4 (0: one scale per output channel)."""
    weight_threshold: int = 2048
    """Weights with fewer elements are not quantized (biases, norms)."""
    export_id: str | None = None
    """Export id (a new uuid4 when None); the export worker passes the queue message's."""
    job_id: str | None = None
    """Training job id or name; read from the checkpoint's metadata when None."""
    make_zip: bool = True
    """Write ``<output>.zip`` beside the bundle."""
    stock_mask: bool = False
    """Test-only: export the stock Hugging Face mask (NaN in float16) so the gate must refuse."""


@dataclass
class ExportResult:
    """What an export produced (also the export worker's result message fields)."""

    export_id: str
    bundle_uri: str
    """Where the bundle directory now lives (local path or ``s3://`` prefix)."""
    mlpackage_uri: str | None
    onnx_uri: str | None
    zip_uri: str | None
    manifest: dict[str, Any]
    parity: ParityReport
    model_size_bytes: int
    """Size of the ``.mlpackage`` (or ``model.onnx`` when Core ML was not built)."""
    export_duration_seconds: float


def _check_options(options: ExportOptions) -> QuantizeMode:
    mode = get_quantize_mode(options.quantize)
    unknown = [f for f in options.formats if f not in FORMATS]
    if unknown or not options.formats:
        raise ExportError(
            f"unknown or empty formats {list(options.formats)}; choose from {', '.join(FORMATS)}"
        )
    if options.seq_length < MIN_SEQ_LENGTH:
        raise ExportError(f"--seq-length {options.seq_length} is too small (>= {MIN_SEQ_LENGTH})")
    if options.parity_receipts < 1:
        raise ExportError("--parity-receipts must be >= 1: every export runs the parity gate")
    if not options.model_name or "/" in options.model_name:
        raise ExportError(f"--model-name {options.model_name!r} must be a plain file name")
    if options.int4_block_size < 0:
        raise ExportError("int4 block size must be >= 0 (0 = per channel)")
    return mode


def _check_destination(output: str) -> None:
    from receipt_layoutlm.checkpoint import is_remote

    if is_remote(output):
        from receipt_cloud.objects import open_object_store

        store = open_object_store(output)
        if store.exists(layout.MANIFEST_FILE):
            raise ExportError(
                f"destination {output} already holds a published bundle ({layout.MANIFEST_FILE} "
                "is there); export to a new prefix (bundles/<job>/<export_id>/)"
            )
        # Objects without a manifest are an earlier attempt of this export that died mid-upload
        # (the manifest goes up last); publishing clears them, so a retry can go on.
        return
    from receipt_cloud.objects import local_path

    path = local_path(output)  # a plain path or a file:// URI
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ExportError(
            f"output directory {path} exists and is not empty; choose a new directory"
        )


def _bundle_encoding(checkpoint: Any, seq_length: int) -> Any:
    """The checkpoint's encoding spec with windows sized for the fixed-shape model."""
    config = checkpoint.encoding_config
    max_positions = int(checkpoint.model.config.max_position_embeddings)
    if seq_length > max_positions:
        raise ExportError(
            f"--seq-length {seq_length} exceeds the model's max_position_embeddings "
            f"({max_positions})"
        )
    stride = config.stride
    if stride >= seq_length - 2:
        stride = (seq_length - 2) // 4
        log.warning(
            "stride %d does not fit --seq-length %d; the bundle uses stride %d",
            config.stride,
            seq_length,
            stride,
        )
    return dataclasses.replace(config, max_seq_length=seq_length, stride=stride)


def _write_text_side(staging: Path, checkpoint: Any, encoding: Any, extra: dict[str, Any]) -> None:
    from receipt_layoutlm.checkpoint import label_map, write_vocab

    write_vocab(checkpoint.tokenizer, staging / layout.VOCAB_FILE)
    # vocab.txt + tokenizer_config.json is all load_tokenizer (and the device) needs; the
    # checkpoint's tokenizer.json is left out so the bundle's vocabulary is the single source.
    source_config = checkpoint.path / layout.TOKENIZER_CONFIG_FILE
    tok_config = json.loads(source_config.read_text()) if source_config.is_file() else {}
    for key in ("max_length", "stride", "truncation_side", "truncation_strategy", "is_local"):
        tok_config.pop(key, None)
    tok_config.setdefault("tokenizer_class", "BertTokenizer")
    tok_config["model_max_length"] = encoding.max_seq_length
    (staging / layout.TOKENIZER_CONFIG_FILE).write_text(
        json.dumps(tok_config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (staging / layout.LABEL_MAP_FILE).write_text(
        json.dumps(label_map(checkpoint.labels), indent=2) + "\n", encoding="utf-8"
    )
    encoding.write_json(
        staging / layout.ENCODING_FILE, tokenizer=checkpoint.tokenizer, extra={"export": extra}
    )
    model_config = checkpoint.model.config.to_dict()
    model_config.pop("_attn_implementation_autoset", None)
    model_config["encoding"] = encoding.to_dict()
    model_config["export"] = extra
    (staging / layout.CONFIG_FILE).write_text(
        json.dumps(model_config, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    # The learned total picker travels with the model (and so into the manifest's file list):
    # every runtime applies it in prediction.predict_document.
    picker = checkpoint.path / PICKER_FILE
    if picker.is_file():
        shutil.copyfile(picker, staging / PICKER_FILE)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for dist in ("receipt-labeler", "torch", "transformers", "coremltools", "onnx", "onnxruntime"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _zip_dir(source: Path, destination: Path) -> Path:
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(source).as_posix())
    return destination


def upload_bundle(
    store: Any, staging: Path, *, before_manifest: Callable[[], None] | None = None
) -> list[str]:
    """Upload a gated bundle to the root of ``store`` with ``manifest.json`` last.

    Readers (promote, the registry, a retry) take a prefix with a manifest as a complete bundle;
    objects already there without one (an interrupted earlier attempt) are removed first, and
    refused when a manifest is present. ``before_manifest`` runs just before the manifest goes
    up (the zip). Returns the uploaded keys in upload order.
    """
    if store.exists(layout.MANIFEST_FILE):
        raise ExportError(
            f"{store.uri('')} already holds a published bundle; export to a new prefix"
        )
    stale = list(store.list(""))
    if stale:
        log.warning(
            "removing %d object(s) of an unfinished earlier upload under %s",
            len(stale),
            store.uri(""),
        )
        for key in stale:
            store.delete(key)
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.relative_to(staging).as_posix() == layout.MANIFEST_FILE)
    keys = []
    for path in files:
        key = path.relative_to(staging).as_posix()
        if key == layout.MANIFEST_FILE and before_manifest is not None:
            before_manifest()
        store.put_file(key, path)
        keys.append(key)
    return keys


def _publish(staging: Path, zip_path: Path | None, output: str) -> tuple[str, str | None]:
    """Move/upload the gated bundle; returns (bundle URI, zip URI)."""
    from receipt_layoutlm.checkpoint import is_remote

    if is_remote(output):
        from receipt_cloud.objects import open_object_store, resolve_uri

        store = open_object_store(output)
        zip_uri = None

        def put_zip() -> None:
            nonlocal zip_uri
            if zip_path is not None:
                zip_store, zip_key = resolve_uri(output.rstrip("/") + ".zip")
                zip_store.put_file(zip_key, zip_path)
                zip_uri = zip_store.uri(zip_key)

        upload_bundle(store, staging, before_manifest=put_zip)
        return output.rstrip("/"), zip_uri
    from receipt_cloud.objects import local_path

    target = local_path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copy next to the target, then rename: readers never see a half-written bundle.
    partial = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    shutil.copytree(staging, partial)
    if target.exists():
        target.rmdir()  # checked empty up front
    os.replace(partial, target)
    zip_uri = None
    if zip_path is not None:
        zip_target = target.parent / f"{target.name}.zip"
        shutil.copyfile(zip_path, zip_target)
        zip_uri = str(zip_target)
    return str(target), zip_uri


def export_bundle(
    options: ExportOptions,
    *,
    documents: Sequence[ReceiptDocument] | None = None,
    settings: Any | None = None,
) -> ExportResult:
    """Export the checkpoint, run the parity gate, and publish the bundle.

    Parity receipts: ``documents`` if given, else ``options.parity_data`` (JSONL), else the
    store of ``settings`` when it has VALID receipts, else the training dataset file the
    checkpoint records (when it exists), else synthetic (recorded as such). Raises
    :class:`ExportError` / :class:`ParityGateError` / :class:`CheckpointError`; in every such
    case nothing is written to the destination.
    """
    started = time.perf_counter()
    mode = _check_options(options)
    _check_destination(options.output)
    export_id = options.export_id or str(uuid.uuid4())
    from receipt_layoutlm.checkpoint import (
        fetch_checkpoint,
        is_remote,
        load_checkpoint,
        training_dataset_config,
    )
    from receipt_layoutlm.export.parity_data import load_parity_documents

    with tempfile.TemporaryDirectory(prefix=f"export-{export_id[:8]}-") as tmp:
        tmp_path = Path(tmp)
        source_dir = fetch_checkpoint(
            options.checkpoint, tmp_path / "checkpoint" if is_remote(options.checkpoint) else None
        )
        checkpoint = load_checkpoint(source_dir)
        encoding = _bundle_encoding(checkpoint, options.seq_length)
        # Resolve parity receipts before the slow conversions so a bad source fails fast.
        docs, parity_source = load_parity_documents(
            options.parity_receipts,
            parity_data=options.parity_data,
            settings=settings,
            documents=documents,
            training_dataset=training_dataset_config(source_dir, checkpoint.meta).get(
                "dataset_file"
            ),
        )
        staging = tmp_path / "bundle"
        staging.mkdir()
        mlpackage_name = layout.mlpackage_name(options.model_name)
        export_info = {
            "quantize": mode.name,
            "seq_length": options.seq_length,
            "formats": list(options.formats),
            "model_name": options.model_name,
            "mlpackage": mlpackage_name if "coreml" in options.formats else None,
            "minimum_deployment_target": mode.deployment_target(),
        }
        _write_text_side(staging, checkpoint, encoding, export_info)

        timings: dict[str, float] = {}
        if "coreml" in options.formats:
            from receipt_layoutlm.export.coreml import CoreMLOptions, convert_to_coreml

            t0 = time.perf_counter()
            convert_to_coreml(
                checkpoint.model,
                staging / mlpackage_name,
                mode,
                CoreMLOptions(
                    seq_length=options.seq_length,
                    int4_block_size=options.int4_block_size,
                    weight_threshold=options.weight_threshold,
                    stock_mask=options.stock_mask,
                ),
            )
            timings["coreml_seconds"] = round(time.perf_counter() - t0, 3)
        if "onnx" in options.formats:
            from receipt_layoutlm.export.onnx_export import export_onnx, quantize_onnx_int8

            t0 = time.perf_counter()
            export_onnx(checkpoint.model, staging / layout.ONNX_FILE)
            quantize_onnx_int8(staging / layout.ONNX_FILE, staging / layout.ONNX_INT8_FILE)
            timings["onnx_seconds"] = round(time.perf_counter() - t0, 3)

        t0 = time.perf_counter()
        report = _run_gate(checkpoint, staging, options, docs, parity_source)
        timings["parity_seconds"] = round(time.perf_counter() - t0, 3)
        log.debug("\n%s", report.table())  # the CLI prints it; a refusal carries it
        report.enforce()

        num_params = int(sum(p.numel() for p in checkpoint.model.parameters()))
        sizes = {}
        if "coreml" in options.formats:
            sizes["mlpackage_bytes"] = _dir_size(staging / mlpackage_name)
        if "onnx" in options.formats:
            sizes["onnx_bytes"] = _dir_size(staging / layout.ONNX_FILE)
            sizes["onnx_int8_bytes"] = _dir_size(staging / layout.ONNX_INT8_FILE)
        model_size = sizes.get("mlpackage_bytes", sizes.get("onnx_bytes", 0))
        from receipt_layoutlm.encoding import ENCODING_VERSION
        from receipt_layoutlm.export.manifest import write_manifest

        meta = checkpoint.meta
        manifest_path = write_manifest(
            staging,
            {
                "export_id": export_id,
                "export_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "model_name": options.model_name,
                "source_checkpoint": str(options.checkpoint),
                "training_job": {
                    "job_id": options.job_id or meta.get("job_id"),
                    "job_name": meta.get("job_name"),
                    "best_epoch": meta.get("best_epoch"),
                    "best_f1": meta.get("best_f1"),
                },
                "quantize": mode.name,
                "minimum_deployment_target": mode.deployment_target(),
                "seq_length": options.seq_length,
                "formats": list(options.formats),
                "mlpackage": export_info["mlpackage"],
                "encoding_version": ENCODING_VERSION,
                "labels": list(checkpoint.labels),
                "num_parameters": num_params,
                "sizes": sizes,
                "bytes_per_parameter": round(model_size / num_params, 4) if num_params else None,
                "parity": report.to_dict(),
                "timings": timings,
                "versions": _versions(),
            },
        )
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        zip_path = None
        if options.make_zip:
            zip_path = _zip_dir(staging, tmp_path / "bundle.zip")
        bundle_uri, zip_uri = _publish(staging, zip_path, options.output)

    def _child(name: str | None) -> str | None:
        if name is None:
            return None
        return f"{bundle_uri.rstrip('/')}/{name}"

    return ExportResult(
        export_id=export_id,
        bundle_uri=bundle_uri,
        mlpackage_uri=_child(export_info["mlpackage"]),
        onnx_uri=_child(layout.ONNX_FILE if "onnx" in options.formats else None),
        zip_uri=zip_uri,
        manifest=manifest,
        parity=report,
        model_size_bytes=model_size,
        export_duration_seconds=round(time.perf_counter() - started, 3),
    )


def _run_gate(
    checkpoint: Any,
    staging: Path,
    options: ExportOptions,
    docs: list[ReceiptDocument],
    source: str,
) -> ParityReport:
    from receipt_layoutlm.export.parity import run_parity
    from receipt_layoutlm.runtime import load_runtime

    reference = load_runtime("torch", checkpoint)
    candidates = []
    if "onnx" in options.formats:
        candidates += [load_runtime("onnx", staging), load_runtime("onnx-int8", staging)]
    if "coreml" in options.formats:
        candidates.append(load_runtime("coreml-mil", staging))
        if sys.platform == "darwin":
            candidates.append(load_runtime("coreml", staging))
    return run_parity(reference, candidates, docs, thresholds=options.thresholds, source=source)
