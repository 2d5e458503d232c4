"""``layoutlm-cli bundles list`` says what each artifact of a bundle weighs."""

from __future__ import annotations

from pathlib import Path


def test_bundles_list_shows_each_artifact_size(tmp_path: Path, capsys) -> None:
    from receipt_layoutlm.bundles.manifest import write_manifest
    from receipt_layoutlm.cli import main

    bundle = tmp_path / "objects" / "bundles" / "layoutlm-a" / "e1"
    bundle.mkdir(parents=True)
    (bundle / "model.onnx").write_bytes(b"x" * 2_500_000)
    (bundle / "model.int8.onnx").write_bytes(b"x" * 700_000)
    write_manifest(bundle, {"export_id": "e1", "quantize": "float16", "export_time": "t",
                            "parity": {"passed": True},
                            "sizes": {"onnx_bytes": 2_500_000, "onnx_int8_bytes": 700_000}})
    assert main(["bundles", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].strip() == "onnx 2.5 MB · onnx_int8 0.7 MB · total 3.2 MB"
    assert main(["bundles", "list", "--data-dir", str(tmp_path), "--json"]) == 0
    assert '"artifact_sizes": {"onnx": 2500000, "onnx_int8": 700000}' in capsys.readouterr().out
