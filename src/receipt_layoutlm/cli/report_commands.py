"""``layoutlm-cli report``: one self-contained HTML report about a training job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_report(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_layoutlm.reporting import collect_report, write_html

    settings = settings_from_args(args)
    data = collect_report(args.job, settings, evaluation_dir=args.evaluation_dir,
                          max_photos=args.max_photos)
    output = Path(args.output or f"report-{args.job}.html")
    path = write_html(data, output)
    for problem in data.problems:  # also listed on the page; one line each here
        print(f"problem: {problem}", file=sys.stderr)
    print(path.resolve())
    return 0


def register(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments

    report = subparsers.add_parser(
        "report",
        help="write one self-contained HTML report about a training job",
        description="Metrics per epoch, learning curves, confusion matrix, per-label and "
        "per-field scores, the worst task-3 mismatches, bundle sizes and parity per runtime, and "
        "the labelling worker's receipt photos with boxes coloured by label. Images are inlined; "
        "the file opens in a browser without a server. Prints the report's path.",
    )
    report.add_argument("--job", required=True, metavar="NAME", help="training Job name")
    report.add_argument("--output", metavar="FILE", help="HTML file (default report-<job>.html)")
    report.add_argument(
        "--evaluation-dir", metavar="DIR", default=None,
        help="an `evaluate --output-dir` directory (default <data-dir>/evaluation/<job> when it "
        "exists; else the report says 'not evaluated')",
    )
    report.add_argument("--max-photos", type=int, default=12, metavar="N",
                        help="labelled photos shown at most (default 12)")
    add_settings_arguments(report)
    report.set_defaults(handler=cmd_report)
