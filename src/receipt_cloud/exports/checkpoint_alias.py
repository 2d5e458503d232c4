"""The seed's checkpoint URIs: ``runs/<job>/checkpoint-<step>/`` names the step's checkpoint.

Training writes a run's step checkpoints to ``runs/<job>/checkpoints/checkpoint-<step>/``; the
seed's manual exports name ``runs/<job>/checkpoint-<step>/``. ``resolve_checkpoint_uri`` maps
the seed's spelling to the layout when only the layout exists, for every export path alike
(``export-coreml --checkpoint-uri``, export messages in the worker, the auto-export handler).
Other URIs (a run's ``best/``, any existing directory) are returned unchanged, without touching
the store.
"""

from __future__ import annotations

import logging
import re

from receipt_cloud.objects import open_object_store

logger = logging.getLogger("receipt_cloud.exports")

CHECKPOINTS_DIR = "checkpoints"
"""The folder of a run that holds its ``checkpoint-<step>/`` directories."""
_SEED_ALIAS = re.compile(r"^(?P<run>.+/runs/[^/]+)/(?P<step>checkpoint-\d+)/*$")


def _has_files(uri: str) -> bool:
    return next(iter(open_object_store(uri).list("")), None) is not None


def resolve_checkpoint_uri(uri: str) -> str:
    """``<root>/runs/<job>/checkpoints/checkpoint-<step>`` for the seed's
    ``<root>/runs/<job>/checkpoint-<step>/`` when that folder is empty or absent and the
    layout's is not; ``uri`` itself otherwise (the caller reports a missing checkpoint)."""
    match = _SEED_ALIAS.match(uri)
    if match is None:
        return uri
    if _has_files(uri):
        return uri
    layout = f"{match['run']}/{CHECKPOINTS_DIR}/{match['step']}"
    if not _has_files(layout):
        return uri
    logger.info("checkpoint %s is the run's %s", uri, layout)
    return layout
