"""Shared command-line flags for choosing an environment, and turning them into ``Settings``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from receipt_cloud.settings._fields import FIELD_SOURCES
from receipt_cloud.settings._model import Settings
from receipt_cloud.settings._resolve import resolve_settings


def add_settings_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--env``, ``--data-dir``, ``--stack-outputs`` and one flag per overridable value."""
    group = parser.add_argument_group(
        "environment", "where records, objects and queues live (flags beat environment variables)"
    )
    group.add_argument(
        "--env",
        default=None,
        help="'local' (default, or $RECEIPTS_ENV) for the embedded setup, or a Pulumi stack name",
    )
    group.add_argument(
        "--data-dir",
        default=None,
        help="local data directory (default $RECEIPTS_HOME or ./.receipts)",
    )
    group.add_argument(
        "--stack-outputs",
        default=None,
        metavar="FILE",
        help="JSON file of the stack's outputs instead of running `pulumi stack output` "
        "(or $RECEIPTS_STACK_OUTPUTS)",
    )
    for source in FIELD_SOURCES:
        words = [source.flag_help] if source.flag_help else [source.label]
        if source.env_var:
            words.append(f"overrides ${source.env_var}")
        group.add_argument(source.flag, dest=source.field, default=None, help="; ".join(words))
    return parser


def settings_from_args(
    args: argparse.Namespace, *, environ: Mapping[str, str] = os.environ
) -> Settings:
    """``resolve_settings`` from flags added by ``add_settings_arguments``."""
    env = getattr(args, "env", None) or environ.get("RECEIPTS_ENV") or "local"
    overrides = {s.field: getattr(args, s.field, None) for s in FIELD_SOURCES}
    return resolve_settings(
        env,
        data_dir=getattr(args, "data_dir", None),
        stack_outputs_file=getattr(args, "stack_outputs", None),
        overrides=overrides,
        environ=environ,
    )
