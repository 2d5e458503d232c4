"""``layoutlm-cli predict``: argument parsing; the work is in ``prediction.predict_document``."""

from __future__ import annotations

import argparse
import json
from typing import Any


def cmd_predict(args: argparse.Namespace) -> int:
    from receipt_cloud.settings import settings_from_args
    from receipt_layoutlm.prediction import predict_document
    from receipt_layoutlm.records import document_from_details
    from receipt_layoutlm.remote_dirs import fetched_checkpoint
    from receipt_layoutlm.runtime import load_runtime

    store = settings_from_args(args).open_store()
    details = store.get_receipt_details(args.image_id, args.receipt_id)
    doc = document_from_details(details, statuses=())
    with fetched_checkpoint(args.checkpoint) as checkpoint_dir:
        prediction = predict_document(load_runtime(args.runtime, checkpoint_dir), doc)
    out = {
        "image_id": args.image_id,
        "receipt_id": args.receipt_id,
        "runtime": args.runtime,
        **prediction.to_dict(),
    }
    print(json.dumps(out, indent=2, default=str))
    return 0


def register(subparsers: Any) -> None:
    from receipt_cloud.settings import add_settings_arguments
    from receipt_layoutlm.cli.checkpoint_flags import add_checkpoint_flag

    predict = subparsers.add_parser("predict", help="word labels + fields for one receipt")
    add_checkpoint_flag(predict)
    predict.add_argument("--runtime", default="torch", help="torch | onnx | coreml")
    predict.add_argument("--image-id", required=True)
    predict.add_argument("--receipt-id", type=int, default=1)
    add_settings_arguments(predict)
    predict.set_defaults(handler=cmd_predict)
