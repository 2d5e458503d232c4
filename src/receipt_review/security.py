"""Who may talk to the app: the bind rule, the access token and CSRF on every form.

- Bound to a loopback address unless a token is set (``check_bind``).
- With a token, every request carries it: ``?token=`` once (it becomes an HttpOnly cookie),
  the cookie, or ``Authorization: Bearer``; compared in constant time.
- Every POST carries a CSRF token: an HMAC of the browser's session cookie under a secret made
  at start-up. Another site can make the browser send the cookie, but cannot read a page to learn
  the token. A POST whose ``Origin`` is another site is refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from receipt_review.config import LOCAL_HOSTS, ReviewConfig
from receipt_review.errors import ReviewError

SESSION_COOKIE = "review_session"
TOKEN_COOKIE = "review_token"
CSRF_FIELD = "csrf"


def check_bind(config: ReviewConfig) -> None:
    """Refuse a non-loopback host without a token."""
    if config.host not in LOCAL_HOSTS and not config.token:
        raise ReviewError(
            f"--host {config.host} exposes the review app beyond this machine; set --token "
            "(or RECEIPT_REVIEW_TOKEN) so every request must carry it, or bind 127.0.0.1"
        )
    if config.token is not None and len(config.token) < 12:
        raise ReviewError("--token must be at least 12 characters (e.g. `openssl rand -hex 16`)")


class Guard:
    """The per-process secrets and the checks of one app."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self._secret = secrets.token_bytes(32)

    def token_ok(self, presented: str | None) -> bool:
        if self.token is None:
            return True
        return presented is not None and hmac.compare_digest(presented.encode(),
                                                             self.token.encode())

    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(24)

    def csrf_for(self, session: str) -> str:
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    def check_post(self, session: str | None, presented: str | None, origin: str | None,
                   host: str | None) -> None:
        """Raise ReviewError 403 unless the POST carries this session's CSRF token."""
        if origin and origin != "null" and urlsplit(origin).netloc != (host or ""):
            raise ReviewError(f"a form from another site ({origin[:80]}) was refused",
                              status=403)
        if not session or not presented or not hmac.compare_digest(
                presented.encode(), self.csrf_for(session).encode()):
            raise ReviewError("the form's CSRF token is missing or wrong; reload the page and "
                              "try again", status=403)
