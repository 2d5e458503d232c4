"""Corpus rows: records built or written through the library (``receipt_dynamo`` entities, the
store's label protection, ``records``/``importers`` writers), on SQLite and DynamoDB."""

from __future__ import annotations

import threading
from typing import Any

from bad_input_harness import Case, Workspace, holds, holds_keys

from receipt_dynamo import BoundingBox, Image, Point, ReceiptWordLabel
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.importers import import_documents
from receipt_layoutlm.records import records_from_document

G = "records"
WORDS = ["TOTAL", "9.00"]


def doc(key: str, width: float = 200, height: float = 100, x: float = 10) -> ReceiptDocument:
    words = [DocWord("TOTAL", ((x, 10), (x + 40, 10), (x + 40, 20), (x, 20)), label="GRAND_TOTAL"),
             DocWord("9.00", ((60, 10), (100, 10), (100, 20), (60, 20)))]
    return ReceiptDocument(key=key, width=width, height=height, words=words)


def import_docs(*docs: ReceiptDocument) -> Any:
    def command(ws: Workspace) -> str:
        store = ws.open_store()
        try:
            report = import_documents(store, docs, source="corpus", label_proposed_by="corpus")
        finally:
            store.close()
        return "\n".join([f"written {report.receipts_written} failed {report.receipts_failed}",
                          *(str(p) for p in report.problems)])
    return command


def stored_receipt(ws: Workspace) -> None:
    import_docs(doc("a"))(ws)


def proposal(ws: Workspace, label: str = "GRAND_TOTAL") -> ReceiptWordLabel:
    store = ws.open_store()
    try:
        valid = next(
            lab for r in store.list_receipts()
            for lab in store.get_receipt_details(r.image_id, r.receipt_id).labels
        )
    finally:
        store.close()
    return valid.with_changes(label=label, validation_status="PENDING",
                              label_proposed_by="model:v1")


def with_store(action: Any) -> Any:
    def command(ws: Workspace) -> object:
        store = ws.open_store()
        try:
            return action(store, proposal(ws))
        finally:
            store.close()
    return command


def label_still_valid(ws: Workspace, before: Any) -> None:
    assert ws.items() == before


def concurrent_writers(ws: Workspace) -> str:
    keys = [f"w{i}" for i in range(12)]
    threads = [threading.Thread(target=import_docs(*(doc(k) for k in keys[n::3])), args=(ws,))
               for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return f"stored {len(ws.receipts())}"


def entity(build: Any) -> Any:
    return lambda ws: build()


IMAGE = {"image_id": "6f1c2b0e-5d1a-4c3e-9a57-2f0b8e4d7c91", "raw_s3_bucket": "b",
         "raw_s3_key": "k"}


def refused_entity(name: str, build: Any, message: str) -> Case:
    return Case(name=name, group=G, command=entity(build), exit_code=2, message=message)


CASES = [
    refused_entity("point_infinite", lambda: Point(float("inf"), 0),
                   r"error: Point\.x must be a finite number \(not NaN or infinity\), got inf"),
    refused_entity("point_nan", lambda: Point(0, float("nan")),
                   r"error: Point\.y must be a finite number \(not NaN or infinity\), got nan"),
    refused_entity("point_1e308", lambda: Point(1e308, 0),
                   r"error: Point\.x = 1e\+308 is beyond \+-1000000; .*"),
    refused_entity("box_width_1e308", lambda: BoundingBox(0, 0, 1e308, 1),
                   r"error: BoundingBox\.width = 1e\+308 is beyond \+-1000000; .*"),
    refused_entity("box_int_beyond_float", lambda: BoundingBox(0, 0, 10**400, 1),
                   r"error: BoundingBox\.width must be a finite number .*, got 10+"),
    refused_entity("box_negative_width", lambda: BoundingBox(0, 0, -1, 1),
                   r"error: BoundingBox width/height must be >= 0, got -1\.0x1\.0"),
    refused_entity("image_width_beyond_limit", lambda: Image(**IMAGE, width=10**308, height=1),
                   r"error: Image\.width must be <= 100000 pixels, got 10+"),
    refused_entity("image_width_float", lambda: Image(**IMAGE, width=1e308, height=1),
                   r"error: Image\.width must be a positive int \(1, 2, \.\.\.\), got 1e\+308"),
    refused_entity("image_height_zero", lambda: Image(**IMAGE, width=1, height=0),
                   r"error: Image\.height must be a positive int \(1, 2, \.\.\.\), got 0"),
    refused_entity("document_width_negative_not_turned_into_1",
                   lambda: records_from_document(doc("k", width=-100), source="s",
                                                 label_proposed_by="p"),
                   r"error: receipt 'k': width -100 must be a positive finite number of pixels"),
    refused_entity("document_width_infinite",
                   lambda: records_from_document(doc("k", width=float("inf")), source="s",
                                                 label_proposed_by="p"),
                   r"error: receipt 'k': width inf must be a positive finite number of pixels"),
    refused_entity("label_not_in_vocabulary",
                   lambda: ReceiptWordLabel(image_id=IMAGE["image_id"], receipt_id=1, line_id=1,
                                            word_id=1, label="FAVOURITE_COLOUR",
                                            label_proposed_by="corpus"),
                   r"error: .*'FAVOURITE_COLOUR'.*"),
    Case(name="import_sqlite_huge_width_among_good", group=G,
         command=import_docs(doc("a"), doc("b", width=1e308), doc("c")), exit_code=0,
         message=r"b: not written: Image\.width must be <= 100000 pixels, got \d+",
         check=holds({"a": WORDS, "c": WORDS})),
    Case(name="import_dynamodb_huge_width_among_good", group=G, needs=("dynamodb",),
         command=import_docs(doc("a"), doc("b", width=1e308), doc("c")), exit_code=0,
         message=r"b: not written: Image\.width must be <= 100000 pixels, got \d+",
         check=holds({"a": WORDS, "c": WORDS})),
    Case(name="import_dynamodb_corner_1e308", group=G, needs=("dynamodb",),
         command=import_docs(doc("a"), doc("b", x=1e308), doc("c")), exit_code=0,
         message=r"b: not written: BoundingBox\.x = 1e\+308 is beyond \+-1000000; .*",
         check=holds({"a": WORDS, "c": WORDS})),
    Case(name="proposal_over_valid_label_add", group=G, setup=stored_receipt,
         command=with_store(lambda s, p: s.add_word_label(p.with_changes(label="GRAND_TOTAL"),
                                                         overwrite=True)),
         exit_code=2, message=r"error: .* was decided by a human \(VALID/INVALID\); .*",
         check=label_still_valid),
    Case(name="proposal_over_valid_label_update", group=G, setup=stored_receipt,
         command=with_store(lambda s, p: s.update_word_label(p)), exit_code=2,
         message=r"error: .* was decided by a human \(VALID/INVALID\); .*",
         check=label_still_valid),
    Case(name="proposal_over_valid_label_bulk", group=G, setup=stored_receipt,
         command=with_store(lambda s, p: f"skipped {s.propose_word_labels([p]).skipped_protected}"),
         exit_code=0, message=r"skipped 1", check=label_still_valid),
    Case(name="three_concurrent_sqlite_importers", group=G, command=concurrent_writers,
         exit_code=0, message=r"stored 12", check=holds_keys(*(f"w{i}" for i in range(12)))),
]
