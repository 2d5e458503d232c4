"""Writing parsed documents to the record store, one atomic receipt at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from receipt_dynamo import EntityAlreadyExistsError, ReceiptDynamoError, ReceiptStore
from receipt_layoutlm.document import ReceiptDocument
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
    """Write each document as one receipt (image id derived from its key; labels VALID).

    A receipt already in the store is skipped and counted (re-import adds nothing). A receipt
    whose records fail validation or whose write fails is counted as failed with a problem; the
    store's ``write_receipt`` guarantees nothing of it remains, and the rest carries on. The
    Image record is written after its receipt (overwriting an identical one is harmless).
    Pass ``report`` (e.g. ``ImportReport.from_parse(parsed)``) to add to the parse counts.
    """
    report = report if report is not None else ImportReport()
    started = time.perf_counter()
    read_here = 0
    for doc in docs:
        read_here += 1
        try:
            records = records_from_document(doc, source=source, label_proposed_by=label_proposed_by)
            store.write_receipt(records.receipt, records.lines, records.words, records.labels)
            store.add_image(records.image, overwrite=True)
        except EntityAlreadyExistsError:
            report.receipts_skipped += 1
            continue
        except (ReceiptDynamoError, ValueError) as exc:
            # EntityValidationError is a ValueError too; both mean this receipt alone is bad.
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
