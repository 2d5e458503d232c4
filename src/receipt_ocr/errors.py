"""Errors raised by receipt_ocr; each message names the thing at fault and the fix."""

from __future__ import annotations


class ReceiptOcrError(Exception):
    """Base class for every error this package raises on purpose."""


class UnknownEngineError(ReceiptOcrError, ValueError):
    """An OCR engine name is not registered."""


class EngineOptionError(ReceiptOcrError, ValueError):
    """An engine option was given to an engine that has no such option."""


class EngineUnavailableError(ReceiptOcrError):
    """A registered engine cannot run here (missing binary, package or platform)."""


class ImageInputError(ReceiptOcrError, ValueError):
    """The input is not an image the worker can read (empty, truncated, too large, not an image).

    Retrying cannot help: the job fails with this message as its reason.
    """


class ModelCacheError(ReceiptOcrError):
    """No model can be served: nothing promoted yet, or no bundle passed verification."""
