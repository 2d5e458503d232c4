"""Dataset importers: SROIE, WildReceipt, CORD and the project's JSONL → documents → the store.

    parsed = get_importer("sroie")("../shared/data/sroie/train")
    report = import_documents(store, parsed.documents, source="SROIE",
                              label_proposed_by="import:sroie",
                              report=ImportReport.from_parse(parsed))
    print(report.summary())

Parsers never raise on one bad receipt; they return a :class:`ParseResult` with ``file:line``
problems (a PATH that does not exist is an ``ImportFormatError`` naming it).
Native label sets (``labels="native"``) must be registered with
``receipt_dynamo.register_labels(parsed.native_labels)`` before writing. :func:`export_store`
writes a store back out as JSONL.
"""

from __future__ import annotations

from receipt_layoutlm.importers._registry import IMPORTER_NAMES, Importer, get_importer
from receipt_layoutlm.importers._report import (
    ImportReport,
    KeyCoverage,
    ParseResult,
    Problem,
    UnmatchedValue,
)
from receipt_layoutlm.importers._writer import import_documents
from receipt_layoutlm.importers.jsonl import (
    document_from_json,
    document_to_json,
    export_store,
    parse_jsonl,
    write_jsonl,
)

__all__ = [
    "IMPORTER_NAMES",
    "ImportReport",
    "Importer",
    "KeyCoverage",
    "ParseResult",
    "Problem",
    "UnmatchedValue",
    "document_from_json",
    "document_to_json",
    "export_store",
    "get_importer",
    "import_documents",
    "parse_jsonl",
    "write_jsonl",
]
