"""Importers by name: ``get_importer("sroie")`` and friends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from receipt_layoutlm.errors import ImportFormatError
from receipt_layoutlm.importers._report import ParseResult

Parser = Callable[..., ParseResult]


@dataclass(frozen=True)
class Importer:
    """A named dataset parser."""

    name: str
    """Registry name, also the CLI sub-command (``sroie``, ``wildreceipt``…)."""
    source: str
    """Recorded as the Image's ``source`` and in the labels' ``label_proposed_by``."""
    parse: Parser
    """``parse(path, *, images=None, labels="core", limit=None) -> ParseResult``."""

    def __call__(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        labels: str = "core",
        limit: int | None = None,
    ) -> ParseResult:
        return self.parse(path, images=images, labels=labels, limit=limit)


def _load() -> dict[str, Importer]:
    from receipt_layoutlm.importers.cord import parse_cord
    from receipt_layoutlm.importers.jsonl import parse_jsonl
    from receipt_layoutlm.importers.sroie import parse_sroie
    from receipt_layoutlm.importers.wildreceipt import parse_wildreceipt

    return {
        "sroie": Importer("sroie", "SROIE", parse_sroie),
        "wildreceipt": Importer("wildreceipt", "WildReceipt", parse_wildreceipt),
        "cord": Importer("cord", "CORD", parse_cord),
        "jsonl": Importer("jsonl", "JSONL", parse_jsonl),
    }


IMPORTER_NAMES = ("sroie", "wildreceipt", "cord", "jsonl")
"""Every registered importer name."""


def get_importer(name: str) -> Importer:
    """The importer registered as ``name``; ImportFormatError naming the choices otherwise."""
    importers = _load()
    try:
        return importers[name]
    except KeyError:
        raise ImportFormatError(
            f"unknown importer {name!r}; choose one of {', '.join(IMPORTER_NAMES)}"
        ) from None
