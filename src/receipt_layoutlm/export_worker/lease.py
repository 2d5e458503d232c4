"""Keeps a claimed export record's ``updated_at`` fresh, so a redelivered duplicate message
can tell a live worker's RUNNING export from a dead one's."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from receipt_cloud.exports import LostClaimError, touch_export
from receipt_cloud.worker import Periodic

if TYPE_CHECKING:
    from receipt_dynamo import CoreMLExportJob, ReceiptStore

log = logging.getLogger(__name__)


class RecordLease(Periodic):
    """``with RecordLease(store, export, interval=20):`` touches the record every ``interval``
    seconds; a record taken over by another worker sets ``lost`` and ends the touches."""

    def __init__(self, store: ReceiptStore, export: CoreMLExportJob, *, interval: float) -> None:
        self.store = store
        self.export = export
        self.lost = threading.Event()
        super().__init__(interval, self._touch, name=f"lease-{export.export_id[:8]}")

    def _touch(self) -> bool:
        try:
            touch_export(self.store, self.export)
        except LostClaimError as exc:
            log.warning("export %s: %s", self.export.export_id, exc)
            self.lost.set()
            return False
        return True
