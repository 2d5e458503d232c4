"""Where each overridable setting comes from: its flag, environment variable and stack output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from receipt_cloud.objects import bucket_uri


def _same(value: str) -> str:
    return value


@dataclass(frozen=True)
class FieldSource:
    """One ``Settings`` field's sources, in the order outputs < env var < flag."""

    field: str
    """The ``Settings`` attribute (also the key in ``overrides``)."""
    label: str
    """Human name used in the missing-settings error."""
    flag: str
    """Command-line flag that overrides it."""
    env_var: str | None
    """Environment variable that overrides the stack output, if any."""
    output: str | None
    """Stack output (``pulumi stack output``) that provides it, if any."""
    required: bool
    """Whether a deployed stack cannot run without it."""
    convert: Callable[[str], str] = _same
    """Turns an env var or output value into the field's value (bucket name -> ``s3://``)."""
    flag_help: str = ""
    """Extra words for ``--help``."""


FIELD_SOURCES: tuple[FieldSource, ...] = (
    FieldSource(
        field="table_name",
        label="table name",
        flag="--table-name",
        env_var="DYNAMO_TABLE_NAME",
        output="dynamodb_table_name",
        required=True,
        flag_help="DynamoDB table, or the SQLite file with --env local",
    ),
    FieldSource(
        field="raw_uri",
        label="raw images bucket",
        flag="--raw-uri",
        env_var="RAW_BUCKET_NAME",
        output="raw_bucket_name",
        required=True,
        convert=bucket_uri,
        flag_help="object store URI for uploaded images (s3://bucket or a path)",
    ),
    FieldSource(
        field="runs_uri",
        label="training runs bucket",
        flag="--runs-uri",
        env_var="RUNS_BUCKET_NAME",
        output="runs_bucket_name",
        required=True,
        convert=bucket_uri,
        flag_help="object store URI holding runs/<job>/",
    ),
    FieldSource(
        field="bundles_uri",
        label="model bundles bucket",
        flag="--bundles-uri",
        env_var="BUNDLES_BUCKET_NAME",
        output="bundles_bucket_name",
        required=True,
        convert=bucket_uri,
        flag_help="object store URI holding exported bundles",
    ),
    FieldSource(
        field="coreml_export_job_queue_url",
        label="Core ML export job queue URL",
        flag="--coreml-export-job-queue-url",
        env_var="COREML_EXPORT_JOB_QUEUE_URL",
        output="coreml_export_job_queue_url",
        required=True,
    ),
    FieldSource(
        field="coreml_export_results_queue_url",
        label="Core ML export results queue URL",
        flag="--coreml-export-results-queue-url",
        env_var="COREML_EXPORT_RESULTS_QUEUE_URL",
        output="coreml_export_results_queue_url",
        required=True,
    ),
    FieldSource(
        field="ocr_job_queue_url",
        label="OCR job queue URL",
        flag="--ocr-job-queue-url",
        env_var="OCR_JOB_QUEUE_URL",
        output="ocr_job_queue_url",
        required=True,
    ),
    FieldSource(
        field="ocr_results_queue_url",
        label="OCR results queue URL",
        flag="--ocr-results-queue-url",
        env_var="OCR_RESULTS_QUEUE_URL",
        output="ocr_results_queue_url",
        required=True,
    ),
    FieldSource(
        field="region",
        label="AWS region",
        flag="--region",
        env_var="AWS_REGION",
        output="region",
        required=True,
    ),
    FieldSource(
        field="endpoint_url",
        label="AWS endpoint URL",
        flag="--endpoint-url",
        env_var="AWS_ENDPOINT_URL",
        output=None,
        required=False,
        flag_help="send AWS calls here (moto, LocalStack)",
    ),
)

STACK_OUTPUT_NAMES: tuple[str, ...] = tuple(s.output for s in FIELD_SOURCES if s.output)
"""The stack outputs ``--env <stack>`` reads; infra exports exactly these."""


def missing_line(source: FieldSource) -> str:
    """How to give ``source`` a value, for the missing-settings error."""
    ways = [f"pass {source.flag}"]
    if source.env_var:
        ways.append(f"set {source.env_var}")
    line = f"{source.label}: {' or '.join(ways)}"
    if source.output:
        line += f" (stack output {source.output})"
    return line
