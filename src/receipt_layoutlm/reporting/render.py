"""ReportData → one self-contained HTML file (jinja2 template, every image a ``data:`` URI)."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from receipt_dynamo.label_colours import label_colour_hex
from receipt_layoutlm.reporting.figures import confusion_uri, data_uri, learning_curves_uri
from receipt_layoutlm.reporting.model import ReportData

TEMPLATE = "report.html.j2"
# Every section the template renders, in page order; each is present even when empty.
SECTIONS = ("summary", "metrics", "learning-curves", "confusion-matrix", "per-label",
            "field-scores", "mismatches", "bundles", "labelled-photos", "problems")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _mb(value: Any) -> str:
    return "–" if not isinstance(value, int | float) else f"{value / 1e6:.2f} MB"


def _pct(value: Any) -> str:
    return "–" if not isinstance(value, int | float) else f"{value:.2%}"


def _colour(label: str) -> str:
    return label_colour_hex(label)


def render_html(data: ReportData) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("receipt_layoutlm.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt=_fmt, mb=_mb, pct=_pct, colour=_colour)
    photos = [{"photo": p, "uri": data_uri(p.image_bytes, p.image_mime)} for p in data.photos]
    return env.get_template(TEMPLATE).render(
        data=data,
        sections=SECTIONS,
        curves_uri=learning_curves_uri(data),
        confusion_uri=confusion_uri(data),
        photos=photos,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        host=platform.node(),
    )


def write_html(data: ReportData, output: str | Path) -> Path:
    """Render and write atomically: an existing report is replaced whole or left as it was."""
    from receipt_layoutlm.errors import ReceiptLayoutLMError

    path = Path(output)
    if path.is_dir():
        raise ReceiptLayoutLMError(
            f"--output {path} is a directory; pass the path of the .html file to write")
    text = render_html(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
