"""Flags generated from config dataclasses for ``layoutlm-cli``: the one definition lives in the
torch-free :mod:`receipt_cloud.dataclass_flags` (``receipt-ocr`` generates its flags with it
too)."""

from receipt_cloud.dataclass_flags import Flag, add_flags, field_docs, flag_values

__all__ = ["Flag", "add_flags", "field_docs", "flag_values"]
