"""The resolved ``Settings`` of one environment, and shortcuts to open what they name."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from receipt_cloud.errors import (
    MissingSettingError,
    UnknownObjectsKindError,
    UnknownQueueNameError,
)

if TYPE_CHECKING:
    from receipt_cloud.objects import ObjectStore
    from receipt_cloud.queues import Queue
    from receipt_dynamo import ReceiptStore

StoreBackend = Literal["sqlite", "dynamodb"]

QUEUE_FIELDS: dict[str, str] = {
    "coreml_export_jobs": "coreml_export_job_queue_url",
    "coreml_export_results": "coreml_export_results_queue_url",
    "ocr_jobs": "ocr_job_queue_url",
    "ocr_results": "ocr_results_queue_url",
}
"""``Settings.open_queue`` names -> the field holding that queue's URL."""

OBJECTS_FIELDS: dict[str, str] = {"raw": "raw_uri", "runs": "runs_uri", "bundles": "bundles_uri"}
"""``Settings.open_objects`` kinds -> the field holding that store's URI."""


@dataclass(frozen=True)
class Settings:
    """Everything a CLI, worker or Lambda needs to reach one environment's resources."""

    env: str
    """``local`` (embedded: SQLite, a directory, SQLite queues), ``aws`` (values from variables
    and flags only; unset ones are empty and refused when used) or a Pulumi stack name."""
    data_dir: Path
    """Local data directory (``--data-dir``, else ``$RECEIPTS_HOME``, else ``./.receipts``)."""
    region: str | None
    """AWS region for DynamoDB, S3 and SQS; None lets boto3 pick its default."""
    endpoint_url: str | None
    """AWS endpoint override (moto, LocalStack); None for real AWS."""
    store_backend: StoreBackend
    """Record store backend for ``receipt_dynamo.open_store``: ``sqlite`` or ``dynamodb``."""
    table_name: str
    """Where the records live: the DynamoDB table name, or (despite the name) the path of the
    SQLite file when ``store_backend`` is ``sqlite`` (a relative one is taken inside
    ``data_dir``); ``--env local`` defaults it to ``<data-dir>/receipts.sqlite3``.
    ``--table-name`` sets either; ``DYNAMO_TABLE_NAME`` only the DynamoDB name."""
    raw_uri: str
    """Object store root for uploaded images (``s3://raw-bucket`` or the local objects dir)."""
    runs_uri: str
    """Object store root under which ``runs/<job>/`` (checkpoints, metrics) live."""
    bundles_uri: str
    """Object store root under which exported model bundles (``bundles/…``) live."""
    coreml_export_job_queue_url: str
    """Queue the export worker reads export requests from."""
    coreml_export_results_queue_url: str
    """Queue the export worker reports results to."""
    ocr_job_queue_url: str
    """Queue the OCR/labelling worker reads ``{"image_id", "job_id"}`` jobs from."""
    ocr_results_queue_url: str
    """Queue the OCR/labelling worker reports results to."""

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded ``local`` environment."""
        return self.env == "local"

    def to_dict(self) -> dict[str, Any]:
        """Plain values (``data_dir`` as a string), e.g. for logging or JSON."""
        values = asdict(self)
        values["data_dir"] = str(self.data_dir)
        return values

    def require(self, *fields: str) -> Settings:
        """Self, when every field in ``fields`` has a value; else :class:`MissingSettingError`
        naming each missing one's flag and variable (env ``aws`` leaves unused ones empty)."""
        from receipt_cloud.settings._fields import FIELD_SOURCES, missing_line

        missing = [
            missing_line(s)
            for s in FIELD_SOURCES
            if s.field in fields and not getattr(self, s.field)
        ]
        if missing:
            raise MissingSettingError(self.env, missing)
        return self

    def open_store(self) -> ReceiptStore:
        """The record store (``receipt_dynamo``) these settings name."""
        self.require("table_name")
        # Imported here so receipt_cloud loads (and its tests run) without receipt_dynamo.
        from receipt_dynamo import open_store

        if self.store_backend == "sqlite":
            # The backend makes the folder and reports an unwritable one as one clear error.
            return open_store("sqlite", path=Path(self.table_name))
        return open_store(
            "dynamodb",
            table_name=self.table_name,
            region=self.region,
            endpoint_url=self.endpoint_url,
        )

    def objects_uri(self, kind: str = "runs") -> str:
        """The root URI of object store ``kind`` (``raw``, ``runs`` or ``bundles``)."""
        if kind not in OBJECTS_FIELDS:
            raise UnknownObjectsKindError(kind, OBJECTS_FIELDS)
        return str(getattr(self.require(OBJECTS_FIELDS[kind]), OBJECTS_FIELDS[kind]))

    def open_objects(self, kind: str = "runs") -> ObjectStore:
        """Object store ``kind``: ``raw`` (images), ``runs`` (training runs) or ``bundles``."""
        from receipt_cloud.objects import open_object_store

        return open_object_store(
            self.objects_uri(kind), region=self.region, endpoint_url=self.endpoint_url
        )

    def queue_url(self, name: str) -> str:
        """URL of queue ``name`` (coreml_export_jobs, coreml_export_results, ocr_jobs,
        ocr_results)."""
        if name not in QUEUE_FIELDS:
            raise UnknownQueueNameError(name, QUEUE_FIELDS)
        return str(getattr(self.require(QUEUE_FIELDS[name]), QUEUE_FIELDS[name]))

    def open_queue(self, name: str) -> Queue:
        """Queue ``name``: coreml_export_jobs, coreml_export_results, ocr_jobs or ocr_results."""
        from receipt_cloud.queues import open_queue

        return open_queue(self.queue_url(name), region=self.region, endpoint_url=self.endpoint_url)
