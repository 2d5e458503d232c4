"""What start-training sends is what the training container reads: every allowed
hyperparameter is a ``TrainingConfig``/``DatasetConfig`` field typed back from its string, the
merge presets are the dataset's, and the ``init`` channel is never mistaken for the dataset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import ModuleType

import pytest
from receipt_stack.sources import collect, content_hash, training_image_tag, write_zip

from receipt_cloud.training_launch import (
    HYPERPARAMETER_KINDS,
    INIT_CHANNEL_DIR,
    JOB_NAME_PREFIX,
    MERGE_PRESETS,
    LaunchSettings,
    TrainingLaunchError,
    create_training_job_request,
    image_reference,
    parse_request,
)

ENTRYPOINT = Path(__file__).resolve().parents[2] / "infra" / "sagemaker_training" / "train.py"
SETTINGS = LaunchSettings(
    table_name="receipts-dev",
    runs_bucket="runs-dev",
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/train:src-0123456789abcdef",
    role_arn="arn:aws:iam::123456789012:role/sm",
)
SAMPLES = {"positive_int": 3, "int": 1, "number": 0.25, "bool": True}
STRINGS = {"checkpoint_metric": "eval_loss", "model_size": "base", "unverified": "mask",
           "box_embedding_init": "sinusoidal", "total_picker": "fit-dev",
           "line_classifier": "fit", "known_values": "fit", "key_lexicon": "none"}
NUMBERS = {"max_seq_length": 64, "stride": 16}
JSONS = {"label_merges": {"TAX": "AMOUNT"}, "allowed_labels": ["DATE", "TAX"],
         "statuses": ["VALID", "NEEDS_REVIEW"]}  # fmt: skip


@pytest.fixture(scope="module")
def entrypoint() -> ModuleType:
    """``infra/sagemaker_training/train.py`` (``infra`` is on the test path)."""
    from sagemaker_training import train

    assert Path(train.__file__) == ENTRYPOINT
    return train


def _every_hyperparameter() -> dict[str, object]:
    values: dict[str, object] = {}
    for name, kind in HYPERPARAMETER_KINDS.items():
        values[name] = STRINGS.get(name) or JSONS.get(name) or NUMBERS.get(name) or SAMPLES[kind]
    return values


def test_every_allowed_hyperparameter_is_read_by_the_container(
    entrypoint: ModuleType, tmp_path: Path
) -> None:
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.training import TrainingConfig, config_from_strings

    payload = {"job_name": "layoutlm-all", "hyperparameters": _every_hyperparameter(),
               "merge_preset": "sroie"}  # fmt: skip
    sent = create_training_job_request(parse_request(payload, SETTINGS), SETTINGS)
    assert all(isinstance(v, str) for v in sent["HyperParameters"].values())
    path = tmp_path / "hyperparameters.json"  # as SageMaker writes it into the container
    path.write_text(json.dumps(sent["HyperParameters"]))
    strings = entrypoint.read_hyperparameters(path)
    training, rest = TrainingConfig.from_strings(strings)
    dataset, rest = config_from_strings(DatasetConfig, rest)
    assert rest == {}
    assert (training.epochs, training.learning_rate, training.model_size) == (3, 0.25, "base")
    assert (training.init_layers, training.box_embedding_init) == (3, "sinusoidal")
    assert (training.total_picker, training.line_classifier) == ("fit-dev", "fit")
    assert (training.known_values, training.key_lexicon) == ("fit", "none")
    assert training.checkpoint_metric == "eval_loss"
    assert dataset.merge_preset == "sroie" and dataset.merge_amounts is True
    assert dict(dataset.label_merges) == {"TAX": "AMOUNT"}
    assert tuple(dataset.allowed_labels) == ("DATE", "TAX")
    assert dataset.unverified == "mask"


def test_the_name_prefix_is_the_one_auto_export_follows() -> None:
    from receipt_layoutlm.training.auto_export import AUTO_EXPORT_PREFIX

    assert JOB_NAME_PREFIX == AUTO_EXPORT_PREFIX


def test_merge_presets_are_the_datasets() -> None:
    from receipt_layoutlm.data import MERGE_PRESETS as DATASET_PRESETS

    assert sorted(MERGE_PRESETS) == sorted(DATASET_PRESETS)


def test_the_init_channel_is_not_the_dataset(entrypoint: ModuleType, tmp_path: Path) -> None:
    paths = entrypoint.sm_paths({"SM_BASE_DIR": str(tmp_path)})
    assert entrypoint.training_channel(paths, {"SM_CHANNEL_INIT": INIT_CHANNEL_DIR}) is None
    data = tmp_path / "receipts.jsonl"
    data.write_text("")
    both = {"SM_CHANNEL_INIT": INIT_CHANNEL_DIR, "SM_CHANNEL_DATA": str(data)}
    assert entrypoint.training_channel(paths, both) == data


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("123.dkr.ecr.us-east-1.amazonaws.com/train:latest", "latest"),
        ("123.dkr.ecr.us-east-1.amazonaws.com/train", "content-hash tag"),
        ("train:src-1", "content-hash tag"),
    ],
)
def test_image_must_name_a_hash_tag(uri: str, message: str) -> None:
    with pytest.raises(TrainingLaunchError, match=message):
        image_reference(uri)


def test_image_reference_parts() -> None:
    assert image_reference(SETTINGS.image_uri) == ("123456789012", "train", "src-0123456789abcdef")


def test_content_hash_follows_the_sources(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "src" / "pkg" / "__pycache__").mkdir()
    (tmp_path / "src" / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    files = collect(tmp_path, ["src"])
    assert [name for name, _ in files] == ["src/pkg/a.py"]  # caches are not sources
    first = content_hash(files)
    assert write_zip(files, tmp_path / "a.zip").read_bytes() == write_zip(
        files, tmp_path / "b.zip").read_bytes()  # fmt: skip
    (tmp_path / "src" / "pkg" / "a.py").write_text("x = 2\n")
    assert content_hash(collect(tmp_path, ["src"])) != first
    assert training_image_tag() == training_image_tag()
    assert training_image_tag().startswith("src-") and len(training_image_tag()) == 20


def test_the_job_environment_points_the_container_at_the_stack(
    entrypoint: ModuleType, tmp_path: Path
) -> None:
    settings = dataclasses.replace(SETTINGS, region="eu-west-1")
    request = parse_request({"job_name": "layoutlm-e"}, settings)
    sent = create_training_job_request(request, settings)
    environ = {**sent["Environment"], "RECEIPTS_HOME": str(tmp_path)}
    backend = entrypoint.backend_settings(dict(sent["HyperParameters"]), environ)
    assert backend.store_backend == "dynamodb" and backend.table_name == "receipts-dev"
    assert backend.runs_uri == "s3://runs-dev" and backend.region == "eu-west-1"
