"""CoreMLExportJob transitions and the training Job's export stamps, safe under concurrency.

Every change of an existing record is a compare-and-put on its ``updated_at`` (microsecond
timestamps), so two workers can never both claim one export, and concurrent stamps on one Job
never lose each other's entries.

An export moves PENDING -> RUNNING -> SUCCEEDED | FAILED (RUNNING -> PENDING when a stopped
worker hands it back; PENDING -> FAILED when its message is refused). A finished export's record
never changes: a late, repeated or forged result message cannot move it backwards or sideways,
nor replace a SUCCEEDED export's bundle fields (:data:`TRANSITIONS`, :class:`ExportStateError`).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from receipt_cloud.errors import ReceiptCloudError
from receipt_cloud.exports.messages import MAX_ERROR_MESSAGE_CHARS, QUANTIZE_NAMES, ExportRequest
from receipt_cloud.objects.confine import MAX_URI_CHARS
from receipt_dynamo import (
    ConditionFailedError,
    CoreMLExportJob,
    EntityAlreadyExistsError,
    EntityNotFoundError,
    ExportStatus,
    Job,
)
from receipt_dynamo._table import AttributeEquals
from receipt_dynamo.names import is_name

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore

logger = logging.getLogger("receipt_cloud.exports")

BUNDLES_PREFIX = "bundles"
"""Key prefix of bundles in the bundles store: ``bundles/<job>/<export_id>/``."""
_CAS_ATTEMPTS = 20
FINAL = (ExportStatus.SUCCEEDED, ExportStatus.FAILED)
ClaimOutcome = Literal["claimed", "finished", "busy"]
E = TypeVar("E", CoreMLExportJob, Job)


TRANSITIONS: dict[ExportStatus, frozenset[ExportStatus]] = {
    ExportStatus.PENDING: frozenset({ExportStatus.RUNNING, ExportStatus.FAILED}),
    ExportStatus.RUNNING: frozenset(
        {ExportStatus.PENDING, ExportStatus.RUNNING, ExportStatus.SUCCEEDED, ExportStatus.FAILED}
    ),
    ExportStatus.SUCCEEDED: frozenset(),
    ExportStatus.FAILED: frozenset(),
}
"""Status changes an export record may make (RUNNING -> RUNNING is a lease refresh)."""
RESULT_FIELDS_OF_RECORD = (
    "mlpackage_s3_uri",
    "bundle_s3_uri",
    "model_size_bytes",
    "export_duration_seconds",
    "error_message",
)


class LostClaimError(RuntimeError):
    """Another worker changed the export record this worker had claimed."""


class ExportStateError(ReceiptCloudError, ValueError):
    """A result or transition the export's state machine refuses; the record is unchanged."""


def bundle_output_prefix(bundles_uri: str, job_name: str, export_id: str) -> str:
    """``<bundles store>/bundles/<job>/<export_id>`` — where an export's bundle goes."""
    return f"{bundles_uri.rstrip('/')}/{BUNDLES_PREFIX}/{job_name}/{export_id}"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def resolve_job(store: ReceiptStore, job_ref: str) -> Job | None:
    """The training Job ``job_ref`` names (its name, or its id); None when there is none."""
    if _is_uuid(job_ref):
        try:
            return store.get_job(job_ref)
        except EntityNotFoundError:
            pass
    try:
        return store.get_job_by_name(job_ref)
    except EntityNotFoundError:
        return None


def job_name_of(store: ReceiptStore, job_ref: str) -> str:
    """The Job's name for ``job_ref`` (an id resolves to its name; an unknown ref is kept)."""
    job = resolve_job(store, job_ref)
    return job.name if job is not None else job_ref


def _age_seconds(timestamp: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(timestamp)).total_seconds()


def _later(previous: str) -> str:
    """Now, strictly after ``previous``, so a compare-and-put always changes the value."""
    now = datetime.now(UTC)
    floor = datetime.fromisoformat(previous) + timedelta(microseconds=1)
    return max(now, floor).isoformat()


def _put_if_unchanged(store: ReceiptStore, old: E, new: E) -> bool:
    try:
        store.table.put_item(new.to_item(), condition=AttributeEquals("updated_at", old.updated_at))
    except ConditionFailedError:
        return False
    return True


def _cas_update(store: ReceiptStore, read: Callable[[], E], change: Callable[[E], E | None]) -> E:
    """Read, change, compare-and-put until it sticks; ``change`` returning None keeps it."""
    for _ in range(_CAS_ATTEMPTS):
        current = read()
        new = change(current)
        if new is None:
            return current
        new = dataclasses.replace(new, updated_at=_later(current.updated_at))
        if _put_if_unchanged(store, current, new):
            return new
    raise LostClaimError(f"record kept changing under {_CAS_ATTEMPTS} updates; try again")


def _record_of(request: ExportRequest, status: ExportStatus) -> CoreMLExportJob:
    """The record of ``request``: its attributes keep the message's wire names."""
    return CoreMLExportJob(
        export_id=request.export_id,
        job_id=request.job_ref,
        model_s3_uri=request.checkpoint_uri,
        quantize=request.quantize,
        output_s3_prefix=request.bundle_uri,
        status=status,
    )


def create_pending_export(store: ReceiptStore, request: ExportRequest) -> CoreMLExportJob:
    """Write the PENDING CoreMLExportJob of ``request`` (refused when the id exists)."""
    export = _record_of(request, ExportStatus.PENDING)
    store.add_export_job(export)
    return export


def claim_export(
    store: ReceiptStore, request: ExportRequest, *, stale_after: float
) -> tuple[ClaimOutcome, CoreMLExportJob]:
    """Move the export to RUNNING for this worker.

    ``finished``: it is SUCCEEDED/FAILED already (re-send its result, do not export again);
    ``busy``: RUNNING and touched within ``stale_after`` seconds (a live worker has it);
    ``claimed``: this worker owns it now (created RUNNING when the message had no record).
    """
    for _ in range(_CAS_ATTEMPTS):
        try:
            current = store.get_export_job(request.export_id)
        except EntityNotFoundError:
            running = _record_of(request, ExportStatus.RUNNING)
            try:
                store.add_export_job(running)
            except EntityAlreadyExistsError:
                continue
            return "claimed", running
        if current.status in FINAL:
            return "finished", current
        if (
            current.status == ExportStatus.RUNNING
            and _age_seconds(current.updated_at) < stale_after
        ):
            return "busy", current
        if current.status == ExportStatus.RUNNING:
            logger.warning(
                "export %s was RUNNING untouched for %.0f s (its worker died): taking it over",
                current.export_id,
                _age_seconds(current.updated_at),
            )
        running = dataclasses.replace(
            current,
            status=ExportStatus.RUNNING,
            updated_at=_later(current.updated_at),
            error_message=None,
        )
        if _put_if_unchanged(store, current, running):
            return "claimed", running
    raise LostClaimError(f"export {request.export_id}: could not claim it; try again")


def _owned(export: CoreMLExportJob) -> Callable[[CoreMLExportJob], CoreMLExportJob]:
    def check(current: CoreMLExportJob) -> CoreMLExportJob:
        if current.status != ExportStatus.RUNNING:
            raise LostClaimError(
                f"export {export.export_id} is {current.status.value} now, not RUNNING: "
                "another worker finished or released it"
            )
        return current

    return check


def touch_export(store: ReceiptStore, export: CoreMLExportJob) -> CoreMLExportJob:
    """Refresh a claimed RUNNING record's ``updated_at`` (the liveness ``claim_export`` reads)."""
    return _cas_update(store, lambda: store.get_export_job(export.export_id), _owned(export))


def release_export(store: ReceiptStore, export: CoreMLExportJob) -> CoreMLExportJob:
    """RUNNING -> PENDING (a stopped worker hands the export back for the next receive)."""

    def back(current: CoreMLExportJob) -> CoreMLExportJob | None:
        if current.status != ExportStatus.RUNNING:
            return None
        return dataclasses.replace(current, status=ExportStatus.PENDING)

    return _cas_update(store, lambda: store.get_export_job(export.export_id), back)


def finish_export(store: ReceiptStore, export_id: str, **fields: Any) -> CoreMLExportJob:
    """Set the final ``status`` and result fields of a RUNNING export (or FAILED on a PENDING
    one). A finished record is returned unchanged, whatever was asked: it never changes.
    :class:`ExportStateError` when the transition is not in :data:`TRANSITIONS`."""
    status = ExportStatus(fields.pop("status"))
    if status not in FINAL:
        raise ExportStateError(f"export {export_id}: {status.value} is not a final status")

    def done(current: CoreMLExportJob) -> CoreMLExportJob | None:
        if current.status in FINAL:
            return None
        if status not in TRANSITIONS[current.status]:
            raise ExportStateError(
                f"export {export_id} is {current.status.value}: it cannot become {status.value} "
                f"(only {' or '.join(sorted(s.value for s in TRANSITIONS[current.status]))})"
            )
        return dataclasses.replace(current, status=status, **fields)

    return _cas_update(store, lambda: store.get_export_job(export_id), done)


def record_failure(
    store: ReceiptStore, export_id: str, reason: str, *, body: dict[str, Any] | None = None
) -> CoreMLExportJob:
    """Mark export ``export_id`` FAILED with ``reason``; a message that never made a record
    gets one from what its body holds (placeholders for what it lacks)."""
    body = body or {}
    reason = reason[:MAX_ERROR_MESSAGE_CHARS]
    try:
        store.get_export_job(export_id)
    except EntityNotFoundError:
        quantize = body.get("quantize")
        job_id = _text(body.get("job_id"), "unknown-job")
        placeholder = CoreMLExportJob(
            export_id=export_id,
            # A refused message's values are not stored as given: a hostile id is no name.
            job_id=job_id if is_name(job_id) else "unknown-job",
            model_s3_uri=_text(body.get("model_s3_uri"), "(missing)"),
            quantize=quantize if quantize in QUANTIZE_NAMES else "float16",
            output_s3_prefix=_text(body.get("output_s3_prefix"), "(missing)"),
            status=ExportStatus.FAILED,
            error_message=reason,
        )
        try:
            store.add_export_job(placeholder)
            return placeholder
        except EntityAlreadyExistsError:
            pass
    return finish_export(store, export_id, status=ExportStatus.FAILED, error_message=reason)


def _text(value: Any, default: str) -> str:
    if not isinstance(value, str) or not value.strip():
        return default
    text = value.strip()
    if len(text) > MAX_URI_CHARS or not text.isprintable():
        return "(refused)"
    return text


def result_of(export: CoreMLExportJob) -> dict[str, Any]:
    """The result message for a finished export record."""
    return {
        "export_id": export.export_id,
        "job_id": export.job_id,
        "status": export.status.value,
        "mlpackage_s3_uri": export.mlpackage_s3_uri,
        "bundle_s3_uri": export.bundle_s3_uri,
        "model_size_bytes": export.model_size_bytes,
        "export_duration_seconds": export.export_duration_seconds,
        "error_message": export.error_message,
    }


def stamp_job(store: ReceiptStore, export: CoreMLExportJob) -> Job | None:
    """Record the export under the training Job's ``results["exports"][export_id]`` (and, when
    it succeeded, as ``results["latest_export"]``); None when the Job is not in the store."""
    job = resolve_job(store, export.job_id)
    if job is None:
        logger.warning("export %s: no Job %r to stamp", export.export_id, export.job_id)
        return None
    entry = {k: v for k, v in result_of(export).items() if k not in ("export_id", "job_id")}
    entry |= {"quantize": export.quantize.value, "updated_at": export.updated_at}

    def stamp(current: Job) -> Job | None:
        results = dict(current.results)
        exports = dict(results.get("exports") or {})
        if exports.get(export.export_id) == entry:
            return None
        exports[export.export_id] = entry
        results["exports"] = exports
        if export.status == ExportStatus.SUCCEEDED:
            latest = results.get("latest_export") or {}
            if str(latest.get("updated_at", "")) <= export.updated_at:
                results["latest_export"] = {"export_id": export.export_id, **entry}
        return dataclasses.replace(current, results=results)

    return _cas_update(store, lambda: store.get_job(job.job_id), stamp)


def apply_export_result(store: ReceiptStore, result: dict[str, Any]) -> CoreMLExportJob:
    """Bring the export record and its Job in line with a result message (idempotent).

    The results Lambda runs this for every message on the results queue; locally the worker
    runs it on what it sends. A result that agrees with a finished record only (re)stamps the
    Job; one that disagrees is refused with :class:`ExportStateError` and changes nothing (a
    finished export's record never changes). A SUCCEEDED result that would finish a RUNNING
    export must name the record's own ``output_s3_prefix`` as its bundle. Raises
    ``EntityNotFoundError`` for an export with no record.
    """
    fields = {name: result.get(name) for name in RESULT_FIELDS_OF_RECORD}
    export_id = result["export_id"]
    status = ExportStatus(result["status"])
    current = store.get_export_job(export_id)
    if status == ExportStatus.SUCCEEDED and current.status not in FINAL:
        _check_bundle_fields(current, fields)  # this result would be what finishes it
    export = finish_export(store, export_id, status=status, **fields)
    if export.status != status or any(getattr(export, k) != v for k, v in fields.items()):
        raise ExportStateError(
            f"export {export_id} is {export.status.value} already; a {status.value} result that "
            "differs from its record is refused (a finished export's record never changes)"
        )
    stamp_job(store, export)
    return export


def _check_bundle_fields(export: CoreMLExportJob, fields: dict[str, Any]) -> None:
    bundle = fields.get("bundle_s3_uri")
    prefix = export.output_s3_prefix.rstrip("/")
    mlpackage = fields.get("mlpackage_s3_uri")
    if bundle != prefix or (mlpackage is not None and not mlpackage.startswith(prefix + "/")):
        raise ExportStateError(
            f"export {export.export_id}: a SUCCEEDED result must name the record's own bundle "
            f"{prefix} (and its .mlpackage inside it); refused"
        )
