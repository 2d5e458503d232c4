"""Run every benchmark script in benchmarks/ and write benchmarks/RESULTS.md (``make bench``).

Each script prints one JSON line (its figures) and a table. This runner calls each one as a
subprocess, takes the first line of its stdout that is a JSON object, and writes every scalar in
it with the exact command that measured it, plus the machine, library versions, commit and date.
Nothing in RESULTS.md is typed by hand; a script that fails is listed with its exit code and the
end of its stderr, and the others still run.

    python benchmarks/run_all.py                 # full sizes (tens of minutes on 2 cores)
    python benchmarks/run_all.py --quick         # smaller sizes where a script has size flags
    python benchmarks/run_all.py --only store_bench --output /tmp/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Arguments for scripts that need some (one run per list); every other script runs bare.
ARGS: dict[str, list[list[str]]] = {
    "worker_bench.py": [["export"], ["ocr"]],
}
# Scripts that need a trained model or hours of training: listed in RESULTS.md with how to run
# them, not run (their figures and commands are in docs/training.md).
BY_HAND: dict[str, str] = {
    "quality_bench.py": "K-fold training (hours on 2 cores); see docs/training.md",
    "local_image_bench.py": "needs an ONNX bundle (--bundle) and Tesseract; see docs/export.md",
    "fields_bench.py": "needs a trained model's ONNX bundle (--bundle); see docs/export.md",
    "int4_sensitivity_bench.py": "needs a fine-tuned checkpoint (--checkpoint); see docs/export.md",
    "active_learning_bench.py": "(1 + 2 x rounds) trainings per fold (hours at the real recipe "
    "on 2 cores); see docs/review.md",
    "photo_bench.py": "needs a checkpoint trained without the sample photos (--model); see "
    "docs/training.md",
    "line_classifier_bench.py": "needs a trained SROIE checkpoint (--model) and its dataset; see "
    "docs/training.md",
    "known_values_bench.py": "needs a trained SROIE checkpoint (--model), its dataset and OCR'd "
    "re-renders; see docs/training.md",
}
# --quick: the same measurements at smaller sizes, through each script's own size flags.
QUICK: dict[str, list[str]] = {
    "store_bench.py": ["--receipts", "20", "--words", "40"],
    "review_bench.py": ["--receipts", "500", "--requests", "10"],
    "dataset_bench.py": ["--limit", "60"],
    "train_bench.py": ["--receipts", "24", "--steps", "3"],
    "inference_bench.py": ["--quick"],
    "export_bench.py": ["--receipts", "3", "--train-receipts", "12", "--train-steps", "6",
                        "--modes", "float16,int8", "--latency-repeats", "1"],
}
VERSIONED = ("torch", "transformers", "onnxruntime", "coremltools", "onnx", "boto3", "moto",
             "numpy", "pillow")


@dataclass
class Run:
    """One benchmark invocation and what it printed."""

    script: str
    command: list[str]
    returncode: int = 0
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    """Dotted key → scalar, from the script's JSON line."""
    raw: str = ""
    """The JSON line as printed."""
    error: str = ""
    by_hand: str = ""
    """Why ``make bench`` does not run this script (``BY_HAND``); empty when it ran."""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested JSON → ``{"a.b.c": scalar}`` (lists by index)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, child in items:
        out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    return out


def json_line(stdout: str) -> str | None:
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                if isinstance(json.loads(line), dict):
                    return line
            except json.JSONDecodeError:
                continue
    return None


def run_script(script: Path, args: list[str], timeout: float) -> Run:
    shown = script.relative_to(REPO) if script.is_relative_to(REPO) else script
    command = [sys.executable, str(shown), *args]
    run = Run(script=script.name, command=command)
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        run.returncode, run.error = -1, f"timed out after {timeout:.0f} s"
        run.seconds = time.monotonic() - started
        return run
    run.seconds = time.monotonic() - started
    run.returncode = done.returncode
    line = json_line(done.stdout)
    if done.returncode != 0 or line is None:
        run.error = (done.stderr or done.stdout)[-1500:].strip() or "printed no JSON line"
        if line is None and done.returncode == 0:
            run.returncode = 1
    if line is not None:
        run.raw = line
        run.figures = flatten(json.loads(line))
    return run


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
    }
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        total_kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        info["memory"] = f"{total_kb / 1024 / 1024:.1f} GiB"
    cpu = Path("/proc/cpuinfo")
    if cpu.is_file():
        names = [ln.split(":", 1)[1].strip() for ln in cpu.read_text().splitlines()
                 if ln.startswith("model name")]
        if names:
            info["processor"] = names[0]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var):
            info[var] = os.environ[var]
    return info


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, text=True,
                               capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def _cell(value: Any) -> str:
    """Four significant digits: the scripts print more than their timing noise supports."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def render(runs: list[Run], *, quick: bool, started: datetime) -> str:
    lines = [
        "# Benchmark results",
        "",
        "<!-- Written by benchmarks/run_all.py (`make bench`); every figure below was measured",
        "     by the command above it. Do not edit by hand: rerun the benchmarks. -->",
        "",
        f"- date: {started.isoformat(timespec='seconds')}",
        f"- commit: {_commit()}",
        f"- sizes: {'quick (--quick)' if quick else 'full'}",
        *(f"- {k}: {v}" for k, v in machine().items()),
        "- versions: " + ", ".join(f"{n} {_version(n)}" for n in VERSIONED),
        "",
    ]
    for run in runs:
        command = " ".join(shlex.quote(c) for c in ["python", *run.command[1:]])
        if run.by_hand:
            lines += [f"## {run.script}", "", f"`{command}` — not run: {run.by_hand}", ""]
            continue
        status = "ok" if run.returncode == 0 else f"FAILED (exit {run.returncode})"
        lines += [f"## {run.script}", "", f"`{command}` — {status}, {run.seconds:.1f} s", ""]
        if run.error:
            lines += ["```text", run.error, "```", ""]
        if run.figures:
            lines += ["| figure | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)} |" for k, v in run.figures.items()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def scripts(only: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name
                   and not p.name.startswith("_"))
    if only:
        wanted = {o if o.endswith(".py") else f"{o}.py" for o in only}
        missing = wanted - {p.name for p in found}
        if missing:
            raise SystemExit(f"error: no benchmark {', '.join(sorted(missing))} in {HERE}")
        found = [p for p in found if p.name in wanted]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (see QUICK)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this script (repeatable), e.g. store_bench")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per script run")
    args = parser.parse_args()
    started = datetime.now(UTC)
    runs = []
    for script in scripts(args.only):
        if script.name in BY_HAND and not args.only:
            runs.append(Run(script.name, [sys.executable, str(script)],
                            by_hand=BY_HAND[script.name]))
            continue
        for extra in ARGS.get(script.name, [[]]):
            sizes = QUICK.get(script.name, []) if args.quick else []
            print(f"== {script.name} {' '.join(extra + sizes)}", file=sys.stderr, flush=True)
            run = run_script(script, extra + sizes, args.timeout)
            print(f"   {'ok' if run.returncode == 0 else 'FAILED'} in {run.seconds:.1f} s",
                  file=sys.stderr, flush=True)
            runs.append(run)
    args.output.write_text(render(runs, quick=args.quick, started=started), encoding="utf-8")
    print(args.output)
    return 0 if all(r.returncode == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
