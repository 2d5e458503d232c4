"""The one error the review app raises on purpose: a refused input, with the HTTP status."""

from __future__ import annotations


class ReviewError(Exception):
    """A request or setting the review app refuses; the message is one line saying why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        """HTTP status the app answers with (400 bad input, 404 unknown, 409 stale, 413 size)."""


def conflict() -> ReviewError:
    """What a reviewer sees when someone else saved the receipt first."""
    return ReviewError(
        "this receipt changed since you opened it (another reviewer or the worker saved it); "
        "nothing of your change was saved — reload it and decide again",
        status=409,
    )
