"""A bundle's manifest must tell the truth about the bundle: the labels it lists are the ones
``label_map.json`` and ``config.json`` give the model's outputs, the export settings it records
(quantize mode, sequence length, encoding version) are the ones the bundle's ``config.json`` and
``encoding.json`` were written with, and its provenance (export id, training job) matches where
the bundle is stored (``bundles/<job>/<export_id>/``) and the checkpoint it names.

A manifest whose file table is right but whose words are not (edited after export, or copied
from another bundle) is refused by :func:`manifest_problems`, which ``verify_bundle`` runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.bundle_format import CONFIG_FILE, ENCODING_FILE, LABEL_MAP_FILE

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _config_labels(config: Any) -> list[str] | None:
    id2label = config.get("id2label") if isinstance(config, dict) else None
    if not isinstance(id2label, dict):
        return None
    try:
        return [str(id2label[str(i)]) for i in range(len(id2label))]
    except KeyError:
        return None


def label_problems(bundle_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """The manifest's ``labels`` against ``label_map.json`` and ``config.json``."""
    if "labels" not in manifest:  # claims nothing; the device reads label_map.json anyway
        return []
    claimed = manifest["labels"]
    if not isinstance(claimed, list) or not all(isinstance(x, str) for x in claimed):
        return ["manifest labels is not a list of names"]
    problems = []
    label_map = _json(bundle_dir / LABEL_MAP_FILE)
    mapped = label_map.get("labels") if isinstance(label_map, dict) else None
    if mapped != claimed:
        problems.append(f"manifest labels disagree with {LABEL_MAP_FILE}")
    if (bundle_dir / CONFIG_FILE).is_file() and (
        _config_labels(_json(bundle_dir / CONFIG_FILE)) != claimed
    ):
        problems.append(f"manifest labels disagree with {CONFIG_FILE} id2label")
    return problems


def settings_problems(bundle_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Quantize mode, sequence length and encoding version against ``config.json`` and
    ``encoding.json`` (their ``export`` blocks are written from the same options)."""
    problems = []
    for name in (CONFIG_FILE, ENCODING_FILE):
        document = _json(bundle_dir / name)
        export = document.get("export") if isinstance(document, dict) else None
        if not isinstance(export, dict):
            continue  # bundles written before the export block: nothing to compare
        for key in ("quantize", "seq_length"):
            if key in export and export[key] != manifest.get(key):
                problems.append(f"manifest {key} {manifest.get(key)!r:.40} disagrees with {name}")
    encoding = _json(bundle_dir / ENCODING_FILE)
    version = encoding.get("version") if isinstance(encoding, dict) else None
    claimed = manifest.get("encoding_version")
    # Majors only: a checkpoint of an older minor spec keeps its version in encoding.json while
    # the manifest records the exporter's; a different major is a different encoding.
    if version is not None and claimed is not None and (
        str(version).split(".")[0] != str(claimed).split(".")[0]
    ):
        problems.append(f"manifest encoding_version {claimed!r:.40} disagrees with {ENCODING_FILE}")
    return problems


def provenance_problems(manifest: dict[str, Any], *, job: str | None = None,
                        export_id: str | None = None) -> list[str]:
    """Export id and training job against where the bundle is stored (``job``/``export_id``,
    from ``bundles/<job>/<export_id>/``; None: not checked) and against the checkpoint the
    manifest names (``…/runs/<job>/…``)."""
    problems = []
    recorded_id = manifest.get("export_id")
    if not isinstance(recorded_id, str) or not recorded_id:
        problems.append("manifest export_id is missing")
    elif export_id is not None and recorded_id != export_id:
        problems.append(f"manifest export_id {recorded_id!r:.60} is not the bundle's folder "
                        f"{export_id!r:.60}")
    training = manifest.get("training_job")
    training = training if isinstance(training, dict) else {}
    names = {str(v) for v in (training.get("job_name"), training.get("job_id")) if v}
    if job is not None and names and job not in names:
        problems.append(f"manifest training job {sorted(names)} is not the bundle's job "
                        f"folder {job!r:.60}")
    source = str(manifest.get("source_checkpoint") or "")
    parts = source.replace("\\", "/").split("/")
    if "runs" in parts and parts.index("runs") + 1 < len(parts) and names:
        run = parts[parts.index("runs") + 1]
        if run not in names:
            problems.append(f"manifest source_checkpoint is in run {run!r:.60}, not the "
                            f"training job {sorted(names)}")
    return problems


def manifest_problems(bundle_dir: Path, manifest: dict[str, Any], *, job: str | None = None,
                      export_id: str | None = None) -> list[str]:
    """Every way ``manifest`` disagrees with the bundle it describes (empty when truthful)."""
    return [*label_problems(bundle_dir, manifest), *settings_problems(bundle_dir, manifest),
            *provenance_problems(manifest, job=job, export_id=export_id)]


def record_problems(manifest: dict[str, Any], bundle_uri: str, store: ReceiptStore) -> list[str]:
    """The manifest against the records of the stack it is promoted in: the training Job it
    names (its recorded tag list) and the export record of its ``export_id`` (job, quantize
    mode, bundle location). Records the store does not hold are not checked (a bundle trained
    or exported elsewhere); a record that exists and disagrees is a lie."""
    from receipt_dynamo import EntityNotFoundError
    from receipt_layoutlm.bundles.locations import canonical_uri

    problems = []
    training = manifest.get("training_job")
    training = training if isinstance(training, dict) else {}
    name = training.get("job_name") or training.get("job_id")
    names = {str(v) for v in (training.get("job_name"), training.get("job_id")) if v}
    job = None
    if isinstance(name, str) and name:
        try:
            job = store.get_job_by_name(name)
        except (EntityNotFoundError, ValueError):
            job = None
    recorded = (job.job_config or {}).get("labels") if job is not None else None
    if isinstance(recorded, list) and "labels" in manifest and recorded != manifest["labels"]:
        problems.append(f"manifest labels are not the ones training Job {name!r:.60} recorded")
    export_id = manifest.get("export_id")
    try:
        export = store.get_export_job(export_id) if isinstance(export_id, str) else None
    except (EntityNotFoundError, ValueError):
        export = None
    if export is not None:
        if names and export.job_id not in names:
            problems.append(f"export {export_id} was recorded for job {export.job_id!r:.60}, "
                            f"the manifest names {sorted(names)}")
        quantize = getattr(export.quantize, "value", export.quantize)
        if quantize and quantize != manifest.get("quantize"):
            problems.append(f"export {export_id} was recorded as {quantize}, the manifest says "
                            f"{manifest.get('quantize')!r:.40}")
        if export.bundle_s3_uri and canonical_uri(export.bundle_s3_uri) != canonical_uri(
            bundle_uri
        ):
            problems.append(f"export {export_id} was published at {export.bundle_s3_uri}, not "
                            "here (a copy of another bundle's manifest)")
    return problems
