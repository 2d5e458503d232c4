"""``ReceiptStore``: the entity API, written once over the item-level ``Table`` interface.

The generic operations live in ``_repository.Repository`` (one typed path for every entity
class); each aggregate module adds its own typed methods and rules on top:

* ``_images``: Image.
* ``_receipts``: Receipt with its lines and words, ``write_receipt`` (never seen half-written)
  and ``get_receipt_details``.
* ``_labels``: ReceiptWordLabel with the protection rule (a proposal never replaces a stored
  VALID/INVALID label).
* ``_jobs``: Job, JobMetric, CoreMLExportJob.
* ``_ocr``: OCRJob, OCRRoutingDecision.
* ``_review``: the review queue (proposals by confidence), review counts, and the reviewer's
  compare-and-put on label rows.

For every entity X: ``add_X(entity, *, overwrite=False)``, ``add_Xs(entities)`` (batch upsert),
``get_X(ids...)``, ``update_X(entity)``, ``delete_X(ids...)`` (the same ids as ``get_X``) and
``list_X(...)``.
"""

from __future__ import annotations

from typing import Any

from receipt_dynamo.backends import open_table
from receipt_dynamo.store._base import ProposalResult
from receipt_dynamo.store._images import ImageRecords
from receipt_dynamo.store._jobs import JobRecords
from receipt_dynamo.store._labels import LabelRecords
from receipt_dynamo.store._ocr import OCRRecords
from receipt_dynamo.store._receipts import WRITE_TOKEN, ReceiptDetails, ReceiptRecords
from receipt_dynamo.store._review import LabelChange, ReviewRecords, version_of

__all__ = [
    "WRITE_TOKEN", "LabelChange", "ProposalResult", "ReceiptDetails", "ReceiptStore", "open_store",
    "version_of",
]


class ReceiptStore(
    ImageRecords, ReceiptRecords, LabelRecords, JobRecords, OCRRecords, ReviewRecords
):
    """The entity API over one table backend (``open_store`` builds one)."""

    def close(self) -> None:
        self.table.close()

    def __enter__(self) -> ReceiptStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(backend: str = "sqlite", **options: Any) -> ReceiptStore:
    """Open the store on a registered backend; ``options`` go to the backend as they are.

    sqlite: ``path`` of the database file (required; ``receipt_cloud.settings`` resolves the
    local data directory), ``table_name`` (default ``receipts``), ``page_size``,
    ``busy_timeout_ms``.
    dynamodb: ``table_name`` (or ``DYNAMO_TABLE_NAME``), ``region`` (or ``AWS_REGION``),
    ``endpoint_url`` (or ``AWS_ENDPOINT_URL``) or a ready boto3 ``client``, ``page_size``,
    ``max_batch_attempts``.
    ``page_size`` caps each query page (small values exercise pagination in tests).
    An unknown backend raises UnknownBackendError naming the registered ones.
    """
    return ReceiptStore(open_table(backend, **options))
