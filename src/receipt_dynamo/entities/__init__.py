"""Stored record types. Every entity is a frozen, keyword-only, validated dataclass."""

from receipt_dynamo.entities._base import Entity, utc_now
from receipt_dynamo.entities.export import CoreMLExportJob
from receipt_dynamo.entities.geometry import BoundingBox, Point, WordGeometry
from receipt_dynamo.entities.image import Image
from receipt_dynamo.entities.job import Job, JobMetric
from receipt_dynamo.entities.ocr import OCRJob, OCRRoutingDecision
from receipt_dynamo.entities.receipt import Receipt, ReceiptLine, ReceiptWord, ReceiptWordLabel

ENTITY_TYPES: dict[str, type[Entity]] = {
    cls.ENTITY_TYPE: cls
    for cls in (
        Image,
        Receipt,
        ReceiptLine,
        ReceiptWord,
        ReceiptWordLabel,
        Job,
        JobMetric,
        CoreMLExportJob,
        OCRJob,
        OCRRoutingDecision,
    )
}

__all__ = [
    "ENTITY_TYPES",
    "BoundingBox",
    "CoreMLExportJob",
    "Entity",
    "Image",
    "Job",
    "JobMetric",
    "OCRJob",
    "OCRRoutingDecision",
    "Point",
    "Receipt",
    "ReceiptLine",
    "ReceiptWord",
    "ReceiptWordLabel",
    "WordGeometry",
    "utc_now",
]
