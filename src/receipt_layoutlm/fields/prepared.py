"""What field extraction reads of a receipt's texts, line ids and printed rows alone, computed
before the model runs (``prediction.field_inputs``, beside the rows): which split amounts are
glued (``ocr_cleanup.amount_joins``) and the total picker's text-only half
(``fields.total_text``). Right after the model its 24 MB of weights have flushed the caches and
the same work costs more; before it, the encoding has just read these words.

``extract_fields(..., prepared=...)`` uses it only for the words, line ids, rows and repair
switch it was made from (compared, not assumed), so a caller that changes any of them gets the
fields computed from scratch: the same fields either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from receipt_layoutlm.fields._words import ReceiptWords, Word, WordLike, normalise_words
from receipt_layoutlm.fields.ocr_cleanup import FieldCleanup, amount_joins, rejoin_amounts
from receipt_layoutlm.fields.parsing import parse_amount
from receipt_layoutlm.fields.total_text import TotalText, total_text

if TYPE_CHECKING:
    from receipt_layoutlm.fields.total_picker import TotalPicker


@dataclass(frozen=True)
class PreparedWords:
    """A receipt's text-only field work (see the module docstring)."""

    texts: list[str]
    """The words' texts it was made from, in reading order."""
    lines: list[int | None]
    """Their line ids."""
    rows: list[int] | None
    """Their printed rows (``encoding.printed_rows``); None when none were given."""
    rejoined: bool
    """Whether split amounts are glued (``FieldCleanup.rejoin_amounts``)."""
    joins: list[int]
    """``ocr_cleanup.amount_joins`` of the words (empty when not ``rejoined``)."""
    total: TotalText | None
    """The picker's text-only half over the glued words and their rows; None without rows."""

    def fits(
        self, texts: Sequence[str], lines: Sequence[int | None], rows: Sequence[int] | None,
        rejoined: bool,
    ) -> bool:
        """Whether it was made from these words, line ids, rows and repair switch."""
        return (
            rejoined == self.rejoined
            and (rows is None if self.rows is None else rows is not None and
                 list(rows) == self.rows)
            and list(texts) == self.texts
            and list(lines) == self.lines
        )


def prepare_words(
    texts: Sequence[str],
    lines: Sequence[int | None],
    rows: Sequence[int] | None,
    *,
    rejoin_amounts: bool = True,
    picker: TotalPicker | None = None,
) -> PreparedWords:
    """:class:`PreparedWords` of words with ``texts`` on ``lines`` and printed ``rows``;
    ``picker`` (the total picker that will read them) also gets its text-only terms."""
    texts, lines = [str(t) for t in texts], list(lines)
    rows = None if rows is None else list(rows)
    joins = amount_joins(texts, lines, rows) if rejoin_amounts else []
    total = None
    if rows is not None:
        glued, glued_rows = texts, rows
        if joins:
            firsts, dropped = set(joins), {i + 1 for i in joins}
            glued = [t.strip() + texts[n + 1].strip() if n in firsts else t
                     for n, t in enumerate(texts) if n not in dropped]
            glued_rows = [r for n, r in enumerate(rows) if n not in dropped]
        total = total_text(glued, glued_rows)
        if picker is not None:
            picker.text_terms(total)
    return PreparedWords(texts, lines, rows, rejoin_amounts, joins, total)


def receipt_words(
    words: Sequence[tuple[str, str | None, float]] | Sequence[WordLike],
    line_ids: Sequence[int] | None,
    ocr_confidences: Sequence[float] | None,
    rows: Sequence[int] | None,
    cleanup: FieldCleanup,
    prepared: PreparedWords | None,
    columns: Mapping[str, list[float]] | None = None,
) -> tuple[ReceiptWords, Sequence[int] | None, TotalText | None]:
    """``extract_fields``' start: the normalised words (split amounts glued when ``cleanup``
    says so) with what several fields read of them, their rows, and the picker's text-only
    half when ``prepared`` was made from these words (else None: the picker computes it).
    ``columns``: the words' label probabilities by label (``encoding.decode_word_columns``),
    used when they fit the words."""
    normalised = normalise_words(words, line_ids, ocr_confidences)
    if prepared is not None and not prepared.fits(
        [w.text for w in normalised], [w.line for w in normalised], rows, cleanup.rejoin_amounts
    ):
        prepared = None
    if columns is not None and not _columns_fit(normalised, columns):
        columns = None
    if cleanup.rejoin_amounts:
        joins = (amount_joins([w.text for w in normalised], [w.line for w in normalised], rows)
                 if prepared is None else prepared.joins)
        normalised, rows = rejoin_amounts(normalised, rows, joins=joins)
        if joins and columns is not None:
            columns = {label: _glued_column(column, joins) for label, column in columns.items()}
    receipt = ReceiptWords(normalised, columns)
    total = None if prepared is None else prepared.total
    if total is not None:
        receipt.remember(parse_amount, total.amounts)
    return receipt, rows, total


def _columns_fit(words: Sequence[Word], columns: Mapping[str, list[float]]) -> bool:
    """``columns`` have one value per word, and the first and last words' probabilities are
    those values (a check that they were decoded with these words, not a proof)."""
    if not words:
        return not any(columns.values())
    return all(len(column) == len(words) for column in columns.values()) and all(
        words[n].probabilities == {label: column[n] for label, column in columns.items()}
        for n in (0, -1)
    )


def _glued_column(column: list[float], joins: Sequence[int]) -> list[float]:
    """``column`` of the words after ``ocr_cleanup.rejoin_amounts`` glued ``joins``: a glued
    word has the higher probability of its two halves, as its ``probabilities`` do."""
    out: list[float] = []
    start = 0
    for i in joins:
        out.extend(column[start:i])
        out.append(max(float(column[i]), float(column[i + 1])))
        start = i + 2
    out.extend(column[start:])
    return out
