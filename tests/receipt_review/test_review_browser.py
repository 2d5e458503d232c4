"""The review app in a real browser: Debian's headless Chromium driven by Playwright (its
``executable_path``; no browser download) on a small real store — a labelled SROIE photo from
``../shared/data`` with the labels as PENDING proposals. The reviewer relabels a word with the
keyboard, accepts the receipt, and the store holds the decisions."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from receipt_cloud.settings import resolve_settings
from receipt_review import ReviewConfig
from receipt_review.state import ReviewState

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage"]


def sroie_store(settings: Any, shared_data: Path) -> tuple[str, list[Any]]:
    """One SROIE receipt with its photo in the raw store and its labels PENDING."""
    from receipt_dynamo import register_labels
    from receipt_layoutlm.importers.sroie import parse_sroie
    from receipt_layoutlm.records import records_from_document

    parsed = parse_sroie(shared_data / "sroie" / "images_sample", limit=1)
    doc = parsed.documents[0]
    register_labels(parsed.native_labels)
    raw = settings.open_objects("raw")
    photo_key = f"raw/{Path(doc.image_path).name}"
    raw.put_bytes(photo_key, Path(doc.image_path).read_bytes(), content_type="image/jpeg")
    bucket, key = raw.location(photo_key)
    records = records_from_document(
        doc, source="sroie", validation_status="PENDING", label_proposed_by="model:browser",
        raw_s3_bucket=bucket, raw_s3_key=key, pixel_size=(int(doc.width), int(doc.height)),
    )
    labels = [lab.with_changes(confidence=0.3 + 0.01 * (i % 50))
              for i, lab in enumerate(records.labels)]
    store = settings.open_store()
    try:
        store.add_image(records.image)
        store.write_receipt(records.receipt, records.lines, records.words, labels)
    finally:
        store.close()
    return records.receipt.image_id, labels


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    import uvicorn

    from receipt_review.app import create_app

    settings = resolve_settings("local", data_dir=tmp_path / "data", environ={})
    state = ReviewState.from_settings(settings, ReviewConfig(reviewer="browser"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", settings
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        state.close()


@pytest.mark.slow
def test_a_reviewer_relabels_with_the_keyboard_and_accepts(served, shared_data: Path,
                                                          tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    base, settings = served
    image_id, proposals = sroie_store(settings, shared_data)
    first_unlabelled = None
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{base}/")
        assert page.locator("a.open").count() == 1
        page.keyboard.press("j")  # the queue: j focuses the first receipt, Enter opens it
        page.keyboard.press("Enter")
        page.wait_for_selector("#words tr.selected")
        assert page.url == f"{base}/receipts/{image_id}/1"
        # Walk to the first word the model left unlabelled (SROIE's merchant line starts with
        # one) and give it the merchant label through its shortcut key.
        rows = page.locator("#words tbody tr")
        labels = rows.evaluate_all("rs => rs.map(r => r.dataset.label)")
        first_unlabelled = labels.index("O")
        for _ in range(first_unlabelled):
            page.keyboard.press("j")
        selected = page.locator("#words tr.selected")
        line, word = selected.get_attribute("data-line"), selected.get_attribute("data-word")
        chosen = "MERCHANT_NAME"
        key = page.locator(f'[data-shortcut][data-label="{chosen}"]').get_attribute(
            "data-shortcut")
        page.keyboard.press(key)
        page.wait_for_selector(f'#words tr[data-line="{line}"][data-word="{word}"]'
                               f'[data-label="{chosen}"].valid')
        assert page.locator("#words tr.selected").get_attribute("data-line") == line
        shot = Path(os.environ.get("REVIEW_SCREENSHOT") or tmp_path / "receipt.png")
        page.screenshot(path=str(shot), full_page=False)
        page.keyboard.press("a")
        page.wait_for_selector("text=The queue is empty")
        assert page.url.rstrip("/") == base  # pushed back to the queue, no full reload
        browser.close()
    assert all(url.startswith(base) for url in requests), "the page fetched from elsewhere"
    from PIL import Image

    image = Image.open(io.BytesIO(shot.read_bytes())).convert("L")
    assert image.size == (1400, 1000)
    low, high = image.getextrema()
    assert high - low > 100, "the screenshot is blank"
    store = settings.open_store()
    try:
        stored = store.list_word_labels(image_id, 1)
    finally:
        store.close()
    by_word = {(lab.line_id, lab.word_id, lab.label): lab for lab in stored}
    mine = by_word[(int(line), int(word), chosen)]
    assert (mine.validation_status, mine.reviewed_by) == ("VALID", "browser")
    assert not [lab for lab in stored if lab.validation_status == "PENDING"]
    assert {(lab.line_id, lab.word_id, lab.label) for lab in proposals} <= set(by_word)
    assert all(lab.reviewed_by == "browser" and lab.reviewed_at for lab in stored)
