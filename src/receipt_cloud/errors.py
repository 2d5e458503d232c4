"""Errors raised by ``receipt_cloud``; each message names the thing at fault and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class ReceiptCloudError(Exception):
    """Base class for every error raised by ``receipt_cloud``."""


class UnknownSchemeError(ReceiptCloudError, ValueError):
    """A URI or URL uses a scheme no backend is registered for."""

    def __init__(self, what: str, uri: str, scheme: str, known: Iterable[str]) -> None:
        self.uri = uri
        self.scheme = scheme
        known_list = ", ".join(sorted(known))
        super().__init__(f"unknown {what} scheme {scheme!r} in {uri!r}; use one of: {known_list}")


class InvalidUriError(ReceiptCloudError, ValueError):
    """A URI is well-formed for its scheme but lacks a part the operation needs."""


class UnsafeKeyError(ReceiptCloudError, ValueError):
    """An object key would read or write outside the local store's root directory."""

    def __init__(self, key: str, root: str, reason: str) -> None:
        self.key = key
        self.root = root
        super().__init__(
            f"object key {key!r} is refused: {reason}; keys are '/'-separated paths that stay "
            f"inside the store root {root!r} (no '..', no leading '/', no symlinks out)"
        )


class UntrustedUriError(ReceiptCloudError, ValueError):
    """A URI or object key from outside (a queue message, a Lambda event, a manifest) that does
    not resolve inside the store it belongs to; nothing was read or written. The message is one
    line: what was refused, why, and the store it must stay in."""

    def __init__(self, what: str, shown_uri: str, reason: str, root: str) -> None:
        self.what = what
        self.reason = reason
        self.root = root
        super().__init__(f"{what} {shown_uri} is refused: {reason}; it must stay inside {root}")


class ObjectKeyConflictError(ReceiptCloudError, ValueError):
    """A key cannot be written where the store keeps its objects (a file system's limits)."""

    def __init__(self, key: str, root: str, reason: str) -> None:
        self.key = key
        self.root = root
        super().__init__(f"object key {key[:120]!r} cannot be written under {root!r}: {reason}")


class InvalidMessageError(ReceiptCloudError, ValueError):
    """A message body that SQS would reject (too large, or characters outside its set)."""


class ObjectNotFoundError(ReceiptCloudError, FileNotFoundError):
    """The object does not exist."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"object not found: {uri}; check the key or upload it first")


class BucketNotFoundError(ReceiptCloudError):
    """The S3 bucket does not exist (or is not visible to these credentials)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        super().__init__(
            f"S3 bucket {bucket!r} does not exist or is not accessible; create it, fix the "
            "bucket name, or point AWS_ENDPOINT_URL/AWS_REGION at the right account"
        )


class QueueNotFoundError(ReceiptCloudError):
    """The queue does not exist."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"queue {url!r} does not exist; create it (infra or create_queue_with_dlq) or fix "
            "the queue URL"
        )


class QueueFileError(ReceiptCloudError):
    """A local queue file cannot be used: it is not a SQLite database, or it is damaged."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"local queue file {path} is unreadable ({reason}); move it aside to start with "
            "empty queues (its messages are lost) or restore it from a backup"
        )


class StaleReceiptHandleError(ReceiptCloudError):
    """A delete or visibility change used a receipt handle that is no longer current.

    The message was deleted, or its visibility window expired and it was received again (by this
    or another consumer), which issued a new handle.
    """

    def __init__(self, queue_url: str, receipt_handle: str) -> None:
        self.queue_url = queue_url
        self.receipt_handle = receipt_handle
        super().__init__(
            f"receipt handle {receipt_handle[:24]!r}... is stale on queue {queue_url!r}: the "
            "message was already deleted or was received again after its visibility timeout; "
            "extend visibility (change_visibility) while working so it is not redelivered"
        )


class UnknownQueueNameError(ReceiptCloudError, KeyError):
    """``Settings.open_queue`` was given a name that is not one of the known queues."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        super().__init__(f"unknown queue {name!r}; use one of: {', '.join(sorted(known))}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownObjectsKindError(ReceiptCloudError, KeyError):
    """``Settings.open_objects`` was given a kind that is not raw, runs or bundles."""

    def __init__(self, kind: str, known: Iterable[str]) -> None:
        self.kind = kind
        super().__init__(f"unknown object store kind {kind!r}; use one of: {', '.join(known)}")

    def __str__(self) -> str:
        return str(self.args[0])


class MissingSettingError(ReceiptCloudError):
    """One or more required settings have no value; lists every one with its flag and variable."""

    def __init__(self, env: str, missing: Sequence[str]) -> None:
        self.env = env
        self.missing = list(missing)
        lines = "\n".join(f"  - {item}" for item in self.missing)
        super().__init__(f"missing settings for env {env!r}:\n{lines}")


class StackOutputsError(ReceiptCloudError):
    """The stack's outputs could not be read (no pulumi, failed command, bad JSON file)."""


class SettingsConflictError(ReceiptCloudError, ValueError):
    """A command was given settings of the local environment and of AWS at once."""

    def __init__(self, local: Sequence[str], aws: Sequence[str]) -> None:
        self.local = list(local)
        self.aws = list(aws)
        super().__init__(
            f"conflicting settings: {', '.join(self.local)} (local) and {', '.join(self.aws)} "
            "(AWS); one command talks to one environment: drop one side, or pass --env"
        )
