"""Export requests and results, torch-free: message formats and record transitions.

Shared by the export worker (``receipt_layoutlm.export_worker``), the auto-export Lambda and
the export results Lambda (``receipt_cloud.handlers``), so every path writes the same records:

    request = ExportRequest.parse(message.body)                 # BadExportMessageError if bad
    request = confine_request(request, runs_uri=..., bundles_uri=...)  # URIs inside the stores
    outcome, export = claim_export(store, request, stale_after=60)
    export = finish_export(store, export.export_id, status="SUCCEEDED", bundle_s3_uri=...)
    apply_export_result(store, result_of(export))               # record + Job stamp
"""

from __future__ import annotations

from receipt_cloud.exports.messages import (
    DEFAULT_QUANTIZE,
    MAX_ERROR_MESSAGE_CHARS,
    QUANTIZE_NAMES,
    REQUEST_FIELDS,
    RESULT_FIELDS,
    BadExportMessageError,
    ExportRequest,
    confine_request,
    parse_result,
)
from receipt_cloud.exports.queries import export_summary, list_exports
from receipt_cloud.exports.records import (
    BUNDLES_PREFIX,
    TRANSITIONS,
    ExportStateError,
    LostClaimError,
    apply_export_result,
    bundle_output_prefix,
    claim_export,
    create_pending_export,
    finish_export,
    job_name_of,
    record_failure,
    release_export,
    resolve_job,
    result_of,
    stamp_job,
    touch_export,
)

__all__ = [
    "BUNDLES_PREFIX",
    "DEFAULT_QUANTIZE",
    "MAX_ERROR_MESSAGE_CHARS",
    "QUANTIZE_NAMES",
    "REQUEST_FIELDS",
    "RESULT_FIELDS",
    "TRANSITIONS",
    "BadExportMessageError",
    "ExportRequest",
    "ExportStateError",
    "LostClaimError",
    "apply_export_result",
    "bundle_output_prefix",
    "claim_export",
    "confine_request",
    "create_pending_export",
    "export_summary",
    "finish_export",
    "job_name_of",
    "list_exports",
    "parse_result",
    "record_failure",
    "release_export",
    "resolve_job",
    "result_of",
    "stamp_job",
    "touch_export",
]
