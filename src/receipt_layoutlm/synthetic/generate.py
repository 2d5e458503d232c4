"""Write N synthetic receipts: ``OUT/images/synthetic-NNNN.png`` and ``OUT/receipts.jsonl``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from receipt_layoutlm.document import ReceiptDocument
from receipt_layoutlm.synthetic.content import receipt_content
from receipt_layoutlm.synthetic.fonts import find_fonts
from receipt_layoutlm.synthetic.render import draw_style, render_receipt

JSONL_NAME = "receipts.jsonl"
IMAGES_DIR = "images"
KEY_PREFIX = "synthetic:"


@dataclass(frozen=True)
class SynthConfig:
    """What :func:`write_synthetic` produces."""

    count: int = 60
    """Number of receipts."""
    seed: int = 0
    """Receipt ``i`` depends only on (seed, i): the first N of a larger run are the same N."""
    min_width: int = 360
    """Narrowest paper in pixels (before rotation)."""
    max_width: int = 640
    """Widest paper in pixels (before rotation)."""
    max_rotation: float = 2.0
    """Largest rotation in degrees, either way."""
    max_noise: float = 12.0
    """Largest standard deviation of the pixel noise (0–255 scale)."""
    fonts: tuple[Path, ...] = field(default_factory=tuple)
    """TrueType fonts to draw from; empty = every DejaVu/Liberation face installed."""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if not 100 <= self.min_width <= self.max_width:
            raise ValueError(f"need 100 <= min_width <= max_width, got {self.min_width}, "
                             f"{self.max_width}")
        if not 0 <= self.max_rotation <= 20:
            raise ValueError(f"max_rotation must be within 0–20 degrees, got {self.max_rotation}")
        for font in self.fonts:
            if not Path(font).is_file():
                raise ValueError(f"font {font} is not a file; pass a TrueType (.ttf) file")


def synthetic_documents(config: SynthConfig, out_dir: Path) -> Iterator[ReceiptDocument]:
    """Render each receipt, save its PNG under ``out_dir/images`` and yield its document."""
    fonts = list(config.fonts) or find_fonts()
    images = out_dir / IMAGES_DIR
    images.mkdir(parents=True, exist_ok=True)
    for index in range(config.count):
        rng = random.Random(f"{config.seed}:{index}")
        content = receipt_content(rng)
        style = draw_style(rng, fonts, min_width=config.min_width, max_width=config.max_width,
                           max_rotation=config.max_rotation, max_noise=config.max_noise)
        image, words = render_receipt(content, style, seed=rng.randrange(2**31))
        path = images / f"synthetic-{index:04d}.png"
        image.save(path)
        yield ReceiptDocument(
            key=f"{KEY_PREFIX}{index:04d}",
            width=float(image.width),
            height=float(image.height),
            words=words,
            fields=dict(content.fields),
            image_path=str(path),
        )


def write_synthetic(config: SynthConfig, out_dir: str | Path, *, progress: bool = False) -> Path:
    """Write the PNGs and the JSONL dataset (docs/dataset-formats.md); returns the JSONL path."""
    from tqdm import tqdm

    from receipt_layoutlm.importers.jsonl import write_jsonl

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / JSONL_NAME
    docs = tqdm(synthetic_documents(config, out), total=config.count, desc="synthetic receipts",
                unit="receipt", disable=not progress)
    write_jsonl(docs, jsonl)
    return jsonl
