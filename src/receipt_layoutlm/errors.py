"""Errors raised by receipt_layoutlm; each message names the thing and how to fix it."""

from __future__ import annotations


class ReceiptLayoutLMError(Exception):
    """Base class for every error this package raises on purpose."""


class EncodingError(ReceiptLayoutLMError):
    """A receipt cannot be encoded (bad geometry, unknown label, tokenizer problem)."""


class ImportFormatError(ReceiptLayoutLMError):
    """A dataset file is malformed; the message carries the file and line number."""


class DatasetError(ReceiptLayoutLMError):
    """The training dataset cannot be built (no labelled receipts, bad merge spec, bad split)."""


class TrainingError(ReceiptLayoutLMError):
    """Training cannot start or finish (bad hyperparameters, missing base model)."""


class CheckpointError(ReceiptLayoutLMError):
    """A checkpoint or bundle is missing, incomplete or corrupt."""


class ExportError(ReceiptLayoutLMError):
    """An export failed or was refused by the parity gate."""


class ParityGateError(ExportError):
    """The parity gate refused to release a bundle (NaN/Inf or agreement below threshold)."""


class EvaluationError(ReceiptLayoutLMError, ValueError):
    """Predictions and ground truth do not fit together (mismatched keys, lengths or labels)."""


class RuntimeUnavailableError(ReceiptLayoutLMError):
    """A runtime name is unknown or cannot run on this machine (e.g. Core ML off macOS)."""


class UnknownExporterError(ExportError):
    """An export format name that no exporter is registered for; the message lists the known
    names."""
