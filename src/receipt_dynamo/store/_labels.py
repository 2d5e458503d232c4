"""Word labels, with the protection rule: a proposal (status NONE/PENDING/NEEDS_REVIEW) never
replaces a stored VALID/INVALID label; a human decision (VALID/INVALID) replaces anything."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from receipt_dynamo import keys
from receipt_dynamo._table import ExistsAndAttributeNotIn
from receipt_dynamo.entities import ReceiptWordLabel
from receipt_dynamo.errors import ConditionFailedError, ProtectedLabelError
from receipt_dynamo.store._base import PROTECTED, UNPROTECTED, ProposalResult, StoreBase
from receipt_dynamo.store._repository import Repository, describe, not_found
from receipt_dynamo.vocabulary import ValidationStatus


def _protected(label: ReceiptWordLabel) -> ProtectedLabelError:
    return ProtectedLabelError(
        f"{describe(label.ENTITY_TYPE, label.pk, label.sk)} was decided by a human "
        f"(VALID/INVALID); the {label.validation_status.value} proposal from "
        f"{label.label_proposed_by!r} cannot replace it — write it with status VALID or "
        "INVALID to change the decision"
    )


class LabelRecords(StoreBase):
    @cached_property
    def _labels(self) -> Repository[ReceiptWordLabel, [str, int, int, int, str]]:
        return Repository(self.table, ReceiptWordLabel, keys.label_key)

    def add_word_label(self, label: ReceiptWordLabel, *, overwrite: bool = False) -> None:
        """Conditional add. With ``overwrite`` a proposal still cannot replace VALID/INVALID
        (ProtectedLabelError); a human decision (VALID/INVALID) replaces anything."""
        if not overwrite or not label.is_proposal:
            self._labels.add(label, overwrite=overwrite)
            return
        try:
            self.table.put_item(label.to_item(), condition=UNPROTECTED)
        except ConditionFailedError:
            raise _protected(label) from None

    def propose_word_labels(self, labels: Sequence[ReceiptWordLabel]) -> ProposalResult:
        """Write labels in bulk: human decisions as one batch, proposals each under the
        protection condition; proposals onto VALID/INVALID labels are skipped, not failed."""
        human = [lab for lab in labels if not lab.is_proposal]
        proposals = list({(lab.pk, lab.sk): lab for lab in labels if lab.is_proposal}.values())
        self._labels.add_many(human)
        written = self.table.put_items_conditionally(
            [lab.to_item() for lab in proposals], UNPROTECTED
        )
        skipped = tuple(lab for lab, ok in zip(proposals, written, strict=True) if not ok)
        return ProposalResult(
            written=len(human) + sum(written), skipped_protected=len(skipped), skipped=skipped
        )

    def get_word_label(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int, label: str
    ) -> ReceiptWordLabel:
        return self._labels.get(image_id, receipt_id, line_id, word_id, label)

    def update_word_label(self, label: ReceiptWordLabel) -> None:
        """Replace an existing label; a proposal cannot replace a VALID/INVALID one."""
        if not label.is_proposal:
            self._labels.update(label)
            return
        try:
            self.table.put_item(
                label.to_item(), condition=ExistsAndAttributeNotIn("validation_status", PROTECTED)
            )
        except ConditionFailedError:
            if self.table.get_item(label.pk, label.sk) is None:
                raise not_found(label.ENTITY_TYPE, label.pk, label.sk, "update") from None
            raise _protected(label) from None

    def delete_word_label(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int, label: str
    ) -> None:
        self._labels.delete(image_id, receipt_id, line_id, word_id, label)

    def list_word_labels(self, image_id: str, receipt_id: int) -> list[ReceiptWordLabel]:
        """A receipt's labels by line and word (GSI4)."""
        return self._labels.list(
            "GSI4",
            keys.receipt_gsi4_pk(image_id, receipt_id),
            sk_begins_with=keys.GSI4_LABEL_PREFIX,
        )

    def list_labels_for_word(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int
    ) -> list[ReceiptWordLabel]:
        """Every label of one word (main table)."""
        return self._labels.list(
            None,
            keys.image_pk(image_id),
            sk_begins_with=keys.word_sk(receipt_id, line_id, word_id) + "#LABEL#",
        )

    def list_labels_by_status(self, status: ValidationStatus | str) -> list[ReceiptWordLabel]:
        """Every label with this validation status (GSI3), grouped by image/receipt/word."""
        status = ValidationStatus(status)
        return self._labels.list("GSI3", keys.validation_status_pk(status.value))

    def list_labels_by_label(self, label: str) -> list[ReceiptWordLabel]:
        """Every stored label with this name (GSI1), grouped by image/receipt/word."""
        return self._labels.list("GSI1", keys.label_gsi1_pk(label))
