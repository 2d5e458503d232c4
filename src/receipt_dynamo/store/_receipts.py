"""The Receipt aggregate: a Receipt with its lines, words and labels, written and read whole.

A receipt is complete only when its Receipt item exists: ``write_receipt`` writes children first
and the Receipt item last, so readers (``get_receipt_details``) treat a receipt without its
Receipt item as absent.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from functools import cached_property

from receipt_dynamo import keys
from receipt_dynamo._table import MUST_NOT_EXIST, AttributeEquals, Item, Key
from receipt_dynamo.entities import Receipt, ReceiptLine, ReceiptWord, ReceiptWordLabel
from receipt_dynamo.errors import (
    ConditionFailedError,
    EntityAlreadyExistsError,
    EntityNotFoundError,
    EntityValidationError,
    StoreUnavailableError,
)
from receipt_dynamo.store._base import PROTECTED, UNPROTECTED, ProposalResult, StoreBase
from receipt_dynamo.store._repository import Repository, describe

WRITE_TOKEN = "write_token"
"""Attribute ``write_receipt`` stamps on the children it writes (one random token per call)."""


@dataclasses.dataclass(frozen=True)
class ReceiptDetails:
    """A whole receipt as read by one GSI4 query, children in key order."""

    receipt: Receipt
    lines: list[ReceiptLine]
    words: list[ReceiptWord]
    labels: list[ReceiptWordLabel]


class ReceiptRecords(StoreBase):
    @cached_property
    def _receipts(self) -> Repository[Receipt, [str, int]]:
        return Repository(self.table, Receipt, keys.receipt_key)

    @cached_property
    def _lines(self) -> Repository[ReceiptLine, [str, int, int]]:
        return Repository(self.table, ReceiptLine, keys.line_key)

    @cached_property
    def _words(self) -> Repository[ReceiptWord, [str, int, int, int]]:
        return Repository(self.table, ReceiptWord, keys.word_key)

    # --- Receipt -----------------------------------------------------------------------------

    def add_receipt(self, receipt: Receipt, *, overwrite: bool = False) -> None:
        self._receipts.add(receipt, overwrite=overwrite)

    def add_receipts(self, receipts: Sequence[Receipt]) -> None:
        self._receipts.add_many(receipts)

    def get_receipt(self, image_id: str, receipt_id: int) -> Receipt:
        return self._receipts.get(image_id, receipt_id)

    def update_receipt(self, receipt: Receipt) -> None:
        self._receipts.update(receipt)

    def delete_receipt(self, image_id: str, receipt_id: int) -> None:
        """Delete the receipt and all its lines, words and labels (Receipt item first)."""
        pk, sk = keys.receipt_key(image_id, receipt_id)
        with self.table.atomic():
            items = list(self.table.iter_query(None, pk, sk_begins_with=sk))
            if not items:
                raise EntityNotFoundError(f"cannot delete {describe('RECEIPT', pk, sk)}: not found")
            self.table.delete_item(pk, sk)
            self.table.batch_write(
                deletes=[{"PK": pk, "SK": i["SK"]} for i in items if i["SK"] != sk]
            )

    def list_receipts(self, image_id: str | None = None) -> list[Receipt]:
        """All receipts (GSITYPE), or those of one image (main table, children filtered out)."""
        if image_id is None:
            return self._receipts.list_all()
        return self._receipts.list(None, keys.image_pk(image_id), sk_begins_with="RECEIPT#")

    def get_receipt_details(self, image_id: str, receipt_id: int) -> ReceiptDetails:
        """The receipt with its lines, words and labels from one GSI4 query (all pages)."""
        found: dict[str, list[Item]] = {}
        for item in self.table.iter_query("GSI4", keys.receipt_gsi4_pk(image_id, receipt_id)):
            found.setdefault(item["TYPE"], []).append(item)
        receipts = found.get(Receipt.ENTITY_TYPE)
        if not receipts:
            raise EntityNotFoundError(
                f"receipt {receipt_id} of image {image_id} not found (or its write never "
                "completed); write it with write_receipt"
            )
        return ReceiptDetails(
            receipt=Receipt.from_item(receipts[0]),
            lines=[ReceiptLine.from_item(i) for i in found.get(ReceiptLine.ENTITY_TYPE, [])],
            words=[ReceiptWord.from_item(i) for i in found.get(ReceiptWord.ENTITY_TYPE, [])],
            labels=[
                ReceiptWordLabel.from_item(i) for i in found.get(ReceiptWordLabel.ENTITY_TYPE, [])
            ],
        )

    def write_receipt(
        self,
        receipt: Receipt,
        lines: Sequence[ReceiptLine] = (),
        words: Sequence[ReceiptWord] = (),
        labels: Sequence[ReceiptWordLabel] = (),
        *,
        overwrite: bool = False,
    ) -> ProposalResult:
        """Write a whole receipt so that it is never seen half-written.

        SQLite: one transaction. DynamoDB: any old Receipt item is deleted first, children are
        batch-written, stale old children deleted, and the Receipt item is put last as the commit
        marker; if anything fails the new children are deleted again (a failed *overwrite* on
        DynamoDB therefore leaves the receipt absent, never mixed). With ``overwrite=True`` the
        new receipt replaces the old one, except that stored VALID/INVALID labels on words that
        still exist are kept (a new proposal for the same key is skipped and counted) — also
        when a label is validated while the write runs, since proposals onto existing keys are
        written under the protection condition. Leftovers of an interrupted earlier write
        (children without a Receipt item) are removed. Every child carries this write's
        ``write_token``, so a writer that loses a race for the Receipt item removes only the
        children still carrying its own token, never ones the winner wrote.
        """
        _check_receipt_parts(receipt, lines, words, labels)
        pk = receipt.pk
        with self.table.atomic():
            existing = list(self.table.iter_query(None, pk, sk_begins_with=receipt.sk))
            marker = next((i for i in existing if i["TYPE"] == Receipt.ENTITY_TYPE), None)
            if marker is not None and not overwrite:
                raise EntityAlreadyExistsError(
                    f"{describe('RECEIPT', pk, receipt.sk)} already exists; pass overwrite=True "
                    "to replace the whole receipt"
                )
            plan = _WritePlan.make(receipt, lines, words, labels, existing)
            if marker is not None:
                self.table.delete_item(pk, receipt.sk)
            try:
                skipped = self._write_children(plan, bool(existing))
                self.table.put_item(
                    receipt.to_item(), condition=None if overwrite else MUST_NOT_EXIST
                )
            except BaseException as exc:
                if not self.table.transactional:
                    self._undo_children([*plan.children, *plan.proposal_items], plan.token, exc)
                if isinstance(exc, ConditionFailedError):
                    raise EntityAlreadyExistsError(
                        f"{describe('RECEIPT', pk, receipt.sk)} was written by someone else "
                        "meanwhile; read it, or retry with overwrite=True"
                    ) from None
                raise
        return ProposalResult(
            written=len(labels) - len(skipped),
            skipped_protected=len(skipped),
            skipped=tuple(skipped),
        )

    def _write_children(self, plan: _WritePlan, had_items: bool) -> list[ReceiptWordLabel]:
        """Write the plan's children and delete its stale items; returns skipped proposals."""
        skipped = list(plan.skipped)
        self.table.batch_write(puts=plan.children)
        if had_items:
            # Labels read above may have been validated since: write under the condition.
            written = self.table.put_items_conditionally(plan.proposal_items, UNPROTECTED)
            skipped += [p for p, ok in zip(plan.proposals, written, strict=True) if not ok]
        else:
            self.table.batch_write(puts=plan.proposal_items)
        self.table.batch_write(deletes=plan.plain_stale)
        self.table.delete_items_conditionally(plan.guarded_stale, UNPROTECTED)
        return skipped

    def _undo_children(self, children: list[Item], token: str, cause: BaseException) -> None:
        # Only items still carrying this write's token: a concurrent writer may own the others.
        try:
            self.table.delete_items_conditionally(
                [{"PK": c["PK"], "SK": c["SK"]} for c in children],
                AttributeEquals(WRITE_TOKEN, token),
            )
        except Exception as undo_error:
            raise StoreUnavailableError(
                f"write_receipt failed ({cause!r}) and removing its partial items failed too "
                f"({undo_error!r}); the receipt stays absent — rerun write_receipt or "
                "delete_receipt for it"
            ) from cause

    # --- ReceiptLine -------------------------------------------------------------------------

    def add_receipt_line(self, line: ReceiptLine, *, overwrite: bool = False) -> None:
        self._lines.add(line, overwrite=overwrite)

    def add_receipt_lines(self, lines: Sequence[ReceiptLine]) -> None:
        self._lines.add_many(lines)

    def get_receipt_line(self, image_id: str, receipt_id: int, line_id: int) -> ReceiptLine:
        return self._lines.get(image_id, receipt_id, line_id)

    def update_receipt_line(self, line: ReceiptLine) -> None:
        self._lines.update(line)

    def delete_receipt_line(self, image_id: str, receipt_id: int, line_id: int) -> None:
        self._lines.delete(image_id, receipt_id, line_id)

    def list_receipt_lines(self, image_id: str, receipt_id: int) -> list[ReceiptLine]:
        """A receipt's lines in order (GSI4)."""
        return self._lines.list(
            "GSI4",
            keys.receipt_gsi4_pk(image_id, receipt_id),
            sk_begins_with=keys.GSI4_LINE_PREFIX,
        )

    # --- ReceiptWord -------------------------------------------------------------------------

    def add_receipt_word(self, word: ReceiptWord, *, overwrite: bool = False) -> None:
        self._words.add(word, overwrite=overwrite)

    def add_receipt_words(self, words: Sequence[ReceiptWord]) -> None:
        self._words.add_many(words)

    def get_receipt_word(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int
    ) -> ReceiptWord:
        return self._words.get(image_id, receipt_id, line_id, word_id)

    def update_receipt_word(self, word: ReceiptWord) -> None:
        self._words.update(word)

    def delete_receipt_word(
        self, image_id: str, receipt_id: int, line_id: int, word_id: int
    ) -> None:
        self._words.delete(image_id, receipt_id, line_id, word_id)

    def list_receipt_words(
        self, image_id: str, receipt_id: int, line_id: int | None = None
    ) -> list[ReceiptWord]:
        """A receipt's words by line (GSI4), or one line's words."""
        prefix = (
            keys.GSI4_WORD_PREFIX if line_id is None else f"{keys.GSI4_WORD_PREFIX}{line_id:05d}#"
        )
        return self._words.list(
            "GSI4", keys.receipt_gsi4_pk(image_id, receipt_id), sk_begins_with=prefix
        )


@dataclasses.dataclass(frozen=True)
class _WritePlan:
    """What one ``write_receipt`` puts and deletes, given the items stored under the receipt."""

    token: str
    children: list[Item]
    """Lines, words and human-decided labels, stamped with ``token``."""
    proposals: list[ReceiptWordLabel]
    proposal_items: list[Item]
    skipped: list[ReceiptWordLabel]
    """Proposals onto stored VALID/INVALID labels of surviving words (not written)."""
    plain_stale: list[Key]
    guarded_stale: list[Key]
    """Stale labels on surviving words: deleted only if no human decided them meanwhile."""

    @classmethod
    def make(
        cls,
        receipt: Receipt,
        lines: Sequence[ReceiptLine],
        words: Sequence[ReceiptWord],
        labels: Sequence[ReceiptWordLabel],
        existing: list[Item],
    ) -> _WritePlan:
        pk, token = receipt.pk, uuid.uuid4().hex
        word_ids = {(w.line_id, w.word_id) for w in words}

        def on_surviving_label(item: Item) -> bool:
            return (
                item["TYPE"] == ReceiptWordLabel.ENTITY_TYPE
                and (item["line_id"], item["word_id"]) in word_ids
            )

        kept = {
            i["SK"]
            for i in existing
            if on_surviving_label(i) and i.get("validation_status") in PROTECTED
        }
        proposals = [lab for lab in labels if lab.is_proposal and lab.sk not in kept]
        children = [
            {**e.to_item(), WRITE_TOKEN: token}
            for e in (*lines, *words, *(lab for lab in labels if not lab.is_proposal))
        ]
        new_sks = {c["SK"] for c in children} | {lab.sk for lab in labels}
        stale = [
            i
            for i in existing
            if i["SK"] not in new_sks and i["SK"] not in kept and i["SK"] != receipt.sk
        ]
        return cls(
            token=token,
            children=children,
            proposals=proposals,
            proposal_items=[{**lab.to_item(), WRITE_TOKEN: token} for lab in proposals],
            skipped=[lab for lab in labels if lab.is_proposal and lab.sk in kept],
            plain_stale=[{"PK": pk, "SK": i["SK"]} for i in stale if not on_surviving_label(i)],
            guarded_stale=[{"PK": pk, "SK": i["SK"]} for i in stale if on_surviving_label(i)],
        )


def _check_receipt_parts(
    receipt: Receipt,
    lines: Sequence[ReceiptLine],
    words: Sequence[ReceiptWord],
    labels: Sequence[ReceiptWordLabel],
) -> None:
    seen: set[str] = set()
    for part in (*lines, *words, *labels):
        if (part.image_id, part.receipt_id) != (receipt.image_id, receipt.receipt_id):
            raise EntityValidationError(
                f"{type(part).__name__} {part.sk} belongs to image {part.image_id} receipt "
                f"{part.receipt_id}, not to the receipt being written "
                f"({receipt.image_id}, {receipt.receipt_id})"
            )
        if part.sk in seen:
            raise EntityValidationError(f"write_receipt got {part.sk} twice; pass each once")
        seen.add(part.sk)
    word_ids = {(w.line_id, w.word_id) for w in words}
    for label in labels:
        if (label.line_id, label.word_id) not in word_ids:
            raise EntityValidationError(
                f"label {label.sk} names word ({label.line_id}, {label.word_id}), which is "
                "not among the words written; add the word or drop the label"
            )
