"""Corpus rows (group ``security``): artifacts that try to make export or promote read what
they must not, or adopt what is broken.

- a checkpoint file that is a symlink out of the checkpoint is refused;
- the export worker verifies a published bundle (and its zip) before adopting it, and sweeps
  what killed publishes and exports left;
- promote refuses a manifest that lies about labels, settings or provenance, or contradicts
  the stack's Job and export records.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bad_input_harness import Case, Workspace
from cases_checkpoints import tiny_checkpoint
from cases_exports import WORKER, stats
from security_checks import case, outside_unchanged, store_unchanged

EXPORT_ID = "5a1c0d2e-3b4f-4a6b-8c7d-9e0f1a2b3c4d"


# -- symlinks in checkpoints --------------------------------------------------------------------


def linked_tokenizer_config(ws: Workspace) -> None:
    directory = tiny_checkpoint(ws)
    secret = ws.write("secret.json", json.dumps({"aws_secret_access_key": "not-for-a-bundle"}))
    (directory / "tokenizer_config.json").unlink()
    (directory / "tokenizer_config.json").symlink_to(secret)


def linked_run_best(ws: Workspace) -> None:
    run = ws.path("runs/layoutlm-a")
    ws.write("runs/layoutlm-a/checkpoint-5/model.safetensors", b"weights")
    ws.write("runs/layoutlm-a/checkpoint-5/config.json", "{}")
    ws.write("runs/layoutlm-a/best/label_map.json", '{"labels": ["O"]}')
    secret = ws.write("secret.json", '{"token": "not-for-a-bundle"}')
    (run / "best" / "tokenizer_config.json").symlink_to(secret)


def complete_linked(ws: Workspace) -> Any:
    from receipt_layoutlm.export_worker.source import complete_checkpoint

    work = ws.path("work")
    work.mkdir(exist_ok=True)
    return complete_checkpoint(str(ws.path("runs/layoutlm-a/checkpoint-5")), work)


def nothing_copied(ws: Workspace, before: Any) -> None:
    assert ws.items() == before
    copied = [p for p in ws.path("work").rglob("*") if p.is_file()]
    assert copied == [], f"copied out of a linked checkpoint: {copied}"
    outside_unchanged(ws, "work")


def nothing_exported(ws: Workspace, before: Any) -> None:
    assert not ws.path("out").exists(), "the refused export left a bundle behind"
    store_unchanged(ws, before)


# -- verify-then-adopt --------------------------------------------------------------------------


def _bundle_dir(ws: Workspace) -> Path:
    return ws.data_dir / "objects" / "bundles" / "layoutlm-a" / EXPORT_ID


def published(damage: Callable[[Path], None]) -> Callable[[Workspace], None]:
    """A bundle export EXPORT_ID published earlier (then damaged), its zip, a queued message for
    the same export whose checkpoint is gone, and the worker's scratch root in the case dir."""

    def setup(ws: Workspace) -> None:
        from receipt_layoutlm.bundles.manifest import write_manifest
        from receipt_layoutlm.export.publish import zip_dir

        target = _bundle_dir(ws)
        target.mkdir(parents=True)
        (target / "vocab.txt").write_text("[PAD]\n[UNK]\n")
        (target / "label_map.json").write_text('{"labels": ["O"]}')
        write_manifest(target, {"export_id": EXPORT_ID, "parity": {"passed": True},
                                "training_job": {"job_name": "layoutlm-a"}})
        zip_dir(target, target.parent / f"{EXPORT_ID}.zip")
        damage(target)
        work = ws.path("work")
        work.mkdir()
        os.environ["RECEIPTS_EXPORT_WORK_DIR"] = str(work)
        ws.cleanups.append(lambda: os.environ.pop("RECEIPTS_EXPORT_WORK_DIR", None))
        settings = ws.settings()
        settings.open_queue("coreml_export_jobs").send({
            "export_id": EXPORT_ID, "job_id": "layoutlm-a", "quantize": "float16",
            "model_s3_uri": settings.open_objects("runs").uri("runs/layoutlm-a/best"),
            "output_s3_prefix": settings.open_objects("bundles").uri(
                f"bundles/layoutlm-a/{EXPORT_ID}")})

    return setup


def truncate_zip(target: Path) -> None:
    path = target.parent / f"{EXPORT_ID}.zip"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupt_vocab(target: Path) -> None:
    (target / "vocab.txt").write_text("[PAD]\n[EVIL]\n")


def killed_publish_and_export(target: Path) -> None:
    corrupt_vocab(target)
    partial = target.parent / f".{EXPORT_ID}.partial-deadbeef"
    partial.mkdir()
    (partial / "model.onnx").write_bytes(b"half a model")
    (target.parent / f".{EXPORT_ID}.zip.partial-cafe0123").write_bytes(b"PK half")


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def with_dead_scratch(setup: Callable[[Workspace], None]) -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        setup(ws)
        scratch = ws.path(f"work/{dead_pid()}-{EXPORT_ID}/bundle")
        scratch.mkdir(parents=True)
        (scratch / "model.onnx").write_bytes(b"x" * 1024)

    return run


def _export(ws: Workspace) -> Any:
    return ws.settings().open_store().get_export_job(EXPORT_ID)


def zip_rebuilt(ws: Workspace, _before: Any) -> None:
    from receipt_layoutlm.bundles.manifest import verify_bundle, verify_zip

    export = _export(ws)
    assert export.status.value == "SUCCEEDED", export
    target = _bundle_dir(ws)
    assert verify_bundle(target).ok
    manifest = json.loads((target / "manifest.json").read_text())
    assert verify_zip(target.parent / f"{EXPORT_ID}.zip", manifest) == []
    assert zipfile.is_zipfile(target.parent / f"{EXPORT_ID}.zip")
    outside_unchanged(ws, "work")
    assert list(ws.path("work").iterdir()) == [], "the worker left scratch files"


def not_adopted(ws: Workspace, _before: Any) -> None:
    export = _export(ws)
    assert export.status.value == "FAILED" and "does not exist" in export.error_message
    assert not _bundle_dir(ws).exists(), "the bundle that did not verify is still published"
    assert not (_bundle_dir(ws).parent / f"{EXPORT_ID}.zip").exists()
    assert [p.name for p in _bundle_dir(ws).parent.iterdir()] == []
    outside_unchanged(ws, "work")
    assert list(ws.path("work").iterdir()) == [], "scratch of a killed export is still there"


# -- manifests that lie -------------------------------------------------------------------------


def stored_bundle(*, job: str = "layoutlm-good", folder: str = "e1",
                  labels: list[str] | None = None,
                  config_labels: list[str] | None = None, manifest: dict[str, Any] | None = None,
                  config_export: dict[str, Any] | None = None) -> Callable[[Workspace], None]:
    """A bundle at ``bundles/<job>/e1`` of the data dir whose files agree with each other and
    whose manifest lists them honestly, but says ``manifest``."""

    def setup(ws: Workspace) -> None:
        from receipt_layoutlm.bundles.manifest import write_manifest
        from receipt_layoutlm.checkpoint import label_map

        true_labels = ["O", "B-GRAND_TOTAL", "I-GRAND_TOTAL"]
        target = ws.data_dir / "objects" / "bundles" / job / folder
        target.mkdir(parents=True)
        (target / "label_map.json").write_text(json.dumps(label_map(true_labels)))
        id2label = dict(enumerate(config_labels or true_labels))
        (target / "config.json").write_text(json.dumps({
            "id2label": {str(k): v for k, v in id2label.items()},
            "export": {"quantize": "float16", "seq_length": 512, **(config_export or {})}}))
        fields = {"export_id": folder, "parity": {"passed": True},
                  "labels": labels or true_labels,
                  "quantize": "float16", "seq_length": 512,
                  "training_job": {"job_name": "layoutlm-good", "job_id": "layoutlm-good"},
                  "source_checkpoint": "file:///srv/objects/runs/layoutlm-good/best"}
        write_manifest(target, {**fields, **(manifest or {})})

    return setup


def with_records(setup: Callable[[Workspace], None], *, job_labels: list[str] | None = None,
                 export_quantize: str | None = None) -> Callable[[Workspace], None]:
    """``setup`` plus this stack's records of the bundle: its training Job (with the tag list it
    recorded) and/or its export."""

    def run(ws: Workspace) -> None:
        import uuid

        from receipt_dynamo import CoreMLExportJob, Job

        setup(ws)
        store = ws.settings().open_store()
        if job_labels is not None:
            store.add_job(Job(job_id=str(uuid.uuid4()), name="layoutlm-good",
                              job_config={"labels": job_labels}))
        if export_quantize is not None:
            store.add_export_job(CoreMLExportJob(
                export_id=EXPORT_ID, job_id="layoutlm-good", quantize=export_quantize,
                model_s3_uri="file:///srv/objects/runs/layoutlm-good/best",
                output_s3_prefix=f"file:///srv/objects/bundles/layoutlm-good/{EXPORT_ID}"))

    return run


def nothing_promoted(ws: Workspace, before: Any) -> None:
    assert not (ws.data_dir / "objects" / "bundles" / "active.json").exists()
    store_unchanged(ws, before)


def promote_case(name: str, setup: Callable[[Workspace], None], message: str,
                 job: str = "layoutlm-good") -> Case:
    return case(name, ["promote", f"{{data}}/objects/bundles/{job}/e1"],
                rf"error: bundle \S+ does not match its manifest: {message}; re-download or "
                r"re-export it", setup=setup, check=nothing_promoted)


CASES = [
    case("export_checkpoint_tokenizer_config_links_outside",
         ["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--output-dir", "{root}/out",
          "--formats", "onnx", "--seq-length", "16"],
         r"error: checkpoint \S+ckpt: tokenizer_config\.json is a symlink to a file outside the "
         r"checkpoint; refused \(copy the real file in instead\)",
         setup=linked_tokenizer_config, check=nothing_exported),
    case("export_worker_run_best_links_outside", complete_linked,
         r"error: run best/ \S+best: tokenizer_config\.json is a symlink to a file outside the "
         r"run best/; refused .*", setup=linked_run_best, check=nothing_copied),
    case("export_worker_truncated_zip_not_adopted", WORKER, stats(succeeded=1, failed=0),
         exit_code=0, setup=published(truncate_zip), check=zip_rebuilt),
    case("export_worker_corrupt_bundle_not_adopted", WORKER, stats(failed=1, succeeded=0),
         exit_code=0, setup=published(corrupt_vocab), check=not_adopted),
    case("export_worker_sweeps_partials_and_scratch", WORKER, stats(failed=1, succeeded=0),
         exit_code=0, setup=with_dead_scratch(published(killed_publish_and_export)),
         check=not_adopted),
    promote_case("promote_manifest_labels_lie",
                 stored_bundle(labels=["O", "B-MERCHANT_NAME", "I-MERCHANT_NAME"]),
                 r"manifest labels disagree with label_map\.json; manifest labels disagree with "
                 r"config\.json id2label"),
    promote_case("promote_config_labels_disagree",
                 stored_bundle(config_labels=["O", "B-TAX", "I-TAX"]),
                 r"manifest labels disagree with config\.json id2label"),
    promote_case("promote_manifest_quantize_lie", stored_bundle(config_export={"quantize": "int8"}),
                 r"manifest quantize 'float16' disagrees with config\.json"),
    promote_case("promote_manifest_other_job", stored_bundle(job="layoutlm-evil"),
                 r"manifest training job \['layoutlm-good'\] is not the bundle's job folder "
                 r"'layoutlm-evil'", job="layoutlm-evil"),
    promote_case("promote_manifest_checkpoint_of_other_run",
                 stored_bundle(manifest={"source_checkpoint": "s3://b/runs/layoutlm-evil/best"}),
                 r"manifest source_checkpoint is in run 'layoutlm-evil', not the training job "
                 r"\['layoutlm-good'\]"),
    case("promote_manifest_labels_not_the_jobs",
         ["promote", "{data}/objects/bundles/layoutlm-good/e1"],
         r"error: bundle \S+: its manifest contradicts the records: manifest labels are not the "
         r"ones training Job 'layoutlm-good' recorded; re-export it",
         setup=with_records(stored_bundle(), job_labels=["O", "B-TAX", "I-TAX"]),
         check=nothing_promoted),
    case("promote_manifest_quantize_not_the_exports",
         ["promote", f"{{data}}/objects/bundles/layoutlm-good/{EXPORT_ID}"],
         rf"error: bundle \S+: its manifest contradicts the records: export {EXPORT_ID} was "
         r"recorded as int8, the manifest says 'float16'; re-export it",
         setup=with_records(stored_bundle(folder=EXPORT_ID), export_quantize="int8"),
         check=nothing_promoted),
]
