"""A made-up artifact format for the plug-in test: its exporter writes the model with
``save_pretrained`` under ``dummy_model/`` and its runtime runs that copy with PyTorch.

Registering it (``registered_dummy_format``) is what adding a real format takes: one exporter
class, one runtime class, one line in ``bundle_format.ARTIFACT_FORMATS`` and one in
``runtime.registry.RUNTIMES``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from receipt_layoutlm import bundle_format
from receipt_layoutlm.bundle_format import ArtifactFormat
from receipt_layoutlm.export.exporter import BuildContext, BundleFile
from receipt_layoutlm.runtime import registry
from receipt_layoutlm.runtime._base import Runtime, load_bundle_text_side

DUMMY_DIR = "dummy_model"


class DummyExporter:
    name: ClassVar[str] = "dummy"
    manifest_keys: ClassVar[tuple[str, ...]] = ("dummy_layout",)

    def files(self, options: Any) -> tuple[BundleFile, ...]:
        return (BundleFile.primary(self.name, DUMMY_DIR),)

    def export_info(self, options: Any) -> dict[str, Any]:
        return {"dummy_layout": "save_pretrained"}

    def build(self, context: BuildContext) -> None:
        context.model.save_pretrained(context.staging / DUMMY_DIR)

    def gate_runtimes(self) -> tuple[str, ...]:
        return ("dummy",)


class DummyRuntime(Runtime):
    name = "dummy"
    speed_rank = -1  # ahead of every real runtime, so a worker picks it when it can
    needs = f"{DUMMY_DIR}/"

    @classmethod
    def can_run(cls, model_dir: Path) -> bool:
        return (model_dir / DUMMY_DIR / "config.json").is_file()

    def __init__(self, bundle_dir: str | Path) -> None:
        from transformers import LayoutLMForTokenClassification

        bundle_dir = Path(bundle_dir)
        tokenizer, labels, encoding_config = load_bundle_text_side(bundle_dir)
        self.model = LayoutLMForTokenClassification.from_pretrained(bundle_dir / DUMMY_DIR).eval()
        super().__init__(tokenizer=tokenizer, labels=labels, encoding_config=encoding_config,
                         source=bundle_dir, quantize="float32")  # fmt: skip

    def run_window(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            feeds = {k: torch.from_numpy(np.asarray(v, dtype=np.int64)) for k, v in arrays.items()}
            return self.model(**feeds).logits[0].float().numpy()


@contextmanager
def registered_dummy_format() -> Iterator[None]:
    """The dummy format registered in both registries, both restored on exit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(bundle_format.ARTIFACT_FORMATS, "dummy", ArtifactFormat(
            "dummy", f"{__name__}:DummyExporter", size_key="dummy_bytes", uri_key="dummy_uri",
            model_size_rank=2,
        ))  # fmt: skip
        patch.setitem(registry.RUNTIMES, "dummy", f"{__name__}:DummyRuntime")
        yield
