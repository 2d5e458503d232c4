"""The tiny from-scratch LayoutLM the receipt_layoutlm tests build (seconds to train, export and
run): one place for its shape, so a test names only what it varies."""

from __future__ import annotations

from typing import Any


def tiny_layoutlm(
    num_labels: int,
    vocab_size: int,
    *,
    seed: int,
    hidden: int = 32,
    layers: int = 2,
    max_positions: int = 512,
) -> Any:
    """A ``LayoutLMForTokenClassification`` in eval mode, seeded: 2 heads, an intermediate layer
    twice ``hidden``, ``max_positions`` 1-D positions."""
    import torch
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    torch.manual_seed(seed)
    config = LayoutLMConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
        num_labels=num_labels,
    )
    return LayoutLMForTokenClassification(config).eval()
