"""The traced export wrapper: tracing it logs nothing about a loss (transformers' base model had
``loss_type=None``, which printed "... Using the default loss: ForCausalLMLoss" on every export)."""

from __future__ import annotations

import logging

import pytest
from tiny_layoutlm import tiny_layoutlm


def test_tracing_the_wrapper_logs_no_loss_type_warning(caplog: pytest.LogCaptureFixture) -> None:
    import torch

    from receipt_layoutlm.export._wrapper import example_inputs, exportable

    model = tiny_layoutlm(3, 30522, seed=0, hidden=16, layers=1, max_positions=32)
    wrapper = exportable(model)
    assert {m.loss_type for m in model.modules() if hasattr(m, "loss_type")} == {
        "ForTokenClassification"}
    with caplog.at_level(logging.WARNING), torch.no_grad():
        torch.jit.trace(wrapper, example_inputs(16, dtype=torch.int32), strict=False,
                        check_trace=False)
    assert "loss_type" not in caplog.text
