"""What every aggregate of the store shares: the table, and the label protection rule."""

from __future__ import annotations

import dataclasses

from receipt_dynamo._table import NotExistsOrAttributeNotIn, Table
from receipt_dynamo.entities import ReceiptWordLabel
from receipt_dynamo.vocabulary import PROTECTED_STATUSES

PROTECTED = tuple(sorted(s.value for s in PROTECTED_STATUSES))
"""Stored ``validation_status`` values a proposal never replaces."""
UNPROTECTED = NotExistsOrAttributeNotIn("validation_status", PROTECTED)
"""Write condition of a proposal: no label under the key, or one no human has decided."""


@dataclasses.dataclass(frozen=True)
class ProposalResult:
    """Outcome of a label batch: how many were written and how many protected ones were kept."""

    written: int
    """Labels written."""
    skipped_protected: int
    """Proposals not written because a VALID/INVALID label holds that key."""
    skipped: tuple[ReceiptWordLabel, ...] = ()
    """The proposals that were skipped."""


class StoreBase:
    """Holds the item-level table the aggregate mixins of ``ReceiptStore`` work on."""

    def __init__(self, table: Table) -> None:
        self.table = table
