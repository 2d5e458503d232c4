"""``receipt-ocr`` arguments and errors: one readable line and exit 2, no traceback; ``--help``
stays light (no torch, transformers, onnxruntime)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from receipt_ocr.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_worker_without_a_promoted_bundle(tmp_path: Path, capsys) -> None:
    err = _error(capsys, ["--data-dir", str(tmp_path / "d"), "--stub-ocr",
                          "--layoutlm-cache-path", str(tmp_path / "cache")])
    assert "no bundle has been promoted yet" in err and "layoutlm-cli promote" in err


def test_missing_model_directory(tmp_path: Path, capsys) -> None:
    err = _error(capsys, ["--stub-ocr", "--layoutlm-model", str(tmp_path / "nope"),
                          "--data-dir", str(tmp_path / "d")])
    assert f"model directory {tmp_path / 'nope'} does not exist" in err


def test_a_loop_setting_out_of_range_is_refused_before_anything_loads(tmp_path, capsys) -> None:
    err = _error(capsys, ["--max-receives", "0", "--layoutlm-model", str(tmp_path / "nope"),
                          "--data-dir", str(tmp_path / "d")])
    assert err == "error: max_receives must be >= 1 or None, got 0"


def test_flags_left_off_give_the_dataclass_defaults_and_given_ones_reach_them() -> None:
    from receipt_cloud.dataclass_flags import flag_values
    from receipt_ocr.cli import LOOP_FLAGS, _options
    from receipt_ocr.options import OCR_LOOP, SERVE_WAIT_SECONDS, OcrWorkerOptions, ocr_loop

    args = build_parser().parse_args([])
    assert _options(args) == OcrWorkerOptions()
    assert ocr_loop(mode=args.mode, **flag_values(args, LOOP_FLAGS)) == OCR_LOOP
    args = build_parser().parse_args([
        "--serve", "--layoutlm-model", "m", "--layoutlm-cache-path", "c", "--runtime", "onnx",
        "--stub-ocr", "--ocr-language", "eng", "--visibility-timeout", "60",
        "--max-receives", "5"])
    assert _options(args) == OcrWorkerOptions(
        model_dir="m", cache_path="c", runtime="onnx", engine="stub", ocr_language="eng")
    loop = ocr_loop(mode=args.mode, **flag_values(args, LOOP_FLAGS))
    assert (loop.mode, loop.visibility_timeout, loop.max_receives, loop.wait_seconds) == (
        "serve", 60.0, 5, SERVE_WAIT_SECONDS)
    assert build_parser().parse_args(["--continuous"]).mode == "drain"


def test_local_image_needs_an_output_dir(tmp_path: Path, capsys) -> None:
    err = _error(capsys, ["--process-local-image", str(tmp_path / "x.jpg"), "--stub-ocr"])
    assert "--output-dir" in err


@pytest.mark.parametrize(("image", "message"), [
    ("/dev/zero", "/dev/zero is a character device, not a regular file; nothing was written"),
    ("{tmp}/missing.jpg", "missing.jpg: No such file or directory; nothing was written"),
])
def test_local_image_that_is_no_file_fails_before_any_model_loads(
    tmp_path: Path, capsys, image: str, message: str
) -> None:
    # The model directory does not exist either: the image must be refused first.
    err = _error(capsys, ["--process-local-image", image.format(tmp=tmp_path), "--stub-ocr",
                          "--output-dir", str(tmp_path / "out"),
                          "--layoutlm-model", str(tmp_path / "no-model")])
    assert message in err
    assert not (tmp_path / "out").exists()


def test_stub_and_another_engine_contradict(tmp_path: Path, capsys) -> None:
    err = _error(capsys, ["--stub-ocr", "--ocr-engine", "tesseract",
                          "--data-dir", str(tmp_path / "d")])
    assert "contradict" in err


@pytest.mark.parametrize("level", ["trace", "DEBUG", "Info", "WARN", "warning", "error"])
def test_log_levels_any_case(level: str) -> None:
    args = build_parser().parse_args(["--log-level", level])
    assert args.log_level == level.upper()


def test_unknown_log_level_and_engine_are_refused(capsys) -> None:
    for argv in (["--log-level", "loud"], ["--ocr-engine", "easyocr"]):
        with pytest.raises(SystemExit) as caught:
            build_parser().parse_args(argv)
        assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "unknown log level 'loud'" in err and "invalid choice: 'easyocr'" in err


def test_submit_flags_before_and_after_the_subcommand(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--data-dir", "A", "submit", "x.jpg"])
    assert args.data_dir == "A" and args.images == ["x.jpg"]
    args = build_parser().parse_args(["submit", "x.jpg", "--data-dir", "B"])
    assert args.data_dir == "B"


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys; from receipt_ocr.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in ('torch', 'transformers', 'onnxruntime', 'coremltools') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO / "src")}, check=True, timeout=120).stdout
    assert out.strip() == "[]"
