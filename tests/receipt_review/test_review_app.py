"""The review app over HTTP (Starlette's TestClient), on SQLite and on DynamoDB (moto server):
every endpoint, the uncertainty order, decisions as rows, the second save refused, escaping,
CSRF and the token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from review_support import XSS_WORDS, state, write_receipt
from starlette.testclient import TestClient

from receipt_dynamo import ReceiptWordLabel, ValidationStatus
from receipt_review import ReviewConfig, ReviewError
from receipt_review.app import create_app
from receipt_review.security import check_bind


def client(settings: Any, **config: Any) -> TestClient:
    return TestClient(create_app(state(settings, **config)))


def form_of(html: str) -> dict[str, str]:
    """The hidden fields of the relabel form as the page rendered them."""
    return {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
            for name in ("csrf", "version")}


def rows(settings: Any, image_id: str) -> dict[tuple[int, str], ReceiptWordLabel]:
    store = settings.open_store()
    try:
        return {(lab.line_id, lab.label): lab for lab in store.list_word_labels(image_id, 1)}
    finally:
        store.close()


@pytest.fixture
def stocked(review_settings: Any) -> tuple[Any, dict[str, str]]:
    store, raw = review_settings.open_store(), review_settings.open_objects("raw")
    try:
        ids = {
            "sure": write_receipt(store, raw, "sure", [("ACME", "MERCHANT_NAME", 0.95),
                                                       ("9.00", "GRAND_TOTAL", 0.9)])[0],
            "doubt": write_receipt(store, raw, "doubt", [("BOLT", "MERCHANT_NAME", 0.8),
                                                         ("3.10", "GRAND_TOTAL", 0.15),
                                                         ("2024-01-02", "DATE", 0.7)])[0],
            "mid": write_receipt(store, raw, "mid", [("CAFE", "MERCHANT_NAME", 0.5)])[0],
        }
    finally:
        store.close()
    return review_settings, ids


def test_queue_is_least_certain_first_filterable_and_paged(stocked) -> None:
    settings, ids = stocked
    app = client(settings, reviewer="ana", page_size=2)
    first = app.get("/api/queue").json()
    assert [r["image_id"] for r in first["receipts"]] == [ids["doubt"], ids["mid"]]
    assert first["receipts"][0]["uncertainty"] == 0.15
    assert first["counts"] == {"pending": 6, "reviewed_today": 0}
    rest = app.get("/api/queue", params={"cursor": first["cursor"]}).json()
    assert [r["image_id"] for r in rest["receipts"]] == [ids["sure"]]
    assert rest["cursor"] is None
    by_label = app.get("/api/queue", params={"label": "DATE"}).json()["receipts"]
    assert [r["image_id"] for r in by_label] == [ids["doubt"]]
    by_merchant = app.get("/api/queue", params={"merchant": "acm"}).json()["receipts"]
    assert [r["image_id"] for r in by_merchant] == [ids["sure"]]
    capped = app.get("/api/queue", params={"max_confidence": "0.6"}).json()["receipts"]
    assert [r["image_id"] for r in capped] == [ids["doubt"], ids["mid"]]
    page = app.get("/", params={"label": "DATE"})
    assert page.status_code == 200 and ids["doubt"] in page.text and ids["sure"] not in page.text
    assert app.get("/api/queue", params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 400


def test_receipt_page_photo_and_api(stocked) -> None:
    settings, ids = stocked
    app = client(settings, reviewer="ana")
    page = app.get(f"/receipts/{ids['doubt']}/1")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert 'src="/static/htmx.min.js"' in page.text and "https://" not in page.text
    assert page.text.count('class="word-box') == 3
    from receipt_dynamo.label_colours import label_colour_hex as label_hex

    assert f'stroke="{label_hex("GRAND_TOTAL")}"' in page.text
    fragment = app.get(f"/receipts/{ids['doubt']}/1", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="receipt"')
    photo = app.get(f"/photos/{ids['doubt']}/1")
    assert photo.headers["content-type"] == "image/png" and photo.content[:4] == b"\x89PNG"
    data = app.get(f"/api/receipts/{ids['doubt']}/1").json()
    assert [w["label"] for w in data["words"]] == ["MERCHANT_NAME", "GRAND_TOTAL", "DATE"]
    assert data["pending"] == 3 and data["has_photo"] is True
    assert {f["field"] for f in data["fields"]} >= {"merchant", "total"}
    assert app.get("/static/htmx.min.js").status_code == 200
    assert app.get(f"/receipts/{ids['doubt']}/7").status_code == 404


def test_relabel_and_accept_write_decisions_with_reviewer_and_time(stocked) -> None:
    settings, ids = stocked
    app = client(settings, reviewer="ana")
    image = ids["doubt"]
    opened = form_of(app.get(f"/receipts/{image}/1").text)
    done = app.post(f"/receipts/{image}/1/label", data={**opened, "line_id": "2",
                                                        "word_id": "1", "label": "SUBTOTAL"})
    assert done.status_code == 200 and "SUBTOTAL" in done.text
    stored = rows(settings, image)
    assert stored[(2, "GRAND_TOTAL")].validation_status == ValidationStatus.INVALID
    corrected = stored[(2, "SUBTOTAL")]
    assert corrected.validation_status == ValidationStatus.VALID
    assert corrected.reviewed_by == "ana" and corrected.reviewed_at
    assert corrected.label_proposed_by == "review:ana"
    cleared = app.post(f"/receipts/{image}/1/label", data={
        **form_of(done.text), "line_id": "3", "word_id": "1", "label": "O"})
    assert cleared.status_code == 200
    assert rows(settings, image)[(3, "DATE")].validation_status == ValidationStatus.INVALID
    accepted = app.post(f"/receipts/{image}/1/accept", data=form_of(cleared.text))
    assert accepted.status_code == 200
    assert accepted.headers["hx-push-url"] == f"/receipts/{ids['mid']}/1"  # next in the queue
    after = rows(settings, image)
    assert after[(1, "MERCHANT_NAME")].validation_status == ValidationStatus.VALID
    assert after[(1, "MERCHANT_NAME")].reviewed_by == "ana"
    assert len(after) == 4  # nothing deleted: the proposals stay as INVALID rows
    counts = app.get("/api/queue").json()["counts"]
    assert counts == {"pending": 3, "reviewed_today": 4}


def test_second_save_on_a_stale_page_is_refused_and_loses_nothing(stocked) -> None:
    settings, ids = stocked
    image = ids["doubt"]
    ana, bo = client(settings, reviewer="ana"), client(settings, reviewer="bo")
    ana_form = form_of(ana.get(f"/receipts/{image}/1").text)
    bo_form = form_of(bo.get(f"/receipts/{image}/1").text)
    saved = ana.post(f"/receipts/{image}/1/label", data={**ana_form, "line_id": "2",
                                                         "word_id": "1", "label": "TAX"})
    assert saved.status_code == 200
    before = rows(settings, image)
    late = bo.post(f"/receipts/{image}/1/label", data={**bo_form, "line_id": "2",
                                                       "word_id": "1", "label": "SUBTOTAL"})
    assert late.status_code == 409 and "changed since you opened it" in late.text
    late_accept = bo.post(f"/receipts/{image}/1/accept", data=bo_form)
    assert late_accept.status_code == 409
    assert rows(settings, image) == before
    assert before[(2, "TAX")].reviewed_by == "ana"


def test_a_worker_proposal_never_replaces_a_reviewed_label(stocked) -> None:
    settings, ids = stocked
    app = client(settings, reviewer="ana")
    image = ids["mid"]
    assert app.post(f"/receipts/{image}/1/accept",
                    data=form_of(app.get(f"/receipts/{image}/1").text)).status_code == 200
    store = settings.open_store()
    try:
        details = store.get_receipt_details(image, 1)
        again = [lab.with_changes(validation_status="PENDING", confidence=0.4,
                                  label_proposed_by="model:v2", reviewed_by=None,
                                  reviewed_at=None) for lab in details.labels]
        result = store.write_receipt(details.receipt, [], details.words, again, overwrite=True)
        assert result.skipped_protected == 1
        kept = store.list_word_labels(image, 1)
    finally:
        store.close()
    assert [(lab.validation_status, lab.reviewed_by) for lab in kept] == [("VALID", "ana")]


def test_stored_text_is_escaped_everywhere(review_settings: Any) -> None:
    store, raw = review_settings.open_store(), review_settings.open_objects("raw")
    try:
        image, _ = write_receipt(store, raw, "xss", [(XSS_WORDS[0], "MERCHANT_NAME", 0.3),
                                                     (XSS_WORDS[1], "GRAND_TOTAL", 0.4)])
    finally:
        store.close()
    app = client(review_settings, reviewer="ana")
    for html in (app.get(f"/receipts/{image}/1").text, app.get("/").text):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = app.get(f"/receipts/{image}/1").text
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert app.get(f"/api/receipts/{image}/1").json()["words"][0]["text"] == XSS_WORDS[0]


def test_forms_need_the_csrf_token_and_a_name(stocked) -> None:
    settings, ids = stocked
    image = ids["doubt"]
    app = client(settings, reviewer="ana")
    opened = form_of(app.get(f"/receipts/{image}/1").text)
    no_csrf = app.post(f"/receipts/{image}/1/accept", data={"version": opened["version"]})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    other_site = app.post(f"/receipts/{image}/1/accept", data=opened,
                          headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    anonymous = client(settings)
    opened = form_of(anonymous.get(f"/receipts/{image}/1").text)
    assert anonymous.post(f"/receipts/{image}/1/accept", data=opened).status_code == 403
    login = anonymous.post("/reviewer", data={"csrf": opened["csrf"], "name": "cy"},
                           follow_redirects=False)
    assert login.status_code == 303
    assert anonymous.post(f"/receipts/{image}/1/accept", data=opened).status_code == 200
    assert rows(settings, image)[(1, "MERCHANT_NAME")].reviewed_by == "cy"
    assert pending_rows(rows(settings, image)) == 0


def pending_rows(found: dict) -> int:
    return sum(1 for lab in found.values() if lab.validation_status == "PENDING")


def test_a_token_guards_every_request(stocked) -> None:
    settings, ids = stocked
    secret = "s3cret-token-123"
    app = client(settings, reviewer="ana", token=secret, host="0.0.0.0")
    assert app.get("/").status_code == 401
    assert app.get(f"/photos/{ids['doubt']}/1").status_code == 401
    assert app.get("/", params={"token": "wrong-token-456"}).status_code == 401
    assert app.get("/", params={"token": secret}).status_code == 200
    assert app.get(f"/photos/{ids['doubt']}/1").status_code == 200  # the cookie now
    bearer = client(settings, token=secret)
    assert bearer.get("/api/queue", headers={"Authorization": f"Bearer {secret}"}).status_code \
        == 200
    with pytest.raises(ReviewError, match="--token"):
        check_bind(ReviewConfig(host="0.0.0.0"))
    check_bind(ReviewConfig(host="0.0.0.0", token=secret))
    check_bind(ReviewConfig())


def test_fields_read_the_words_in_reading_order_not_stored_id_order(review_settings) -> None:
    from receipt_layoutlm.document import DocWord, ReceiptDocument
    from receipt_layoutlm.records import records_from_document
    from receipt_review.decisions import load_details
    from receipt_review.receipt_view import build_view

    def box(x: int) -> tuple[tuple[int, int], ...]:
        return ((x, 20), (x + 80, 20), (x + 80, 40), (x, 40))

    # OCR numbered the right-hand word first: (line, word) order reads "MART ACME".
    doc = ReceiptDocument(key="order", width=400, height=80, words=[
        DocWord("MART", box(120), line_id=1, word_id=1, label="MERCHANT_NAME"),
        DocWord("ACME", box(20), line_id=1, word_id=2, label="MERCHANT_NAME"),
    ])
    records = records_from_document(doc, source="test", validation_status="PENDING",
                                     label_proposed_by="model:v1", pixel_size=(400, 80))
    store = review_settings.open_store()
    try:
        store.add_image(records.image)
        store.write_receipt(records.receipt, records.lines, records.words, records.labels)
        view = build_view(load_details(store, records.receipt.image_id, 1))
    finally:
        store.close()
    assert [w.text for w in view.words] == ["MART", "ACME"]
    assert ("merchant", "ACME MART") in [(f, t) for f, t, _ in view.fields]
