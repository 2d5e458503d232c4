"""The export-time forward pass: LayoutLM with a finite attention-mask bias.

Hugging Face builds the attention bias as ``(1 - mask) * finfo(float32).min``. Converted to
float16 that constant is ``-inf``, and ``0 * -inf`` is NaN for every *unmasked* position, so the
stock model exports to an all-NaN float16 Core ML program. The wrapper runs the same submodules
but builds the bias with a finite value that float16 represents (-1e4: after softmax a masked
score is ``exp(-1e4) == 0`` in every precision).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from transformers import LayoutLMForTokenClassification

MASK_BIAS = -1.0e4
"""Additive attention bias for padding positions; finite in float16 (max magnitude 65504)."""

INPUT_NAMES = ("input_ids", "attention_mask", "bbox", "token_type_ids")
"""Model inputs in the order of the exported signature (ONNX and Core ML)."""
OUTPUT_NAME = "logits"


class ExportableLayoutLM(torch.nn.Module):
    """``LayoutLMForTokenClassification`` as ``(input_ids, attention_mask, bbox, token_type_ids)
    -> logits`` with a float16-safe mask."""

    def __init__(self, model: LayoutLMForTokenClassification) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        bbox: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> torch.Tensor:
        layoutlm = self.model.layoutlm
        # Unsqueeze, unsqueeze, cast, 1 - x, times the bias: the order ONNX Runtime's BERT
        # fusion traces back to the mask input to emit one fused Attention node per layer.
        keep = attention_mask.unsqueeze(1).unsqueeze(2).to(torch.float32)
        bias = (1.0 - keep) * MASK_BIAS
        hidden = layoutlm.embeddings(input_ids=input_ids, bbox=bbox, token_type_ids=token_type_ids)
        hidden = layoutlm.encoder(hidden, bias)[0]
        return self.model.classifier(hidden)


def exportable(model: LayoutLMForTokenClassification) -> ExportableLayoutLM:
    """Wrap ``model`` for tracing: eval mode, eager attention (plain matmul/softmax ops that
    every converter handles)."""
    model.eval()
    set_impl = getattr(model, "set_attn_implementation", None)
    if callable(set_impl):
        set_impl("eager")
    else:  # older transformers
        model.config._attn_implementation = "eager"
    # transformers derives each PreTrainedModel's ``loss_type`` from its class name, which
    # leaves the inner ``LayoutLMModel`` at None; ``torch.jit.trace`` reads every attribute of
    # every submodule (``module_has_exports``), so its ``loss_function`` property logged
    # "loss_type=None ... ForCausalLMLoss" on each export. It belongs to the token classifier.
    for module in model.modules():
        if getattr(module, "loss_type", "") is None:
            module.loss_type = model.loss_type
    return ExportableLayoutLM(model).eval()


def example_inputs(
    seq_length: int, *, dtype: torch.dtype = torch.int64
) -> tuple[torch.Tensor, ...]:
    """Tracing inputs of shape ``[1, S]`` / ``[1, S, 4]``: valid ids, a partly padded mask and
    well-formed boxes, so no branch is specialised on degenerate values."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(1000, 2000, (1, seq_length), generator=generator, dtype=dtype)
    attention_mask = torch.ones((1, seq_length), dtype=dtype)
    attention_mask[:, max(1, seq_length * 3 // 4) :] = 0
    corner = torch.randint(0, 500, (1, seq_length, 2), generator=generator, dtype=dtype)
    bbox = torch.cat([corner, corner + 10], dim=-1)
    token_type_ids = torch.zeros((1, seq_length), dtype=dtype)
    return input_ids, attention_mask, bbox, token_type_ids
