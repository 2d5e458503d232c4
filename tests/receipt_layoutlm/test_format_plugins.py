"""A new artifact format is one exporter + one runtime + two registry lines: a dummy format,
registered for one test, shows in the CLI help (``layoutlm-cli`` and ``receipt-ocr``), the
bundle (manifest and file), ``--json`` and the labelling worker's runtime choice, and is gone
again after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dummy_format import DUMMY_DIR, registered_dummy_format
from tiny_layoutlm import tiny_layoutlm

from receipt_layoutlm import bundle_format
from receipt_layoutlm.cli import main
from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import EncodingConfig, label_list
from receipt_layoutlm.errors import CheckpointError, UnknownExporterError
from receipt_layoutlm.export import get_exporter
from receipt_layoutlm.runtime import registry
from receipt_ocr.cli import build_parser as ocr_parser

pytest.importorskip("torch")

LABELS = label_list(["DATE", "GRAND_TOTAL"])


def _receipt(key: str) -> ReceiptDocument:
    texts = ["KEDAI", "MAJU", "DATE:", "25/12/2018", "TOTAL", "RM", "35.60", "THANK", "YOU"]
    words = []
    for i, text in enumerate(texts):
        x, y = 20 + 60 * (i % 3), 20 + 30 * (i // 3)
        corners = ((x, y), (x + 50, y), (x + 50, y + 20), (x, y + 20))
        words.append(DocWord(text, corners, line_id=i // 3 + 1, word_id=i % 3 + 1))
    return ReceiptDocument(key=key, width=240, height=140, words=words)


@pytest.fixture
def checkpoint_dir(tmp_path: Path, tokenizer) -> Path:
    from receipt_layoutlm.checkpoint import save_checkpoint

    model = tiny_layoutlm(len(LABELS), len(tokenizer), seed=5)
    return save_checkpoint(tmp_path / "best", model, tokenizer, LABELS,
                           EncodingConfig(max_seq_length=64, stride=16),
                           extra_meta={"job_name": "layoutlm-dummy"})  # fmt: skip


def _help(command: str, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def _ocr_help(monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "200")  # the choices on one line
    return ocr_parser().format_help()


def test_a_registered_format_is_everywhere(checkpoint_dir, tmp_path, capsys, monkeypatch) -> None:
    from receipt_layoutlm.importers.jsonl import write_jsonl
    from receipt_layoutlm.runtime import choose_runtime
    from receipt_ocr.model import load_model

    parity = tmp_path / "parity.jsonl"
    write_jsonl([_receipt("a"), _receipt("b")], parity)
    out = tmp_path / "bundle"
    with registered_dummy_format():
        for command in ("export-coreml", "export-worker"):
            assert "comma-separated: coreml,dummy,onnx" in _help(command, capsys, monkeypatch)
        # receipt-ocr reads its --runtime choices from the registry when its parser is built.
        assert "--runtime {dummy,onnx-int8,onnx,coreml,torch}" in _ocr_help(monkeypatch)
        assert ocr_parser().parse_args(["--runtime", "dummy"]).runtime == "dummy"
        code = main(["export-coreml", "--checkpoint-dir", str(checkpoint_dir),
                     "--output-dir", str(out), "--formats", "dummy", "--parity-data", str(parity),
                     "--parity-receipts", "2", "--no-zip", "--data-dir", str(tmp_path / "home"),
                     "--json"])  # fmt: skip
        printed = json.loads(capsys.readouterr().out)
        assert code == 0
        assert printed["dummy_uri"].endswith(f"/{DUMMY_DIR}")
        assert printed["mlpackage_uri"] is None and printed["onnx_uri"] is None

        manifest = json.loads((out / "manifest.json").read_text())
        assert (out / DUMMY_DIR / "config.json").is_file()
        assert f"{DUMMY_DIR}/config.json" in manifest["files"]
        assert manifest["formats"] == ["dummy"]
        assert manifest["dummy_layout"] == "save_pretrained"  # its exporter's manifest key
        # Core ML's keys stay in every manifest (format 1), empty when it was not built.
        assert manifest["mlpackage"] is None and manifest["weight_quantization"] is None
        assert manifest["sizes"]["dummy_bytes"] > 0
        assert printed["model_size_bytes"] == manifest["sizes"]["dummy_bytes"]
        assert [r["runtime"] for r in manifest["parity"]["results"]] == ["dummy"]
        assert manifest["parity"]["passed"] is True

        assert choose_runtime(out) == "dummy"
        loaded = load_model(out)
        assert loaded.runtime_name == "dummy" and loaded.runtime.labels == LABELS
        assert len(loaded.runtime.predict(_receipt("c"))) == 9

    # Unregistered again: unknown to the exporters, the runtimes and the worker.
    assert "dummy" not in bundle_format.ARTIFACT_FORMATS and "dummy" not in registry.RUNTIMES
    with pytest.raises(UnknownExporterError, match="choose from onnx, coreml"):
        get_exporter("dummy")
    assert "dummy" not in _help("export-coreml", capsys, monkeypatch)
    assert "--runtime {onnx-int8,onnx,coreml,torch}" in _ocr_help(monkeypatch)
    with pytest.raises(CheckpointError, match="holds no model this machine can run"):
        choose_runtime(out)
