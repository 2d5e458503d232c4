"""``--formats``: the artifact formats of a bundle, shared by ``export-coreml`` and
``export-worker``. Its help lists the formats registered when the parser is built
(``bundle_format.ARTIFACT_FORMATS``), so a newly registered format shows without a CLI edit."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable

from receipt_cloud.dataclass_flags import Flag
from receipt_layoutlm.bundle_format import DEFAULT_FORMATS, format_names


def parse_formats(text: str) -> tuple[str, ...]:
    """``"coreml, onnx"`` -> ``("coreml", "onnx")``; the names are checked by the export."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_lengths(text: str) -> tuple[int, ...]:
    """``"128,256"`` -> ``(128, 256)``; the export checks the range."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers"
        ) from None


COREML_SEQ_LENGTHS = Flag(
    "coreml_seq_lengths",
    help="Core ML: shorter sequence lengths the program also takes, e.g. 128,256 (enumerated "
    "shapes; needs iOS18/macOS15)",
    kwargs={"type": parse_lengths, "metavar": "N,N"},
)
"""``--coreml-seq-lengths`` of ``ExportOptions``, for export-coreml and the export worker."""


def formats_help() -> str:
    return (
        f"comma-separated: {','.join(sorted(format_names()))} "
        f"(default {','.join(DEFAULT_FORMATS)})"
    )


def with_formats_help(flags: Iterable[Flag | str]) -> tuple[Flag | str, ...]:
    """``flags`` with the ``formats`` flag's help read from the registry now."""
    return tuple(
        dataclasses.replace(spec, help=formats_help())
        if isinstance(spec, Flag) and spec.field == "formats"
        else spec
        for spec in flags
    )
