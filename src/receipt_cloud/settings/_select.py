"""Which environment a command's settings name: no silent local.

A command given AWS settings (an ``http(s)://`` SQS queue URL, ``DYNAMO_TABLE_NAME``, a bucket
variable, an ``s3://`` store flag) runs against AWS (env ``aws``: values from variables and
flags, no Pulumi) even without ``--env``; a command given both local and AWS settings is refused
with one line naming them (``SettingsConflictError``). ``--env <stack>`` still reads a stack.
"""

from __future__ import annotations

from collections.abc import Mapping

from receipt_cloud.errors import SettingsConflictError
from receipt_cloud.settings._fields import FIELD_SOURCES

LOCAL_ENV = "local"
AWS_ENV = "aws"
"""The deployed setup described only by variables and flags (a Lambda's, the seed's lines)."""
_QUEUE_SUFFIX = "_queue_url"
_STORE_FIELDS = ("raw_uri", "runs_uri", "bundles_uri")
_AWS_ONLY_VARS = ("DYNAMO_TABLE_NAME", "RAW_BUCKET_NAME", "RUNS_BUCKET_NAME", "BUNDLES_BUCKET_NAME")


def _is_sqs_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def _side(field: str, value: str) -> str | None:
    """``aws``, ``local`` or None (says nothing about the environment) for one field's value."""
    if field.endswith(_QUEUE_SUFFIX):
        return AWS_ENV if _is_sqs_url(value) else LOCAL_ENV
    if field in _STORE_FIELDS:
        return AWS_ENV if value.startswith("s3://") else LOCAL_ENV
    if field == "table_name":
        # The flag names a DynamoDB table, or with --env local the SQLite file.
        looks_like_file = "/" in value or value.endswith((".sqlite3", ".sqlite", ".db"))
        return LOCAL_ENV if looks_like_file else None
    return None


def _markers(
    flags: Mapping[str, str | None], environ: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Names of the given settings that point at the local environment, and at AWS."""
    local: list[str] = []
    aws: list[str] = []
    for source in FIELD_SOURCES:
        flag_value = flags.get(source.field)
        if flag_value:
            side = _side(source.field, str(flag_value))
            if side is not None:
                (aws if side == AWS_ENV else local).append(source.flag)
            continue  # a flag hides its variable
        if source.env_var and environ.get(source.env_var):
            value = environ[source.env_var]
            if source.env_var in _AWS_ONLY_VARS:
                aws.append(source.env_var)
            elif (side := _side(source.field, value)) is not None:
                (aws if side == AWS_ENV else local).append(source.env_var)
    return local, aws


def choose_env(
    explicit: str | None,
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    *,
    explicit_from: str = "--env",
) -> str:
    """The environment of one command: ``explicit`` (``--env`` or ``$RECEIPTS_ENV``) when given,
    else ``aws`` when any AWS setting is given, else ``local``. Raises
    :class:`SettingsConflictError` when the given settings name both sides."""
    local, aws = _markers(flags, environ)
    sep = "" if explicit_from.endswith("=") else " "
    named = f"{explicit_from}{sep}{explicit}"
    if explicit == LOCAL_ENV:
        local.insert(0, named)
    if local and aws:
        raise SettingsConflictError(local, aws)
    if local and explicit and explicit != LOCAL_ENV:
        raise SettingsConflictError(local, [named])
    if explicit:
        return explicit
    return AWS_ENV if aws else LOCAL_ENV
