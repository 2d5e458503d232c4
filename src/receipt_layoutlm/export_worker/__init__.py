"""The export worker: export queue messages -> parity-gated bundles, records and results.

    stats = run_export_worker(settings, WorkerConfig(mode="serve"), ExportWorkerOptions())

Message and result formats are ``receipt_cloud.exports``'; the receive/heartbeat/retry/
dead-letter/SIGTERM loop is ``receipt_cloud.worker``'s; the export itself is
``receipt_layoutlm.export.export_bundle`` (parity gate, manifest-last upload). What happens on
each failure is in docs/export.md ("Operations").
"""

from __future__ import annotations

from receipt_layoutlm.export_worker._config import ExportWorkerOptions
from receipt_layoutlm.export_worker._outputs import ExportOutputs
from receipt_layoutlm.export_worker.handler import ExportMessageHandler
from receipt_layoutlm.export_worker.service import run_export_worker

__all__ = ["ExportMessageHandler", "ExportOutputs", "ExportWorkerOptions", "run_export_worker"]
