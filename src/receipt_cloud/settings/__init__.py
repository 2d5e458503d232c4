"""Per-environment settings: ``local`` (embedded) or a deployed Pulumi stack.

    settings = resolve_settings("local", data_dir="/tmp/receipts")
    store = settings.open_store()
    runs = settings.open_objects("runs")
    jobs = settings.open_queue("ocr_jobs")

Precedence: local defaults or stack outputs < environment variables < flags (``overrides``).
Stack outputs read (infra exports exactly these): ``STACK_OUTPUT_NAMES``.
"""

from __future__ import annotations

from receipt_cloud.errors import MissingSettingError, SettingsConflictError, StackOutputsError
from receipt_cloud.settings._cli import add_settings_arguments, settings_from_args
from receipt_cloud.settings._fields import FIELD_SOURCES, STACK_OUTPUT_NAMES, FieldSource
from receipt_cloud.settings._model import QUEUE_FIELDS, Settings
from receipt_cloud.settings._resolve import LOCAL_QUEUE_NAMES, resolve_settings
from receipt_cloud.settings._select import AWS_ENV, choose_env

__all__ = [
    "AWS_ENV",
    "FIELD_SOURCES",
    "LOCAL_QUEUE_NAMES",
    "QUEUE_FIELDS",
    "STACK_OUTPUT_NAMES",
    "FieldSource",
    "MissingSettingError",
    "Settings",
    "SettingsConflictError",
    "StackOutputsError",
    "add_settings_arguments",
    "choose_env",
    "resolve_settings",
    "settings_from_args",
]
