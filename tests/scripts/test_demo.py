"""scripts/demo.sh: its step runner, and the whole loop at DEMO_SIZE=test with the report opened
in headless Chromium (skipped, with the reason, while the export or labelling worker is missing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chromium_probe import chromium_binary, probe, screenshot

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _steps(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEMO_OUT": str(tmp_path / "out"), "RECEIPTS_HOME": str(tmp_path / "h")}
    return subprocess.run([sys.executable, str(ROOT / "scripts/demo_steps.py"), *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_step_runner_logs_each_step_and_stops_on_a_failure(tmp_path: Path) -> None:
    ok = _steps(tmp_path, "run", "hello", "--", sys.executable, "-c", "print('hi there')")
    assert ok.returncode == 0, ok.stderr
    assert "hello" in ok.stderr and "1/1" in ok.stderr  # the bar, on stderr
    bad = _steps(tmp_path, "run", "broken", "--", sys.executable, "-c",
                 "import sys; print('the reason'); sys.exit(3)")
    assert bad.returncode == 3
    assert "the reason" in bad.stderr and "step 'broken' failed (exit 3)" in bad.stderr
    logs = sorted((tmp_path / "out/logs").iterdir())
    assert [p.name for p in logs] == ["01-hello.log", "02-broken.log"]
    assert logs[0].read_text().strip() == "hi there"
    steps = [json.loads(line) for line in (tmp_path / "out/steps.jsonl").read_text().splitlines()]
    assert [(s["step"], s["returncode"]) for s in steps] == [("hello", 0), ("broken", 3)]


def _missing_commands() -> list[str]:
    missing = []
    for command in (["layoutlm-cli", "export-worker", "--help"],
                    ["layoutlm-cli", "exports", "list", "--help"],
                    ["receipt-ocr", "submit", "--help"]):
        done = subprocess.run([str(BIN / command[0]), *command[1:]], capture_output=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            missing.append(" ".join(command[:-1]))
    return missing


@pytest.mark.slow
def test_demo_at_test_size_ends_with_a_report_that_opens_in_chromium(tmp_path: Path) -> None:
    missing = _missing_commands()
    if missing:
        pytest.skip(f"the demo needs {', '.join(missing)} (the export and labelling workers)")
    out = tmp_path / "demo-output"
    env = {**os.environ, "DEMO_SIZE": "test", "DEMO_BIN": str(BIN), "DEMO_OUT": str(out),
           "DEMO_HOME": str(tmp_path / "home"), "RECEIPTS_HOME": str(tmp_path / "untouched")}
    done = subprocess.run(["bash", str(ROOT / "scripts/demo.sh")], capture_output=True,
                          text=True, env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "home/receipts.sqlite3").is_file()
    assert not (tmp_path / "untouched").exists()  # the demo never uses $RECEIPTS_HOME
    report = out / "report.html"
    assert done.stdout.rstrip().endswith(f"report: {report}")
    assert "make review DEMO_HOME=" in done.stdout  # how to open the review app
    for row in ("train", "export-worker", "ocr-worker", "total", "active bundle",
                "labelled photos"):
        assert row in done.stdout, row
    assert "labelled photos  3 results JSON" in done.stdout
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (make system-deps installs Debian's chromium)")
    screenshot(binary, report, out / "report.png", tmp_path)
    seen = probe(binary, report, tmp_path)
    from receipt_layoutlm.reporting import SECTIONS

    assert seen["sections"] == list(SECTIONS)
    assert len(seen["images"]) == 2 + 3  # curves, confusion, three labelled photos
    assert all(i["complete"] and i["width"] > 0 and i["scheme"] == "data"
               for i in seen["images"]), seen["images"]
    assert seen["requests"] == []
