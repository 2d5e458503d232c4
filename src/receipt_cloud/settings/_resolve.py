"""``resolve_settings``: defaults or stack outputs, then environment variables, then flags."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from receipt_cloud.errors import MissingSettingError, StackOutputsError
from receipt_cloud.queues.local import local_queue_url
from receipt_cloud.settings._fields import FIELD_SOURCES, FieldSource, missing_line
from receipt_cloud.settings._model import Settings
from receipt_cloud.settings._select import AWS_ENV, LOCAL_ENV

DEFAULT_DATA_DIR = ".receipts"
LOCAL_QUEUE_NAMES: dict[str, str] = {
    "coreml_export_job_queue_url": "coreml-export-jobs",
    "coreml_export_results_queue_url": "coreml-export-results",
    "ocr_job_queue_url": "ocr-jobs",
    "ocr_results_queue_url": "ocr-results",
}
"""Queue URL field -> queue name inside ``<data>/queues.sqlite3`` in the local environment."""

PULUMI_TIMEOUT_SECONDS = 120
_SETTING_FIELDS = frozenset(f.name for f in dataclasses.fields(Settings))


def resolve_data_dir(data_dir: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    """``data_dir``, else ``$RECEIPTS_HOME``, else ``./.receipts``; absolute."""
    chosen = data_dir or environ.get("RECEIPTS_HOME") or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().absolute()


def local_defaults(data_dir: Path) -> dict[str, Any]:
    """The embedded environment: everything under ``data_dir``."""
    objects = (data_dir / "objects").as_uri()
    values: dict[str, Any] = {
        "store_backend": "sqlite",
        "table_name": str(data_dir / "receipts.sqlite3"),
        # One local root; raw images, runs/ and bundles/ are key prefixes inside it.
        "raw_uri": objects,
        "runs_uri": objects,
        "bundles_uri": objects,
    }
    queues_db = data_dir / "queues.sqlite3"
    for field, name in LOCAL_QUEUE_NAMES.items():
        values[field] = local_queue_url(queues_db, name)
    return values


def read_outputs_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Stack outputs from a JSON object file (what ``pulumi stack output --json`` prints)."""
    file = Path(path).expanduser()
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        raise StackOutputsError(
            f"stack outputs file {file} does not exist; write it with "
            "`pulumi stack output --json --stack <stack> > FILE`"
        ) from None
    except json.JSONDecodeError as err:
        raise StackOutputsError(f"stack outputs file {file} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise StackOutputsError(
            f"stack outputs file {file} must hold a JSON object of output names to values"
        )
    return data


def run_pulumi_outputs(stack: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """``pulumi stack output --json --stack <stack>``, parsed."""
    executable = shutil.which("pulumi", path=environ.get("PATH", os.environ.get("PATH")))
    if executable is None:
        raise StackOutputsError(
            f"pulumi is not installed (not on PATH), so the outputs of stack {stack!r} cannot be "
            "read; pass --stack-outputs FILE (or set RECEIPTS_STACK_OUTPUTS) with the JSON of "
            f"`pulumi stack output --json --stack {stack}`, or set each value by flag or variable"
        )
    try:
        done = subprocess.run(
            [executable, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            env={**os.environ, **environ},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise StackOutputsError(
            f"`pulumi stack output --stack {stack}` took over {PULUMI_TIMEOUT_SECONDS} s; "
            "pass --stack-outputs FILE instead"
        ) from None
    if done.returncode != 0:
        raise StackOutputsError(
            f"`pulumi stack output --json --stack {stack}` failed (exit {done.returncode}): "
            f"{done.stderr.strip()[-500:]}; check the stack name and `pulumi login`, or pass "
            "--stack-outputs FILE"
        )
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as err:
        raise StackOutputsError(f"pulumi printed outputs that are not JSON: {err}") from None
    if not isinstance(data, dict):
        raise StackOutputsError("pulumi printed outputs that are not a JSON object")
    return data


def _env_value(source: FieldSource, environ: Mapping[str, str]) -> str | None:
    if source.env_var is None:
        return None
    value = environ.get(source.env_var)
    if not value and source.field == "region":
        value = environ.get("AWS_DEFAULT_REGION")  # boto3 reads both; so do we
    return source.convert(value) if value else None


def resolve_settings(
    env: str = LOCAL_ENV,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    stack_outputs_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """Settings for ``env``; later sources win: defaults/outputs < environment < ``overrides``.

    ``local``: everything under the data dir (``receipts.sqlite3``, ``objects/``,
    ``queues.sqlite3``). ``aws``: variables and flags only (plus ``stack_outputs_file`` when
    given), never Pulumi; a value nobody gave is refused when a command uses it
    (``Settings.require``). Any other name is a Pulumi stack: its outputs come from
    ``stack_outputs_file`` / ``$RECEIPTS_STACK_OUTPUTS``, else from ``pulumi stack output`` (not
    run when variables and overrides already give every required value, e.g. in a Lambda).
    ``overrides`` keys are ``Settings`` field names; None values are ignored. In ``local``,
    ``DYNAMO_TABLE_NAME`` applies only when ``store_backend`` is overridden to ``dynamodb``,
    since the local table is a SQLite file.
    """
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(flags) - _SETTING_FIELDS
    if unknown:
        raise ValueError(
            f"unknown setting override(s) {sorted(unknown)}; use Settings field names: "
            f"{sorted(_SETTING_FIELDS)}"
        )
    flags.pop("env", None)
    base_dir = resolve_data_dir(flags.pop("data_dir", None) or data_dir, environ)
    from_env = {s.field: v for s in FIELD_SOURCES if (v := _env_value(s, environ)) is not None}

    values: dict[str, Any] = {"region": None, "endpoint_url": None}
    if env == LOCAL_ENV:
        values.update(local_defaults(base_dir))
        if flags.get("store_backend", "sqlite") != "dynamodb":
            from_env.pop("table_name", None)
    else:
        values["store_backend"] = "dynamodb"
        outputs_file = stack_outputs_file or environ.get("RECEIPTS_STACK_OUTPUTS")
        given = {**from_env, **flags}
        needs_outputs = any(s.required and not given.get(s.field) for s in FIELD_SOURCES)
        outputs: dict[str, Any] = {}
        if outputs_file:
            outputs = read_outputs_file(outputs_file)
        elif needs_outputs and env != AWS_ENV:
            outputs = run_pulumi_outputs(env, environ)
        for source in FIELD_SOURCES:
            value = outputs.get(source.output) if source.output else None
            if value not in (None, ""):
                values[source.field] = source.convert(str(value))

    values.update(from_env)
    values.update(flags)
    if values.get("store_backend") not in ("sqlite", "dynamodb"):
        raise ValueError(
            f"store_backend must be 'sqlite' or 'dynamodb', got {values.get('store_backend')!r}"
        )
    if values.get("store_backend") == "sqlite" and values.get("table_name"):
        # A relative SQLite file lives in the data dir, wherever the command runs from.
        values["table_name"] = str(base_dir / Path(values["table_name"]).expanduser())
    required = [s for s in FIELD_SOURCES if s.required]
    if env == LOCAL_ENV:
        required = [s for s in required if s.field != "region"]  # nothing local talks to AWS
    if env == AWS_ENV:
        # Only what a command uses must be given (the seed's export-worker line names the table
        # and two queues): Settings.require / open_* name a missing one when it is used.
        for source in required:
            if source.field != "region" and not values.get(source.field):
                values[source.field] = ""
        required = []
    missing = [missing_line(s) for s in required if not values.get(s.field)]
    if missing:
        raise MissingSettingError(env, missing)
    return Settings(env=env, data_dir=base_dir, **values)

