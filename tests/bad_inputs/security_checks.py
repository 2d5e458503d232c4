"""Shared by the ``security`` corpus modules: every row checks that nothing was written outside
the stores (the case's data directory) beyond what the command is meant to write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bad_input_harness import Case, Workspace

G = "security"
OUTSIDE = "outside_before"


def _outside(ws: Workspace) -> set[str]:
    """Every path under the case's root that is not in the data directory (the stores)."""
    return {p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*")
            if not p.is_relative_to(ws.data_dir)}


def snapshot(setup: Callable[[Workspace], Any]) -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        setup(ws)
        ws.state[OUTSIDE] = _outside(ws)

    return run


def outside_unchanged(ws: Workspace, *allowed: str) -> None:
    added = _outside(ws) - ws.state.get(OUTSIDE, set()) - set(allowed)
    assert not added, f"written outside the stores: {sorted(added)}"


def store_unchanged(ws: Workspace, before: Any) -> None:
    assert ws.items() == before, "the store changed although the input was refused"
    outside_unchanged(ws)


def case(name: str, command: Any, message: str, *, exit_code: int = 2,
         setup: Callable[[Workspace], Any] = lambda ws: None,
         check: Callable[[Workspace, Any], None] = store_unchanged,
         needs: tuple[str, ...] = ()) -> Case:
    return Case(name=name, group=G, setup=snapshot(setup), command=command,
                exit_code=exit_code, message=message, check=check, needs=needs)
