"""The demo's step runner and closing summary (used by scripts/demo.sh).

    demo_steps.py run NAME [--epochs-of JOB --total N | --ocr-results --total N] -- CMD ...
    demo_steps.py summary --job JOB --report FILE

``run`` starts CMD with its output in ``$DEMO_OUT/logs/<NN>-<NAME>.log`` and shows one tqdm bar
for the step: epochs recorded for the training Job, results JSON files written by the labelling
worker, or just done/not done. On a terminal the bar moves; otherwise it is printed when the step
starts and when it ends (no line per training step in a CI log). A failing step prints the end of
its log and its exit code. Each step's time goes to ``$DEMO_OUT/steps.jsonl`` for the summary.

``summary`` prints the closing table: each step's time, then what the run produced (read from
the store, the evaluation, the active bundle and the raw object store, never from the logs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(os.environ.get("DEMO_OUT", "demo-output"))


def _settings() -> Any:
    from receipt_cloud.settings import resolve_settings

    return resolve_settings("local", data_dir=os.environ.get("RECEIPTS_HOME"))


def _epochs_done(job: str) -> Callable[[], int]:
    from receipt_dynamo.errors import EntityNotFoundError

    def count() -> int:
        store = _settings().open_store()
        try:
            job_id = store.get_job_by_name(job).job_id
        except EntityNotFoundError:  # the Job is written a few seconds into the step
            return 0
        return len({m.epoch for m in store.list_job_metrics(job_id, "eval_f1")})

    return count


def _ocr_results() -> int:
    raw = _settings().open_objects("raw")
    return sum(1 for key in raw.list("ocr_results/") if key.endswith(".json"))


def run_step(name: str, command: list[str], *, total: int,
             progress: Callable[[], int] | None) -> int:
    from tqdm import tqdm

    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    number = len(list(logs.glob("*.log"))) + 1
    log_path = logs / f"{number:02d}-{name}.log"
    tty = sys.stderr.isatty()
    start_count = progress() if progress else 0
    started = time.monotonic()
    bar = tqdm(total=total, desc=f"{name:<14}", unit="", file=sys.stderr,
               mininterval=0.5 if tty else 1e9, bar_format="{desc} {bar:30} {n}/{total} "
               "[{elapsed}]")
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        while process.poll() is None:
            time.sleep(1.0)
            if progress:
                bar.update(max(0, min(total, progress() - start_count)) - bar.n)
    returncode = process.returncode
    if returncode == 0:
        bar.update(total - bar.n)
    bar.close()
    seconds = time.monotonic() - started
    with (OUT / "steps.jsonl").open("a", encoding="utf-8") as steps:
        steps.write(json.dumps({"step": name, "seconds": round(seconds, 1),
                                "returncode": returncode, "log": str(log_path)}) + "\n")
    if returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        print(f"demo: step '{name}' failed (exit {returncode}); full log: {log_path}",
              file=sys.stderr)
    return returncode


def _results(job_name: str) -> list[tuple[str, str]]:
    settings = _settings()
    store = settings.open_store()
    job = store.get_job_by_name(job_name)
    res = job.results or {}
    best = res.get("best_f1")
    rows = [("training job", f"{job.name}: {job.status.value}, best dev entity F1 "
             f"{'–' if best is None else f'{best:.3f}'} at epoch {res.get('best_epoch')}")]
    evaluation = Path(settings.data_dir) / "evaluation" / job_name / "report.json"
    if evaluation.is_file():
        metrics = json.loads(evaluation.read_text())["metrics"]
        task3 = (metrics.get("sroie_task3") or {}).get("f1")
        rows.append(("evaluation", f"{metrics['receipts']} dev receipts, entity F1 "
                     f"{metrics['entity']['f1']:.3f}"
                     + (f", SROIE task-3 F1 {task3:.3f}" if task3 is not None else "")))
    from receipt_layoutlm.bundles.registry import BundleRegistry

    registry = BundleRegistry.from_settings(settings)
    active = registry.active()
    for bundle in registry.list_bundles():
        if bundle.active:
            lowest = "–" if bundle.min_agreement is None else f"{bundle.min_agreement:.2%}"
            rows.append(("active bundle", f"{bundle.quantize}, {bundle.size_bytes / 1e6:.1f} MB, "
                         f"parity {'passed' if bundle.parity_passed else 'FAILED'} (lowest "
                         f"agreement {lowest}), version {active['version']}"))
    rows.append(("labelled photos", f"{_ocr_results()} results JSON under ocr_results/"))
    return rows


def summary(job: str, report: Path) -> None:
    steps = [json.loads(line) for line in (OUT / "steps.jsonl").read_text().splitlines()]
    width = max(len(s["step"]) for s in steps)
    print(f"\n{'step':<{width}}  {'seconds':>8}  status")
    for s in steps:
        status = "ok" if s["returncode"] == 0 else f"failed ({s['returncode']})"
        print(f"{s['step']:<{width}}  {s['seconds']:>8.1f}  {status}")
    print(f"{'total':<{width}}  {sum(s['seconds'] for s in steps):>8.1f}")
    print()
    rows = [*_results(job), ("report", str(report.resolve()))]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("name")
    run.add_argument("--total", type=int, default=1)
    probe = run.add_mutually_exclusive_group()
    probe.add_argument("--epochs-of", metavar="JOB")
    probe.add_argument("--ocr-results", action="store_true")
    summ = sub.add_parser("summary")
    summ.add_argument("--job", required=True)
    summ.add_argument("--report", type=Path, required=True)
    argv = sys.argv[1:]
    # Everything after the first "--" is the step's command, options and all.
    split = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:split]), argv[split + 1:]
    if args.command == "summary":
        summary(args.job, args.report)
        return 0
    if not command:
        parser.error("run: give the command after --")
    progress = (_epochs_done(args.epochs_of) if args.epochs_of
                else _ocr_results if args.ocr_results else None)
    return run_step(args.name, command, total=args.total, progress=progress)


if __name__ == "__main__":
    sys.exit(main())
