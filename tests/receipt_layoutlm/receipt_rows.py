"""A labelled receipt document from rows of ``(text, label)`` words, and a tiny training run
over such documents, for tests that fit or predict on whole documents (line classifier, known
values)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from receipt_layoutlm.document import DocWord, ReceiptDocument


def receipt_from_rows(
    key: str, rows: Sequence[Sequence[tuple[str, str | None]]], fields: Mapping[str, str]
) -> ReceiptDocument:
    """One printed line per row, words 80 px apart, rows 30 px apart, on a 400×200 receipt."""
    words = []
    for row_no, row in enumerate(rows):
        for word_no, (text, label) in enumerate(row):
            x, y = 10.0 + 80 * word_no, 30.0 * row_no
            corners = ((x, y), (x + 60, y), (x + 60, y + 20), (x, y + 20))
            words.append(DocWord(text, corners, line_id=row_no, label=label))
    return ReceiptDocument(key, 400.0, 200.0, words, fields=dict(fields))


def train_tiny(
    tmp_path: Path, docs: Sequence[ReceiptDocument], *, train_keys: Sequence[str],
    dev_keys: Sequence[str], job_name: str, **config: Any,
) -> Path:
    """Train the tiny model for two steps on ``docs`` (split into ``train_keys`` and
    ``dev_keys``), with ``config`` on top of the smoke recipe; the run's output directory."""
    from receipt_cloud.objects import open_object_store
    from receipt_dynamo import open_store
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.importers import write_jsonl
    from receipt_layoutlm.training import TrainingConfig, train

    write_jsonl(docs, tmp_path / "d.jsonl")
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": list(train_keys), "dev": list(dev_keys)}))
    result = train(
        TrainingConfig(model_size="tiny", epochs=1, batch_size=2, max_seq_length=64, stride=16,
                       max_steps=2, total_picker="none", **config),
        DatasetConfig(dataset_file=str(tmp_path / "d.jsonl"), split_file=str(split)),
        store=open_store("sqlite", path=tmp_path / "r.sqlite3"),
        objects=open_object_store(str(tmp_path / "objects")),
        job_name=job_name,
        output_dir=tmp_path / "work",
    )
    return Path(result.output_dir)
