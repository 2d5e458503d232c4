"""Settings of a Lambda: from its environment variables (the stack's values), like a CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping

from receipt_cloud.settings import Settings, resolve_settings

LAMBDA_ENV_VAR = "RECEIPTS_ENV"
DEFAULT_LAMBDA_ENV = "aws"


def settings_from_environment(environ: Mapping[str, str] = os.environ) -> Settings:
    """``resolve_settings`` for ``$RECEIPTS_ENV`` (default ``aws``: every value from variables
    such as ``DYNAMO_TABLE_NAME`` and ``COREML_EXPORT_JOB_QUEUE_URL``; ``local`` works too)."""
    env = environ.get(LAMBDA_ENV_VAR) or DEFAULT_LAMBDA_ENV
    return resolve_settings(env, environ=environ)
