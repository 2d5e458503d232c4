"""The review app's routes (Starlette): pages, the htmx fragments, the photo and a JSON API.

=========================================  ===============================================
GET  /                                     the queue (filters: label, merchant, max_confidence)
GET  /receipts/{image_id}/{receipt_id}     a receipt page (its fragment for htmx requests)
POST /receipts/{image_id}/{receipt_id}/label   relabel one word → the refreshed fragment
POST /receipts/{image_id}/{receipt_id}/accept  accept the receipt → the next receipt's fragment
POST /reviewer                             remember the reviewer's name (when not set by flag)
GET  /photos/{image_id}/{receipt_id}       the receipt's photo from the raw store
GET  /api/queue, /api/receipts/{…}         the same data as JSON
GET  /static/…                             htmx, the keyboard script, the style sheet
=========================================  ===============================================

Refusals are ``ReviewError``: a one-line text answer with its status (htmx shows it in the
page's message line). Store calls are blocking and run in Starlette's thread pool.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from receipt_review import decisions, photos
from receipt_review.config import ReviewConfig
from receipt_review.errors import ReviewError
from receipt_review.queue import QueueFilter, queue_counts, queue_page
from receipt_review.receipt_view import build_view, view_json
from receipt_review.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    TOKEN_COOKIE,
    Guard,
)
from receipt_review.state import ReviewState

HERE = Path(__file__).parent
REVIEWER_COOKIE = "review_reviewer"
_REVIEWER = re.compile(r"[\w .@'-]{1,64}")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
COMMON_SHORTCUTS = ("MERCHANT_NAME", "ADDRESS_LINE", "DATE", "TIME", "PRODUCT_NAME",
                    "LINE_TOTAL", "SUBTOTAL", "TAX", "GRAND_TOTAL")


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["px"] = lambda v, side: f"{v * side / 1000:.1f}"
    return env


def shortcuts(vocabulary: list[str], on_receipt: list[str]) -> list[tuple[str, str]]:
    """(key, label) for keys 1–9: the receipt's own labels first, then the common core ones."""
    order = [*sorted(set(on_receipt)), *COMMON_SHORTCUTS]
    chosen = [lab for i, lab in enumerate(order) if lab in vocabulary and lab not in order[:i]]
    return [(str(n), lab) for n, lab in enumerate(chosen[:9], 1)]


class ReviewApp:
    """Routes over one ``ReviewState`` (store, raw objects, config)."""

    def __init__(self, state: ReviewState) -> None:
        self.state = state
        self.config: ReviewConfig = state.config
        self.guard = Guard(state.config.token)
        self.env = _templates()

    # --- plumbing ----------------------------------------------------------------------------

    async def _guarded(self, request: Request, handler: Any) -> Response:
        presented = (request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
                     or request.headers.get("authorization", "").removeprefix("Bearer "))
        if not self.guard.token_ok(presented or None):
            return PlainTextResponse("this review app needs its token: open it with ?token=…",
                                     status_code=401, headers=HEADERS)
        session = request.cookies.get(SESSION_COOKIE) or self.guard.new_session()
        request.state.session = session
        try:
            if request.method == "POST":
                request.state.form = await self._read_form(request)
                self.guard.check_post(request.cookies.get(SESSION_COOKIE),
                                      request.state.form.get(CSRF_FIELD),
                                      request.headers.get("origin"), request.headers.get("host"))
            response = await handler(request)
        except ReviewError as exc:
            response = PlainTextResponse(str(exc), status_code=exc.status)
        response.headers.update(HEADERS)
        if SESSION_COOKIE not in request.cookies:
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
        if self.config.token and request.query_params.get("token"):
            response.set_cookie(TOKEN_COOKIE, self.config.token, httponly=True,
                                samesite="strict")
        return response

    async def _read_form(self, request: Request) -> dict[str, str]:
        limit = self.config.max_form_bytes
        declared = request.headers.get("content-length", "")
        too_big = ReviewError(f"the form is larger than {limit} bytes; nothing was read",
                              status=413)
        if declared.isdigit() and int(declared) > limit:
            raise too_big
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_big
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        if body and kind != "application/x-www-form-urlencoded":
            raise ReviewError("forms must be application/x-www-form-urlencoded", status=415)
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                              max_num_fields=50)
        except (UnicodeDecodeError, ValueError):
            raise ReviewError("the form is not readable (UTF-8, url-encoded)") from None
        return {k: v[-1] for k, v in parsed.items()}

    def route(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            return await self._guarded(request, handler)
        return endpoint

    def render(self, name: str, request: Request, status: int = 200, **context: Any) -> Response:
        context.update(csrf=self.guard.csrf_for(request.state.session),
                       reviewer=self.reviewer(request, required=False))
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def reviewer(self, request: Request, *, required: bool = True) -> str | None:
        name = self.config.reviewer or request.cookies.get(REVIEWER_COOKIE)
        if name and _REVIEWER.fullmatch(name):
            return name
        if required:
            raise ReviewError("say who you are first: enter your name in the reviewer field "
                              "(or start the app with --reviewer NAME)", status=403)
        return None

    @staticmethod
    def ids(request: Request) -> tuple[str, int]:
        return request.path_params["image_id"], int(request.path_params["receipt_id"])

    @staticmethod
    def int_field(form: dict[str, str], name: str) -> int:
        value = form.get(name, "")
        if not value.isdigit() or len(value) > 6:
            raise ReviewError(f"form field {name!r} must be a positive whole number")
        return int(value)

    # --- pages -------------------------------------------------------------------------------

    def _filter(self, request: Request) -> QueueFilter:
        params = request.query_params
        max_conf = params.get("max_confidence") or None
        try:
            conf = None if max_conf is None else float(max_conf)
        except ValueError:
            raise ReviewError("max_confidence must be a number between 0 and 1") from None
        if conf is not None and not 0 <= conf <= 1:
            raise ReviewError("max_confidence must be a number between 0 and 1")
        return QueueFilter(label=params.get("label") or None,
                           merchant=(params.get("merchant") or "")[:80] or None,
                           max_confidence=conf)

    def _queue(self, request: Request) -> dict[str, Any]:
        wanted = self._filter(request)
        with self.state.store() as store:
            page = queue_page(store, wanted, cursor=request.query_params.get("cursor") or None,
                              size=self.config.page_size, scan_limit=self.config.scan_limit)
            counts = queue_counts(store)
        return {"page": page, "counts": counts, "wanted": wanted}

    async def queue(self, request: Request) -> Response:
        data = await run_in_threadpool(self._queue, request)
        return self.render("queue.html", request, vocabulary=self.state.vocabulary(), **data)

    async def api_queue(self, request: Request) -> Response:
        data = await run_in_threadpool(self._queue, request)
        return JSONResponse({
            "counts": data["counts"], "cursor": data["page"].cursor,
            "receipts": [vars(e) | {"labels": list(e.labels)} for e in data["page"].entries],
        })

    def _view(self, image_id: str, receipt_id: int) -> Any:
        with self.state.store() as store:
            details = decisions.load_details(store, image_id, receipt_id)
        view = build_view(details, self.config.extra_labels)
        return view, photos.has_photo(self.state.raw, details.receipt)

    def _receipt_context(self, view: Any, has_photo: bool) -> dict[str, Any]:
        on_receipt = [w.label for w in view.words if w.label]
        return {"view": view, "has_photo": has_photo,
                "shortcuts": shortcuts(view.vocabulary, on_receipt)}

    async def receipt(self, request: Request) -> Response:
        view, has_photo = await run_in_threadpool(self._view, *self.ids(request))
        name = "_receipt.html" if request.headers.get("hx-request") else "receipt.html"
        return self.render(name, request, **self._receipt_context(view, has_photo))

    async def api_receipt(self, request: Request) -> Response:
        view, has_photo = await run_in_threadpool(self._view, *self.ids(request))
        return JSONResponse(view_json(view) | {"has_photo": has_photo})

    async def relabel(self, request: Request) -> Response:
        image_id, receipt_id = self.ids(request)
        form, reviewer = request.state.form, self.reviewer(request)
        line_id, word_id = self.int_field(form, "line_id"), self.int_field(form, "word_id")

        def save() -> Any:
            view, _ = self._view(image_id, receipt_id)
            with self.state.store() as store:
                decisions.relabel_word(store, image_id, receipt_id, line_id, word_id,
                                       form.get("label", ""), version=form.get("version", ""),
                                       reviewer=reviewer, vocabulary=[*view.vocabulary, "O"])
            return self._view(image_id, receipt_id)

        view, has_photo = await run_in_threadpool(save)
        return self.render("_receipt.html", request, **self._receipt_context(view, has_photo))

    async def accept(self, request: Request) -> Response:
        image_id, receipt_id = self.ids(request)
        form, reviewer = request.state.form, self.reviewer(request)

        def save() -> Any:
            with self.state.store() as store:
                decisions.accept_receipt(store, image_id, receipt_id,
                                         version=form.get("version", ""), reviewer=reviewer)
                nxt = queue_page(store, size=1, scan_limit=self.config.scan_limit).entries
            return self._view(nxt[0].image_id, nxt[0].receipt_id) if nxt else None

        shown = await run_in_threadpool(save)
        if shown is None:
            response = self.render("_done.html", request)
            response.headers["HX-Push-Url"] = "/"
            return response
        response = self.render("_receipt.html", request, **self._receipt_context(*shown))
        response.headers["HX-Push-Url"] = f"/receipts/{shown[0].image_id}/{shown[0].receipt_id}"
        return response

    async def set_reviewer(self, request: Request) -> Response:
        name = request.state.form.get("name", "").strip()
        if not _REVIEWER.fullmatch(name):
            raise ReviewError("a reviewer name is 1–64 letters, digits, spaces or . @ ' -")
        response = Response(status_code=303, headers={"Location": "/"})
        response.set_cookie(REVIEWER_COOKIE, name, httponly=True, samesite="strict")
        return response

    async def photo(self, request: Request) -> Response:
        image_id, receipt_id = self.ids(request)

        def read() -> tuple[bytes, str]:
            with self.state.store() as store:
                receipt = decisions.load_details(store, image_id, receipt_id).receipt
            return photos.photo_bytes(self.state.raw, receipt)

        data, media = await run_in_threadpool(read)
        return Response(data, media_type=media)


def create_app(state: ReviewState) -> Starlette:
    """The ASGI app over ``state`` (``ReviewState.from_settings(settings, config)``)."""
    app = ReviewApp(state)
    receipt = "/receipts/{image_id:str}/{receipt_id:int}"
    routes = [
        Route("/", app.route(app.queue)),
        Route(receipt, app.route(app.receipt)),
        Route(f"{receipt}/label", app.route(app.relabel), methods=["POST"]),
        Route(f"{receipt}/accept", app.route(app.accept), methods=["POST"]),
        Route("/reviewer", app.route(app.set_reviewer), methods=["POST"]),
        Route("/photos/{image_id:str}/{receipt_id:int}", app.route(app.photo)),
        Route("/api/queue", app.route(app.api_queue)),
        Route(f"/api{receipt}", app.route(app.api_receipt)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes)
