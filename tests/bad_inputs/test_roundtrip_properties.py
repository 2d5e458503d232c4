"""Property: any Unicode text in any word survives import → export-dataset → import byte for
byte, on SQLite and on DynamoDB (moto server).

Texts are drawn from all of Unicode (no surrogates: they cannot be UTF-8) with the characters
``str.splitlines`` treats as line ends (U+2028, U+2029, U+0085, \\v, \\f, \\x1c-\\x1e) and JSON's
escapes drawn often, because those are what lost receipts before. Example counts stay small so
the suite is quick on two cores.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receipt_dynamo import create_table, open_store
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.importers import export_store, import_documents, write_jsonl
from receipt_layoutlm.importers.jsonl import parse_jsonl

TRICKY = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e\r\n\t\"\\\x00\u00e9\U0001f9fe"

word_texts = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(TRICKY)),
    min_size=1,
    max_size=12,
).filter(lambda text: text.strip() != "")


@st.composite
def documents(draw: st.DrawFn) -> list[ReceiptDocument]:
    docs = []
    for n in range(draw(st.integers(1, 3))):
        texts = draw(st.lists(word_texts, min_size=1, max_size=4))
        words = [
            DocWord(text, ((10 + 60 * i, 10), (60 + 60 * i, 10), (60 + 60 * i, 30),
                           (10 + 60 * i, 30)), line_id=1, word_id=i + 1,
                    label="GRAND_TOTAL" if i == 0 else None)
            for i, text in enumerate(texts)
        ]
        docs.append(ReceiptDocument(key=f"prop:{uuid.uuid4().hex[:8]}:{n}", width=300,
                                    height=100, words=words))
    return docs


def _texts(docs: list[ReceiptDocument]) -> dict[str, list[str]]:
    return {d.key: [w.text for w in sorted(d.words, key=lambda w: (w.line_id, w.word_id))]
            for d in docs}


def round_trip(docs: list[ReceiptDocument], open_fresh: Callable[[], Any], folder: Path) -> None:
    """dataset file → store 1 → export → store 2 → export: nothing lost, every text equal."""
    write_jsonl(docs, folder / "in.jsonl")
    exports = []
    source = folder / "in.jsonl"
    for step in (1, 2):
        parsed = parse_jsonl(source)
        assert parsed.problems == []
        store = open_fresh()
        try:
            report = import_documents(store, parsed.documents, source="prop",
                                      label_proposed_by="prop")
            assert report.receipts_written == len(docs), report.summary()
            source = folder / f"export{step}.jsonl"
            assert export_store(store, source) == len(docs)
        finally:
            store.close()
        exports.append(source.read_bytes())
    assert _texts(parse_jsonl(source).documents) == _texts(docs)
    assert exports[0] == exports[1]


PROPERTY = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@PROPERTY
@given(docs=documents())
def test_any_word_text_round_trips_on_sqlite(docs: list[ReceiptDocument]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tables = iter(range(2))
        round_trip(docs, lambda: open_store("sqlite", path=folder / f"t{next(tables)}.sqlite3"),
                   folder)


@pytest.mark.aws
@settings(PROPERTY, max_examples=8)
@given(docs=documents())
def test_any_word_text_round_trips_on_dynamodb(docs: list[ReceiptDocument], aws_env: str) -> None:
    client = boto3.client("dynamodb")

    def fresh_table() -> Any:
        name = f"prop-{uuid.uuid4().hex[:12]}"
        create_table(client, name)
        return open_store("dynamodb", table_name=name)

    with tempfile.TemporaryDirectory() as tmp:
        round_trip(docs, fresh_table, Path(tmp))
