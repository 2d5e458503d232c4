"""The CLI's surface: --help of train/evaluate/export-coreml against golden files, flags whose
defaults are the config dataclasses', --log-level names, and command groups that fail loudly."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import pytest

from receipt_cloud.dataclass_flags import Flag, add_flags, field_docs, flag_values
from receipt_layoutlm.cli import build_parser, main
from receipt_layoutlm.cli.log_levels import TRACE, configure_logging, log_level
from receipt_layoutlm.data import DatasetConfig
from receipt_layoutlm.training import TrainingConfig

GOLDEN = Path(__file__).parent / "golden_help"


@pytest.mark.parametrize("command", ["train", "evaluate", "export-coreml"])
def test_help_matches_the_golden_file(command, monkeypatch, capsys) -> None:
    # Regenerate after an intended change: COLUMNS=100 layoutlm-cli CMD --help > golden_help/CMD.txt
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == (GOLDEN / f"{command}.txt").read_text()


def test_train_flags_left_off_give_the_dataclass_defaults() -> None:
    from receipt_layoutlm.cli.dataset_flags import DATASET_FLAGS
    from receipt_layoutlm.cli.train_commands import TRAINING_FLAGS

    args = build_parser().parse_args(["train"])
    assert TrainingConfig(**flag_values(args, TRAINING_FLAGS)) == TrainingConfig()
    assert DatasetConfig.from_dict(flag_values(args, DATASET_FLAGS)) == DatasetConfig()


def test_train_flags_reach_the_configs() -> None:
    from receipt_layoutlm.cli.dataset_flags import DATASET_FLAGS
    from receipt_layoutlm.cli.train_commands import TRAINING_FLAGS

    args = build_parser().parse_args(
        ["train", "--epochs", "3", "--learning-rate", "1e-4", "--model-size", "tiny",
         "--max-steps", "7", "--dev-ratio", "0.3", "--allowed-label", "DATE",
         "--allowed-label", "AMOUNT", "--label-merges", '{"TIP": "AMOUNT"}', "--merge-amounts"]
    )  # fmt: skip
    training = TrainingConfig(**flag_values(args, TRAINING_FLAGS))
    assert (training.epochs, training.learning_rate, training.model_size) == (3, 1e-4, "tiny")
    assert training.max_steps == 7 and training.batch_size == TrainingConfig().batch_size
    data = DatasetConfig.from_dict(flag_values(args, DATASET_FLAGS))
    assert data.dev_ratio == 0.3 and data.allowed_labels == ("DATE", "AMOUNT")
    assert data.merges["TIP"] == "AMOUNT" and data.merges["TAX"] == "AMOUNT"


def test_bad_label_merges_is_one_readable_error(capsys) -> None:
    assert main(["train", "--label-merges", "{not json", "--data-dir", "/nonexistent"]) == 2
    assert "--label-merges is not valid JSON" in capsys.readouterr().err


def test_field_docs_and_generated_flags() -> None:
    @dataclasses.dataclass
    class Options:
        size: int = 3
        """How big (``size`` of it), 100% sure."""
        mode: str | None = None
        fast: bool = False
        """Go fast."""

    docs = field_docs(Options)
    assert docs == {"size": "How big (``size`` of it), 100% sure.", "fast": "Go fast."}
    import argparse

    parser = argparse.ArgumentParser()
    specs = add_flags(parser, Options, ["size", Flag("mode", help="the mode"), "fast"])
    text = parser.format_help()
    assert "How big (size of it), 100% sure." in text and "the mode" in text
    assert flag_values(parser.parse_args([]), specs) == {"size": 3, "fast": False}
    assert flag_values(parser.parse_args(["--size", "5", "--fast"]), specs) == {
        "size": 5,
        "fast": True,
    }
    with pytest.raises(ValueError, match="no field 'absent'"):
        add_flags(parser, Options, ["absent"])


def test_dataset_config_inherits_what_the_user_did_not_give() -> None:
    recorded = {"dev_ratio": 0.25, "split_seed": 7, "merge_preset": "sroie", "statuses": ["VALID"]}
    inherited = DatasetConfig.inherit({}, recorded)
    assert (inherited.dev_ratio, inherited.split_seed, inherited.merge_preset) == (0.25, 7, "sroie")
    # One split flag given: the whole split group is the user's, the merges still recorded.
    mine = DatasetConfig.inherit({"split_seed": 3}, recorded)
    assert (mine.dev_ratio, mine.split_seed, mine.merge_preset) == (0.2, 3, "sroie")
    assert DatasetConfig.inherit({"merge_amounts": True}, recorded).merge_preset == "none"
    assert DatasetConfig.inherit({"unverified": "mask"}, None) == DatasetConfig(unverified="mask")


# -- --log-level -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "level"),
    [("trace", TRACE), ("Debug", logging.DEBUG), ("INFO", logging.INFO), ("warn", logging.WARNING),
     ("WARNING", logging.WARNING), ("error", logging.ERROR)],
)  # fmt: skip
def test_log_level_accepts_the_seed_names_in_any_case(given, level) -> None:
    args = build_parser().parse_args(["--log-level", given, "jobs", "list"])
    assert configure_logging(args.log_level) == level
    assert TRACE < logging.DEBUG


def test_unknown_log_level_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["jobs", "list", "--log-level", "loud"])
    assert "unknown log level 'loud'" in capsys.readouterr().err
    with pytest.raises(Exception, match="unknown log level"):
        log_level("verbose")


def test_a_command_group_that_fails_to_import_is_an_error(monkeypatch) -> None:
    import receipt_layoutlm.cli as cli

    monkeypatch.setattr(
        cli, "_COMMAND_MODULES", (*cli._COMMAND_MODULES, "receipt_layoutlm.cli.absent_commands")
    )
    with pytest.raises(ModuleNotFoundError, match="absent_commands"):
        build_parser()


def test_export_flags_left_off_give_the_export_options_defaults() -> None:
    from receipt_layoutlm.cli.export_commands import EXPORT_FLAGS
    from receipt_layoutlm.export import ExportOptions

    args = build_parser().parse_args(["export-coreml", "--checkpoint-dir", "ckpt"])
    values = flag_values(args, EXPORT_FLAGS)
    assert ExportOptions("ckpt", "out", **values) == ExportOptions("ckpt", "out")
    args = build_parser().parse_args(
        ["export-coreml", "--s3-uri", "s3://b/c", "--formats", "onnx", "--no-zip",
         "--quantize", "int8", "--seq-length", "128", "--weight-threshold", "0"]
    )  # fmt: skip
    options = ExportOptions("s3://b/c", "out", **flag_values(args, EXPORT_FLAGS))
    assert (options.formats, options.make_zip, options.quantize) == (("onnx",), False, "int8")
    assert (options.seq_length, options.weight_threshold) == (128, 0)


@pytest.mark.parametrize("flag", ["--checkpoint-uri", "--s3-uri"])
def test_export_checkpoint_uri_keeps_its_old_spelling(flag) -> None:
    # docs/glossary.md: a checkpoint URI is named for what it holds, not for S3; scripts written
    # against the old spelling keep working.
    args = build_parser().parse_args(["export-coreml", flag, "file:///runs/x/best"])
    assert args.checkpoint_uri == "file:///runs/x/best" and args.checkpoint_dir is None


@pytest.mark.parametrize("flag", ["--job-name", "--job-id"])
def test_export_job_name_keeps_its_old_spelling(flag) -> None:
    from receipt_layoutlm.cli.export_commands import EXPORT_FLAGS

    args = build_parser().parse_args(["export-coreml", "--checkpoint-dir", "c", flag, "run-a"])
    assert flag_values(args, EXPORT_FLAGS)["job_name"] == "run-a"


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("flag", ["--checkpoint", "--model"])
def test_evaluate_and_predict_take_a_checkpoint_under_either_spelling(command, flag) -> None:
    extra = ["--image-id", "img"] if command == "predict" else []
    args = build_parser().parse_args([command, flag, "file:///runs/x/best", *extra])
    assert args.checkpoint == "file:///runs/x/best" and not hasattr(args, "model")


def test_a_flag_alias_sets_the_same_field() -> None:
    parser = argparse.ArgumentParser()

    @dataclasses.dataclass
    class Config:
        new_name: str = "a"
        """The value."""

    specs = add_flags(parser, Config, [Flag("new_name", aliases=("--old-name",))])
    assert flag_values(parser.parse_args(["--old-name", "b"]), specs) == {"new_name": "b"}
    assert "--new-name NEW_NAME, --old-name NEW_NAME" in parser.format_help()


def test_export_takes_a_checkpoint_dir_or_a_checkpoint_uri_not_both(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(
            ["export-coreml", "--checkpoint-dir", "ckpt", "--checkpoint-uri", "s3://b/c"]
        )
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
