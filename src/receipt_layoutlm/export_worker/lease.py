"""Keeps a claimed export record's ``updated_at`` fresh, so a redelivered duplicate message
can tell a live worker's RUNNING export from a dead one's."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from receipt_cloud.exports import touch_export

log = logging.getLogger(__name__)


class RecordLease:
    """``with RecordLease(store, export, interval=20):`` touches the record every ``interval``
    seconds; a record taken over by another worker sets ``lost``."""

    def __init__(self, store: Any, export: Any, *, interval: float) -> None:
        self.store = store
        self.export = export
        self.interval = interval
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-lease", daemon=True)

    def __enter__(self) -> RecordLease:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        from receipt_cloud.exports import LostClaimError

        while not self._done.wait(self.interval):
            try:
                touch_export(self.store, self.export)
            except LostClaimError as exc:
                log.warning("export %s: %s", self.export.export_id, exc)
                self.lost.set()
                return
            except Exception as exc:  # a store blip: the next touch may work
                log.warning("export %s: lease refresh failed: %s", self.export.export_id, exc)
