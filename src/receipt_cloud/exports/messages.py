"""The export queue message and the export result message (formats in ARCHITECTURE.md)."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

from receipt_cloud.errors import ReceiptCloudError, UntrustedUriError
from receipt_dynamo.names import NAME_MAX, is_name, shown

REQUEST_FIELDS: tuple[str, ...] = (
    "export_id",
    "job_id",
    "model_s3_uri",
    "quantize",
    "output_s3_prefix",
)
"""Fields of an export queue message, all required strings."""
RESULT_FIELDS: tuple[str, ...] = (
    "export_id",
    "job_id",
    "status",
    "mlpackage_s3_uri",
    "bundle_s3_uri",
    "model_size_bytes",
    "export_duration_seconds",
    "error_message",
)
"""Fields of an export result message."""
QUANTIZE_NAMES: tuple[str, ...] = ("float32", "float16", "int8", "int4")
"""Quantize modes a message may ask for (receipt_dynamo's ``QuantizeMode`` values)."""
DEFAULT_QUANTIZE = "float16"
FINAL_STATUSES = ("SUCCEEDED", "FAILED")
MAX_ERROR_MESSAGE_CHARS = 4096
"""Longest ``error_message`` a result message may carry (a record is not a log file)."""
_NAME_HINT = f"use 1-{NAME_MAX} letters, digits, '.', '_' or '-' (the CLI's name rule)"


class BadExportMessageError(ReceiptCloudError, ValueError):
    """An export or result message that cannot be used; ``export_id`` is set when the body
    named a usable one (so the failure can be recorded against it)."""

    def __init__(self, reason: str, *, export_id: str | None = None, body: Any = None) -> None:
        self.export_id = export_id
        self.body = body if isinstance(body, dict) else {}
        super().__init__(reason)


def _uuid_or_none(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if isinstance(value, str) else None
    except ValueError:
        return None


def _json_object(body: str | bytes | dict[str, Any], what: str) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadExportMessageError(f"{what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise BadExportMessageError(f"{what} is nested too deeply to be one") from None
    if not isinstance(data, dict):
        raise BadExportMessageError(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


@dataclass(frozen=True)
class ExportRequest:
    """One export queue message: ``{export_id, job_id, model_s3_uri, quantize,
    output_s3_prefix}`` on the wire (ARCHITECTURE.md), held under names that say what each
    field holds: ``job_ref`` (the wire's ``job_id``), ``checkpoint_uri`` (``model_s3_uri``) and
    ``bundle_uri`` (``output_s3_prefix``); :meth:`parse` and :meth:`to_message` map them."""

    export_id: str
    """UUID of the export; the idempotency key."""
    job_ref: str
    """The message's ``job_id``: a training Job name, or an id the worker resolves."""
    checkpoint_uri: str
    """Checkpoint to export: a run's ``best/`` or any ``checkpoint-<step>/``."""
    quantize: str
    """float32, float16, int8 or int4."""
    bundle_uri: str
    """Where the bundle goes (``bundles/<job>/<export_id>`` in the bundles store)."""

    def to_message(self) -> dict[str, str]:
        """The JSON body to send, under the wire's field names."""
        return {
            "export_id": self.export_id,
            "job_id": self.job_ref,
            "model_s3_uri": self.checkpoint_uri,
            "quantize": self.quantize,
            "output_s3_prefix": self.bundle_uri,
        }

    @classmethod
    def parse(cls, body: str | bytes | dict[str, Any]) -> ExportRequest:
        """Validate a message body; :class:`BadExportMessageError` names every problem."""
        data = _json_object(body, "export message")
        export_id = _uuid_or_none(data.get("export_id"))
        problems = [
            f"{name} is missing or empty"
            for name in REQUEST_FIELDS
            if not isinstance(data.get(name), str) or not data[name].strip()
        ]
        if data.get("export_id") and export_id is None:
            problems.append(f"export_id {shown(data['export_id'])} is not a UUID")
        quantize = data.get("quantize")
        if isinstance(quantize, str) and quantize and quantize not in QUANTIZE_NAMES:
            problems.append(
                f"quantize {shown(quantize)} is not one of {', '.join(QUANTIZE_NAMES)}"
            )
        job_ref = data.get("job_id")
        if isinstance(job_ref, str) and job_ref.strip() and not is_name(job_ref):
            problems.append(f"job_id {shown(job_ref)} is not a Job name or id: {_NAME_HINT}")
        if problems:
            raise BadExportMessageError(
                "bad export message: " + "; ".join(problems), export_id=export_id, body=data
            )
        assert export_id is not None
        return cls(
            export_id=export_id,
            job_ref=data["job_id"].strip(),
            checkpoint_uri=data["model_s3_uri"].strip(),
            quantize=data["quantize"],
            bundle_uri=data["output_s3_prefix"].strip(),
        )


def parse_result(body: str | bytes | dict[str, Any]) -> dict[str, Any]:
    """Validate an export result message; returns it with every field present."""
    data = _json_object(body, "export result message")
    export_id = _uuid_or_none(data.get("export_id"))
    problems = []
    if export_id is None:
        problems.append(f"export_id {shown(data.get('export_id'))} is not a UUID")
    if data.get("status") not in FINAL_STATUSES:
        problems.append(
            f"status {shown(data.get('status'))} is not one of {', '.join(FINAL_STATUSES)}"
        )
    if not isinstance(data.get("job_id"), str) or not data["job_id"]:
        problems.append("job_id is missing")
    elif not is_name(data["job_id"]):
        problems.append(f"job_id {shown(data['job_id'])} is not a Job name or id: {_NAME_HINT}")
    for name in ("mlpackage_s3_uri", "bundle_s3_uri"):
        if data.get(name) is not None and not isinstance(data[name], str):
            problems.append(f"{name} {shown(data[name])} is not a URI")
    error = data.get("error_message")
    if error is not None and (not isinstance(error, str) or len(error) > MAX_ERROR_MESSAGE_CHARS):
        problems.append(
            f"error_message {shown(error)} is not text of at most {MAX_ERROR_MESSAGE_CHARS} "
            "characters"
        )
    size = data.get("model_size_bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        problems.append(f"model_size_bytes {shown(size)} is not a byte count")
    seconds = data.get("export_duration_seconds")
    if seconds is not None and (
        not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0
    ):
        problems.append(f"export_duration_seconds {shown(seconds)} is not a duration")
    if problems:
        raise BadExportMessageError(
            "bad export result: " + "; ".join(problems), export_id=export_id, body=data
        )
    return {name: data.get(name) for name in RESULT_FIELDS} | {"export_id": export_id}


def _output_folder_problem(key: str, request: ExportRequest) -> str | None:
    """Why the bundle folder ``key`` (relative to the bundles store) is not one this export may
    write, or None. Two layouts: ours, ``bundles/<job>/<export_id>`` (one export can never write
    over another's bundle), and the seed's ``coreml/<job>/`` (its messages name it; one folder
    per training job, as in the seed, never a ``*.mlpackage`` name the ``coreml/`` mirror of the
    active bundle owns)."""
    parts = key.strip("/").split("/")
    if parts[0] == "bundles":
        if parts[-1] != request.export_id:
            return (f"its last folder is not the export id {request.export_id} "
                    "(bundles/<job>/<export_id>)")
        return None
    if parts[0] == "coreml":
        if len(parts) != 2 or parts[1] != request.job_ref or parts[1].endswith(".mlpackage"):
            return f"under coreml/ only the job's own folder coreml/{request.job_ref}/ is written"
        return None
    return "it is not under bundles/ or the seed's coreml/<job>/ in that store"


def confine_request(request: ExportRequest, *, runs_uri: str, bundles_uri: str) -> ExportRequest:
    """``request`` when its URIs stay in the environment's stores (the one rule of
    ``receipt_cloud.objects.confine``): ``checkpoint_uri`` inside ``runs_uri``;
    ``bundle_uri`` inside ``bundles_uri``, in a folder this export may write
    (``_output_folder_problem``). Otherwise :class:`BadExportMessageError` with the one-line
    reason, before anything is read or written.

    The checkpoint alias (``runs/<job>/checkpoint-<step>/``) is resolved later, and what it
    resolves to passes the same rule (``export_worker.source.complete_checkpoint``).
    """
    from receipt_cloud.objects.confine import SHOWN_URI_CHARS, confine_uri

    try:
        confine_uri(request.checkpoint_uri, runs_uri, what="model_s3_uri")
        output = confine_uri(request.bundle_uri, bundles_uri, what="output_s3_prefix")
    except UntrustedUriError as exc:
        raise BadExportMessageError(
            f"bad export message: {exc}", export_id=request.export_id, body=request.to_message()
        ) from None
    problem = _output_folder_problem(output.key, request)
    if problem is not None:
        raise BadExportMessageError(
            f"bad export message: output_s3_prefix "
            f"{shown(request.bundle_uri, SHOWN_URI_CHARS)} is refused: {problem}",
            export_id=request.export_id,
            body=request.to_message(),
        )
    return request
