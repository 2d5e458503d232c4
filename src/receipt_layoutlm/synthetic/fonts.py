"""The TrueType fonts synthetic receipts are printed in: Debian's DejaVu (``fonts-dejavu-core``)
and, when installed, Liberation. Found by path, so rendering needs no fontconfig at run time."""

from __future__ import annotations

from pathlib import Path

from receipt_layoutlm.errors import ReceiptLayoutLMError

FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/local/share/fonts"),
             Path("/Library/Fonts"), Path("/System/Library/Fonts/Supplemental"))
# Plain, bold and condensed faces look like receipt printers; italics and light faces do not.
FONT_NAMES = (
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed.ttf", "DejaVuSerif.ttf", "DejaVuSerifCondensed.ttf",
    "LiberationMono-Regular.ttf", "LiberationSans-Regular.ttf", "LiberationSansNarrow-Regular.ttf",
)


class FontsMissingError(ReceiptLayoutLMError):
    """No usable TrueType font is installed."""


def find_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> list[Path]:
    """Every font of :data:`FONT_NAMES` under ``dirs`` (recursively), sorted by name so a seed
    draws the same fonts on every machine that has the same packages."""
    found: dict[str, Path] = {}
    for root in dirs:
        if not root.is_dir():
            continue
        for path in root.rglob("*.ttf"):
            if path.name in FONT_NAMES:
                found.setdefault(path.name, path)
    if not found:
        raise FontsMissingError(
            "no receipt font found (DejaVu or Liberation TrueType under "
            f"{', '.join(str(d) for d in dirs)}); install Debian's fonts-dejavu-core "
            "(make system-deps) or pass --font FILE.ttf"
        )
    return [found[name] for name in sorted(found)]
