"""SageMaker training entrypoint: the same ``receipt_layoutlm.training.train`` as the CLI.

Reads ``/opt/ml/input/config/hyperparameters.json`` (every value a string, typed through the
``TrainingConfig``/``DatasetConfig`` fields), the ``SM_*`` variables, and the data channel
(``SM_CHANNEL_TRAINING``: a JSONL dataset file or a directory of them; without a channel the
receipts come from the store). Checkpoints live in ``/opt/ml/checkpoints``, which SageMaker syncs
to S3, so a spot restart of the same job resumes from the newest one. The best model ends up in
``SM_MODEL_DIR``. Every path can be overridden by its variable, or all at once with
``SM_BASE_DIR`` (tests point it at a temporary directory).

Hyperparameters besides the config fields: ``job_name`` (default ``$TRAINING_JOB_NAME``), ``env``
(``local`` or a stack name; default ``$RECEIPTS_ENV``, else the deployed table and runs bucket
when ``DYNAMO_TABLE_NAME`` is set, else local), ``table_name`` / ``runs_uri`` (override
``DYNAMO_TABLE_NAME`` / ``RUNS_BUCKET_NAME``), ``data_dir`` (local env).

Exit codes: 0 succeeded, 1 failed (reason also in ``/opt/ml/output/failure``), 143 interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("sagemaker_training")

EXIT_INTERRUPTED = 143
INIT_CHANNEL_VAR = "SM_CHANNEL_INIT"


def sm_paths(environ: Mapping[str, str] = os.environ) -> dict[str, Path]:
    """SageMaker's container paths, each overridable by its variable (or ``SM_BASE_DIR``)."""
    base = Path(environ.get("SM_BASE_DIR", "/opt/ml"))
    return {
        "hyperparameters": Path(
            environ.get("SM_HPS_FILE", base / "input" / "config" / "hyperparameters.json")
        ),
        "model": Path(environ.get("SM_MODEL_DIR", base / "model")),
        "output_data": Path(environ.get("SM_OUTPUT_DATA_DIR", base / "output" / "data")),
        "checkpoints": Path(environ.get("SM_CHECKPOINT_DIR", base / "checkpoints")),
        "failure": Path(environ.get("SM_FAILURE_FILE", base / "output" / "failure")),
        "channels": base / "input" / "data",
    }


def read_hyperparameters(path: Path) -> dict[str, str]:
    """SageMaker writes every value as a string (the Python SDK JSON-quotes strings once more)."""
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for key, value in raw.items():
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = json.loads(text)
        out[key.replace("-", "_")] = text
    return out


def training_channel(paths: dict[str, Path], environ: Mapping[str, str]) -> Path | None:
    """``SM_CHANNEL_TRAINING`` (or the only ``SM_CHANNEL_*`` besides ``init``): a .jsonl file or
    a directory."""
    channel = environ.get("SM_CHANNEL_TRAINING")
    if channel is None:
        # The ``init`` channel holds an ``init_from`` checkpoint (start-training), never data.
        others = sorted(
            v for k, v in environ.items() if k.startswith("SM_CHANNEL_") and k != INIT_CHANNEL_VAR
        )
        channel = others[0] if len(others) == 1 else None
    if channel is None and (paths["channels"] / "training").is_dir():
        channel = str(paths["channels"] / "training")
    if channel is None:
        return None
    path = Path(channel)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return files[0] if len(files) == 1 else path


def backend_settings(hps: dict[str, str], environ: Mapping[str, str]) -> Any:
    """``receipt_cloud`` Settings for the store and runs bucket; pops the keys it reads.

    ``env`` (hyperparameter, else ``$RECEIPTS_ENV``) ``local`` is the embedded environment under
    ``data_dir``. Any other value, and no ``env`` at all while ``DYNAMO_TABLE_NAME`` is set (a
    deployed SageMaker job), is the deployed setup: the DynamoDB table and the runs bucket from
    ``table_name``/``runs_uri`` or ``DYNAMO_TABLE_NAME``/``RUNS_BUCKET_NAME``. Without ``env``
    and without a table it is local.
    """
    from receipt_cloud.objects import bucket_uri
    from receipt_cloud.settings import resolve_settings

    env = hps.pop("env", None) or environ.get("RECEIPTS_ENV")
    data_dir = hps.pop("data_dir", None)
    table = hps.pop("table_name", None) or environ.get("DYNAMO_TABLE_NAME")
    runs = hps.pop("runs_uri", None) or environ.get("RUNS_BUCKET_NAME")
    if env is None:
        env = "deployed" if table else "local"
    if env == "local":
        return resolve_settings("local", data_dir=data_dir, environ=environ)
    missing = [
        line
        for value, line in (
            (table, "table name: hyperparameter table_name or DYNAMO_TABLE_NAME"),
            (runs, "runs bucket: hyperparameter runs_uri or RUNS_BUCKET_NAME"),
        )
        if not value
    ]
    if missing:
        raise SystemExit("missing settings for env " + env + ": " + "; ".join(missing))
    # The job needs only the table and the runs bucket (no queues, no pulumi): the local base
    # with those two overridden; region and endpoint come from AWS_REGION / AWS_ENDPOINT_URL.
    runs_uri = bucket_uri(runs)
    return resolve_settings(
        "local",
        data_dir=data_dir,
        overrides={"store_backend": "dynamodb", "table_name": table, "runs_uri": runs_uri},
        environ=environ,
    )


def open_backends(hps: dict[str, str], environ: Mapping[str, str]) -> tuple[Any, Any]:
    """(store, runs object store) of :func:`backend_settings`."""
    settings = backend_settings(hps, environ)
    log.info("store %s %s, runs %s", settings.store_backend, settings.table_name, settings.runs_uri)
    return settings.open_store(), settings.open_objects("runs")


def main(environ: Mapping[str, str] = os.environ) -> int:
    logging.basicConfig(
        level=environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from receipt_dynamo.vocabulary import JobStatus
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.training import TrainingConfig, config_from_strings, train

    paths = sm_paths(environ)
    hps = read_hyperparameters(paths["hyperparameters"])
    job_name = hps.pop("job_name", None) or environ.get("TRAINING_JOB_NAME")
    if not job_name:
        raise SystemExit("no job name: set hyperparameter job_name or TRAINING_JOB_NAME")
    try:
        store, objects = open_backends(hps, environ)
        training_config, rest = TrainingConfig.from_strings(hps)
        dataset_config, rest = config_from_strings(DatasetConfig, rest)
        if rest:
            log.warning("ignoring unknown hyperparameters: %s", ", ".join(sorted(rest)))
        channel = training_channel(paths, environ)
        if channel is not None and not dataset_config.dataset_file:
            dataset_config = DatasetConfig.from_dict(
                {**dataset_config.to_dict(), "dataset_file": str(channel)}
            )
        result = train(
            training_config,
            dataset_config,
            store=store,
            objects=objects,
            job_name=job_name,
            output_dir=paths["checkpoints"],
            best_model_dir=paths["model"],
        )
    except Exception as exc:
        paths["failure"].parent.mkdir(parents=True, exist_ok=True)
        paths["failure"].write_text(f"{type(exc).__name__}: {exc}"[:1000], encoding="utf-8")
        log.exception("training failed")
        return 1
    paths["output_data"].mkdir(parents=True, exist_ok=True)
    for name in ("run.json", "metrics.jsonl", "report.md", "report.json"):
        source = result.output_dir / name
        if source.exists():
            (paths["output_data"] / name).write_bytes(source.read_bytes())
    # Auto-export in the cloud is the EventBridge rule's job, not the container's.
    return 0 if result.status is JobStatus.SUCCEEDED else EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
