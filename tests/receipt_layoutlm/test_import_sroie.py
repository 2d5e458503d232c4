"""SROIE import on the real training split: coverage per key, idempotent re-import."""

from __future__ import annotations

import time

import pytest

from receipt_dynamo import open_store
from receipt_layoutlm.importers import ImportReport, get_importer, import_documents

THRESHOLDS = {"date": 0.97, "total": 0.97, "company": 0.90, "address": 0.90}


@pytest.fixture(scope="module")
def sroie_train(shared_data):
    path = shared_data / "sroie" / "train"
    if not (path / "box").is_dir():
        pytest.skip(f"SROIE train split not found at {path}")
    return path


@pytest.mark.slow
def test_full_split_imports_with_coverage_and_reimport_adds_nothing(sroie_train, tmp_path):
    importer = get_importer("sroie")
    started = time.perf_counter()
    parsed = importer(sroie_train)
    assert len(parsed.documents) == 626
    store = open_store("sqlite", path=tmp_path / "receipts.sqlite")
    report = import_documents(
        store, parsed.documents, source=importer.source, label_proposed_by="import:sroie",
        report=ImportReport.from_parse(parsed),
    )
    elapsed = time.perf_counter() - started
    print(report.summary(max_lines=10), f"\nparse+write: {elapsed:.1f}s")
    assert report.receipts_written == 626 and report.receipts_failed == 0
    for key, threshold in THRESHOLDS.items():
        assert report.coverage[key].ratio >= threshold, (key, report.coverage[key])
    # One receipt has no address and one an empty total: they are not counted.
    assert report.coverage["address"].total == 625
    assert report.coverage["total"].total == 625
    assert len(store.list_receipts()) == 626

    again = import_documents(
        store, parsed.documents, source=importer.source,
        label_proposed_by="import:sroie",
    )
    assert (again.receipts_written, again.receipts_skipped) == (0, 626)
    assert len(store.list_receipts()) == 626
    assert len(store.list_labels_by_label("GRAND_TOTAL")) == report.labels["GRAND_TOTAL"]
    store.close()


def test_image_sizes_come_from_images_when_present(shared_data):
    sample = shared_data / "sroie" / "images_sample"
    if not (sample / "img").is_dir():
        pytest.skip("SROIE image sample not found")
    from PIL import Image

    parsed = get_importer("sroie")(sample, limit=3)
    assert parsed.documents
    for doc in parsed.documents:
        assert doc.image_path is not None
        with Image.open(doc.image_path) as image:
            assert (doc.width, doc.height) == image.size
