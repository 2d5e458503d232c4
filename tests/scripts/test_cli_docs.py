"""docs/cli.md is what the parsers print today (regenerate with `make docs`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts/gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    generated = _generator().render()
    current = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    assert current == generated, "docs/cli.md is stale: run `make docs` and commit it"


def test_reference_covers_every_command_and_its_flags() -> None:
    from receipt_layoutlm.cli import build_parser

    text = _generator().render()
    parser = build_parser()
    [commands] = [a for a in parser._actions if hasattr(a, "choices") and a.choices
                  and isinstance(a.choices, dict)]
    for name, sub in commands.choices.items():
        assert f"## `layoutlm-cli {name}`" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in text, (name, flag)
