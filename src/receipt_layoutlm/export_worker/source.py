"""The checkpoint a message names, completed from its run when it is a ``checkpoint-<step>/``.

Trainer checkpoints hold weights and config but not the label map, encoding spec or tokenizer;
those are the run's, so they are taken from the run's ``best/`` (found by walking up from the
checkpoint: ``runs/<job>/checkpoints/checkpoint-500`` or ``runs/<job>/checkpoint-500``).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from receipt_cloud.exports.checkpoint_alias import resolve_checkpoint_uri
from receipt_cloud.objects import is_remote_uri, local_path
from receipt_layoutlm.bundle_format import (
    ENCODING_FILE,
    LABEL_MAP_FILE,
    META_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    VOCAB_FILE,
)
from receipt_layoutlm.checkpoint import refuse_outside_links
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.remote_dirs import fetch_directory

log = logging.getLogger(__name__)

RUN_FILES = (
    LABEL_MAP_FILE,
    ENCODING_FILE,
    META_FILE,
    VOCAB_FILE,
    TOKENIZER_FILE,
    TOKENIZER_CONFIG_FILE,
    "special_tokens_map.json",
)
"""Files a checkpoint may lack that its run's ``best/`` has."""
_LEVELS_UP = 3


def _exists(uri: str, name: str) -> bool:
    from receipt_cloud.objects import open_object_store

    return open_object_store(uri).exists(name)


def _parents(uri: str) -> list[str]:
    text = uri.rstrip("/")
    out = []
    for _ in range(_LEVELS_UP):
        head, sep, _ = text.rpartition("/")
        if not sep or head.endswith(":/") or head.endswith(":"):
            break
        out.append(head)
        text = head
    return out


def _inside(uri: str, root: str | None) -> bool:
    if root is None:
        return True
    from receipt_cloud.errors import UntrustedUriError
    from receipt_cloud.objects.confine import confine_uri

    try:
        confine_uri(uri, root)
    except UntrustedUriError:
        return False
    return True


def run_best_of(uri: str, root: str | None = None) -> str | None:
    """The ``best/`` of the run ``uri`` belongs to (it has a label map), or None; with
    ``root`` (the runs store), only a ``best/`` inside it: walking up never leaves the store."""
    for parent in _parents(uri):
        candidate = f"{parent}/best"
        if not _inside(candidate, root):
            break
        if candidate.rstrip("/") != uri.rstrip("/") and _exists(candidate, LABEL_MAP_FILE):
            return candidate
    return None


def complete_checkpoint(uri: str, workdir: Path, root: str | None = None) -> str:
    """``uri`` (the seed's ``runs/<job>/checkpoint-<step>/`` resolved to the run's
    ``checkpoints/checkpoint-<step>``) when it is a complete checkpoint; else a local copy under
    ``workdir`` with the run's label map, encoding spec and tokenizer added (from a ``best/``
    inside ``root`` when given). :class:`CheckpointError` when it is incomplete and no run
    ``best/`` is found above it."""
    uri = resolve_checkpoint_uri(uri)  # the seed's runs/<job>/checkpoint-<step>/
    if not _inside(uri, root):  # the alias's target passes the same rule as the message's URI
        raise CheckpointError(f"checkpoint {uri[:300]} resolves outside the runs store")
    local = None if is_remote_uri(uri) else local_path(uri)
    if local is not None and local.is_dir():
        refuse_outside_links(local)  # before anything is read or copied
    if _exists(uri, LABEL_MAP_FILE):
        return uri
    if local is not None and not local.is_dir():
        raise CheckpointError(f"checkpoint {uri} does not exist; check model_s3_uri")
    best = run_best_of(uri, root)
    if best is None:
        raise CheckpointError(
            f"checkpoint {uri} has no {LABEL_MAP_FILE} and no run best/ was found above it to "
            "take one from; export a run's best/ or a checkpoint-<step>/ inside a run"
        )
    with_best = fetch_directory(best, workdir / "run-best")  # a local best/ is used in place
    refuse_outside_links(with_best, "run best/")  # before anything is copied from it
    target = workdir / "checkpoint"
    if local is None:
        fetch_directory(uri, target)
    else:
        shutil.copytree(local, target)
    added = []
    for name in RUN_FILES:
        if not (target / name).exists() and (with_best / name).is_file():
            shutil.copyfile(with_best / name, target / name)
            added.append(name)
    log.info("checkpoint %s completed from %s: %s", uri, best, ", ".join(added) or "nothing")
    return str(target)
