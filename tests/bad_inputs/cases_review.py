"""Corpus rows: what a reviewer's browser (or anyone reaching the review app) can send —
labels outside the vocabulary, a word of another receipt, a stale page, a photo that is missing
or recorded outside the raw store, an oversized form, a forged cursor — and the flags that
would expose the app. Library calls raise ``ReviewError`` (exit 2, one line); HTTP-only checks
answer with their status, shown as ``HTTP <status>: <answer>``."""

from __future__ import annotations

from typing import Any

from bad_input_harness import Case, Workspace

from receipt_review import ReviewError

G = "review"


def _receipt(ws: Workspace, key: str, words: list, *, photo: bool = True) -> str:
    from review_support import write_receipt

    store = ws.open_store()
    try:
        return write_receipt(store, ws.settings().open_objects("raw"), key, words,
                             photo=photo)[0]
    finally:
        store.close()


def two_receipts(ws: Workspace) -> None:
    ws.state["a"] = _receipt(ws, "a", [("ACME", "MERCHANT_NAME", 0.6), ("9.00", "GRAND_TOTAL",
                                                                           0.4)])
    ws.state["b"] = _receipt(ws, "b", [("BOLT", "MERCHANT_NAME", 0.5)])


def relabel(image: str, line_id: int, label: str, version: str | None = None) -> Any:
    def command(ws: Workspace) -> str:
        from receipt_review.decisions import relabel_word
        from receipt_review.receipt_view import receipt_version

        store = ws.open_store()
        try:
            image_id = ws.state[image]
            current = receipt_version(store.get_receipt_details(image_id, 1).labels)
            written = relabel_word(store, image_id, 1, line_id, 1, label,
                                   version=current if version is None else version,
                                   reviewer="corpus", vocabulary=["MERCHANT_NAME", "O"])
        finally:
            store.close()
        return f"written {written}"
    return command


def photo(ws: Workspace) -> str:
    from receipt_review.photos import photo_bytes

    store = ws.open_store()
    try:
        receipt = store.get_receipt(ws.state["a"], 1)
    finally:
        store.close()
    data, media = photo_bytes(ws.settings().open_objects("raw"), receipt)
    return f"{media} {len(data)} bytes"


def photo_removed(ws: Workspace) -> None:
    two_receipts(ws)
    ws.settings().open_objects("raw").delete("raw/a.png")


def photo_recorded_outside(ws: Workspace) -> None:
    two_receipts(ws)
    store = ws.open_store()
    try:
        receipt = store.get_receipt(ws.state["a"], 1)
        store.update_receipt(receipt.with_changes(raw_s3_bucket="/etc", raw_s3_key="passwd"))
    finally:
        store.close()


def http(method: str, path: str, **kwargs: Any) -> Any:
    """Send one request to the app on the case's store; a refusal raises what the client saw."""
    def command(ws: Workspace) -> str:
        from starlette.testclient import TestClient

        from receipt_review import ReviewConfig
        from receipt_review.app import create_app
        from receipt_review.state import ReviewState

        state = ReviewState(open_store=ws.open_store, raw=ws.settings().open_objects("raw"),
                            config=ReviewConfig(reviewer="corpus"))
        try:
            client = TestClient(create_app(state))
            page = client.get(f"/receipts/{ws.state['a']}/1").text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            answer = client.request(method, path.format(a=ws.state["a"]),
                                    **{k: (v(csrf) if callable(v) else v)
                                       for k, v in kwargs.items()})
        finally:
            state.close()
        if answer.status_code >= 400:
            raise ReviewError(f"HTTP {answer.status_code}: {answer.text}")
        return f"HTTP {answer.status_code}"
    return command


def queue_with(cursor: str) -> Any:
    def command(ws: Workspace) -> str:
        from receipt_review.queue import QueueFilter, queue_page

        store = ws.open_store()
        try:
            return str(len(queue_page(store, QueueFilter(), cursor=cursor).entries))
        finally:
            store.close()
    return command


BIG_FORM = {"data": lambda csrf: {"csrf": csrf, "version": "v", "pad": "x" * 20_000}}

CASES = [
    Case(name="review_unknown_label", group=G, setup=two_receipts,
         command=relabel("a", 1, "NOT_A_LABEL"), exit_code=2,
         message=r"error: unknown label 'NOT_A_LABEL'; choose one of the picker's labels or "
                 r"'O' for none"),
    Case(name="review_label_with_markup", group=G, setup=two_receipts,
         command=relabel("a", 1, "<b>TOTAL</b>"), exit_code=2,
         message=r"error: unknown label '<b>TOTAL</b>'; choose one of .*"),
    Case(name="review_word_of_another_receipt", group=G, setup=two_receipts,
         command=relabel("b", 2, "MERCHANT_NAME"), exit_code=2,
         message=r"error: word \(line 2, word 1\) is not on receipt 1 of image [0-9a-f-]{36}"),
    Case(name="review_stale_version", group=G, setup=two_receipts,
         command=relabel("a", 1, "O", version="0" * 20), exit_code=2,
         message=r"error: this receipt changed since you opened it \(another reviewer or the "
                 r"worker saved it\); nothing of your change was saved — reload it and decide "
                 r"again"),
    Case(name="review_stale_version_dynamodb", group=G, setup=two_receipts,
         command=relabel("a", 1, "O", version="0" * 20), exit_code=2, needs=("dynamodb",),
         message=r"error: this receipt changed since you opened it .*"),
    Case(name="review_missing_photo", group=G, setup=photo_removed, command=photo, exit_code=2,
         message=r"error: receipt 1 of image [0-9a-f-]{36} has no photo in this environment's "
                 r"raw store \(recorded at \S+/raw/a\.png\)"),
    Case(name="review_photo_recorded_outside_the_raw_store", group=G,
         setup=photo_recorded_outside, command=photo, exit_code=2,
         message=r"error: receipt 1 of image [0-9a-f-]{36} has no photo in this environment's "
                 r"raw store \(recorded at /etc/passwd\)"),
    Case(name="review_oversized_form", group=G, setup=two_receipts,
         command=http("POST", "/receipts/{a}/1/accept", **BIG_FORM), exit_code=2,
         message=r"error: HTTP 413: the form is larger than 16384 bytes; nothing was read"),
    Case(name="review_form_without_csrf", group=G, setup=two_receipts,
         command=http("POST", "/receipts/{a}/1/accept", data={"version": "v"}), exit_code=2,
         message=r"error: HTTP 403: the form's CSRF token is missing or wrong; reload the page "
                 r"and try again"),
    Case(name="review_word_id_not_a_number", group=G, setup=two_receipts,
         command=http("POST", "/receipts/{a}/1/label", data=lambda csrf: {
             "csrf": csrf, "version": "v", "line_id": "1; DROP", "word_id": "1",
             "label": "O"}), exit_code=2,
         message=r"error: HTTP 400: form field 'line_id' must be a positive whole number"),
    Case(name="review_receipt_of_a_bad_image_id", group=G, setup=two_receipts,
         command=http("GET", "/receipts/..%2F..%2Fetc/1"), exit_code=2,
         message=r"error: HTTP 404: .*"),
    Case(name="review_forged_cursor", group=G, setup=two_receipts,
         command=queue_with("eyJQSyI6IngifQ"), exit_code=2,
         message=r"error: the queue cursor is not one this app made; start from the first page"),
    Case(name="review_host_without_token", group=G,
         command=["review", "--host", "0.0.0.0"], exit_code=2,
         message=r"error: --host 0\.0\.0\.0 exposes the review app beyond this machine; set "
                 r"--token \(or RECEIPT_REVIEW_TOKEN\) so every request must carry it, or bind "
                 r"127\.0\.0\.1"),
    Case(name="review_short_token", group=G,
         command=["review", "--host", "0.0.0.0", "--token", "abc"], exit_code=2,
         message=r"error: --token must be at least 12 characters \(e\.g\. `openssl rand -hex "
                 r"16`\)"),
]
