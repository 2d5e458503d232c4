"""The bad-input corpus: every hostile input a user can send, one table row each.

Each row (:class:`bad_input_harness.Case`) says what is sent, the exit code, the ONE line that
must explain it (naming the file and line, or the field or flag) and what the store holds
afterwards; every row also checks that nothing is half-written (no word without its receipt, no
receipt without its image) and that no traceback is printed.

Adding a case
-------------
1. Pick the module of its group (``cases_importers.py``, ``cases_objects.py``,
   ``cases_queues.py``, ``cases_records.py``, ``cases_checkpoints.py``, ``cases_cli.py``,
   ``cases_exports.py``, ``cases_lambdas.py``, ``cases_ocr.py``, ``cases_review.py``,
   ``cases_security_messages.py``, ``cases_events.py``, ``cases_security_inputs.py``,
   ``cases_security_artifacts.py``; the last two check with ``security_checks`` that nothing
   was written outside the stores) and
   append a ``Case(...)`` to its ``CASES`` list::

       Case(name="jsonl_width_negative", group="importers",
            setup=lambda ws: ws.write_jsonl("in.jsonl", [{"key": "b", "width": -1, ...}]),
            command=["import", "jsonl", "{root}/in.jsonl"],   # layoutlm-cli argv, or f(ws)
            exit_code=0,
            message=r"  \\S*in\\.jsonl:1: width -1 must be .*; receipt skipped",
            check=holds({"a": ["TOTAL", "9.00"]}))              # None: store unchanged

   ``command`` is a ``layoutlm-cli`` argv (``{root}`` is the case's temp dir, ``{data}`` its
   data dir; ``--data-dir`` is added) or a library call ``f(ws)``: its return value is the
   output, and an error of the packages (or a ValueError/TypeError) is exit 2 with
   ``error: <message>``, as in the CLI.
2. ``message`` must match one output line in full (``re.fullmatch``).
3. ``check(ws, before)`` asserts the store afterwards; helpers ``holds`` / ``holds_keys`` cover
   imports; leave it None when the input must change nothing.
   ``needs=("dynamodb",)`` runs the case's store on a fresh DynamoDB table (moto server);
   other names in ``needs`` are pytest fixtures to request.
4. A new group: add its name to ``bad_input_harness.GROUPS``, a ``cases_<group>.py`` module
   with a ``CASES`` list, and the module to ``MODULES`` below.
Run: ``pytest tests/bad_inputs -q`` (``-k <name>`` for one row).
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bad_input_harness import GROUPS, Case, Workspace, run_case

MODULES = ("cases_importers", "cases_objects", "cases_queues", "cases_records",
           "cases_checkpoints", "cases_cli", "cases_exports", "cases_lambdas", "cases_ocr",
           "cases_review", "cases_security_messages", "cases_events", "cases_security_inputs",
           "cases_security_artifacts")


def _all_cases() -> list[Case]:
    return [case for name in MODULES for case in importlib.import_module(name).CASES]


CASES = _all_cases()


def _dynamodb_store(request: pytest.FixtureRequest) -> Any:
    """A fresh table on the moto server; the case's store calls open it."""
    import boto3

    from receipt_dynamo import create_table, open_store

    request.getfixturevalue("aws_env")
    name = request.getfixturevalue("unique_name")
    create_table(boto3.client("dynamodb"), name)
    return lambda: open_store("dynamodb", table_name=name)


def test_corpus_table_is_well_formed() -> None:
    names = Counter(case.name for case in CASES)
    assert not [n for n, count in names.items() if count > 1], "case names must be unique"
    assert {case.group for case in CASES} <= set(GROUPS)
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    ws = Workspace(tmp_path)
    for fixture in case.needs:
        if fixture == "dynamodb":
            ws.store_factory = _dynamodb_store(request)
        else:
            request.getfixturevalue(fixture)
    try:
        run_case(case, ws)
    finally:
        for cleanup in reversed(ws.cleanups):
            cleanup()
