"""Every key format of the single table, in one place.

Main keys (``PK``/``SK``) and index keys follow the architecture table; numeric ids are zero-padded
to 5 digits everywhere so that string order equals numeric order. Where the architecture leaves an
index sort key open, this module chooses:

=====================  =========================================  ===============================
entity                 index PK                                   index SK
=====================  =========================================  ===============================
Receipt                GSI4 ``IMAGE#{id}#RECEIPT#{r:05d}``        ``0_RECEIPT``
ReceiptLine            GSI4 (same)                                ``2_LINE#{l:05d}``
ReceiptWord            GSI4 (same)                                ``3_WORD#{l:05d}#{w:05d}``
ReceiptWordLabel       GSI4 (same)                                ``4_LABEL#{l:05d}#{w:05d}#{L}``
ReceiptWordLabel       GSI1 ``LABEL#{LABEL}``                     label path (below)
ReceiptWordLabel       GSI3 ``VALIDATION_STATUS#{status}``        label path (below)
ReceiptWordLabel       GSI2 ``VALIDATION_STATUS#{status}``        ``CONFIDENCE#{c:.6f}#{path}``
                       (proposals: NONE/PENDING/NEEDS_REVIEW)
ReceiptWordLabel       GSI2 ``REVIEWED#{YYYY-MM-DD}``             ``{reviewed_at}#{path}``
                       (human decisions with a ``reviewed_at``)
Job                    GSI1 ``STATUS#{status}``                   ``CREATED#{created_at}``
Job                    GSI2 ``JOB_NAME#{name}``                   ``CREATED#{created_at}``
JobMetric              GSI1 ``METRIC#{name}``                     ``JOB#{job_id}#{timestamp}``
CoreMLExportJob        GSI1 ``JOB#{job_id}``                      ``CREATED#{created_at}``
CoreMLExportJob        GSI2 ``COREML_EXPORT_STATUS#{status}``     ``CREATED#{created_at}``
OCRJob                 GSI1 ``OCR_JOB_STATUS#{status}``           ``CREATED#{created_at}``
OCRRoutingDecision     GSI1 ``OCR_ROUTING_DECISION_STATUS#{s}``   ``CREATED#{created_at}``
every item             GSITYPE ``TYPE`` (hash only)               --
=====================  =========================================  ===============================

The label path is ``IMAGE#{id}#RECEIPT#{r:05d}#LINE#{l:05d}#WORD#{w:05d}#LABEL#{LABEL}``, i.e. the
label item's own PK and SK joined by ``#``: label index pages come back grouped by receipt and word.
Timestamps in keys are UTC ISO 8601 (``+00:00``), so string order is time order.

GSI2 on labels is the review index (added after the rest, additive): proposals sorted by the
proposer's confidence, lowest first (a proposal without a confidence sorts as 0: nothing is
known about it), so the review queue reads the least certain words first; human decisions made
in the review app are listed per day. Labels stored before it existed are not in it until they
are written again (``ReceiptStore.reindex_review_labels``).
"""

from __future__ import annotations

IMAGE_SK = "IMAGE"
JOB_SK = "JOB"
EXPORT_SK = "EXPORT"
RECEIPT_GSI4_SK = "0_RECEIPT"
GSI4_LINE_PREFIX = "2_LINE#"
GSI4_WORD_PREFIX = "3_WORD#"
GSI4_LABEL_PREFIX = "4_LABEL#"

GSI_NAMES: tuple[str, ...] = ("GSI1", "GSI2", "GSI3", "GSI4")
"""The indexes with a hash and a sort key (``GSInPK``/``GSInSK``)."""
INDEXES: tuple[str, ...] = (*GSI_NAMES, "GSITYPE")
KEY_ATTRIBUTES: tuple[str, ...] = (
    "PK", "SK", "TYPE", *(f"{g}{p}" for g in GSI_NAMES for p in ("PK", "SK"))
)
"""Every attribute a key or index is built on (all strings)."""


MainKey = tuple[str, str]
"""``(PK, SK)`` of one item."""


def image_pk(image_id: str) -> str:
    return f"IMAGE#{image_id}"


def receipt_sk(receipt_id: int) -> str:
    return f"RECEIPT#{receipt_id:05d}"


def line_sk(receipt_id: int, line_id: int) -> str:
    return f"{receipt_sk(receipt_id)}#LINE#{line_id:05d}"


def word_sk(receipt_id: int, line_id: int, word_id: int) -> str:
    return f"{line_sk(receipt_id, line_id)}#WORD#{word_id:05d}"


def label_sk(receipt_id: int, line_id: int, word_id: int, label: str) -> str:
    return f"{word_sk(receipt_id, line_id, word_id)}#LABEL#{label}"


def receipt_gsi4_pk(image_id: str, receipt_id: int) -> str:
    return f"IMAGE#{image_id}#RECEIPT#{receipt_id:05d}"


def line_gsi4_sk(line_id: int) -> str:
    return f"{GSI4_LINE_PREFIX}{line_id:05d}"


def word_gsi4_sk(line_id: int, word_id: int) -> str:
    return f"{GSI4_WORD_PREFIX}{line_id:05d}#{word_id:05d}"


def label_gsi4_sk(line_id: int, word_id: int, label: str) -> str:
    return f"{GSI4_LABEL_PREFIX}{line_id:05d}#{word_id:05d}#{label}"


def label_path(image_id: str, receipt_id: int, line_id: int, word_id: int, label: str) -> str:
    return f"{image_pk(image_id)}#{label_sk(receipt_id, line_id, word_id, label)}"


def label_gsi1_pk(label: str) -> str:
    return f"LABEL#{label}"


def validation_status_pk(status: str) -> str:
    return f"VALIDATION_STATUS#{status}"


REVIEW_CONFIDENCE_PREFIX = "CONFIDENCE#"


def confidence_sk(confidence: float | None, path: str) -> str:
    """GSI2 sort key of a proposal: fixed-width confidence (string order = numeric order)."""
    return f"{REVIEW_CONFIDENCE_PREFIX}{(confidence or 0.0):.6f}#{path}"


def reviewed_pk(day: str) -> str:
    """GSI2 partition of the human decisions made on ``day`` (``YYYY-MM-DD``, UTC)."""
    return f"REVIEWED#{day}"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def job_status_pk(status: str) -> str:
    return f"STATUS#{status}"


def job_name_pk(name: str) -> str:
    return f"JOB_NAME#{name}"


def created_sk(timestamp: str) -> str:
    return f"CREATED#{timestamp}"


def metric_prefix(metric_name: str | None = None) -> str:
    return "METRIC#" if metric_name is None else f"METRIC#{metric_name}#"


def metric_sk(metric_name: str, timestamp: str) -> str:
    return f"{metric_prefix(metric_name)}{timestamp}"


def metric_name_pk(metric_name: str) -> str:
    return f"METRIC#{metric_name}"


def metric_gsi1_sk(job_id: str, timestamp: str) -> str:
    return f"JOB#{job_id}#{timestamp}"


def export_pk(export_id: str) -> str:
    return f"COREML_EXPORT#{export_id}"


def export_job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def export_status_pk(status: str) -> str:
    return f"COREML_EXPORT_STATUS#{status}"


def ocr_job_sk(job_id: str) -> str:
    return f"OCR_JOB#{job_id}"


def ocr_job_status_pk(status: str) -> str:
    return f"OCR_JOB_STATUS#{status}"


def routing_sk(job_id: str) -> str:
    return f"ROUTING#{job_id}"


def routing_status_pk(status: str) -> str:
    return f"OCR_ROUTING_DECISION_STATUS#{status}"


# --- main keys ``(PK, SK)`` per entity: the one place each entity's key is composed ------------


def image_key(image_id: str) -> MainKey:
    return image_pk(image_id), IMAGE_SK


def receipt_key(image_id: str, receipt_id: int) -> MainKey:
    return image_pk(image_id), receipt_sk(receipt_id)


def line_key(image_id: str, receipt_id: int, line_id: int) -> MainKey:
    return image_pk(image_id), line_sk(receipt_id, line_id)


def word_key(image_id: str, receipt_id: int, line_id: int, word_id: int) -> MainKey:
    return image_pk(image_id), word_sk(receipt_id, line_id, word_id)


def label_key(image_id: str, receipt_id: int, line_id: int, word_id: int, label: str) -> MainKey:
    return image_pk(image_id), label_sk(receipt_id, line_id, word_id, label)


def job_key(job_id: str) -> MainKey:
    return job_pk(job_id), JOB_SK


def metric_key(job_id: str, metric_name: str, timestamp: str) -> MainKey:
    return job_pk(job_id), metric_sk(metric_name, timestamp)


def export_key(export_id: str) -> MainKey:
    return export_pk(export_id), EXPORT_SK


def ocr_job_key(image_id: str, job_id: str) -> MainKey:
    return image_pk(image_id), ocr_job_sk(job_id)


def routing_key(image_id: str, job_id: str) -> MainKey:
    return image_pk(image_id), routing_sk(job_id)
