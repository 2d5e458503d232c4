"""The export results queue's Lambda: each result message updates its export record and Job.

An SQS event source with ``ReportBatchItemFailures``: records that could not be applied are
returned in ``batchItemFailures`` so only they are retried (and dead-lettered after the queue's
maximum receives). Locally the export worker applies ``apply_result_body`` to what it sends, so
``jobs show`` and ``exports show`` agree in both environments.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from receipt_cloud.exports import apply_export_result, parse_result
from receipt_cloud.handlers._lambda_env import settings_from_environment
from receipt_cloud.settings import Settings

if TYPE_CHECKING:
    from receipt_dynamo import ReceiptStore

logger = logging.getLogger("receipt_cloud.handlers.export_results")


def apply_result_body(store: ReceiptStore, body: str | dict[str, Any]) -> Any:
    """Validate one result message and apply it; returns the updated CoreMLExportJob."""
    return apply_export_result(store, parse_result(body))


def handler(
    event: dict[str, Any], context: Any = None, *, settings: Settings | None = None
) -> dict:
    """Apply every SQS record of ``event``; ``{"batchItemFailures": [{"itemIdentifier": id}]}``
    lists the ones that failed (bad JSON, unknown export, store errors)."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        logger.error("export results event skipped: it is %s, not an object with a Records "
                     "list", type(event).__name__)
        return {"batchItemFailures": []}
    settings = settings or settings_from_environment()
    store = settings.open_store()
    failures = []
    for index, record in enumerate(records):
        message_id = record.get("messageId") if isinstance(record, dict) else None
        if not isinstance(message_id, str) or not message_id:
            # No id to report it by: SQS never sends such a record; nothing to retry.
            logger.error("export results record %d skipped: it is %s without a messageId",
                         index, type(record).__name__)
            continue
        try:
            export = apply_result_body(store, record.get("body", ""))
            logger.info("export %s: %s applied", export.export_id, export.status.value)
        except Exception as exc:
            logger.error("result message %s not applied: %s", message_id, exc)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
