"""A Core ML program with enumerated sequence lengths (128/256/512): converted with
``ct.EnumeratedShapes`` on every sequence input, run through the MIL interpreter at each length
(each window at the smallest length that holds it), and through the parity gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tiny_layoutlm import tiny_layoutlm

torch = pytest.importorskip("torch")
pytest.importorskip("coremltools")

from receipt_layoutlm.checkpoint import save_checkpoint  # noqa: E402
from receipt_layoutlm.document import DocWord, ReceiptDocument  # noqa: E402
from receipt_layoutlm.encoding import EncodingConfig, label_list  # noqa: E402
from receipt_layoutlm.errors import ExportError  # noqa: E402
from receipt_layoutlm.export import ExportOptions, export_bundle, get_quantize_mode  # noqa: E402
from receipt_layoutlm.export.coreml import CoreMLOptions, convert_to_coreml  # noqa: E402
from receipt_layoutlm.export.parity import ParityThresholds, run_parity  # noqa: E402
from receipt_layoutlm.runtime import load_runtime  # noqa: E402

LABELS = label_list(["DATE", "GRAND_TOTAL", "MERCHANT_NAME"])
LENGTHS = (128, 256, 512)


def _receipt(key: str, lines: int) -> ReceiptDocument:
    words = []
    for line in range(lines):
        y = 20.0 + 24.0 * line
        for n, (text, label) in enumerate(
            [("NASI", None), ("LEMAK", None), ("12.50", "GRAND_TOTAL"), ("25/12/2018", "DATE")]
        ):
            x = 10.0 + 120.0 * n
            corners = ((x, y), (x + 100, y), (x + 100, y + 18), (x, y + 18))
            words.append(DocWord(text, corners, line_id=line, word_id=n, label=label))
    return ReceiptDocument(key=key, width=600.0, height=40.0 + 24.0 * lines, words=words)


@pytest.fixture(scope="module")
def enumerated(tmp_path_factory, tokenizer) -> tuple[Path, Path, list[ReceiptDocument], object]:
    """A float16 bundle at 512 (its parity gate passed), and a copy whose program takes every
    length of LENGTHS; the receipts need 128, 256 and 512 tokens."""
    root = tmp_path_factory.mktemp("lengths")
    model = tiny_layoutlm(len(LABELS), len(tokenizer), seed=7)
    checkpoint = save_checkpoint(
        root / "best", model, tokenizer, LABELS, EncodingConfig(max_seq_length=512, stride=64)
    )
    docs = [_receipt("short", 5), _receipt("medium", 15), _receipt("long", 30)]
    fixed = root / "fixed"
    export_bundle(
        ExportOptions(checkpoint=str(checkpoint), output=str(fixed), formats=("coreml",),
                      seq_length=512, weight_threshold=256, make_zip=False),
        documents=docs,
    )
    flexible = root / "enumerated"
    export_bundle(
        ExportOptions(checkpoint=str(checkpoint), output=str(flexible), formats=("coreml",),
                      seq_length=512, coreml_seq_lengths=LENGTHS[:-1], weight_threshold=256,
                      make_zip=False),
        documents=docs,
    )
    return fixed, flexible, docs, checkpoint


def test_the_bundle_says_where_an_enumerated_program_runs(enumerated) -> None:
    fixed, flexible, _, _ = enumerated
    manifest = json.loads((flexible / "manifest.json").read_text())
    assert manifest["minimum_deployment_target"] == {"iOS": "iOS18", "macOS": "macOS15"}
    assert json.loads((flexible / "config.json").read_text())["export"]["seq_lengths"] == list(
        LENGTHS
    )
    fixed_manifest = json.loads((fixed / "manifest.json").read_text())
    assert fixed_manifest["minimum_deployment_target"] == {"iOS": "iOS17", "macOS": "macOS14"}
    assert "seq_lengths" not in json.loads((fixed / "config.json").read_text())["export"]


def test_every_sequence_input_takes_each_enumerated_length(enumerated) -> None:
    _, flexible, _, _ = enumerated
    runtime = load_runtime("coreml-mil", flexible)
    assert runtime.seq_lengths == LENGTHS and runtime.seq_length == 512
    shapes = runtime.interpreter.input_shapes
    assert shapes["input_ids"] == shapes["attention_mask"] == shapes["token_type_ids"] == tuple(
        (1, n) for n in LENGTHS
    )
    assert shapes["bbox"] == tuple((1, n, 4) for n in LENGTHS)
    import coremltools as ct

    model = ct.models.MLModel(str(runtime.mlpackage), skip_model_load=True)
    assert model.get_spec().specificationVersion >= 9  # iOS18/macOS15: several enumerated inputs
    assert model.user_defined_metadata["seq_lengths"] == "128,256,512"
    assert [runtime.window_length(n) for n in (1, 128, 129, 256, 257, 512)] == [
        128, 128, 256, 256, 512, 512
    ]
    with pytest.raises(ExportError, match="expects"):
        runtime.interpreter.predict(
            {name: np.zeros((*shape[:1], 100, *shape[2:]), dtype=np.int32)
             for name, (shape, _) in runtime.interpreter.input_specs.items()}
        )


def test_each_length_runs_and_matches_the_fixed_program(enumerated) -> None:
    fixed, flexible, docs, _ = enumerated
    runtime, reference = load_runtime("coreml-mil", flexible), load_runtime("coreml-mil", fixed)
    ran: list[int] = []
    run_window = runtime.run_window

    def record(arrays):
        ran.append(arrays["input_ids"].shape[1])
        return run_window(arrays)

    runtime.run_window = record  # type: ignore[method-assign]
    for doc in docs:
        encoded = runtime.encode(doc)
        for got, want in zip(runtime.predict_windows(encoded),
                             reference.predict_windows(encoded), strict=True):
            assert got.shape == want.shape
            assert float(np.abs(got - want).max()) < 2e-2  # float16 programs, other padding
    assert sorted(set(ran)) == list(LENGTHS)


def test_the_parity_gate_passes_at_enumerated_lengths(enumerated) -> None:
    _, flexible, docs, checkpoint = enumerated
    report = run_parity(
        load_runtime("torch", checkpoint), [load_runtime("coreml-mil", flexible)], docs,
        thresholds=ParityThresholds(all_words_floor=0.9),
    )
    assert report.passed, report.table()
    (result,) = report.results
    assert result.nonfinite_outputs == 0 and result.max_abs_logit_diff < 2e-2


def test_a_length_longer_than_the_windows_is_refused(enumerated, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"outside 1\.\.512"):
        convert_to_coreml(
            tiny_layoutlm(len(LABELS), 100, seed=1), tmp_path / "x.mlpackage",
            get_quantize_mode("float16"), CoreMLOptions(seq_length=512, seq_lengths=(1024,)),
        )
