"""How a handler tells the loop what went wrong, and which failures are worth a retry."""

from __future__ import annotations

import sqlite3
import sys

from receipt_cloud.errors import ReceiptCloudError

# Error codes AWS services use for throttling and for their own (retryable) faults.
TRANSIENT_AWS_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)


class PermanentError(ReceiptCloudError):
    """The message can never succeed; the handler has recorded why, so the loop deletes it.

    Raise it after marking the job failed (bad input, a refused model...). Its text is logged.
    """


class TransientError(ReceiptCloudError):
    """A failure that may pass (network, throttling, a busy resource): retried with backoff,
    then the message is released for a later redelivery."""


class DeferMessage(ReceiptCloudError):
    """Not now: release the message for ``seconds`` without retrying in-process (e.g. another
    worker is busy with the same job). The receive still counts toward ``max_receives``."""

    def __init__(self, seconds: float, reason: str) -> None:
        self.seconds = seconds
        super().__init__(f"{reason}; retry in {seconds:.0f} s")


class WorkerStopped(BaseException):
    """Raised in the main thread by SIGTERM/SIGINT so the current message is released.

    A ``BaseException`` so that handlers' ``except Exception`` blocks do not swallow it; a
    handler may catch it to undo a claim (``except WorkerStopped: ...; raise``).
    """

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(f"worker stopped by {signal_name}")


def _is_transient_one(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    # botocore is only consulted once something imported it: a botocore error cannot exist
    # otherwise, and the local backends stay free of the import.
    botocore_exceptions = sys.modules.get("botocore.exceptions")
    if botocore_exceptions is None:
        return False
    if isinstance(
        exc,
        botocore_exceptions.ConnectionError
        | botocore_exceptions.HTTPClientError
        | botocore_exceptions.ConnectionClosedError,
    ):
        return True
    if isinstance(exc, botocore_exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or status == 429 or error.get("Code") in TRANSIENT_AWS_CODES
    return False


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is worth retrying.

    True for ``TransientError``, connection/timeout errors, a locked SQLite database and, from
    botocore, connection failures, HTTP 5xx/429 and throttling codes. ``PermanentError`` is never
    transient, whatever caused it.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, PermanentError):
            return False
        if _is_transient_one(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
