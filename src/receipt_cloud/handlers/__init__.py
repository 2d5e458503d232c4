"""Lambda handlers: torch-free, each a plain ``handler(event, context)`` over library functions.

Inside a Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set) importing any handler configures logging
once, as the CLIs do: the level of ``$LOG_LEVEL``, the AWS libraries capped below DEBUG and every
line redacted (:mod:`receipt_cloud.log_levels`). Tests and local calls keep their own logging.
"""

import os

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    from receipt_cloud.log_levels import configure_lambda_logging

    configure_lambda_logging()
