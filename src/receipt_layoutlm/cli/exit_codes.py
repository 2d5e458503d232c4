"""How both command-line programs (``layoutlm-cli``, ``receipt-ocr``) turn a command's outcome
into an exit code: one place, so a bad input reads the same whichever program it was given to."""

from __future__ import annotations

import sys
from collections.abc import Callable

from receipt_cloud.errors import ReceiptCloudError
from receipt_dynamo.errors import ReceiptDynamoError
from receipt_layoutlm.cli.log_levels import is_debug
from receipt_layoutlm.errors import ReceiptLayoutLMError
from receipt_review.errors import ReviewError

CLEAR_ERRORS: tuple[type[BaseException], ...] = (
    ReceiptLayoutLMError,
    ReceiptDynamoError,
    ReceiptCloudError,
    ReviewError,
    OSError,
)
"""Errors that carry a readable reason: the packages' own (raised on purpose, with their fix)
and OSError (it names the path and the reason: an unwritable --data-dir, a directory given as a
file)."""

ERROR_EXIT = 2
"""Exit code of a command refused for its input (argparse uses the same for bad flags)."""


def run_command(
    command: Callable[[], int | None],
    log_level: str,
    extra_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """Run ``command``; a clear error is one ``error: …`` line on stderr and exit 2 (its
    traceback only at debug/trace), Ctrl-C is 130, anything else propagates as a bug."""
    try:
        return int(command() or 0)
    except KeyboardInterrupt:
        return 130
    except (*CLEAR_ERRORS, *extra_errors) as exc:
        if is_debug(log_level):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return ERROR_EXIT
