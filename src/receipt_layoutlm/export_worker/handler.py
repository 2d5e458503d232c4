"""``ExportMessageHandler``: one export queue message -> a gated bundle, records and a result.

Per message: validate (fields, the name rule, and the one URI rule: the checkpoint inside the
runs store, the bundle inside the bundles store); claim the CoreMLExportJob (PENDING ->
RUNNING, or create it); export through ``export_bundle`` (parity gate, manifest-last upload);
the rollout policy (``bundles.rollout``: promote or say why not); SUCCEEDED | FAILED with its
fields; send the result message and apply it (record + training Job stamp) here too. The loop
(``receipt_cloud.worker``) deletes, releases or dead-letters the message from what this raises.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_cloud.exports import (
    MAX_ERROR_MESSAGE_CHARS,
    BadExportMessageError,
    ExportRequest,
    claim_export,
    confine_request,
    finish_export,
    job_name_of,
    record_failure,
    release_export,
    result_of,
)
from receipt_cloud.handlers.export_results import apply_result_body
from receipt_cloud.queues import Message, Queue
from receipt_cloud.worker import (
    DeferMessage,
    PermanentError,
    WorkerConfig,
    WorkerStopped,
    is_transient,
)
from receipt_dynamo import EntityNotFoundError, ExportStatus
from receipt_layoutlm.bundles.rollout import rollout_export
from receipt_layoutlm.errors import ReceiptLayoutLMError
from receipt_layoutlm.export_worker._config import ExportWorkerOptions
from receipt_layoutlm.export_worker._outputs import ExportOutputs, outputs_of, outputs_of_manifest
from receipt_layoutlm.export_worker.adopt import adoptable
from receipt_layoutlm.export_worker.lease import RecordLease
from receipt_layoutlm.export_worker.source import complete_checkpoint
from receipt_layoutlm.export_worker.workspace import export_workdir

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings
    from receipt_dynamo import CoreMLExportJob, ReceiptStore

log = logging.getLogger(__name__)


class ExportMessageHandler:
    """Callable handed to ``run_worker``; holds the store, the results queue and the options."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: ReceiptStore,
        results_queue: Queue,
        options: ExportWorkerOptions,
        worker: WorkerConfig,
    ) -> None:
        self.settings = settings
        self.store = store
        self.results_queue = results_queue
        self.options = options
        self.worker = worker
        self._unfinished: tuple[str, str, float] | None = None
        """``(message_id, export_id, seconds)`` of the last run that failed unforeseen."""

    # -- reporting ---------------------------------------------------------------------------

    def _report(self, export: CoreMLExportJob) -> None:
        result = result_of(export)
        self.results_queue.send(result)
        apply_result_body(self.store, result)  # what the results Lambda does in the cloud
        log.info("export %s: %s (result sent)", export.export_id, export.status.value)

    def _fail(
        self, export_id: str, reason: str, body: dict[str, Any] | None = None, **fields: Any
    ) -> None:
        reason = reason.strip()[:MAX_ERROR_MESSAGE_CHARS]
        if body is not None:
            export = record_failure(self.store, export_id, reason, body=body)
        else:
            export = finish_export(
                self.store, export_id, status="FAILED", error_message=reason, **fields
            )
        self._report(export)
        if export.status.value != "FAILED":  # a finished record never changes
            raise PermanentError(
                f"export {export_id} stays {export.status.value}; message refused: "
                f"{reason.splitlines()[0]}"
            )
        raise PermanentError(f"export {export_id} FAILED: {reason.splitlines()[0]}")

    # -- one message -------------------------------------------------------------------------

    def _check_record(self, export_id: str, fields: dict[str, Any]) -> None:
        """PermanentError when a live (PENDING/RUNNING) record of ``export_id`` was made for
        other values than ``fields``: the message is not that export's (forged, or a stale
        copy), so it neither runs nor fails it, and the record stays as it is."""
        try:
            record = self.store.get_export_job(export_id)
        except EntityNotFoundError:
            return
        if record.status in (ExportStatus.SUCCEEDED, ExportStatus.FAILED):
            return  # finished: its result is re-sent, the record never changes
        stored = dataclasses.asdict(record) | {"quantize": record.quantize.value}
        differs = [
            name
            for name in ("job_id", "model_s3_uri", "quantize", "output_s3_prefix")
            if not isinstance(fields.get(name), str) or fields[name].strip() != stored[name]
        ]
        if differs:
            raise PermanentError(
                f"export {export_id}: message refused, its {', '.join(differs)} differ from "
                f"the {record.status.value} export's record, which is left as it is"
            )

    def _request(self, message: Message) -> ExportRequest:
        """The message's request, checked before anything is read or written: its fields and
        names, that it is its record's (when one exists), then the one URI rule: the
        checkpoint inside the runs store, the bundle inside the bundles store."""
        request = ExportRequest.parse(message.body)
        # Resolved once: from here on job_ref is the Job's name, whatever the message gave.
        request = dataclasses.replace(request, job_ref=job_name_of(self.store, request.job_ref))
        self._check_record(request.export_id, request.to_message())
        return confine_request(
            request, runs_uri=self.settings.runs_uri, bundles_uri=self.settings.bundles_uri
        )

    def on_exhausted(self, message: Message, exc: Exception) -> None:
        """The loop's give-up hook, on a message's last allowed receive: an export whose run
        failed unforeseen becomes FAILED (``PermanentError``: the message is deleted). A
        message that named no export or never started one stays for the dead-letter queue."""
        unfinished, self._unfinished = self._unfinished, None
        if unfinished is None or unfinished[0] != message.message_id:
            return
        _, export_id, seconds = unfinished
        self._fail(
            export_id,
            f"failed on {message.receive_count} receives; last error {type(exc).__name__}: {exc}",
            export_duration_seconds=seconds,
        )

    def __call__(self, message: Message) -> None:
        self._unfinished = None
        try:
            request = self._request(message)
        except BadExportMessageError as exc:
            if exc.export_id is None:
                raise  # nothing to record it against: the dead-letter queue keeps it
            self._check_record(exc.export_id, exc.body)
            self._fail(exc.export_id, str(exc), body=exc.body)
            return
        outcome, export = claim_export(
            self.store, request, stale_after=self.worker.heartbeat_seconds * 2
        )
        if outcome == "finished":
            log.info(
                "export %s is %s already: re-sending its result",
                export.export_id,
                export.status.value,
            )
            self._report(export)
            return
        if outcome == "busy":
            raise DeferMessage(
                self.worker.visibility_timeout,
                f"export {export.export_id} is RUNNING on a live worker",
            )
        self._run_claimed(request, export, message)

    def _run_claimed(
        self, request: ExportRequest, export: CoreMLExportJob, message: Message
    ) -> None:
        started = time.monotonic()
        try:
            with RecordLease(self.store, export, interval=self.worker.heartbeat_seconds):
                outputs = self._export(request)
                rollout = rollout_export(
                    self.settings, self.store, job_name=request.job_ref,
                    bundle_uri=outputs.bundle_uri, default=self.options.rollout,
                )  # fmt: skip
        except WorkerStopped:
            release_export(self.store, export)  # PENDING: the redelivered message resumes it
            raise
        except Exception as exc:
            seconds = round(time.monotonic() - started, 3)
            if is_transient(exc):
                release_export(self.store, export)
                raise
            if isinstance(exc, ReceiptLayoutLMError | PermanentError):
                self._fail(request.export_id, str(exc), export_duration_seconds=seconds)
            # Unforeseen: released for another receive; the loop calls on_exhausted on the last.
            self._unfinished = (message.message_id, request.export_id, seconds)
            release_export(self.store, export)
            raise
        done = finish_export(
            self.store,
            request.export_id,
            status="SUCCEEDED",
            bundle_s3_uri=outputs.bundle_uri,
            mlpackage_s3_uri=outputs.mlpackage_uri,
            model_size_bytes=outputs.model_size_bytes,
            export_duration_seconds=outputs.export_duration_seconds,
            error_message=None,
            rollout=rollout,
        )
        self._report(done)

    # -- the export itself -------------------------------------------------------------------

    def _export(self, request: ExportRequest) -> ExportOutputs:
        with export_workdir(request.export_id) as workdir:
            manifest = adoptable(request.bundle_uri, request.export_id, workdir,
                                 make_zip=self.options.template.make_zip)
            if manifest is not None:
                return outputs_of_manifest(request.bundle_uri, manifest)
            return self._build(request, workdir)

    def _build(self, request: ExportRequest, workdir: Path) -> ExportOutputs:
        """Export into ``workdir`` (the worker's own scratch folder, swept: workspace.py)."""
        from receipt_layoutlm.export import export_bundle

        checkpoint = complete_checkpoint(
            request.checkpoint_uri, workdir, root=self.settings.runs_uri
        )
        options = dataclasses.replace(
            self.options.template,
            checkpoint=checkpoint,
            output=request.bundle_uri,
            quantize=request.quantize,
            export_id=request.export_id,
            job_name=request.job_ref,
            work_dir=str(workdir),
        )
        return outputs_of(
            export_bundle(options, settings=self.settings), request.bundle_uri
        )
