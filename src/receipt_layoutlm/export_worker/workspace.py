"""The export worker's own scratch folder: every temporary file of an export lives under it,
never loose in the system temp folder, and what killed workers left there is swept.

Layout: ``<root>/<pid>-<export_id>/`` per export in progress. A folder whose process is gone (a
kill -9, an OOM kill) is removed by the next worker that starts or begins an export on this
machine; folders of live processes are left alone, so workers can share the root.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

ROOT_ENV = "RECEIPTS_EXPORT_WORK_DIR"
"""Overrides the root (default ``<system temp>/receipts-export-worker-<uid>``)."""


def work_root() -> Path:
    """The worker's scratch root (made private to this user on first use)."""
    configured = os.environ.get(ROOT_ENV)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    root = Path(configured) if configured else (
        Path(tempfile.gettempdir()) / f"receipts-export-worker-{uid}")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the folders of processes that no longer run; returns what was removed."""
    root = root or work_root()
    removed = []
    for entry in root.iterdir():
        pid_text = entry.name.split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    if removed:
        log.warning("removed %d scratch folder(s) of killed export workers under %s",
                    len(removed), root)
    return removed


@contextlib.contextmanager
def export_workdir(export_id: str) -> Iterator[Path]:
    """``with export_workdir(id) as path:`` a fresh folder for one export, removed afterwards."""
    root = work_root()
    sweep(root)
    path = root / f"{os.getpid()}-{export_id}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    # Libraries make their own temp files (coremltools converts into a temp .mlpackage): they
    # land here too, so a killed export leaves nothing in the system temp folder.
    previous, tempfile.tempdir = tempfile.tempdir, str(path)
    try:
        yield path
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(path, ignore_errors=True)
