"""The loop closes: the worker proposes (stub OCR, the tiny model) → a reviewer accepts some
proposals and corrects others in the review app → the training set built from the store (what
``layoutlm-cli train`` reads) holds exactly the reviewed receipt, with the corrections; the
receipt nobody reviewed stays out."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from image_factory import blank

from receipt_cloud.ocr_submit import submit_image
from receipt_cloud.settings import resolve_settings

pytestmark = pytest.mark.slow


def _csrf_version(html: str) -> dict[str, str]:
    return {n: re.search(rf'name="{n}" value="([^"]*)"', html).group(1)
            for n in ("csrf", "version")}


def test_reviewed_labels_are_what_training_reads(tiny_bundle, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from receipt_layoutlm.data import DatasetConfig, load_documents
    from receipt_layoutlm.records import store_key
    from receipt_ocr.cli import main as worker
    from receipt_review import ReviewConfig
    from receipt_review.app import create_app
    from receipt_review.state import ReviewState

    data = tmp_path / "data"
    settings = resolve_settings("local", data_dir=data, environ={})
    store = settings.open_store()
    for name in ("a.jpg", "b.jpg"):
        submit_image(blank(), filename=name, store=store, objects=settings.open_objects("raw"),
                     queue=settings.open_queue("ocr_jobs"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert worker(["--stub-ocr", "--data-dir", str(data), "--layoutlm-model",
                       str(tiny_bundle.bundle_dir)]) == 0

    app = TestClient(create_app(ReviewState.from_settings(settings,
                                                          ReviewConfig(reviewer="ana"))))
    queue = app.get("/api/queue").json()["receipts"]
    assert len(queue) == 2, "the tiny model proposed no label on the stub receipts"
    reviewed, untouched = queue[0], queue[1]
    url = f"/receipts/{reviewed['image_id']}/1"
    words = app.get(f"/api{url}").json()["words"]
    proposed = [w for w in words if w["status"] == "PENDING"]
    # Correct the least certain proposal, label one word the model left alone, accept the rest.
    wrong = min(proposed, key=lambda w: w["confidence"])
    fix = "TAX" if wrong["label"] != "TAX" else "DATE"
    blank_word = next(w for w in words if w["label"] is None)
    form = _csrf_version(app.get(url).text)
    for word, label in ((wrong, fix), (blank_word, "GRAND_TOTAL")):
        answer = app.post(f"{url}/label", data={**form, "line_id": str(word["line_id"]),
                                                "word_id": str(word["word_id"]),
                                                "label": label})
        assert answer.status_code == 200, answer.text
        form = _csrf_version(answer.text)
    assert app.post(f"{url}/accept", data=form).status_code == 200

    docs = load_documents(store, DatasetConfig())
    by_key = {doc.key: doc for doc in docs}
    assert set(by_key) == {store_key(reviewed["image_id"], 1)}  # the unreviewed one stays out
    labels = {(w.line_id, w.word_id): w.label for w in by_key[store_key(reviewed["image_id"], 1)]
              .words}
    assert labels[(wrong["line_id"], wrong["word_id"])] == fix
    assert labels[(blank_word["line_id"], blank_word["word_id"])] == "GRAND_TOTAL"
    accepted = [w for w in proposed if w is not wrong]
    assert all(labels[(w["line_id"], w["word_id"])] == w["label"] for w in accepted)
    rejected = [lab for lab in store.list_labels_by_status("INVALID")]
    assert [(lab.line_id, lab.word_id, lab.label) for lab in rejected] == [
        (wrong["line_id"], wrong["word_id"], wrong["label"])]  # the model's error, countable
    assert store.count_labels("PENDING") == untouched["pending"]
