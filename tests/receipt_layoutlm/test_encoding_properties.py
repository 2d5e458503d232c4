"""Property tests of the encoding spec on random receipts (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receipt_layoutlm.document import DocWord, ReceiptDocument
from receipt_layoutlm.encoding import (
    CLS_BOX,
    IGNORE_INDEX,
    SEP_BOX,
    EncodingConfig,
    decode_word_labels,
    encode_receipt,
    group_lines,
    label_list,
    normalize_box,
    order_words,
)

ENTITIES = ["DATE", "TOTAL", "MERCHANT_NAME"]
LABEL2ID = {tag: i for i, tag in enumerate(label_list(ENTITIES))}
ID2LABEL = {i: tag for tag, i in LABEL2ID.items()}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


texts = st.one_of(
    st.text(alphabet="ab1.-$:/ É\u200b\t", min_size=0, max_size=12),
    st.text(alphabet="xyz0123456789-.", min_size=40, max_size=300),  # longer than a window
)


@st.composite
def documents(draw) -> ReceiptDocument:
    normalized = draw(st.booleans())
    width = 1.0 if normalized else draw(st.floats(1.0, 5000.0))
    height = 1.0 if normalized else draw(st.floats(1.0, 5000.0))
    n = draw(st.integers(0, 60))
    line_mode = draw(st.sampled_from(["all", "none", "some"]))
    words = []
    for i in range(n):
        # Up to 20% outside the receipt on each side: the encoding must clamp.
        xs = draw(st.lists(st.floats(-0.2 * width, 1.2 * width), min_size=2, max_size=2))
        ys = draw(st.lists(st.floats(-0.2 * height, 1.2 * height), min_size=2, max_size=2))
        x0, x1 = sorted(xs)
        y0, y1 = sorted(ys)
        has_line = line_mode == "all" or (line_mode == "some" and draw(st.booleans()))
        words.append(
            DocWord(
                text=draw(texts),
                corners=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                line_id=draw(st.integers(1, 8)) if has_line else None,
                word_id=i + 1 if has_line else None,
                label=draw(st.sampled_from([None, *ENTITIES])),
            )
        )
    return ReceiptDocument(
        key="random",
        width=width,
        height=height,
        words=words,
        origin=draw(st.sampled_from(["top-left", "bottom-left"])),
        normalized=normalized,
    )


@st.composite
def configs(draw) -> EncodingConfig:
    max_seq_length = draw(st.integers(16, 128))
    return EncodingConfig(
        max_seq_length=max_seq_length,
        stride=draw(st.integers(0, max_seq_length // 2)),
        line_overlap=draw(st.sampled_from([0.3, 0.5, 0.9])),
    )


@SETTINGS
@given(doc=documents(), config=configs())
def test_encoding_invariants(tokenizer, doc, config):
    enc = encode_receipt(doc, tokenizer, config, label2id=LABEL2ID)
    n = len(doc.words)
    assert sorted(enc.source_index) == list(range(n))
    assert len(enc.words) == len(enc.boxes) == len(enc.tags) == n

    for x0, y0, x1, y1 in enc.boxes:
        assert all(isinstance(v, int) and 0 <= v <= 1000 for v in (x0, y0, x1, y1))
        assert x0 <= x1 and y0 <= y1

    covered: set[int] = set()
    previous: set[int] = set()
    for window in enc.windows:
        size = len(window.input_ids)
        assert 2 <= size <= config.max_seq_length
        assert window.input_ids[0] == tokenizer.cls_token_id
        assert window.input_ids[-1] == tokenizer.sep_token_id
        assert window.bbox[0] == CLS_BOX and window.bbox[-1] == SEP_BOX
        assert window.word_index[0] is None and window.word_index[-1] is None
        assert len(window.bbox) == len(window.labels) == len(window.word_index) == size
        assert window.attention_mask == [1] * size
        members = {w for w in window.word_index if w is not None}
        for pos, w in enumerate(window.word_index):
            if w is None:
                assert window.labels[pos] == IGNORE_INDEX
                continue
            assert window.bbox[pos] == enc.boxes[w]
            first = window.word_index.index(w) == pos
            expected = LABEL2ID[enc.tags[w]] if first else IGNORE_INDEX
            assert window.labels[pos] == expected
        if previous:
            assert members - previous, "a window brought no new word"
        previous = members
        covered |= members
    assert covered == set(range(n))

    logits = [np.random.default_rng(0).normal(size=(len(w), len(LABEL2ID))) for w in enc.windows]
    predictions = decode_word_labels(enc, logits, ID2LABEL)
    assert [p.word_index for p in predictions] == list(range(n))
    assert all(0.0 < p.confidence <= 1.0 for p in predictions)


@SETTINGS
@given(doc=documents())
def test_reading_order_and_lines_are_permutations(doc):
    ordered = order_words(doc)
    assert sorted(map(id, ordered)) == sorted(map(id, doc.words))
    lines = group_lines(doc.words, origin=doc.origin)
    assert sorted(id(w) for line in lines for w in line) == sorted(map(id, doc.words))
    assert all(line for line in lines)


@SETTINGS
@given(
    points=st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=4, max_size=4),
    width=st.floats(1e-3, 1e5),
    height=st.floats(1e-3, 1e5),
    origin=st.sampled_from(["top-left", "bottom-left"]),
    normalized=st.booleans(),
)
def test_normalize_box_is_always_a_valid_box(points, width, height, origin, normalized):
    x0, y0, x1, y1 = normalize_box(points, width, height, origin=origin, normalized=normalized)
    assert all(isinstance(v, int) and 0 <= v <= 1000 for v in (x0, y0, x1, y1))
    assert x0 <= x1 and y0 <= y1
