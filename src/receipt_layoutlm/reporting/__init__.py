"""``layoutlm-cli report``: one self-contained HTML page about a training job.

Sections (each an element with that id, present even when empty): summary, metrics,
learning-curves, confusion-matrix, per-label, field-scores, mismatches, bundles, labelled-photos,
problems. Images are inlined as ``data:`` URIs and the page loads nothing from elsewhere, so it
opens from disk, from a mail attachment or from an S3 console without a server.

Two things are called a report: this package is the HTML page about a whole job;
``evaluation.summary_report`` writes the files of one evaluation or training run (report.json,
report.md, PNG figures), which this page reads and whose figures it inlines.

    data = collect_report("layoutlm-x", settings, evaluation_dir=None)
    write_html(data, "report.html")
"""

from receipt_layoutlm.reporting.collect import collect_report
from receipt_layoutlm.reporting.model import BundleSummary, LabelledPhoto, ReportData
from receipt_layoutlm.reporting.render import SECTIONS, render_html, write_html

__all__ = [
    "SECTIONS",
    "BundleSummary",
    "LabelledPhoto",
    "ReportData",
    "collect_report",
    "render_html",
    "write_html",
]
