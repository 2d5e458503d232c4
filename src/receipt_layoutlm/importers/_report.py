"""What an import read, wrote, skipped and could not make sense of.

Parsers never raise on one bad receipt: they collect :class:`Problem` rows (``file:line:
message``) and carry on. The store writer adds its counts to the same :class:`ImportReport`, so
the CLI prints one summary for the whole run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from receipt_layoutlm.document import ReceiptDocument


@dataclass(frozen=True)
class Problem:
    """One thing an importer could not use, located as precisely as the source allows."""

    file: str
    """The file the problem is in."""
    line: int | None
    """1-based line number in that file, or None when the problem concerns the whole file."""
    message: str
    """What is wrong and what was done about it (row skipped, file read as latin-1…)."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class UnmatchedValue:
    """A ground-truth field value the importer could not (completely) find in the words."""

    key: str
    """Field name, e.g. ``company``."""
    receipt: str
    """Document key of the receipt."""
    value: str
    """The value as the dataset gives it."""

    def __str__(self) -> str:
        return f"{self.receipt} {self.key}: {self.value!r}"


@dataclass
class KeyCoverage:
    """How many receipts had a field value and how many had it fully labelled."""

    total: int = 0
    """Receipts with a non-empty value for the key."""
    labelled: int = 0
    """Of those, receipts where every token of the value was matched to labelled words."""

    @property
    def ratio(self) -> float:
        """``labelled / total`` (1.0 when no receipt had the key)."""
        return self.labelled / self.total if self.total else 1.0


@dataclass
class ParseResult:
    """What a parser produced from a path: documents plus everything it had to say about them."""

    documents: list[ReceiptDocument] = field(default_factory=list)
    """Parsed receipts, labelled where the source has labels."""
    problems: list[Problem] = field(default_factory=list)
    """Rows, lines or files that were skipped or read in a degraded way."""
    coverage: dict[str, KeyCoverage] = field(default_factory=dict)
    """Per ground-truth key: how often its value was fully labelled (SROIE)."""
    unmatched: list[UnmatchedValue] = field(default_factory=list)
    """Values that were not (fully) found in the receipt's words."""
    native_labels: tuple[str, ...] = ()
    """Non-core label names the documents use (register them with the store's vocabulary)."""

    # Keys of the documents added with add_document (every parser uses it).
    _keys: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def add_document(self, doc: ReceiptDocument, file: str, line: int | None = None) -> bool:
        """Append ``doc`` unless an earlier document of this parse has its key, or its size or
        boxes make no sense (``_checks.document_problem``); either is a problem instead.

        Two receipts with one key would get one image id, and the store would silently skip the
        second as "already stored".
        """
        from receipt_layoutlm.importers._checks import document_problem

        if (problem := document_problem(doc)) is not None:
            self.problems.append(Problem(file, line, f"{problem}; receipt skipped"))
            return False
        if doc.key in self._keys:
            self.problems.append(Problem(file, line, f"duplicate receipt key {doc.key!r} (an "
                                         "earlier receipt of this import has it); receipt skipped"))
            return False
        self.documents.append(doc)
        self._keys.add(doc.key)
        return True


@dataclass
class ImportReport:
    """Counts of one import run; :meth:`summary` renders it for people."""

    receipts_read: int = 0
    """Receipts the parser produced."""
    receipts_written: int = 0
    """Receipts written to the store."""
    receipts_skipped: int = 0
    """Receipts already in the store (re-import adds nothing)."""
    receipts_failed: int = 0
    """Receipts that could not be written (see problems); nothing of them is in the store."""
    words: int = 0
    """Words of the written receipts."""
    labels: Counter[str] = field(default_factory=Counter)
    """Written label rows per label name."""
    coverage: dict[str, KeyCoverage] = field(default_factory=dict)
    """Per ground-truth key coverage of the parsed receipts (SROIE)."""
    problems: list[Problem] = field(default_factory=list)
    """Everything that was skipped or degraded, parse and write alike."""
    unmatched: list[UnmatchedValue] = field(default_factory=list)
    """Ground-truth values not fully found in the words."""
    seconds: float = 0.0
    """Wall time of the write phase."""

    @classmethod
    def from_parse(cls, parsed: ParseResult) -> ImportReport:
        """A report seeded with a parse result's counts, problems and coverage."""
        return cls(
            receipts_read=len(parsed.documents),
            coverage=dict(parsed.coverage),
            problems=list(parsed.problems),
            unmatched=list(parsed.unmatched),
        )

    def summary(self, *, max_lines: int = 20) -> str:
        """Human-readable multi-line summary (problems and unmatched values truncated)."""
        out = [
            f"receipts: read {self.receipts_read}, written {self.receipts_written}, "
            f"skipped (already stored) {self.receipts_skipped}, failed {self.receipts_failed}",
            f"words: {self.words}; labels: {sum(self.labels.values())} in {self.seconds:.1f}s",
        ]
        out.extend(f"  {name}: {count}" for name, count in sorted(self.labels.items()))
        if self.coverage:
            out.append("coverage (receipts whose value is fully labelled):")
            out.extend(
                f"  {key}: {cov.labelled}/{cov.total} = {cov.ratio:.1%}"
                for key, cov in self.coverage.items()
            )
        for title, rows in (("problems", self.problems), ("unmatched values", self.unmatched)):
            if rows:
                out.append(f"{title}: {len(rows)}")
                out.extend(f"  {row}" for row in rows[:max_lines])
                if len(rows) > max_lines:
                    out.append(f"  … {len(rows) - max_lines} more")
        return "\n".join(out)
