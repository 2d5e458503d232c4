"""Build, gate and publish an export bundle (what ``layoutlm-cli export-coreml`` runs).

Everything is built in a private staging directory; only after the parity gate passes is the
bundle moved (local) or uploaded (``s3://``) to the destination, with a ``.zip`` of it beside. A
refused or failed export leaves nothing at the destination. The formats are plug-ins
(:mod:`receipt_layoutlm.export.exporter`); this module names none of them.
"""

from __future__ import annotations

import json
import logging
import platform
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_cloud.objects import is_remote_uri
from receipt_layoutlm.bundle_format import model_size_bytes
from receipt_layoutlm.bundles.manifest import write_manifest
from receipt_layoutlm.checkpoint import Checkpoint, load_checkpoint
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.encoding import ENCODING_VERSION
from receipt_layoutlm.export.exporter import (
    BuildContext,
    Exporter,
    check_formats,
    get_exporter,
    manifest_defaults,
)
from receipt_layoutlm.export.options import Artifact, ExportOptions, ExportResult
from receipt_layoutlm.export.parity import ParityReport, run_parity
from receipt_layoutlm.export.parity_data import load_parity_documents
from receipt_layoutlm.export.publish import check_destination, publish, zip_dir
from receipt_layoutlm.export.quantize import QuantizeSpec
from receipt_layoutlm.export.text_side import bundle_encoding, write_text_side
from receipt_layoutlm.remote_dirs import fetch_checkpoint
from receipt_layoutlm.runtime import load_runtime
from receipt_layoutlm.versions import library_versions

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

__all__ = ["ExportOptions", "ExportResult", "export_bundle"]

log = logging.getLogger(__name__)


def export_bundle(
    options: ExportOptions,
    *,
    documents: Sequence[ReceiptDocument] | None = None,
    settings: Settings | None = None,
) -> ExportResult:
    """Export the checkpoint, run the parity gate, and publish the bundle.

    Parity receipts: ``documents`` if given, else ``options.parity_data`` (JSONL), else the
    store of ``settings`` when it has VALID receipts, else the training dataset file the
    checkpoint records (when it exists), else synthetic (recorded as such). Raises
    :class:`ExportError` / :class:`ParityGateError` / :class:`CheckpointError`; in every such
    case nothing is written to the destination.
    """
    started = time.perf_counter()
    spec = options.check()
    exporters = [get_exporter(name) for name in check_formats(options.formats)]
    check_destination(options.output)
    export_id = options.export_id or str(uuid.uuid4())
    with tempfile.TemporaryDirectory(prefix=f"export-{export_id[:8]}-",
                                     dir=options.work_dir) as tmp:
        tmp_path = Path(tmp)
        download = tmp_path / "checkpoint" if is_remote_uri(options.checkpoint) else None
        # Fetched once; everything after reads the local copy through the loaded Checkpoint.
        checkpoint = load_checkpoint(fetch_checkpoint(options.checkpoint, download))
        encoding = bundle_encoding(checkpoint, options.seq_length)
        # Resolve parity receipts before the slow conversions so a bad source fails fast.
        docs, parity_source = load_parity_documents(
            options.parity_receipts,
            parity_data=options.parity_data,
            settings=settings,
            documents=documents,
            training_dataset=checkpoint.dataset_config.get("dataset_file"),
        )
        staging = tmp_path / "bundle"
        staging.mkdir()
        export_info = _export_info(options, spec, exporters)
        write_text_side(staging, checkpoint, encoding, export_info)
        timings = _build(exporters, checkpoint, staging, spec, options)
        t0 = time.perf_counter()
        report = _run_gate(checkpoint, staging, exporters, options, docs, parity_source)
        timings["parity_seconds"] = round(time.perf_counter() - t0, 3)
        log.debug("\n%s", report.table())  # the CLI prints it; a refusal carries it
        report.enforce()

        sizes = {f.size_key: _size(staging / f.name) for e in exporters for f in e.files(options)}
        fields = _manifest_fields(options, spec, checkpoint, export_id, export_info, report)
        fields.update(sizes=sizes, timings=timings)
        fields["bytes_per_parameter"] = _per_parameter(model_size_bytes(sizes), checkpoint)
        manifest_path = write_manifest(staging, fields)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        zip_path = zip_dir(staging, tmp_path / "bundle.zip") if options.make_zip else None
        bundle_uri, zip_uri = publish(staging, zip_path, options.output)

    return ExportResult(
        export_id=export_id,
        bundle_uri=bundle_uri,
        artifacts=_artifacts(exporters, options, bundle_uri, sizes),
        zip_uri=zip_uri,
        manifest=manifest,
        parity=report,
        model_size_bytes=model_size_bytes(sizes),
        export_duration_seconds=round(time.perf_counter() - started, 3),
    )


def _export_info(
    options: ExportOptions, spec: QuantizeSpec, exporters: Sequence[Exporter]
) -> dict[str, Any]:
    """The ``export`` block of ``config.json`` and ``encoding.json``."""
    info: dict[str, Any] = {
        "quantize": spec.name,
        "seq_length": options.seq_length,
        "formats": list(options.formats),
        "model_name": options.model_name,
        "minimum_deployment_target": spec.deployment_target(bool(options.coreml_seq_lengths)),
        **manifest_defaults(),
    }
    for exporter in exporters:
        info.update(exporter.export_info(options))
    return info


def _build(
    exporters: Sequence[Exporter],
    checkpoint: Checkpoint,
    staging: Path,
    spec: QuantizeSpec,
    options: ExportOptions,
) -> dict[str, float]:
    """Run every exporter into ``staging``; returns ``{"<format>_seconds": wall time}``."""
    timings: dict[str, float] = {}
    for exporter in exporters:
        t0 = time.perf_counter()
        exporter.build(BuildContext(checkpoint.model, staging, spec, options))
        timings[f"{exporter.name}_seconds"] = round(time.perf_counter() - t0, 3)
    return timings


def _run_gate(
    checkpoint: Checkpoint,
    staging: Path,
    exporters: Sequence[Exporter],
    options: ExportOptions,
    docs: list[ReceiptDocument],
    source: str,
) -> ParityReport:
    reference = load_runtime("torch", checkpoint)
    candidates = [
        load_runtime(name, staging) for exporter in exporters for name in exporter.gate_runtimes()
    ]
    return run_parity(reference, candidates, docs, thresholds=options.thresholds, source=source)


def _manifest_fields(
    options: ExportOptions,
    spec: QuantizeSpec,
    checkpoint: Checkpoint,
    export_id: str,
    export_info: dict[str, Any],
    report: ParityReport,
) -> dict[str, Any]:
    meta = checkpoint.meta
    return {
        "export_id": export_id,
        "export_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_name": options.model_name,
        "source_checkpoint": str(options.checkpoint),
        "training_job": {
            "job_id": options.job_name or meta.get("job_id"),
            "job_name": meta.get("job_name"),
            "best_epoch": meta.get("best_epoch"),
            "best_f1": meta.get("best_f1"),
        },
        "quantize": spec.name,
        "minimum_deployment_target": spec.deployment_target(bool(options.coreml_seq_lengths)),
        "seq_length": options.seq_length,
        "formats": list(options.formats),
        **{key: export_info[key] for key in manifest_defaults()},
        "encoding_version": ENCODING_VERSION,
        "labels": list(checkpoint.labels),
        "num_parameters": _num_parameters(checkpoint),
        "parity": report.to_dict(),
        "versions": {"python": platform.python_version(), **library_versions()},
    }


def _artifacts(
    exporters: Sequence[Exporter], options: ExportOptions, bundle_uri: str, sizes: dict[str, int]
) -> dict[str, Artifact]:
    out = {}
    for exporter in exporters:
        primary = exporter.files(options)[0]
        uri = f"{bundle_uri.rstrip('/')}/{primary.name}"
        out[exporter.name] = Artifact(primary.name, uri, sizes[primary.size_key])
    return out


def _num_parameters(checkpoint: Checkpoint) -> int:
    return int(sum(p.numel() for p in checkpoint.model.parameters()))


def _per_parameter(size: int, checkpoint: Checkpoint) -> float | None:
    num_params = _num_parameters(checkpoint)
    return round(size / num_params, 4) if num_params else None


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
