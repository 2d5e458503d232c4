"""2-D box embedding starts (``training.box_init``) on a tiny LayoutLM."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from receipt_layoutlm.training.box_init import init_box_embeddings  # noqa: E402


def _model():
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    torch.manual_seed(0)
    config = LayoutLMConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=3,
    )
    return LayoutLMForTokenClassification(config)


def _table(model, axis: str):
    return getattr(model.layoutlm.embeddings, f"{axis}_position_embeddings").weight.detach()


def _neighbour_similarity(table) -> float:
    return float(torch.nn.functional.cosine_similarity(table[1:], table[:-1]).mean())


@pytest.mark.parametrize("mode", ["position", "sinusoidal"])
def test_smooth_starts_keep_the_random_scale(mode: str) -> None:
    model = _model()
    random_table = _table(model, "x").clone()
    done = init_box_embeddings(model, mode, std=0.02)
    assert len(done) == 4 and all("position_embeddings" in name for name in done)
    table = _table(model, "x")
    assert float(table.std()) == pytest.approx(0.02, rel=0.05)
    # Neighbouring coordinates start alike (random rows are unrelated).
    assert _neighbour_similarity(table) > 0.5 > abs(_neighbour_similarity(random_table))
    if mode == "position":
        one_d = model.layoutlm.embeddings.position_embeddings.weight.detach()
        # Row 0 is the 1-D table's row 0, recentred and rescaled.
        assert float(torch.nn.functional.cosine_similarity(table[:1], one_d[:1])) > 0.99
    else:
        assert not torch.allclose(_table(model, "x"), _table(model, "y"))


def test_random_leaves_the_tables_alone() -> None:
    model = _model()
    before = _table(model, "y").clone()
    assert init_box_embeddings(model, "random", std=0.02) == []
    assert torch.equal(before, _table(model, "y"))
