"""One colour per label: the report, the worker's annotated PNG and the review app share
``receipt_dynamo.label_colours``."""

from __future__ import annotations

import subprocess
import sys

from receipt_dynamo import CORE_LABELS
from receipt_dynamo.label_colours import UNLABELLED, label_colour, label_colour_hex


def test_core_labels_get_distinct_stable_colours() -> None:
    colours = [label_colour(label) for label in CORE_LABELS]
    assert len(set(colours)) == len(CORE_LABELS)
    assert label_colour("B-GRAND_TOTAL") == label_colour("GRAND_TOTAL")
    assert label_colour("O") == label_colour(None) == UNLABELLED
    assert label_colour("SEGMENT_42") == label_colour("SEGMENT_42")  # hashed, stable
    assert label_colour_hex("GRAND_TOTAL") == "#{:02x}{:02x}{:02x}".format(
        *label_colour("GRAND_TOTAL"))


def test_report_and_annotated_png_use_the_same_colour() -> None:
    from receipt_layoutlm.reporting.photos import label_colour as report_colour
    from receipt_layoutlm.reporting.render import _colour
    from receipt_ocr.annotate import label_colours

    for label in ("GRAND_TOTAL", "DATE", "MERCHANT_NAME", "TOTAL_X"):
        png = label_colours(["DATE", "GRAND_TOTAL", "MERCHANT_NAME", "TOTAL_X"])[label]
        assert png == report_colour(label) == label_colour(label)
        assert _colour(label) == label_colour_hex(label)


def test_the_palette_imports_without_drawing_libraries() -> None:
    code = ("import sys; import receipt_dynamo.label_colours; "
            "assert not {'PIL', 'matplotlib', 'torch'} & set(sys.modules), sys.modules.keys()")
    subprocess.run([sys.executable, "-c", code], check=True)
