"""benchmarks/run_all.py: figures come from each script's JSON line, with the command that
measured them; a failing script is reported and does not stop the others."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runner():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks/run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_figures_commands_and_failures_reach_results_md(tmp_path: Path) -> None:
    runner = _runner()
    good = tmp_path / "good_bench.py"
    good.write_text(
        "import json, sys\n"
        "n = int(sys.argv[sys.argv.index('--n') + 1])\n"
        "print('warming up')\n"
        "print(json.dumps({'n': n, 'rate': {'sqlite': n * 1.5}, 'modes': ['a']}))\n"
        "print('table | here')\n"
    )
    bad = tmp_path / "bad_bench.py"
    bad.write_text("import sys\nprint('partial')\nsys.exit('no model found')\n")
    silent = tmp_path / "silent_bench.py"
    silent.write_text("print('a table but no JSON line')\n")
    runs = [runner.run_script(good, ["--n", "7"], 60), runner.run_script(bad, [], 60),
            runner.run_script(silent, [], 60)]
    assert runs[0].returncode == 0
    assert runs[0].figures == {"n": 7, "rate.sqlite": 10.5, "modes.0": "a"}
    assert runs[1].returncode == 1 and "no model found" in runs[1].error
    assert runs[2].returncode == 1 and runs[2].figures == {}
    text = runner.render(runs, quick=True, started=datetime(2026, 1, 2, tzinfo=UTC))
    assert f"`python {good} --n 7` — ok" in text
    assert "| rate.sqlite | 10.5 |" in text
    assert "## bad_bench.py" in text and "FAILED (exit 1)" in text and "no model found" in text
    assert "- date: 2026-01-02T00:00:00+00:00" in text and "- versions: torch " in text
    manual = runner.Run("quality_bench.py", ["python", "quality_bench.py"], by_hand="K-fold")
    text = runner.render([manual], quick=False, started=datetime(2026, 1, 2, tzinfo=UTC))
    assert "`python quality_bench.py` — not run: K-fold" in text and "— ok" not in text


def test_every_benchmark_script_is_found() -> None:
    runner = _runner()
    names = {p.name for p in runner.scripts([])}
    assert {"store_bench.py", "dataset_bench.py", "train_bench.py", "export_bench.py"} <= names
    assert "run_all.py" not in names
    assert set(runner.QUICK) <= names
    assert set(runner.BY_HAND) <= names  # a renamed by-hand script must not start running bare


def test_quick_sizes_use_flags_the_scripts_define() -> None:
    runner = _runner()
    for script, args in runner.QUICK.items():
        source = (ROOT / "benchmarks" / script).read_text(encoding="utf-8")
        for flag in (a for a in args if a.startswith("--")):
            assert f'"{flag}"' in source, (script, flag)
