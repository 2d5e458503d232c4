"""Writing parsed documents to the record store, one atomic receipt at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from receipt_dynamo import EntityAlreadyExistsError, Image, ReceiptDynamoError, ReceiptStore
from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.errors import ReceiptLayoutLMError
from receipt_layoutlm.importers._report import ImportReport, Problem
from receipt_layoutlm.records import records_from_document

log = logging.getLogger(__name__)


def import_documents(
    store: ReceiptStore,
    docs: Iterable[ReceiptDocument],
    *,
    source: str,
    label_proposed_by: str,
    report: ImportReport | None = None,
) -> ImportReport:
    """Write each document as one receipt (ids from its key, see ``records.receipt_ids``;
    labels VALID).

    A receipt already in the store is skipped and counted (re-import adds nothing). A receipt
    whose records fail validation or encoding, or whose write fails, is counted as failed with a
    problem; nothing of it remains and the rest carries on. The Image record is written first
    and only when absent: a receipt is never stored without its Image (an import that died
    between the two is repaired by importing again), and re-importing never rewrites an Image
    (e.g. the real one of an OCR'd receipt exported as ``<image id>#00001``).
    Pass ``report`` (e.g. ``ImportReport.from_parse(parsed)``) to add to the parse counts.
    """
    report = report if report is not None else ImportReport()
    started = time.perf_counter()
    read_here = 0
    for doc in docs:
        read_here += 1
        image_added = False
        try:
            records = records_from_document(doc, source=source, label_proposed_by=label_proposed_by)
            image_added = _ensure_image(store, records.image)
            store.write_receipt(records.receipt, records.lines, records.words, records.labels)
        except EntityAlreadyExistsError:
            report.receipts_skipped += 1
            continue
        except (ReceiptDynamoError, ReceiptLayoutLMError, ValueError) as exc:
            # EntityValidationError is a ValueError too; all of them mean this receipt alone is
            # bad (e.g. EncodingError: NaN corners that reached line grouping).
            if image_added:
                _forget_image(store, records.image.image_id)
            report.receipts_failed += 1
            report.problems.append(Problem(doc.key, None, f"not written: {exc}"))
            log.warning("receipt %s not written: %s", doc.key, exc)
            continue
        report.receipts_written += 1
        report.words += len(records.words)
        report.labels.update(label.label for label in records.labels)
    report.receipts_read = max(report.receipts_read, read_here)
    report.seconds += time.perf_counter() - started
    return report


def _ensure_image(store: ReceiptStore, image: Image) -> bool:
    """Add ``image`` unless its id is stored already; True when this call added it."""
    try:
        store.add_image(image)
    except EntityAlreadyExistsError:
        return False
    return True


def _forget_image(store: ReceiptStore, image_id: str) -> None:
    """Remove an Image this import added for a receipt that then failed, unless it has other
    receipts (a failed receipt leaves nothing behind)."""
    try:
        if not store.list_receipts(image_id):
            store.delete_image(image_id)
    except ReceiptDynamoError as exc:  # the failure being reported matters more
        log.warning("image %s of a failed receipt not removed: %s", image_id, exc)
