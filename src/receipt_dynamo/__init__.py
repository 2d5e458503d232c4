"""Receipt records: entities, key design and the table backends (SQLite, DynamoDB).

Imports only the standard library and boto3; never torch or transformers.

    from receipt_dynamo import open_store
    store = open_store("sqlite", path="receipts.sqlite3")      # or open_store("dynamodb", ...)
    store.write_receipt(receipt, lines, words, labels)
    details = store.get_receipt_details(image_id, receipt_id)
"""

from receipt_dynamo._table import Condition, Table, TransactOp
from receipt_dynamo.backends import open_table
from receipt_dynamo.entities import (
    BoundingBox,
    CoreMLExportJob,
    Entity,
    Image,
    Job,
    JobMetric,
    OCRJob,
    OCRRoutingDecision,
    Point,
    Receipt,
    ReceiptLine,
    ReceiptWord,
    ReceiptWordLabel,
    utc_now,
)
from receipt_dynamo.errors import (
    BatchWriteError,
    ConditionFailedError,
    EntityAlreadyExistsError,
    EntityNotFoundError,
    EntityValidationError,
    ProtectedLabelError,
    ReceiptDynamoError,
    StaleLabelError,
    StoreUnavailableError,
    TableSchemaError,
    UnknownBackendError,
)
from receipt_dynamo.store import (
    ProposalResult,
    ReceiptDetails,
    ReceiptStore,
    open_store,
)
from receipt_dynamo.vocabulary import (
    CORE_LABELS,
    ExportStatus,
    JobStatus,
    OCRJobStatus,
    QuantizeMode,
    RoutingStatus,
    ValidationStatus,
    known_labels,
    register_labels,
)


def create_table(client_or_resource: object, table_name: str, *, wait: bool = True) -> None:
    """Create the DynamoDB single table with GSI1–GSI4 and GSITYPE (see backends.dynamo_schema)."""
    from receipt_dynamo.backends.dynamo_schema import create_table as _create

    _create(client_or_resource, table_name, wait=wait)


__all__ = [
    "CORE_LABELS",
    "BatchWriteError",
    "BoundingBox",
    "Condition",
    "ConditionFailedError",
    "CoreMLExportJob",
    "Entity",
    "EntityAlreadyExistsError",
    "EntityNotFoundError",
    "EntityValidationError",
    "ExportStatus",
    "Image",
    "Job",
    "JobMetric",
    "JobStatus",
    "OCRJob",
    "OCRJobStatus",
    "OCRRoutingDecision",
    "Point",
    "ProposalResult",
    "ProtectedLabelError",
    "QuantizeMode",
    "Receipt",
    "ReceiptDetails",
    "ReceiptDynamoError",
    "ReceiptLine",
    "ReceiptStore",
    "ReceiptWord",
    "ReceiptWordLabel",
    "RoutingStatus",
    "StaleLabelError",
    "StoreUnavailableError",
    "Table",
    "TableSchemaError",
    "TransactOp",
    "UnknownBackendError",
    "ValidationStatus",
    "create_table",
    "known_labels",
    "open_store",
    "open_table",
    "register_labels",
    "utc_now",
]
