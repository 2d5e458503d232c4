"""Shared command-line flags for choosing an environment, and turning them into ``Settings``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from receipt_cloud.settings._fields import FIELD_SOURCES
from receipt_cloud.settings._model import Settings
from receipt_cloud.settings._resolve import resolve_settings
from receipt_cloud.settings._select import choose_env


def add_settings_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--env``, ``--data-dir``, ``--stack-outputs`` and one flag per overridable value."""
    group = parser.add_argument_group(
        "environment", "where records, objects and queues live (flags beat environment variables)"
    )
    group.add_argument(
        "--env",
        default=None,
        help="'local' for the embedded setup (the default unless AWS settings are given), "
        "'aws' for values from variables and flags only, or a Pulumi stack name "
        "(also $RECEIPTS_ENV)",
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
    """``resolve_settings`` from flags added by ``add_settings_arguments``; the environment is
    ``--env``, else ``$RECEIPTS_ENV``, else chosen by the settings given (``choose_env``: AWS
    settings select ``aws``, a mix of local and AWS ones is refused)."""
    overrides = {s.field: getattr(args, s.field, None) for s in FIELD_SOURCES}
    flag_env = getattr(args, "env", None)
    env = choose_env(
        flag_env or environ.get("RECEIPTS_ENV"),
        overrides,
        environ,
        explicit_from="--env" if flag_env else "RECEIPTS_ENV=",
    )
    return resolve_settings(
        env,
        data_dir=getattr(args, "data_dir", None),
        stack_outputs_file=getattr(args, "stack_outputs", None),
        overrides=overrides,
        environ=environ,
    )
