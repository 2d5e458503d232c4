"""Fixtures of the receipt_ocr tests: the SROIE sample photos and one tiny model, trained here
on 12 SROIE receipts for one epoch, exported to an ONNX bundle and promoted in a local store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sample_images(shared_data: Path) -> Path:
    """``sroie/images_sample`` (``img/`` and ``box/``); skips when the shared data is absent."""
    root = shared_data / "sroie" / "images_sample"
    if not (root / "img").is_dir():
        pytest.skip(f"SROIE sample images not found at {root / 'img'}")
    return root


@dataclass(frozen=True)
class TinyBundle:
    """An exported, promoted tiny model."""

    objects_root: Path
    """Local object store root holding ``bundles/`` and ``bundles/active.json``."""
    bundle_dir: Path
    """The bundle directory."""


@pytest.fixture(scope="session")
def tiny_bundle(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TinyBundle:
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from receipt_cloud.objects import open_object_store
    from receipt_dynamo import open_store
    from receipt_layoutlm.bundles import BundleRegistry
    from receipt_layoutlm.data import DatasetConfig
    from receipt_layoutlm.export import ExportOptions, export_bundle
    from receipt_layoutlm.importers import get_importer, import_documents
    from receipt_layoutlm.training import TrainingConfig, train

    root = tmp_path_factory.mktemp("tiny-model")
    store = open_store("sqlite", path=root / "train.sqlite3")
    parsed = get_importer("sroie")(shared_data / "sroie" / "train", limit=12)
    import_documents(store, parsed.documents, source="SROIE", label_proposed_by="import:sroie")
    objects = open_object_store(str(root / "objects"))
    result = train(
        TrainingConfig(model_size="tiny", epochs=1, batch_size=4, learning_rate=1e-3,
                       max_seq_length=128, stride=32),
        DatasetConfig(dev_ratio=0.25),
        store=store,
        objects=objects,
        job_name="layoutlm-ocr-tiny",
        output_dir=root / "work",
    )
    assert result.status.value == "SUCCEEDED"
    bundle = root / "objects" / "bundles" / "layoutlm-ocr-tiny" / "export-1"
    export_bundle(ExportOptions(
        checkpoint=str(root / "objects" / "runs" / "layoutlm-ocr-tiny" / "best"),
        output=str(bundle), formats=("onnx",), seq_length=128, parity_receipts=3,
        make_zip=False, export_id="export-1",
    ))
    BundleRegistry(objects).promote(str(bundle))
    return TinyBundle(root / "objects", bundle)
