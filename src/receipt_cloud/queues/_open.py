"""``open_queue``: the name-checked registry of queue URL schemes."""

from __future__ import annotations

from collections.abc import Callable

from receipt_cloud.errors import InvalidUriError, UnknownSchemeError
from receipt_cloud.queues._base import Queue

QueueOpener = Callable[[str, str | None, str | None], Queue]
"""(url, region, endpoint_url) -> Queue."""

_SCHEMES: dict[str, QueueOpener] = {}


def register_queue_scheme(scheme: str, opener: QueueOpener) -> None:
    """Register ``opener`` for queue URLs starting with ``<scheme>://``."""
    _SCHEMES[scheme.lower()] = opener


def open_queue(url: str, *, region: str | None = None, endpoint_url: str | None = None) -> Queue:
    """``local:///abs/queues.sqlite3#name`` -> LocalQueue; ``http(s)://…`` (SQS) -> SqsQueue."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidUriError(
            f"queue URL {url!r} has no scheme; use https://sqs.<region>.amazonaws.com/<acct>/<name>"
            " or local:///abs/path/queues.sqlite3#<name>"
        )
    scheme = url.split("://", 1)[0].lower()
    try:
        opener = _SCHEMES[scheme]
    except KeyError:
        raise UnknownSchemeError("queue", url, scheme, [f"{s}://" for s in _SCHEMES]) from None
    return opener(url, region, endpoint_url)


def _open_local(url: str, _region: str | None, _endpoint: str | None) -> Queue:
    from receipt_cloud.queues.local import LocalQueue

    return LocalQueue.from_url(url)


def _open_sqs(url: str, region: str | None, endpoint: str | None) -> Queue:
    from receipt_cloud.queues.sqs import SqsQueue

    return SqsQueue(url, region=region, endpoint_url=endpoint)


register_queue_scheme("local", _open_local)
register_queue_scheme("http", _open_sqs)
register_queue_scheme("https", _open_sqs)
