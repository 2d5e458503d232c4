"""``--log-level`` of ``layoutlm-cli``: the one definition lives in the torch-free
:mod:`receipt_cloud.log_levels` (``receipt-ocr`` and the Lambda handlers use it too)."""

from receipt_cloud.log_levels import (
    DEFAULT_LOG_LEVEL,
    LEVELS,
    LOG_FORMAT,
    TRACE,
    WIRE,
    add_log_level_option,
    configure_logging,
    is_debug,
    log_level,
)

__all__ = ["DEFAULT_LOG_LEVEL", "LEVELS", "LOG_FORMAT", "TRACE", "WIRE", "add_log_level_option",
           "configure_logging", "is_debug", "log_level"]
