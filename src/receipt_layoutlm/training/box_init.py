"""Starting values for the 2-D box embeddings a text-only warm start lacks.

LayoutLM adds six box embeddings to every token (x0, y0, x1, y1 through the x/y tables, height
and width through the h/w tables), indexed by coordinates 0–1023. A BERT warm start has none,
so they start random — nothing tells the model that coordinate 500 is next to 501. Two
smooth starts:

- ``position``: row ``i`` of each table is row ``i·(P-1)/1023`` (rounded) of the text's 1-D
  position table (``P`` rows), which the warm start learned to be smooth in position;
- ``sinusoidal``: the transformer's sin/cos encoding of the coordinate, with the y/h tables
  phase-shifted from the x/w ones so the two axes differ.

Either is rescaled to the standard deviation the random init would have had
(``initializer_range``), so the box terms add no more to a token's embedding than before.
"""

from __future__ import annotations

import math
from typing import Any, Literal

BoxInit = Literal["random", "position", "sinusoidal"]
BOX_TABLES = ("x", "y", "h", "w")


def _sinusoidal(rows: int, dim: int, phase: float) -> Any:
    import torch

    position = torch.arange(rows, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(1e4) / dim))
    table = torch.zeros(rows, dim)
    table[:, 0::2] = torch.sin(position * frequency + phase)
    table[:, 1::2] = torch.cos(position * frequency + phase)[:, : dim // 2]
    return table


def init_box_embeddings(model: Any, mode: BoxInit, std: float) -> list[str]:
    """Overwrite the box tables of a ``LayoutLMForTokenClassification`` per ``mode``; returns
    the tensors set (none for ``random``)."""
    import torch

    if mode == "random":
        return []
    embeddings = model.layoutlm.embeddings
    one_d = embeddings.position_embeddings.weight.detach()
    done = []
    with torch.no_grad():
        for axis in BOX_TABLES:
            table = getattr(embeddings, f"{axis}_position_embeddings").weight
            rows, dim = table.shape
            if mode == "position":
                index = torch.round(torch.arange(rows) * (one_d.shape[0] - 1) / (rows - 1)).long()
                start = one_d[index].clone()
            else:
                start = _sinusoidal(rows, dim, phase=0.0 if axis in ("x", "w") else math.pi / 4)
            start = (start - start.mean()) / (start.std() + 1e-12) * std
            table.copy_(start.to(table.dtype))
            done.append(f"layoutlm.embeddings.{axis}_position_embeddings.weight")
    return done
