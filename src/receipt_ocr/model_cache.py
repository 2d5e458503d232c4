"""The model cache: follows ``bundles/active.json`` (written by ``layoutlm-cli promote``).

``ModelCache.current()`` is called between jobs. It reads the pointer; when it names a bundle
other than the one being served, the bundle is downloaded into a fresh directory under the cache,
every file is checked against its manifest (and the manifest against the pointer's
``manifest_sha256``), and only then is the directory renamed into place (one ``rename``, so
other processes sharing the cache never see half a bundle) and the new model swapped in. A
bundle that fails any check is never served: the previous model keeps serving and the log says
why. Cached directories are re-verified before they are loaded, so a copy tampered with on disk
is refused too.

Layout: ``<cache>/<manifest sha256[:16]>/`` per bundle; partial downloads in
``<cache>/.partial-*`` (removed on failure, and stale ones at start); ``<cache>/current.json``
names the bundle served last, so ``--layoutlm-model <cache>`` (the seed's
``--layoutlm-model ~/.models/layoutlm``) serves it without reading the pointer.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.bundle_format import MANIFEST_FILE
from receipt_layoutlm.bundles.manifest import verify_bundle
from receipt_layoutlm.bundles.registry import BundleRegistry
from receipt_layoutlm.errors import CheckpointError, ReceiptLayoutLMError
from receipt_ocr.errors import ModelCacheError
from receipt_ocr.model import LoadedModel, load_model
from receipt_ocr.model import cache_path as resolve_cache_path

if TYPE_CHECKING:
    from receipt_cloud.settings import Settings

logger = logging.getLogger(__name__)

PARTIAL_PREFIX = ".partial-"
CURRENT_FILE = "current.json"
"""``{"manifest_sha256", "bundle_uri", "version"}`` of the bundle the cache served last."""
STALE_PARTIAL_SECONDS = 3600
RETRY_REFUSED_SECONDS = 60.0
"""A refused bundle is tried again after this long (it may have been half-uploaded)."""


class ModelCache:
    """Serves the active bundle of a bundle registry from a local cache directory."""

    def __init__(
        self, registry: BundleRegistry, cache_dir: str | Path, *, runtime: str | None = None
    ) -> None:
        self.registry = registry
        self.cache_dir = Path(cache_dir)
        self.runtime = runtime
        self._model: LoadedModel | None = None
        self._refused: tuple[str, float] | None = None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._remove_stale_partials()

    @property
    def model(self) -> LoadedModel | None:
        """The model being served (None before the first successful :meth:`current`)."""
        return self._model

    def current(self) -> LoadedModel:
        """The model to use for the next job: the active bundle when it verifies, else the one
        already serving. :class:`ModelCacheError` when there is none to serve."""
        try:
            pointer = self.registry.active()
        except ReceiptLayoutLMError as exc:
            return self._keep(f"cannot read the active-bundle pointer: {exc}")
        except Exception as exc:  # the object store is down: keep serving what we have
            return self._keep(f"cannot read the active-bundle pointer ({exc!r})")
        if pointer is None:
            return self._keep(
                "no bundle has been promoted yet (no bundles/active.json); run "
                "`layoutlm-cli promote BUNDLE_URI`, or pass --layoutlm-model DIR"
            )
        sha = str(pointer.get("manifest_sha256") or "")
        if self._model is not None and self._model.manifest_sha256 == sha:
            return self._model
        if self._refused and self._refused[0] == sha and time.monotonic() < self._refused[1]:
            return self._keep(None)
        try:
            loaded = self._load(pointer, sha)
        except (ReceiptLayoutLMError, OSError, ValueError) as exc:
            self._refused = (sha, time.monotonic() + RETRY_REFUSED_SECONDS)
            return self._keep(f"refusing bundle {pointer.get('bundle_uri')}: {exc}")
        previous = self._model
        self._model, self._refused = loaded, None
        self._mark_current(pointer, sha)
        logger.info(
            "serving model %s (%s, pointer version %s)%s",
            loaded.version,
            loaded.runtime_name,
            pointer.get("version"),
            f", replacing {previous.version}" if previous else "",
        )
        return loaded

    def _mark_current(self, pointer: dict[str, Any], sha: str) -> None:
        body = {"manifest_sha256": sha, "bundle_uri": pointer.get("bundle_uri"),
                "version": pointer.get("version")}
        fd, tmp = tempfile.mkstemp(prefix=PARTIAL_PREFIX, dir=self.cache_dir)
        with open(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle)
        Path(tmp).replace(self.cache_dir / CURRENT_FILE)  # readers see the old or the new one

    def _keep(self, reason: str | None) -> LoadedModel:
        if self._model is None:
            raise ModelCacheError(reason or "no verified bundle to serve")
        if reason:
            logger.warning("%s; still serving %s", reason, self._model.version)
        return self._model

    def _load(self, pointer: dict[str, Any], sha: str) -> LoadedModel:
        if len(sha) != 64:
            raise CheckpointError(f"the pointer's manifest_sha256 {sha!r} is not a sha256")
        final = self.cache_dir / sha[:16]
        if final.is_dir():
            try:
                self._verify(final, sha)
            except CheckpointError as exc:
                # A cached copy changed on disk: never load it; fetch the bundle again.
                logger.warning("cached bundle %s fails verification (%s); downloading again",
                               final, exc)
                self._discard(final)
        if not final.is_dir():
            self._download(str(pointer["bundle_uri"]), final, sha)
        return load_model(final, runtime=self.runtime, manifest_sha256=sha)

    def _download(self, uri: str, final: Path, sha: str) -> None:
        from receipt_cloud.objects import open_object_store

        partial = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=self.cache_dir))
        try:
            started = time.perf_counter()
            files = open_object_store(uri).download_dir("", partial)
            if not files:
                raise CheckpointError(f"bundle {uri} has no files")
            self._verify(partial, sha)
            try:
                partial.rename(final)
            except OSError:
                if not final.is_dir():
                    raise
                # Another worker sharing the cache renamed the same bundle in first.
                self._verify(final, sha)
            logger.info(
                "downloaded and verified bundle %s (%d files, %.1f s)",
                uri, len(files), time.perf_counter() - started,
            )
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    @staticmethod
    def _verify(directory: Path, sha: str) -> None:
        verification = verify_bundle(directory)
        verification.raise_for_problems()
        if verification.manifest_sha256 != sha:
            raise CheckpointError(
                f"{directory / MANIFEST_FILE} has sha256 {verification.manifest_sha256[:16]}…, "
                f"the active pointer expects {sha[:16]}… (tampered or a different bundle)"
            )

    def _discard(self, directory: Path) -> None:
        # Rename first so no other process loads it while it is being removed.
        doomed = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=self.cache_dir))
        with contextlib.suppress(OSError):  # another worker discarded it already
            directory.rename(doomed / "bad")
        shutil.rmtree(doomed, ignore_errors=True)

    def _remove_stale_partials(self) -> None:
        cutoff = time.time() - STALE_PARTIAL_SECONDS
        for path in self.cache_dir.glob(f"{PARTIAL_PREFIX}*"):
            try:
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue


def model_source(path: str | Path) -> tuple[Path, str | None]:
    """What ``--layoutlm-model PATH`` loads: ``(directory, manifest sha256 or None)``.

    A bundle or checkpoint directory is itself. A model cache folder serves the bundle its
    ``current.json`` names (or its only bundle), verified against that manifest first."""
    root = Path(path).expanduser()
    current = root / CURRENT_FILE
    if current.is_file():
        try:
            sha = str(json.loads(current.read_text(encoding="utf-8"))["manifest_sha256"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelCacheError(f"{current} is not a cache pointer ({exc!r})") from None
        candidates = [root / sha[:16]]
    elif (root / MANIFEST_FILE).is_file() or (root / "config.json").is_file():
        return root, None
    else:
        candidates = [d for d in root.glob("?" * 16) if (d / MANIFEST_FILE).is_file()]
        if len(candidates) != 1:
            return root, None  # not a cache either: load_model names what is missing
        sha = verify_bundle(candidates[0]).manifest_sha256
    ModelCache._verify(candidates[0], sha)
    return candidates[0], sha


class FixedModel:
    """``--layoutlm-model DIR``: one model, no pointer (same ``current()`` API); DIR is a
    bundle, a checkpoint or a model cache folder (``model_source``)."""

    def __init__(self, model_dir: str | Path, *, runtime: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.runtime = runtime
        self._model: LoadedModel | None = None

    @property
    def model(self) -> LoadedModel | None:
        return self._model

    def current(self) -> LoadedModel:
        if self._model is None:
            directory, sha = model_source(self.model_dir)
            self._model = load_model(directory, runtime=self.runtime, manifest_sha256=sha)
            logger.info("serving model %s (%s) from %s", self._model.version,
                        self._model.runtime_name, self.model_dir)
        return self._model


def open_models(
    model_dir: str | None,
    *,
    cache_path: str | None,
    runtime: str | None,
    settings: Callable[[], Settings],
) -> FixedModel | ModelCache:
    """Where a worker's model comes from, decided here only: ``model_dir`` (``--layoutlm-model``:
    a bundle, checkpoint or cache folder) when given, else the environment's active bundle
    through the model cache at ``cache_path`` (None: ``$LAYOUTLM_CACHE_PATH``, else
    ``~/.models/layoutlm``). ``settings`` is called only for the active bundle."""
    if model_dir:
        return FixedModel(model_dir, runtime=runtime)
    registry = BundleRegistry.from_settings(settings())
    return ModelCache(registry, resolve_cache_path(cache_path), runtime=runtime)

