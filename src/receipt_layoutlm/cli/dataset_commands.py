"""``layoutlm-cli import …`` and ``export-dataset``: datasets into and out of the store."""

from __future__ import annotations

import argparse

from receipt_cloud.settings import add_settings_arguments, settings_from_args
from receipt_dynamo.vocabulary import CORE_LABELS
from receipt_layoutlm.importers import IMPORTER_NAMES


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    importer = subparsers.add_parser(
        "import",
        help="import a labelled receipt dataset into the record store",
        description="Parse a dataset (SROIE, WildReceipt, CORD or the project's JSONL) and write "
        "each receipt with VALID labels. Re-importing skips receipts already stored.",
    )
    importer.add_argument("format", choices=IMPORTER_NAMES, help="dataset format")
    importer.add_argument("path", metavar="PATH", help="dataset directory or file")
    importer.add_argument(
        "--images", metavar="DIR", default=None,
        help="directory of the receipt images (SROIE: for the receipt size; default PATH/img)",
    )
    importer.add_argument(
        "--labels", choices=("core", "native"), default="core",
        help=f"'core' maps to the {len(CORE_LABELS)} receipt labels (default); 'native' keeps "
        "the dataset's names",
    )
    importer.add_argument("--limit", type=positive_int, default=None, metavar="N",
                          help="import at most N receipts")
    importer.add_argument(
        "--jsonl", metavar="OUT.jsonl", default=None,
        help="write the parsed receipts, with their ground-truth fields (e.g. SROIE keys), as a "
        "JSONL dataset instead of importing them into the store",
    )
    add_settings_arguments(importer)
    importer.set_defaults(handler=run_import)

    export = subparsers.add_parser(
        "export-dataset",
        help="write the store's labelled receipts as JSONL (docs/dataset-formats.md)",
        description="Write the store's receipts as JSONL, keyed by the dataset key they were "
        "imported with (else <image id>#<receipt id>), so importing the file into the same store "
        "adds nothing.",
    )
    export.add_argument("out", metavar="OUT.jsonl", help="output file")
    export.add_argument(
        "--status", action="append", default=None, metavar="STATUS",
        help="label validation status to export (repeatable; default VALID)",
    )
    export.add_argument(
        "--include-unlabelled", action="store_true",
        help="also export receipts without any label of those statuses",
    )
    add_settings_arguments(export)
    export.set_defaults(handler=run_export)


def run_import(args: argparse.Namespace) -> int:
    from receipt_dynamo import register_labels
    from receipt_layoutlm.importers import ImportReport, get_importer, import_documents

    importer = get_importer(args.format)
    parsed = importer(args.path, images=args.images, labels=args.labels, limit=args.limit)
    if args.jsonl:
        from receipt_layoutlm.importers import write_jsonl

        for problem in parsed.problems:
            print(problem)
        count = write_jsonl(parsed.documents, args.jsonl)
        print(f"wrote {count} receipts to {args.jsonl}")
        return 0 if count else 1
    if parsed.native_labels:
        register_labels(parsed.native_labels)
    store = settings_from_args(args).open_store()
    try:
        report = import_documents(
            store,
            parsed.documents,
            source=importer.source,
            label_proposed_by=f"import:{importer.name}",
            report=ImportReport.from_parse(parsed),
        )
    finally:
        store.close()
    print(report.summary())
    return 1 if report.receipts_failed or not parsed.documents else 0


def run_export(args: argparse.Namespace) -> int:
    statuses = tuple(s.upper() for s in (args.status or ["VALID"]))
    from receipt_layoutlm.importers import export_store

    store = settings_from_args(args).open_store()
    try:
        count = export_store(
            store, args.out, statuses=statuses, include_unlabelled=args.include_unlabelled
        )
    finally:
        store.close()
    print(f"wrote {count} receipts to {args.out}")
    return 0
