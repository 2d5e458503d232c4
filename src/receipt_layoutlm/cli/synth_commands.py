"""``layoutlm-cli synth``: rendered synthetic receipts (PNGs + the JSONL dataset format)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_synth(args: argparse.Namespace) -> int:
    from receipt_layoutlm.synthetic import SynthConfig, write_synthetic

    try:
        config = SynthConfig(
            count=args.count, seed=args.seed, min_width=args.min_width, max_width=args.max_width,
            max_rotation=args.max_rotation, max_noise=args.max_noise,
            fonts=tuple(Path(f) for f in args.font),
        )
    except ValueError as exc:
        print(f"error: synth: {exc}", file=sys.stderr)
        return 2
    jsonl = write_synthetic(config, args.out, progress=sys.stderr.isatty())
    print(f"wrote {args.count} synthetic receipts: {jsonl} (images in {jsonl.parent / 'images'})")
    return 0


def register(subparsers: Any) -> None:
    synth = subparsers.add_parser(
        "synth",
        help="render synthetic receipts (PNGs + JSONL with exact boxes and core labels)",
        description="Render labelled synthetic receipt photos for demos and tests: merchant, "
        "address, phone, date/time, items, subtotal, tax, total, payment, in Debian's fonts with "
        "varied widths, noise and slight rotation. Writes OUT/receipts.jsonl (the JSONL dataset "
        "format) and OUT/images/*.png. Synthetic data is no measure of accuracy on real receipts.",
    )
    synth.add_argument("--count", type=int, default=60, metavar="N", help="receipts (default 60)")
    synth.add_argument("--out", required=True, metavar="DIR", help="output directory")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--min-width", type=int, default=360, help="narrowest paper in px")
    synth.add_argument("--max-width", type=int, default=640, help="widest paper in px")
    synth.add_argument("--max-rotation", type=float, default=2.0,
                       help="largest rotation in degrees either way (default 2)")
    synth.add_argument("--max-noise", type=float, default=12.0,
                       help="largest pixel-noise standard deviation, 0–255 (default 12)")
    synth.add_argument("--font", action="append", default=[], metavar="FILE.ttf",
                       help="font to use (repeatable; default every DejaVu/Liberation face)")
    synth.set_defaults(handler=cmd_synth)
