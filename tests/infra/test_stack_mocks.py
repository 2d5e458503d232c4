"""The Pulumi program under Pulumi's own mocks (``pulumi.runtime.set_mocks``).

What is proven: what the program declares — resources, their inputs, the policies and patterns
it writes, the outputs. What is not: that AWS accepts it (``pulumi preview``/``up`` need an
account and the Pulumi engine, neither available here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
import yaml
from receipt_stack.config import HANDLERS, QUEUES, SQS_LAMBDA_VISIBILITY_FACTOR, StackConfig
from receipt_stack.iam import ACTIONS_WITHOUT_RESOURCES
from receipt_stack.sources import training_image_tag
from receipt_stack.stack import EXTRA_OUTPUTS
from stack_mocks import REGION, Deployment, deploy, load_stack_file, policy_documents

from receipt_cloud.settings import FIELD_SOURCES, STACK_OUTPUT_NAMES, resolve_settings
from receipt_cloud.training_launch import CHECKPOINT_PREFIX, LaunchSettings
from receipt_dynamo.keys import GSI_NAMES, INDEXES
from receipt_layoutlm.bundle_format import MANIFEST_FILE
from receipt_layoutlm.bundles import ACTIVE_KEY, bundle_key_prefix
from receipt_layoutlm.training.run_dir import BEST, RUN_FILE, run_prefix

INFRA = Path(__file__).resolve().parents[2] / "infra"
QUEUE = "aws:sqs/queue:Queue"
FUNCTION = "aws:lambda/function:Function"
PROTECTED_KEYS = (
    ACTIVE_KEY,
    f"{bundle_key_prefix('layoutlm-a', '0f1e2d3c')}/{MANIFEST_FILE}",
    f"{bundle_key_prefix('layoutlm-a', '0f1e2d3c')}/LayoutLM.mlpackage/Manifest.json",
    f"{run_prefix('layoutlm-a')}/{BEST}/model.safetensors",
    f"{run_prefix('layoutlm-a')}/{BEST}/label_map.json",
    f"{run_prefix('layoutlm-a')}/{RUN_FILE}",
)
"""Keys of a released bundle, the active pointer, and a run with its best model, built with the
exporter's and the trainer's own key functions."""


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return deploy(StackConfig(stack="dev", region=REGION), tmp_path_factory.mktemp("dev"))


def _settings_from_outputs(outputs: dict[str, Any], tmp_path: Path) -> Any:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return resolve_settings("dev", stack_outputs_file=path, environ={})


# --- outputs --------------------------------------------------------------------------------


def test_outputs_are_what_env_reads(dev: Deployment, tmp_path: Path) -> None:
    assert set(STACK_OUTPUT_NAMES) <= set(dev.outputs)
    assert set(dev.outputs) - set(STACK_OUTPUT_NAMES) == set(EXTRA_OUTPUTS)
    settings = _settings_from_outputs(dev.outputs, tmp_path)
    table = dev.one("aws:dynamodb/table:Table", "table")
    assert settings.table_name == table.state["name"]
    for kind in ("raw", "runs", "bundles"):
        bucket = dev.one("aws:s3/bucket:Bucket", f"-{kind}")
        assert settings.objects_uri(kind) == f"s3://{bucket.state['bucket']}"
    queues = {q.state["url"] for q in dev.of_type(QUEUE)}
    for spec in QUEUES:
        url = getattr(settings, spec.field)
        assert url in queues and spec.name in url
    assert settings.region == REGION and settings.store_backend == "dynamodb"


# --- queues ---------------------------------------------------------------------------------


def _dead_letter_arns(dev: Deployment) -> set[str]:
    arns = {json.loads(q.state["redrivePolicy"])["deadLetterTargetArn"]
            for q in dev.of_type(QUEUE) if "redrivePolicy" in q.state}  # fmt: skip
    for function in dev.of_type(FUNCTION):
        if function.state.get("deadLetterConfig"):
            arns.add(function.state["deadLetterConfig"]["targetArn"])
    for target in dev.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        if target.state.get("deadLetterConfig"):
            arns.add(target.state["deadLetterConfig"]["arn"])
    return arns


def test_every_queue_has_a_redrive_policy_or_is_a_dead_letter_queue(dev: Deployment) -> None:
    queues = {q.state["arn"]: q for q in dev.of_type(QUEUE)}
    dead_letter = _dead_letter_arns(dev)
    assert dead_letter <= set(queues), "a dead-letter target is not a queue of the stack"
    work_queues = [q for arn, q in queues.items() if arn not in dead_letter]
    assert len(work_queues) == len(QUEUES)
    for queue in work_queues:
        redrive = json.loads(queue.state["redrivePolicy"])
        assert redrive["deadLetterTargetArn"] in queues
        assert redrive["deadLetterTargetArn"] != queue.state["arn"]
        assert int(redrive["maxReceiveCount"]) >= 1
    for arn in dead_letter:
        assert "redrivePolicy" not in queues[arn].state
        assert queues[arn].state["messageRetentionSeconds"] == 14 * 24 * 3600


def test_visibility_timeouts_fit_their_consumers(dev: Deployment) -> None:
    visibility = {q.state["url"]: q.state.get("visibilityTimeoutSeconds", 30)
                  for q in dev.of_type(QUEUE)}  # fmt: skip
    mapping = dev.one("aws:lambda/eventSourceMapping:EventSourceMapping", "export-results")
    function = dev.one(FUNCTION, "export-results")
    results_url = dev.outputs["coreml_export_results_queue_url"]
    results = next(q for q in dev.of_type(QUEUE) if q.state["url"] == results_url)
    assert mapping.state["eventSourceArn"] == results.state["arn"]
    assert visibility[results_url] >= SQS_LAMBDA_VISIBILITY_FACTOR * function.state["timeout"]
    # Workers: an export (conversion + parity) and one receipt's OCR take minutes.
    assert visibility[dev.outputs["coreml_export_job_queue_url"]] >= 600
    assert visibility[dev.outputs["ocr_job_queue_url"]] >= 120


def test_export_results_reports_partial_batch_failures(dev: Deployment) -> None:
    mapping = dev.one("aws:lambda/eventSourceMapping:EventSourceMapping", "export-results")
    assert mapping.state["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.state["functionName"] == dev.one(FUNCTION, "export-results").state["arn"]


# --- EventBridge ----------------------------------------------------------------------------


def _state_change(name: str, status: str, source: str = "aws.sagemaker") -> dict[str, Any]:
    detail = {
        "TrainingJobName": name,
        "TrainingJobStatus": status,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:1:training-job/{name}",
    }
    return {
        "Source": source,
        "DetailType": "SageMaker Training Job State Change",
        "Detail": json.dumps(detail),
    }


SAMPLE_EVENTS = [
    (_state_change("layoutlm-sroie-1", "Completed"), True),
    (_state_change("layoutlm-x", "Completed"), True),
    (_state_change("layoutlm-sroie-1", "Failed"), False),
    (_state_change("layoutlm-sroie-1", "Stopped"), False),
    (_state_change("layoutlm-sroie-1", "InProgress"), False),
    (_state_change("other-job", "Completed"), False),
    (_state_change("my-layoutlm-job", "Completed"), False),
    (_state_change("layoutlmv3-job", "Completed"), False),
    (_state_change("layout-job", "Completed"), False),
    (_state_change("LAYOUTLM-upper", "Completed"), False),
    (_state_change("layoutlm-sroie-1", "Completed", source="custom.app"), False),
]


@pytest.mark.aws
def test_auto_export_pattern_matches_completed_layoutlm_jobs_only(
    dev: Deployment, aws_env: str, unique_name: str
) -> None:
    """The declared pattern, evaluated by moto's EventBridge over HTTP: a rule with it routes
    sample events to a queue, and exactly the matching ones arrive."""
    rule = dev.one("aws:cloudwatch/eventRule:EventRule", "training-completed")
    target = dev.one("aws:cloudwatch/eventTarget:EventTarget", "auto-export")
    assert target.state["arn"] == dev.one(FUNCTION, "auto-export").state["arn"]
    events, sqs = boto3.client("events"), boto3.client("sqs")
    url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name=unique_name, EventPattern=rule.state["eventPattern"])
    events.put_targets(Rule=unique_name, Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])
    for index, (event, _) in enumerate(SAMPLE_EVENTS):
        detail = json.loads(event["Detail"])
        detail["index"] = index
        events.put_events(Entries=[{**event, "Detail": json.dumps(detail)}])
    received = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        received += [json.loads(m["Body"])["detail"]["index"] for m in batch]
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(received) == [i for i, (_, match) in enumerate(SAMPLE_EVENTS) if match]


# --- IAM ------------------------------------------------------------------------------------


def _allowed_resource(resource: str, declared: set[str]) -> bool:
    if any(resource == arn or resource.startswith((f"{arn}/", f"{arn}:")) for arn in declared):
        return True
    # Resources that exist only at run time, each named by a fixed pattern.
    return resource.startswith(
        (f"arn:aws:sagemaker:{REGION}:123456789012:training-job/layoutlm-",
         f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/sagemaker/TrainingJobs")
    )  # fmt: skip


def test_no_statement_grants_a_data_action_on_star(dev: Deployment) -> None:
    declared = dev.arns()
    documents = policy_documents(dev)
    assert len([d for d in documents if "policy" in d[0]]) >= 7  # 4 functions, 3 service roles
    for name, document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [
                statement["Action"]]  # fmt: skip
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
                statement["Resource"]]  # fmt: skip
            assert not any("*" in action for action in actions), (name, actions)
            if "*" in resources:
                assert set(actions) <= ACTIONS_WITHOUT_RESOURCES, (name, actions)
                continue
            for resource in resources:
                assert _allowed_resource(resource, declared), (name, resource)


def test_each_function_reaches_only_its_resources(dev: Deployment) -> None:
    def actions_on(key: str, arn: str) -> set[str]:
        policy = dev.one("aws:iam/rolePolicy:RolePolicy", f"fn-{key}-policy")
        found: set[str] = set()
        for statement in json.loads(policy.state["policy"])["Statement"]:
            if any(r == arn or r.startswith(f"{arn}/") for r in statement["Resource"]):
                found |= set(statement["Action"])
        return found

    queue_arn = {spec.field: q.state["arn"] for spec in QUEUES for q in dev.of_type(QUEUE)
                 if q.state["url"] == dev.outputs[spec.field]}  # fmt: skip
    kinds = ("raw", "runs", "bundles")
    bucket = {k: dev.one("aws:s3/bucket:Bucket", f"-{k}").state["arn"] for k in kinds}
    assert "sqs:SendMessage" in actions_on("upload", queue_arn["ocr_job_queue_url"])
    assert "s3:GetObject" in actions_on("upload", bucket["raw"])
    assert actions_on("upload", bucket["bundles"]) == set()
    # auto-export and export-results work on records and queues only (their handlers' calls).
    for key in ("auto-export", "export-results", "start-training"):
        assert all(actions_on(key, bucket[k]) == set() for k in kinds), key
    assert "sagemaker:ListTags" in actions_on(
        "auto-export", f"arn:aws:sagemaker:{REGION}:123456789012:training-job/layoutlm-*"
    )
    assert "sqs:SendMessage" in actions_on("auto-export", queue_arn["coreml_export_job_queue_url"])
    assert "sqs:DeleteMessage" in actions_on(
        "export-results", queue_arn["coreml_export_results_queue_url"]
    )
    assert actions_on("start-training", queue_arn["ocr_job_queue_url"]) == set()
    role = dev.one("aws:iam/role:Role", "sagemaker").state["arn"]
    assert actions_on("start-training", role) == {"iam:PassRole"}
    assert actions_on("upload", role) == set()


# --- buckets --------------------------------------------------------------------------------


def test_lifecycle_rules_never_touch_bundles_runs_or_best(dev: Deployment) -> None:
    configs = dev.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    runs_id = dev.one("aws:s3/bucket:Bucket", "-runs").state["name"] + "-id"
    assert [c.state["bucket"] for c in configs] == [runs_id]  # no rules on raw or bundles
    prefixes = []
    for rule in configs[0].state["rules"]:
        prefix = rule["filter"]["prefix"]
        assert prefix, f"rule {rule['id']} has no prefix: it would cover the whole bucket"
        assert "best/" not in prefix
        assert not any(key.startswith(prefix) for key in PROTECTED_KEYS), rule["id"]
        prefixes.append(prefix)
    assert CHECKPOINT_PREFIX in prefixes  # SageMaker's checkpoint sync does expire


def test_buckets_are_private_encrypted_and_bundles_versioned(dev: Deployment) -> None:
    buckets = dev.of_type("aws:s3/bucket:Bucket")
    ids = {b.state["name"] + "-id" for b in buckets}
    blocks = dev.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert {b.state["bucket"] for b in blocks} == ids
    for block in blocks:
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        assert all(block.state[f] is True for f in flags)
    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    assert {c.state["bucket"] for c in dev.of_type(sse)} == ids
    versioning = dev.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert [v.state["bucket"] for v in versioning] == [
        dev.one("aws:s3/bucket:Bucket", "-bundles").state["name"] + "-id"
    ]
    assert versioning[0].state["versioningConfiguration"]["status"] == "Enabled"


def test_uploads_trigger_the_upload_function(dev: Deployment) -> None:
    notification = dev.one("aws:s3/bucketNotification:BucketNotification", "raw-uploads")
    raw = dev.one("aws:s3/bucket:Bucket", "-raw")
    assert notification.state["bucket"] == raw.state["name"] + "-id"
    (target,) = notification.state["lambdaFunctions"]
    assert target["lambdaFunctionArn"] == dev.one(FUNCTION, "upload").state["arn"]
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert target["filterPrefix"] == dev.environments["upload"]["UPLOAD_PREFIX"] == "uploads/"
    permission = dev.one("aws:lambda/permission:Permission", "upload-from-s3")
    assert permission.state["sourceArn"] == raw.state["arn"]


# --- table ----------------------------------------------------------------------------------


def test_table_matches_the_store_schema(dev: Deployment) -> None:
    table = dev.one("aws:dynamodb/table:Table", "table").state
    assert (table["hashKey"], table["rangeKey"]) == ("PK", "SK")
    indexes = {i["name"]: i for i in table["globalSecondaryIndexes"]}
    assert sorted(indexes) == sorted(INDEXES)
    for name in GSI_NAMES:
        assert (indexes[name]["hashKey"], indexes[name]["rangeKey"]) == (f"{name}PK", f"{name}SK")
    assert indexes["GSITYPE"]["hashKey"] == "TYPE"
    assert all(i["projectionType"] == "ALL" for i in indexes.values())
    assert table["ttl"]["enabled"] is True and table["ttl"]["attributeName"]
    assert table["pointInTimeRecovery"]["enabled"] is True
    assert table["billingMode"] == "PAY_PER_REQUEST"


# --- functions ------------------------------------------------------------------------------


def test_each_function_environment_names_the_right_resources(dev: Deployment) -> None:
    functions = {f.state["name"].rsplit("dev-", 1)[1]: f for f in dev.of_type(FUNCTION)}
    assert set(functions) == set(HANDLERS)
    for key, function in functions.items():
        assert function.state["handler"] == f"{HANDLERS[key].module}.handler"
        env = function.state["environment"]["variables"]
        assert env == dev.environments[key]
        # Every settings variable holds the stack output of the same field.
        for source in FIELD_SOURCES:
            if source.env_var and source.output and source.env_var != "AWS_REGION":
                assert env[source.env_var] == dev.outputs[source.output], (key, source.env_var)
        # What a function does at cold start: settings from its variables alone, no pulumi.
        settings = resolve_settings(env["RECEIPTS_ENV"], environ={**env, "AWS_REGION": REGION})
        assert settings.table_name == dev.outputs["dynamodb_table_name"]
    start = dev.environments["start-training"]
    launch = LaunchSettings.from_environ({**start, "AWS_REGION": REGION})
    repository = dev.one("aws:ecr/repository:Repository", "training-image").state
    assert launch.image_uri == f"{repository['repositoryUrl']}:{training_image_tag()}"
    assert launch.role_arn == dev.one("aws:iam/role:Role", "sagemaker").state["arn"]
    assert launch.runs_bucket == dev.outputs["runs_bucket_name"]
    assert launch.table_name == dev.outputs["dynamodb_table_name"]


def test_training_image_is_built_and_named_by_content_hash(dev: Deployment) -> None:
    tag = training_image_tag()
    project = dev.one("aws:codebuild/project:Project", "training-image-build").state
    variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    assert variables["IMAGE_TAG"] == tag
    source = dev.one("aws:s3/bucketObjectv2:BucketObjectv2", "training-image-source").state
    assert source["key"].endswith(f"{tag}.zip")
    assert project["source"]["location"].endswith(source["key"])
    assert dev.one("aws:ecr/repository:Repository", "training-image").state[
        "imageTagMutability"] == "IMMUTABLE"  # fmt: skip
    rule = dev.one("aws:cloudwatch/eventRule:EventRule", "sources-changed").state
    pattern = json.loads(rule["eventPattern"])
    assert source["key"].startswith(pattern["detail"]["object"]["key"][0]["prefix"])
    declared = json.dumps([r.state for r in dev.resources], default=str)
    assert ":latest" not in declared


def test_prod_stack_file_protects_the_data(tmp_path: Path) -> None:
    """``Pulumi.prod.yaml`` read through ``StackConfig.from_pulumi`` as the engine would pass it."""
    load_stack_file(INFRA / "Pulumi.prod.yaml")
    try:
        prod = deploy("prod", tmp_path)
    finally:
        pulumi.runtime.set_all_config({})
    config = prod.stack.config
    assert (config.stack, config.protect, config.checkpoint_expiration_days) == ("prod", True, 30)
    assert config.training_instance_type == "ml.g5.2xlarge"
    table = prod.one("aws:dynamodb/table:Table", "table").state
    assert table["deletionProtectionEnabled"] is True
    assert all(b.state["forceDestroy"] is False for b in prod.of_type("aws:s3/bucket:Bucket"))
    assert prod.one("aws:ecr/repository:Repository", "training-image").state["forceDelete"] is False
    rules = prod.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "runs"
    ).state["rules"]
    assert rules[0]["expiration"]["days"] == 30
    assert prod.environments["start-training"]["TRAINING_INSTANCE_TYPE"] == "ml.g5.2xlarge"
    assert prod.environments["start-training"]["RECEIPTS_ENV"] == "prod"


def test_stack_files_set_only_known_config_keys() -> None:
    fields = {f.name.replace("_", "") for f in StackConfig.__dataclass_fields__.values()}
    for stack in ("dev", "prod"):
        config = yaml.safe_load((INFRA / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert config["aws:region"]
        ours = [k.split(":", 1)[1] for k in config if k.startswith("receipt-labeler:")]
        assert ours and all(k.lower() in fields for k in ours), ours
