"""The review app's settings (the environment itself comes from ``receipt_cloud.settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Hosts the app may bind to without a token."""


@dataclass(frozen=True)
class ReviewConfig:
    """How the review app serves and whom it records as the reviewer."""

    host: str = "127.0.0.1"
    """Interface to bind; anything but a loopback address requires ``token``."""
    port: int = 8765
    """TCP port."""
    reviewer: str | None = None
    """Name recorded on every decision; None asks for it on the page (a login field)."""
    token: str | None = None
    """Shared secret every request must carry (``?token=`` once, then a cookie, or
    ``Authorization: Bearer``); None on loopback means no token."""
    page_size: int = 20
    """Receipts per queue page."""
    max_form_bytes: int = 16_384
    """Largest request body accepted; a larger form is refused (413) unread."""
    extra_labels: tuple[str, ...] = field(default_factory=tuple)
    """Labels offered in the picker beside the core vocabulary and those on the receipt."""
    scan_limit: int = 400
    """Receipts one queue page may look at while filtering, before it stops with a cursor."""
