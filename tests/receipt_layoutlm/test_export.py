"""Export bundles: every quantize mode, the parity gate, manifests, golden encoding, the registry
and the input errors of ``layoutlm-cli export-coreml``.

A tiny LayoutLM (hidden 32, 2 layers, random init with a fixed seed) and the MiniLM tokenizer;
sequence length 64 so receipts span several windows. Core ML programs are run on Linux through
the MIL reference interpreter (runtime ``coreml-mil``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from tiny_layoutlm import tiny_layoutlm

torch = pytest.importorskip("torch")
pytest.importorskip("coremltools")
pytest.importorskip("onnxruntime")

from receipt_layoutlm.bundles import BundleRegistry, verify_bundle  # noqa: E402
from receipt_layoutlm.checkpoint import save_checkpoint  # noqa: E402
from receipt_layoutlm.cli import main  # noqa: E402
from receipt_layoutlm.document import DocWord, ReceiptDocument  # noqa: E402
from receipt_layoutlm.encoding import (  # noqa: E402
    EncodingConfig,
    encode_receipt,
    label_list,
    load_tokenizer,
)
from receipt_layoutlm.errors import (  # noqa: E402
    CheckpointError,
    ExportError,
    ParityGateError,
    UnknownExporterError,
)
from receipt_layoutlm.export import (  # noqa: E402
    QUANTIZE_MODES,
    CoreMLExporter,
    ExportOptions,
    ParityThresholds,
    export_bundle,
    get_exporter,
)
from receipt_layoutlm.runtime import MILInterpreter, load_runtime  # noqa: E402

SEQ = 64
LABELS = label_list(["DATE", "GRAND_TOTAL", "MERCHANT_NAME", "PRODUCT_NAME"])


def _receipt(key: str, lines: list[list[tuple[str, str | None]]]) -> ReceiptDocument:
    words: list[DocWord] = []
    for line_no, line in enumerate(lines, start=1):
        x, y = 12.0, 20.0 + 28.0 * line_no
        for word_no, (text, label) in enumerate(line, start=1):
            width = 11.0 * len(text)
            corners = ((x, y), (x + width, y), (x + width, y + 20), (x, y + 20))
            words.append(DocWord(text, corners, line_id=line_no, word_id=word_no, label=label))
            x += width + 9.0
    height = 60.0 + 28.0 * len(lines)
    return ReceiptDocument(key=key, width=640.0, height=height, words=words)


def _receipts() -> list[ReceiptDocument]:
    head = [
        [("KEDAI", "MERCHANT_NAME"), ("RUNCIT", "MERCHANT_NAME"), ("MAJU", "MERCHANT_NAME")],
        [("NO.", None), ("12,", None), ("JALAN", None), ("BUKIT", None), ("BINTANG", None)],
        [("DATE:", None), ("25/12/2018", "DATE"), ("TIME:", None), ("18:42", None)],
    ]
    items = [
        [(name, "PRODUCT_NAME"), (qty, None), ("RM", None), (price, None)]
        for name, qty, price in [
            ("MILO", "2", "7.90"),
            ("ROTI", "1", "2.50"),
            ("TELUR", "10", "4.20"),
            ("GARDENIA", "1", "3.60"),
            ("NESCAFE", "3", "12.00"),
            ("SUSU", "2", "5.40"),
        ]
    ]
    foot = [[("TOTAL", None), ("RM", None), ("35.60", "GRAND_TOTAL")], [("THANK", None)]]
    return [
        _receipt("test:short", head + items[:2] + foot),
        _receipt("test:medium", head + items + foot),
        _receipt("test:long", head + items * 4 + foot),  # several windows at SEQ
    ]


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory, tokenizer) -> Path:
    model = tiny_layoutlm(len(LABELS), len(tokenizer), seed=1234)
    directory = tmp_path_factory.mktemp("ckpt") / "best"
    save_checkpoint(
        directory,
        model,
        tokenizer,
        LABELS,
        EncodingConfig(max_seq_length=128, stride=32),
        extra_meta={"job_id": "job-tiny", "job_name": "layoutlm-tiny"},
    )
    return directory


@pytest.fixture(scope="module")
def docs() -> list[ReceiptDocument]:
    return _receipts()


@pytest.fixture(scope="module")
def float16_bundle(tmp_path_factory, checkpoint_dir: Path) -> tuple[Path, str]:
    """Built through the CLI (both formats, default mode float16) with a JSONL parity file."""
    root = tmp_path_factory.mktemp("f16")
    jsonl = root / "parity.jsonl"
    _write_jsonl(jsonl, _receipts())
    out = root / "bundle"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(
            [
                "export-coreml",
                "--checkpoint-dir",
                str(checkpoint_dir),
                "--output-dir",
                str(out),
                "--seq-length",
                str(SEQ),
                "--parity-data",
                str(jsonl),
                "--parity-receipts",
                "3",
                "--weight-threshold",
                "256",
                # A random tiny model has near-tied logits; int8 flips a few of them.
                "--min-agreement-int8",
                "0.9",
            ]
        )
    assert code == 0
    return out, buffer.getvalue()


def _write_jsonl(path: Path, docs: list[ReceiptDocument]) -> None:
    from receipt_layoutlm.importers.jsonl import write_jsonl

    write_jsonl(docs, path)


def _results(manifest: dict) -> dict[str, dict]:
    return {r["runtime"]: r for r in manifest["parity"]["results"]}


# -- the default export through the CLI ------------------------------------------------------


@pytest.mark.slow
def test_float16_bundle_layout_and_parity(float16_bundle, checkpoint_dir: Path) -> None:
    bundle, printed = float16_bundle
    for name in (
        "LayoutLM.mlpackage/Manifest.json",
        "model.onnx",
        "model.int8.onnx",
        "vocab.txt",
        "config.json",
        "label_map.json",
        "encoding.json",
        "manifest.json",
    ):
        assert (bundle / name).is_file(), name
    assert not (bundle / "tokenizer.json").exists()  # vocab.txt is the single vocabulary
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["quantize"] == "float16"
    assert manifest["minimum_deployment_target"] == {"iOS": "iOS17", "macOS": "macOS14"}
    assert manifest["source_checkpoint"] == str(checkpoint_dir)
    assert manifest["training_job"]["job_id"] == "job-tiny"
    assert manifest["export_time"].endswith("+00:00")
    assert manifest["parity"]["source"].startswith("jsonl:")
    assert manifest["parity"]["passed"] is True
    results = _results(manifest)
    assert set(results) == {"onnx", "onnx-int8", "coreml-mil"}
    assert results["onnx"]["max_abs_logit_diff"] < 1e-4
    assert results["coreml-mil"]["mode"] == "float16"
    assert results["coreml-mil"]["nonfinite_outputs"] == 0
    assert results["coreml-mil"]["max_abs_logit_diff"] < 1e-2
    assert results["coreml-mil"]["word_agreement"] >= 0.999
    assert results["coreml-mil"]["windows"] > results["coreml-mil"]["receipts"]
    # The measured values are printed, not only stored.
    assert "coreml-mil" in printed and "onnx-int8" in printed and "agreement" in printed
    label_map = json.loads((bundle / "label_map.json").read_text())
    config = json.loads((bundle / "config.json").read_text())
    assert label_map["labels"] == LABELS
    assert config["id2label"] == {str(i): t for i, t in enumerate(LABELS)}
    assert config["encoding"]["max_seq_length"] == SEQ
    assert config["export"]["seq_length"] == SEQ


# The bundle contract that devices, the registry and the workers read: names and keys only
# (values are checked elsewhere). A change here is a format change, not a refactor.
GOLDEN_BUNDLE_ENTRIES = [
    "LayoutLM.mlpackage",
    "config.json",
    "encoding.json",
    "label_map.json",
    "manifest.json",
    "model.int8.onnx",
    "model.onnx",
    "tokenizer_config.json",
    "vocab.txt",
]
GOLDEN_MANIFEST_KEYS = [
    "bytes_per_parameter", "encoding_version", "export_id", "export_time", "files", "formats",
    "labels", "manifest_format", "minimum_deployment_target", "mlpackage", "model_name",
    "num_parameters", "parity", "quantize", "seq_length", "sizes", "source_checkpoint",
    "timings", "total_size_bytes", "training_job", "versions", "weight_quantization",
]  # fmt: skip
GOLDEN_EXPORT_INFO_KEYS = [
    "formats", "minimum_deployment_target", "mlpackage", "model_name", "quantize", "seq_length",
    "weight_quantization",
]  # fmt: skip
GOLDEN_CLI_JSON_KEYS = [
    "bundle_uri", "export_duration_seconds", "export_id", "mlpackage_uri", "model_size_bytes",
    "onnx_uri", "parity", "zip_uri",
]  # fmt: skip


@pytest.mark.slow
def test_golden_export_coreml_names_and_manifest_keys(float16_bundle) -> None:
    bundle, printed = float16_bundle
    assert sorted(p.name for p in bundle.iterdir()) == GOLDEN_BUNDLE_ENTRIES
    assert (bundle.parent / "bundle.zip").is_file()
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert sorted(manifest) == GOLDEN_MANIFEST_KEYS
    assert manifest["formats"] == ["coreml", "onnx"]
    assert manifest["mlpackage"] == "LayoutLM.mlpackage"
    assert manifest["weight_quantization"] is None  # float16: no quantized weights
    assert sorted(manifest["sizes"]) == ["mlpackage_bytes", "onnx_bytes", "onnx_int8_bytes"]
    assert sorted(manifest["timings"]) == ["coreml_seconds", "onnx_seconds", "parity_seconds"]
    assert sorted(manifest["training_job"]) == ["best_epoch", "best_f1", "job_id", "job_name"]
    assert sorted(manifest["parity"]) == ["passed", "receipts", "reference", "results", "source",
                                          "words"]  # fmt: skip
    assert [r["runtime"] for r in manifest["parity"]["results"]] == [
        "onnx", "onnx-int8", "coreml-mil"
    ]  # fmt: skip
    assert {"python", "torch", "coremltools", "onnxruntime"} <= set(manifest["versions"])
    config = json.loads((bundle / "config.json").read_text())
    encoding = json.loads((bundle / "encoding.json").read_text())
    assert sorted(config["export"]) == GOLDEN_EXPORT_INFO_KEYS
    assert encoding["export"] == config["export"]
    assert sorted(json.loads((bundle / "label_map.json").read_text())) == [
        "id2label", "label2id", "labels"
    ]  # fmt: skip
    lines = printed.splitlines()
    assert lines[0].startswith("parity vs torch-float32 on 3 receipts")
    assert [line.split()[0] for line in lines[3:6]] == ["onnx", "onnx-int8", "coreml-mil"]
    assert [line.split()[0] for line in lines[6:]] == [
        "bundle", "export", "quantize", "model", "zip", "took"
    ]  # fmt: skip
    assert lines[10] == f"  zip         {bundle.parent / 'bundle.zip'}"


@pytest.mark.slow
def test_onnx_has_dynamic_sequence_and_opset(float16_bundle) -> None:
    import onnx
    import onnxruntime as ort

    bundle, _ = float16_bundle
    model = onnx.load(str(bundle / "model.onnx"))
    assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 17
    session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    shapes = {i.name: i.shape for i in session.get_inputs()}
    assert set(shapes) == {"input_ids", "attention_mask", "bbox", "token_type_ids"}
    assert isinstance(shapes["input_ids"][1], str)  # symbolic: any window length


@pytest.mark.slow
def test_mlpackage_inputs_are_fixed_int32(float16_bundle) -> None:
    from receipt_layoutlm.bundle_format import find_mlpackage

    bundle, _ = float16_bundle
    interp = MILInterpreter(find_mlpackage(bundle))
    assert interp.input_specs["input_ids"] == ((1, SEQ), np.dtype(np.int32))
    assert interp.input_specs["bbox"] == ((1, SEQ, 4), np.dtype(np.int32))
    assert set(interp.input_specs) == {"input_ids", "attention_mask", "bbox", "token_type_ids"}
    assert interp.output_names == ["logits"]
    assert interp.nonfinite_constants == []


@pytest.mark.slow
def test_manifest_verifies_and_tampering_is_caught(float16_bundle, tmp_path: Path) -> None:
    bundle, _ = float16_bundle
    assert verify_bundle(bundle).ok
    manifest = json.loads((bundle / "manifest.json").read_text())
    inside = [k for k in manifest["files"] if k.startswith("LayoutLM.mlpackage/")]
    assert any(k.endswith("weight.bin") for k in inside)  # each file inside the package
    copy = tmp_path / "b"
    shutil.copytree(bundle, copy)
    weight = next(p for p in copy.rglob("weight.bin"))
    data = bytearray(weight.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weight.write_bytes(bytes(data))
    (copy / "extra.txt").write_text("not listed")
    result = verify_bundle(copy)
    assert not result.ok
    assert any("weight.bin sha256" in p for p in result.problems)
    assert any("extra.txt is not listed" in p for p in result.problems)
    with pytest.raises(CheckpointError, match="does not match its manifest"):
        result.raise_for_problems()


@pytest.mark.slow
def test_zip_beside_bundle_holds_every_file(float16_bundle) -> None:
    bundle, _ = float16_bundle
    zipped = bundle.parent / f"{bundle.name}.zip"
    with zipfile.ZipFile(zipped) as zf:
        names = set(zf.namelist())
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert names == on_disk


@pytest.mark.slow
def test_golden_bundle_vocab_and_encoding_reproduce_checkpoint_inputs(
    float16_bundle, checkpoint_dir: Path, docs
) -> None:
    bundle, _ = float16_bundle
    fresh_tokenizer = load_tokenizer(bundle)  # vocab.txt + tokenizer_config.json only
    bundle_config = EncodingConfig.read_json(bundle / "encoding.json")
    assert bundle_config.max_seq_length == SEQ
    checkpoint_tokenizer = load_tokenizer(checkpoint_dir)
    for doc in docs:
        a = encode_receipt(doc, checkpoint_tokenizer, bundle_config)
        b = encode_receipt(doc, fresh_tokenizer, bundle_config)
        assert len(a.windows) == len(b.windows)
        for wa, wb in zip(a.windows, b.windows, strict=True):
            assert wa.input_ids == wb.input_ids
            assert wa.bbox == wb.bbox
            assert wa.word_index == wb.word_index
        assert all(t != fresh_tokenizer.unk_token_id for w in b.windows for t in w.input_ids)


# -- every quantize mode ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["float32", "int8", "int4"])
def test_every_mode_exports_and_coreml_agrees(
    mode: str, checkpoint_dir: Path, docs, tmp_path: Path
) -> None:
    # A random tiny model has near-tied logits, so quantization noise flips argmaxes far more
    # often than in a trained model; the default thresholds are measured by the benchmark.
    thresholds = ParityThresholds(int8=0.9, int4=0.5, all_words_floor=0.5)
    result = export_bundle(
        ExportOptions(
            checkpoint=str(checkpoint_dir),
            output=str(tmp_path / mode),
            quantize=mode,
            formats=("coreml",),
            seq_length=SEQ,
            weight_threshold=256,
            thresholds=thresholds,
            make_zip=False,
        ),
        documents=docs,
    )
    manifest = result.manifest
    coreml = _results(manifest)["coreml-mil"]
    assert coreml["mode"] == mode
    assert coreml["nonfinite_outputs"] == 0 and coreml["nonfinite_weights"] == []
    assert coreml["threshold"] == thresholds.for_mode(mode)
    assert coreml["word_agreement"] >= thresholds.for_mode(mode)
    expected = QUANTIZE_MODES[mode]
    assert manifest["minimum_deployment_target"] == expected.deployment_target()
    if mode == "float32":
        assert coreml["max_abs_logit_diff"] < 1e-4
    ops = load_runtime("coreml-mil", result.bundle_uri).interpreter.op_counts
    if mode == "int8":
        assert ops["constexpr_affine_dequantize"] > 0
    if mode == "int4":
        assert manifest["minimum_deployment_target"]["iOS"] == "iOS18"
        assert ops["constexpr_blockwise_shift_scale"] > 0
    assert verify_bundle(result.bundle_uri).ok


@pytest.mark.slow
def test_sizes_shrink_with_quantization(checkpoint_dir: Path, tmp_path: Path, docs) -> None:
    sizes = {}
    for mode in ("float16", "int8"):
        result = export_bundle(
            ExportOptions(
                checkpoint=str(checkpoint_dir),
                output=str(tmp_path / mode),
                quantize=mode,
                formats=("coreml",),
                seq_length=32,
                weight_threshold=256,
                parity_receipts=1,
                make_zip=False,
            ),
            documents=docs[:1],
        )
        sizes[mode] = result.model_size_bytes
        [(name, artifact)] = result.artifacts.items()
        assert name == "coreml" and artifact.name == "LayoutLM.mlpackage"
        assert artifact.uri == f"{result.bundle_uri}/LayoutLM.mlpackage"
        assert artifact.size_bytes == result.model_size_bytes
        assert result.manifest["sizes"] == {"mlpackage_bytes": result.model_size_bytes}
    assert sizes["int8"] < sizes["float16"] * 0.7


# -- the gate refuses ---------------------------------------------------------------------------


class _StockMaskLayoutLM(torch.nn.Module):
    """The unmodified Hugging Face forward: its ``finfo(float32).min`` mask bias is -inf in
    float16, and ``0 * -inf`` makes every logit NaN."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, bbox, token_type_ids):
        return self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            bbox=bbox,
            token_type_ids=token_type_ids,
        ).logits


@pytest.mark.slow
def test_stock_hf_mask_at_float16_is_refused_as_nan(
    checkpoint_dir, docs, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(
        CoreMLExporter, "trace_wrapper", staticmethod(lambda m: _StockMaskLayoutLM(m).eval())
    )
    out = tmp_path / "broken"
    with pytest.raises(ParityGateError, match="NaN/Inf") as excinfo:
        export_bundle(
            ExportOptions(
                checkpoint=str(checkpoint_dir),
                output=str(out),
                quantize="float16",
                formats=("coreml",),
                seq_length=SEQ,
            ),
            documents=docs,
        )
    assert "coreml-mil" in str(excinfo.value)
    assert not out.exists() and not (tmp_path / "broken.zip").exists()


@pytest.mark.slow
def test_agreement_below_threshold_is_refused(checkpoint_dir, docs, tmp_path) -> None:
    options = ExportOptions(
        checkpoint=str(checkpoint_dir),
        output=str(tmp_path / "low"),
        quantize="int4",
        formats=("coreml",),
        seq_length=SEQ,
        weight_threshold=256,
        thresholds=ParityThresholds(int4=0.0, all_words_floor=0.0),
        make_zip=False,
    )
    measured = _results(export_bundle(options, documents=docs).manifest)["coreml-mil"]
    # The tiny random model's logits are near-tied, so int4 flips some words (seeded: stable).
    assert measured["word_agreement"] < 1.0
    above = min(1.0, measured["word_agreement"] + 1e-3)
    out = tmp_path / "refused"
    # Near-tied words are not "confident" (test_parity_confident.py covers the per-mode gate on
    # those); the floor over all words refuses here.
    strict = dataclasses.replace(
        options, output=str(out), thresholds=ParityThresholds(int4=0.0, all_words_floor=above)
    )
    with pytest.raises(ParityGateError, match="agreement") as excinfo:
        export_bundle(strict, documents=docs)
    assert f"{measured['word_agreement']:.4%}" in str(excinfo.value)  # measured value shown
    assert not out.exists()


# -- input errors: one clear message, nothing written ------------------------------------------


def _cli_error(capsys, argv: list[str]) -> str:
    code = main(argv)
    assert code != 0
    return capsys.readouterr().err


def test_cli_checkpoint_without_weights(checkpoint_dir, tmp_path, capsys) -> None:
    broken = tmp_path / "ckpt"
    shutil.copytree(checkpoint_dir, broken)
    (broken / "model.safetensors").unlink()
    out = tmp_path / "out"
    err = _cli_error(
        capsys, ["export-coreml", "--checkpoint-dir", str(broken), "--output-dir", str(out)]
    )
    assert "no weights file" in err and err.count("error:") == 1
    assert not out.exists()


def test_cli_missing_label_map(checkpoint_dir, tmp_path, capsys) -> None:
    broken = tmp_path / "ckpt"
    shutil.copytree(checkpoint_dir, broken)
    (broken / "label_map.json").unlink()
    out = tmp_path / "out"
    err = _cli_error(
        capsys, ["export-coreml", "--checkpoint-dir", str(broken), "--output-dir", str(out)]
    )
    assert "label_map.json" in err
    assert not out.exists()


def test_cli_unknown_quantize_mode(checkpoint_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["export-coreml", "--checkpoint-dir", str(checkpoint_dir), "--output-dir", str(out)]
    err = _cli_error(capsys, [*argv, "--quantize", "int3"])
    assert "unknown quantize mode 'int3'" in err and "float16" in err
    assert not out.exists()


def test_unknown_or_empty_format_is_refused_naming_the_known_ones(
    checkpoint_dir, tmp_path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(UnknownExporterError, match=r"'openvino'.*onnx, coreml"):
        export_bundle(
            ExportOptions(checkpoint=str(checkpoint_dir), output=str(out), formats=("openvino",))
        )
    with pytest.raises(UnknownExporterError, match="choose from onnx, coreml"):
        get_exporter("tensorrt")
    with pytest.raises(ExportError, match="no export formats"):
        export_bundle(ExportOptions(checkpoint=str(checkpoint_dir), output=str(out), formats=()))
    assert not out.exists()


def test_non_empty_output_is_refused(checkpoint_dir, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(ExportError, match="not empty"):
        export_bundle(ExportOptions(checkpoint=str(checkpoint_dir), output=str(out)))
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@pytest.mark.slow
@pytest.mark.aws
def test_s3_source_and_destination_and_missing_uri(
    aws_env, unique_name, checkpoint_dir, docs, tmp_path, capsys
) -> None:
    import boto3

    from receipt_cloud.objects import open_object_store

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=unique_name)
    err = _cli_error(
        capsys,
        [
            "export-coreml",
            "--s3-uri",
            f"s3://{unique_name}/runs/nope/best",
            "--output-dir",
            f"s3://{unique_name}/bundles/nope/x",
        ],
    )
    assert "does not exist" in err and err.count("error:") == 1
    assert s3.list_objects_v2(Bucket=unique_name).get("KeyCount", 0) == 0

    open_object_store(f"s3://{unique_name}/runs/job-tiny/best").upload_dir(checkpoint_dir, "")
    registry = BundleRegistry.from_uri(f"s3://{unique_name}")
    output = registry.bundle_uri("job-tiny", "exp-1")
    result = export_bundle(
        ExportOptions(
            checkpoint=f"s3://{unique_name}/runs/job-tiny/best",
            output=output,
            formats=("coreml",),
            seq_length=32,
            weight_threshold=256,
            export_id="exp-1",
        ),
        documents=docs[:2],
    )
    assert result.bundle_uri == output
    assert result.zip_uri == f"s3://{unique_name}/bundles/job-tiny/exp-1.zip"
    keys = set(open_object_store(output).list(""))
    assert {"manifest.json", "vocab.txt", "LayoutLM.mlpackage/Manifest.json"} <= keys
    record = registry.promote(output)
    assert record["version"] == 1 and record["export_id"] == "exp-1"
    [entry] = registry.list_bundles()
    assert entry.active and entry.quantize == "float16" and entry.parity_passed


# -- registry: promote only verified bundles ----------------------------------------------------


@pytest.mark.slow
def test_promote_and_list_local_registry(float16_bundle, tmp_path, capsys) -> None:
    bundle, _ = float16_bundle
    store_root = tmp_path / "objects"
    registry = BundleRegistry.from_uri(str(store_root))
    # Stored where its manifest says it belongs (bundles/<job>/<export_id>): promote checks it.
    export_id = json.loads((bundle / "manifest.json").read_text())["export_id"]
    for folder in (export_id, "tampered"):
        registry.store.upload_dir(bundle, f"bundles/job-tiny/{folder}")
    good = registry.bundle_uri("job-tiny", export_id)
    bad = store_root / "bundles/job-tiny/tampered"
    (bad / "label_map.json").write_text('{"labels": ["O"]}')

    assert main(["promote", good, "--bundles-uri", str(store_root)]) == 0
    active = registry.active()
    assert active is not None and active["version"] == 1
    assert active["promoted_at"].endswith("+00:00")
    manifest_bytes = (store_root / f"bundles/job-tiny/{export_id}/manifest.json").read_bytes()
    assert active["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    capsys.readouterr()

    err = _cli_error(capsys, ["promote", str(bad), "--bundles-uri", str(store_root)])
    assert "does not match its manifest" in err and "label_map.json" in err
    assert registry.active() == active  # pointer unchanged

    assert main(["bundles", "list", "--bundles-uri", str(store_root), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["export_id"] for r in rows} == {json.loads(manifest_bytes)["export_id"]}
    assert sum(r["active"] for r in rows) == 1
    assert rows[0]["quantize"] == "float16" and rows[0]["min_agreement"] >= 0.9


@pytest.mark.slow
def test_default_destination_is_the_registry_of_the_environment(
    checkpoint_dir, docs, tmp_path, capsys
) -> None:
    """Without --output-dir the bundle lands in bundles/<job>/<export_id>/ of the local store
    (a file:// URI internally), not in a directory named after the URI."""
    data = tmp_path / "parity.jsonl"
    _write_jsonl(data, docs)
    argv = [
        "export-coreml", "--checkpoint-dir", str(checkpoint_dir), "--quantize", "float32",
        "--formats", "onnx", "--seq-length", str(SEQ), "--parity-data", str(data),
        "--parity-receipts", "2", "--export-id", "exp-1", "--job-id", "job-x",
        "--data-dir", str(tmp_path / "home"), "--json", "--no-zip",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert sorted(result) == GOLDEN_CLI_JSON_KEYS
    assert result["mlpackage_uri"] is None and result["zip_uri"] is None
    assert result["onnx_uri"] == f"{result['bundle_uri']}/model.onnx"
    expected = tmp_path / "home" / "objects" / "bundles" / "job-x" / "exp-1"
    assert (expected / "manifest.json").is_file()
    assert verify_bundle(expected).ok
    assert result["bundle_uri"].endswith("bundles/job-x/exp-1")
    assert not any(p.name.startswith("file:") for p in Path.cwd().iterdir())


# -- parity receipts: the environment's store, the training dataset, synthetic -----------------


def _populate_store(data_dir: Path, docs: list[ReceiptDocument]) -> None:
    from receipt_dynamo import open_store
    from receipt_layoutlm.importers import import_documents

    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store("sqlite", path=data_dir / "receipts.sqlite3")
    report = import_documents(store, docs, source="test", label_proposed_by="import:test")
    assert report.receipts_written == len(docs)


def _onnx_export_argv(checkpoint_dir: Path, out: Path) -> list[str]:
    return [
        "export-coreml", "--checkpoint-dir", str(checkpoint_dir), "--output-dir", str(out),
        "--quantize", "float32", "--formats", "onnx", "--seq-length", str(SEQ),
        "--parity-receipts", "2", "--json", "--no-zip", "--min-agreement-int8", "0.9",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--data-dir", "RECEIPTS_HOME"])
def test_parity_reads_the_default_environment_store(
    how, checkpoint_dir, docs, tmp_path, capsys, monkeypatch
) -> None:
    """A plain export (no --env/--parity-data) gates on the environment's VALID receipts."""
    home = tmp_path / "home"
    _populate_store(home, docs)
    monkeypatch.delenv("RECEIPTS_ENV", raising=False)
    argv = _onnx_export_argv(checkpoint_dir, tmp_path / "bundle")
    if how == "--data-dir":
        monkeypatch.delenv("RECEIPTS_HOME", raising=False)
        argv += ["--data-dir", str(home)]
    else:
        monkeypatch.setenv("RECEIPTS_HOME", str(home))
    assert main(argv) == 0
    parity = json.loads(capsys.readouterr().out)["parity"]
    assert parity["source"] == "store:local"


def test_parity_falls_back_to_the_training_dataset_then_synthetic(
    checkpoint_dir, docs, tmp_path
) -> None:
    from receipt_cloud.settings import resolve_settings
    from receipt_layoutlm.export.parity_data import load_parity_documents
    from receipt_layoutlm.run_record import training_dataset_config

    empty = resolve_settings("local", data_dir=tmp_path / "empty-home", environ={})
    dataset = tmp_path / "train.jsonl"
    _write_jsonl(dataset, docs)
    trained = tmp_path / "trained" / "best"
    shutil.copytree(checkpoint_dir, trained)
    meta = json.loads((trained / "checkpoint.json").read_text())
    meta["dataset_config"] = {"dataset_file": str(dataset), "dev_ratio": 0.2}
    (trained / "checkpoint.json").write_text(json.dumps(meta))
    recorded = training_dataset_config(trained)["dataset_file"]

    got, source = load_parity_documents(2, settings=empty, training_dataset=recorded)
    assert source == f"jsonl:{dataset}" and len(got) == 2
    assert not (tmp_path / "empty-home").exists()  # looking did not create a store

    dataset.unlink()  # recorded, but gone: synthetic, and said so
    got, source = load_parity_documents(2, settings=empty, training_dataset=recorded)
    assert source == "synthetic" and all(d.key.startswith("synthetic:") for d in got)


def test_parity_thresholds_cover_every_mode_and_override_one_at_a_time() -> None:
    defaults = ParityThresholds()
    for mode, spec in QUANTIZE_MODES.items():
        assert 0.5 < defaults.for_mode(mode) <= 1.0  # a gate that can refuse
        assert defaults.for_mode(mode) == spec.default_agreement
        changed = ParityThresholds(**{mode: 0.25})
        assert changed.for_mode(mode) == 0.25
        others = set(QUANTIZE_MODES) - {mode}
        assert all(changed.for_mode(m) == defaults.for_mode(m) for m in others)
    # Quantizing loses agreement, never gains it: stricter thresholds for the wider modes.
    assert defaults.for_mode("float32") >= defaults.for_mode("int8") >= defaults.for_mode("int4")
    with pytest.raises(ExportError, match=r"no parity threshold for mode 'int3'.*float16"):
        defaults.for_mode("int3")
    with pytest.raises(ExportError, match="fraction in"):
        ParityThresholds(int8=1.5)


# -- publishing to s3: manifest last, an unfinished earlier attempt is cleared ------------------


def _recording(store):
    """The same store (same class, same state) that also remembers the order of its writes."""

    class Recording(type(store)):
        def put_file(self, key, path) -> None:
            self.writes.append(key)
            super().put_file(key, path)

    recording = Recording.__new__(Recording)
    recording.__dict__.update(store.__dict__)
    recording.writes = []
    return recording


@pytest.mark.slow
@pytest.mark.aws
def test_s3_publish_uploads_manifest_last_and_clears_an_unfinished_attempt(
    aws_env, unique_name, float16_bundle
) -> None:
    import boto3

    from receipt_cloud.objects import open_object_store
    from receipt_layoutlm.export.publish import upload_bundle

    bundle, _ = float16_bundle
    boto3.client("s3").create_bucket(Bucket=unique_name)
    prefix = f"s3://{unique_name}/bundles/job-tiny/exp-retry"
    store = open_object_store(prefix)
    store.put_bytes("vocab.txt", b"half-written")  # an earlier attempt died mid-upload
    store.put_bytes("stale-only-in-old-attempt.bin", b"x")

    recording = _recording(store)
    keys = upload_bundle(recording, bundle, before_upload=lambda: recording.writes.append("zip"))
    assert recording.writes[0] == "zip" and recording.writes[-1] == "manifest.json"
    assert keys[-1] == "manifest.json" and len(keys) == len(recording.writes) - 1
    assert not store.exists("stale-only-in-old-attempt.bin")
    assert store.get_bytes("vocab.txt") == (bundle / "vocab.txt").read_bytes()
    assert verify_bundle(bundle).ok
    with pytest.raises(ExportError, match="already holds a published bundle"):
        upload_bundle(store, bundle)


@pytest.mark.slow
@pytest.mark.aws
def test_export_to_s3_clears_an_unfinished_attempt_and_refuses_a_published_prefix(
    aws_env, unique_name, checkpoint_dir, docs
) -> None:
    import boto3

    from receipt_cloud.objects import open_object_store

    boto3.client("s3").create_bucket(Bucket=unique_name)
    prefix = f"s3://{unique_name}/bundles/job-tiny/exp-retry"
    store = open_object_store(prefix)
    store.put_bytes("stale-only-in-old-attempt.bin", b"x")  # an earlier attempt died here
    options = ExportOptions(
        checkpoint=str(checkpoint_dir),
        output=prefix,
        quantize="float32",
        formats=("onnx",),
        seq_length=SEQ,
        parity_receipts=1,
        thresholds=ParityThresholds(int8=0.5, all_words_floor=0.5),  # random tiny model
        make_zip=False,
    )
    result = export_bundle(options, documents=docs[:1])
    assert not store.exists("stale-only-in-old-attempt.bin")
    assert result.artifact_uri("onnx") == f"{prefix}/model.onnx"
    assert result.artifact_uri("coreml") is None
    assert store.exists("manifest.json") and store.exists("model.int8.onnx")
    with pytest.raises(ExportError, match="already holds a published bundle"):
        export_bundle(options, documents=docs[:1])


def test_every_record_quantize_mode_has_an_export_spec() -> None:
    """CoreMLExportJob.quantize is validated against receipt_dynamo's vocabulary; the exporter
    must know every one of those names (and no other)."""
    from receipt_dynamo.vocabulary import QuantizeMode as RecordMode

    assert set(QUANTIZE_MODES) == {m.value for m in RecordMode}
