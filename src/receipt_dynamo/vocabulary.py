"""Label vocabulary and the status enums shared by every entity.

Label rule: a label is upper-case ``[A-Z][A-Z0-9_]*`` (``is_label_name``; the one definition of
the rule). Entities built by user code must also use a *known* label: the core labels
(``CORE_LABELS``), plus whatever native label sets an importer registered with
``register_labels`` (e.g. SROIE's ``COMPANY``/``TOTAL``). Items read back from the store are only
checked for the format, because the vocabulary was enforced when they were written and the reading
process (say, training) need not have registered the writer's native labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from receipt_dynamo.errors import EntityValidationError

CORE_LABELS: tuple[str, ...] = (
    "MERCHANT_NAME",
    "STORE_HOURS",
    "PHONE_NUMBER",
    "WEBSITE",
    "LOYALTY_ID",
    "ADDRESS_LINE",
    "DATE",
    "TIME",
    "PAYMENT_METHOD",
    "COUPON",
    "DISCOUNT",
    "PRODUCT_NAME",
    "QUANTITY",
    "UNIT_PRICE",
    "LINE_TOTAL",
    "SUBTOTAL",
    "TAX",
    "TIP",
    "GRAND_TOTAL",
    "CHANGE",
    "CASH_BACK",
    "REFUND",
)

LABEL_PATTERN = re.compile(r"[A-Z][A-Z0-9_]*")
"""Every label name matches this in full (``fullmatch``); ``O`` is one too."""
LABEL_RULE = "upper-case [A-Z][A-Z0-9_]*"
"""The label rule in words, for error messages."""

_registered: set[str] = set()
_lenient: ContextVar[bool] = ContextVar("receipt_dynamo_lenient_labels", default=False)


class ValidationStatus(StrEnum):
    """Review state of a ReceiptWordLabel. VALID and INVALID are human decisions (protected)."""

    NONE = "NONE"
    PENDING = "PENDING"
    VALID = "VALID"
    INVALID = "INVALID"
    NEEDS_REVIEW = "NEEDS_REVIEW"


PROTECTED_STATUSES: frozenset[ValidationStatus] = frozenset(
    {ValidationStatus.VALID, ValidationStatus.INVALID}
)


class JobStatus(StrEnum):
    """Lifecycle of a training Job.

    Upper-case like every other status enum. Jobs written before that hold lower-case values
    (``"succeeded"``); ``JobStatus("succeeded")`` still reads them as ``JobStatus.SUCCEEDED``.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"

    @classmethod
    def _missing_(cls, value: object) -> JobStatus | None:
        if isinstance(value, str):
            return cls.__members__.get(value.upper())
        return None


class ExportStatus(StrEnum):
    """Lifecycle of a CoreMLExportJob."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class OCRJobStatus(StrEnum):
    """Lifecycle of an OCRJob."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class RoutingStatus(StrEnum):
    """Lifecycle of an OCRRoutingDecision."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class QuantizeMode(StrEnum):
    """Weight precision of an exported model."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    INT8 = "int8"
    INT4 = "int4"


def is_label_name(name: object) -> bool:
    """Whether ``name`` follows the label rule (says nothing about the known vocabulary)."""
    return isinstance(name, str) and LABEL_PATTERN.fullmatch(name) is not None


def register_labels(names: Iterable[str]) -> None:
    """Add native label names (e.g. a dataset's own set) to the known vocabulary of this process."""
    names = list(names)
    for name in names:
        if not is_label_name(name):
            raise EntityValidationError(
                f"cannot register label {name!r}: labels are {LABEL_RULE} "
                "(upper-case the dataset's name, e.g. 'total' -> 'TOTAL')"
            )
    _registered.update(names)


def known_labels() -> tuple[str, ...]:
    """The core labels followed by the registered native labels (sorted)."""
    return CORE_LABELS + tuple(sorted(_registered - set(CORE_LABELS)))


def check_label(label: object) -> str:
    """Return ``label`` if well-formed and known (format only while reading stored items)."""
    if not is_label_name(label):
        raise EntityValidationError(f"label {label!r} is not {LABEL_RULE}; use e.g. 'GRAND_TOTAL'"
        )
    if not _lenient.get() and label not in CORE_LABELS and label not in _registered:
        raise EntityValidationError(
            f"label {label!r} is not in the label vocabulary; use one of the core labels or "
            "register native labels first with receipt_dynamo.register_labels([...])"
        )
    return label


@contextmanager
def stored_labels() -> Iterator[None]:
    """While active, labels are checked for format only (used when decoding stored items)."""
    token = _lenient.set(True)
    try:
        yield
    finally:
        _lenient.reset(token)
