"""The review queries and the reviewer's compare-and-put on label rows.

GSI2 holds every proposal (NONE/PENDING/NEEDS_REVIEW) under ``VALIDATION_STATUS#{status}``
sorted by confidence, lowest first, and every human decision made in review under
``REVIEWED#{day}`` (see ``keys``). A reviewer's save names each row as it was read; the write
holds only if every row is still exactly that (``ItemMatches``), else nothing of the group is
written and ``StaleLabelError`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from receipt_dynamo import keys
from receipt_dynamo._table import MUST_NOT_EXIST, ItemMatches, Key, TransactOp
from receipt_dynamo.entities import ReceiptWordLabel
from receipt_dynamo.errors import ConditionFailedError, StaleLabelError
from receipt_dynamo.store._base import StoreBase
from receipt_dynamo.vocabulary import PROTECTED_STATUSES, ValidationStatus

VERSION_ATTRIBUTES = ("validation_status", "label_proposed_by", "timestamp_added", "reviewed_at")
"""What a label row is compared on: every writer (worker, importer, reviewer) changes one."""
TRANSACTION_SIZE = 100
"""DynamoDB's TransactWriteItems limit; a larger group is written as several transactions."""

LabelChange = tuple[ReceiptWordLabel, ReceiptWordLabel | None]
"""(the row to write, the row stored under its key when it was read; None: there was none)."""


def version_of(label: ReceiptWordLabel | None) -> tuple[tuple[str, object], ...] | None:
    """The attributes a compare-and-put checks, as stored (None: no row)."""
    if label is None:
        return None
    item = label.to_item()
    return tuple((name, item.get(name)) for name in VERSION_ATTRIBUTES)


class ReviewRecords(StoreBase):
    def review_queue(
        self,
        status: ValidationStatus | str = ValidationStatus.PENDING,
        *,
        max_confidence: float | None = None,
        limit: int | None = None,
        start_key: Key | None = None,
    ) -> tuple[list[ReceiptWordLabel], Key | None]:
        """One page of proposals with ``status``, lowest confidence first (GSI2); pass the
        returned key back as ``start_key`` for the next page. ``max_confidence`` stops the
        range there (inclusive)."""
        status = ValidationStatus(status)
        if status in PROTECTED_STATUSES:
            raise ValueError(f"the review queue holds proposals, not {status.value} labels")
        between = None
        if max_confidence is not None:
            # The highest path character ends the range after every label at max_confidence.
            between = (keys.REVIEW_CONFIDENCE_PREFIX,
                       keys.confidence_sk(max_confidence, "\U0010ffff"))
        items, last = self.table.query(
            "GSI2", keys.validation_status_pk(status.value), sk_between=between,
            limit=limit, start_key=start_key,
        )
        return [ReceiptWordLabel.from_item(i) for i in items], last

    def count_labels(self, status: ValidationStatus | str) -> int:
        """How many labels hold ``status`` (GSI3, counted by the backend)."""
        return self.table.count("GSI3", keys.validation_status_pk(ValidationStatus(status).value))

    def count_reviewed(self, day: str) -> int:
        """How many review decisions were made on ``day`` (``YYYY-MM-DD``, UTC)."""
        return self.table.count("GSI2", keys.reviewed_pk(day))

    def put_labels_if_unchanged(self, changes: Sequence[LabelChange]) -> None:
        """Write each new row only if its key still holds the row it was read as.

        SQLite: one transaction. DynamoDB: transactions of 100 rows (a receipt rarely has more
        decisions in one save); each is all-or-nothing. Raises StaleLabelError naming the first
        changed row.
        """
        ops = [
            TransactOp(
                item=new.to_item(),
                condition=MUST_NOT_EXIST if old is None else ItemMatches(version_of(old) or ()),
            )
            for new, old in changes
        ]
        try:
            with self.table.atomic():
                for start in range(0, len(ops), TRANSACTION_SIZE):
                    self.table.transact_write(ops[start : start + TRANSACTION_SIZE])
        except ConditionFailedError as exc:
            raise StaleLabelError(
                f"the label {exc.sk.split('#', 1)[-1]} of image {exc.pk.removeprefix('IMAGE#')} "
                "changed since it was read; nothing of this save was written — reload and "
                "decide again"
            ) from None

    def reindex_review_labels(self) -> int:
        """Write again the proposals stored before GSI2 indexed them (each only if unchanged);
        returns how many were indexed."""
        stale: list[ReceiptWordLabel] = []
        for status in (s for s in ValidationStatus if s not in PROTECTED_STATUSES):
            for item in self.table.iter_query("GSI3", keys.validation_status_pk(status.value)):
                if item.get("TYPE") == ReceiptWordLabel.ENTITY_TYPE and "GSI2PK" not in item:
                    stale.append(ReceiptWordLabel.from_item(item))
        written = self.table.each_conditionally(
            stale,
            lambda lab: self.table.put_item(
                lab.to_item(), condition=ItemMatches(version_of(lab) or ())
            ),
        )
        return sum(written)
