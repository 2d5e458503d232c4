"""Synthetic receipts: rendered photos with exact word boxes and core labels, in the JSONL format.

A demo and test aid for machines without real data. A model trained on these says nothing about
real receipts; the SROIE and WildReceipt data in ``../shared/data`` stay the measure.

    write_synthetic(SynthConfig(count=20, seed=0), "out/")  # out/receipts.jsonl + out/images/*.png
"""

from receipt_layoutlm.synthetic.fonts import FontsMissingError, find_fonts
from receipt_layoutlm.synthetic.generate import (
    IMAGES_DIR,
    JSONL_NAME,
    SynthConfig,
    synthetic_documents,
    write_synthetic,
)

__all__ = [
    "IMAGES_DIR",
    "JSONL_NAME",
    "FontsMissingError",
    "SynthConfig",
    "find_fonts",
    "synthetic_documents",
    "write_synthetic",
]
