"""Runtimes behind one interface: torch (checkpoint), onnx / onnx-int8 / coreml-mil (bundle)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_layoutlm import tiny_layoutlm

torch = pytest.importorskip("torch")
pytest.importorskip("coremltools")
pytest.importorskip("onnxruntime")

from receipt_layoutlm.checkpoint import save_checkpoint  # noqa: E402
from receipt_layoutlm.document import DocWord, ReceiptDocument  # noqa: E402
from receipt_layoutlm.encoding import (  # noqa: E402
    EncodingConfig,
    encode_receipt,
    label_list,
    load_tokenizer,
)
from receipt_layoutlm.errors import EncodingError  # noqa: E402
from receipt_layoutlm.export import ExportOptions, ParityThresholds, export_bundle  # noqa: E402
from receipt_layoutlm.pretrained import minilm_dir  # noqa: E402
from receipt_layoutlm.runtime import (  # noqa: E402
    RUNTIME_NAMES,
    RuntimeUnavailableError,
    load_runtime,
)

SEQ = 32
LABELS = label_list(["DATE", "GRAND_TOTAL", "MERCHANT_NAME"])

# Every test reads the bundle the module fixture exports (Core ML + ONNX).
pytestmark = pytest.mark.slow


def _doc(key: str, n_lines: int) -> ReceiptDocument:
    vocab = ["NASI", "LEMAK", "AYAM", "RM", "8.50", "TOTAL", "CASH", "02/03/2019", "TEH", "AIS"]
    words = []
    for line in range(n_lines):
        for i in range(4):
            text = vocab[(line * 4 + i) % len(vocab)]
            x, y = 10 + 90 * i, 15 + 25 * line
            corners = ((x, y), (x + 80, y), (x + 80, y + 18), (x, y + 18))
            words.append(DocWord(text, corners, line_id=line + 1, word_id=i + 1))
    return ReceiptDocument(key=key, width=400, height=40 + 25 * n_lines, words=words)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> tuple[Path, Path]:

    tokenizer = load_tokenizer(minilm_dir())
    model = tiny_layoutlm(len(LABELS), len(tokenizer), seed=7)
    root = tmp_path_factory.mktemp("rt")
    ckpt = save_checkpoint(
        root / "ckpt", model, tokenizer, LABELS, EncodingConfig(max_seq_length=SEQ, stride=8)
    )
    export_bundle(
        ExportOptions(
            checkpoint=str(ckpt),
            output=str(root / "bundle"),
            seq_length=SEQ,
            weight_threshold=256,
            parity_receipts=2,
            thresholds=ParityThresholds(int8=0.8, all_words_floor=0.8),  # random tiny model
            make_zip=False,
        ),
        documents=[_doc("a", 3), _doc("b", 12)],
    )
    return ckpt, root / "bundle"


def test_unknown_runtime_name_lists_choices(dirs) -> None:
    with pytest.raises(RuntimeUnavailableError, match="unknown runtime 'tflite'") as excinfo:
        load_runtime("tflite", dirs[1])
    for name in RUNTIME_NAMES:
        assert name in str(excinfo.value)


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML predict exists on macOS")
def test_coreml_off_macos_is_a_clear_error(dirs) -> None:
    with pytest.raises(RuntimeUnavailableError, match=r"needs macOS.*coreml-mil"):
        load_runtime("coreml", dirs[1])


def test_every_runtime_predicts_every_word_and_agrees_with_torch(dirs) -> None:
    ckpt, bundle = dirs
    doc = _doc("long", 15)  # 60 words: several windows at SEQ
    reference = load_runtime("torch", ckpt)
    ref = reference.predict(doc)
    assert [p.word_index for p in ref] == list(range(len(doc.words)))
    assert len(reference.encode(doc).windows) > 1
    ref_logits = reference.predict_windows(reference.encode(doc))
    for name, tol in (("onnx", 1e-4), ("coreml-mil", 1e-2), ("onnx-int8", 0.1)):
        runtime = load_runtime(name, bundle)
        assert runtime.labels == LABELS
        encoded = runtime.encode(doc)
        logits = runtime.predict_windows(encoded)
        assert [x.shape for x in logits] == [(len(w), len(LABELS)) for w in encoded.windows]
        for got, want in zip(logits, ref_logits, strict=True):
            assert np.isfinite(got).all()
            assert np.abs(got - want).max() < tol, name
        predictions = runtime.predict(doc)
        assert [p.text for p in predictions] == [p.text for p in ref]
        if name != "onnx-int8":
            assert [p.tag for p in predictions] == [p.tag for p in ref], name


def test_fixed_shape_runtime_refuses_a_longer_window(dirs) -> None:
    _, bundle = dirs
    runtime = load_runtime("coreml-mil", bundle)
    assert runtime.seq_length == SEQ
    too_long = encode_receipt(
        _doc("x", 20), runtime.tokenizer, EncodingConfig(max_seq_length=2 * SEQ, stride=8)
    )
    with pytest.raises(EncodingError, match=f"fixed length {SEQ}"):
        runtime.predict_windows(too_long)


def test_bundle_runtime_uses_bundle_encoding(dirs) -> None:
    _, bundle = dirs
    runtime = load_runtime("onnx", bundle)
    assert runtime.encoding_config.max_seq_length == SEQ
    assert all(len(w) <= SEQ for w in runtime.encode(_doc("y", 30)).windows)


def test_predict_document_gives_words_in_reading_order_and_fields(dirs) -> None:
    from receipt_layoutlm.prediction import predict_document

    ckpt, bundle = dirs
    doc = _doc("fields", 6)
    doc.words.reverse()  # input order must not matter: the encoding spec orders the words
    torch_result = predict_document(load_runtime("torch", ckpt), doc)
    onnx_result = predict_document(load_runtime("onnx", bundle), doc)
    assert [(w.line_id, w.word_id) for w in torch_result.words] == [
        (line, word) for line in range(1, 7) for word in range(1, 5)
    ]
    as_dict = torch_result.to_dict()
    assert len(as_dict["words"]) == len(doc.words)
    assert as_dict["words"][0]["text"] == "NASI" and as_dict["words"][0]["line_id"] == 1
    assert [p.tag for p in onnx_result.predictions] == [p.tag for p in torch_result.predictions]
    assert set(onnx_result.fields) == set(torch_result.fields)
    for p in torch_result.predictions:
        assert set(p.label_probabilities) == {"DATE", "GRAND_TOTAL", "MERCHANT_NAME"}
        assert 0.0 <= sum(p.label_probabilities.values()) <= 1.0 + 1e-6


def test_onnx_session_config_entries_reach_the_session(dirs) -> None:
    _, bundle = dirs
    entry = "session.intra_op.allow_spinning"
    runtime = load_runtime("onnx-int8", bundle, threads=2, session_config={entry: "0"})
    assert runtime.session.get_session_options().get_session_config_entry(entry) == "0"
    plain = load_runtime("onnx-int8", bundle, threads=2)
    doc = _doc("spin", 12)
    assert [p.tag for p in runtime.predict(doc)] == [p.tag for p in plain.predict(doc)]
