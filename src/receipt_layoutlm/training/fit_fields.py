"""Fit the learned field models onto a trained checkpoint (``layoutlm-cli fit-fields``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from receipt_layoutlm.errors import DatasetError


def fit_fields(
    checkpoint: str | Path,
    datasets: Sequence[str | Path],
    *,
    line_classifier: bool = True,
    known_values: bool = False,
    min_count: int = 2,
    runtime: str = "torch",
) -> dict[str, Any]:
    """Fit the line classifier (from the checkpoint's predictions on ``datasets``) and/or the
    known values (from their key values) into ``checkpoint``, replacing those there; what was
    fitted, as the CLI prints it. Nothing is written unless every requested fit succeeds."""
    if not line_classifier and not known_values:
        raise DatasetError("fit-fields: --line-classifier none and --known-values none leave "
                           "nothing to fit")
    out: dict[str, Any] = {"checkpoint": str(checkpoint)}
    known = None
    if known_values:
        from receipt_layoutlm.training.known_values_fit import fit_known_values_from_files

        # Fitted first: it reads no model, so a dataset without key values is refused in a
        # second. Saved last: a refused line classifier leaves the checkpoint as it was.
        known = fit_known_values_from_files(datasets, min_count=min_count)
        out["known_values"] = dict(known.fitted_on)
    if line_classifier:
        from receipt_layoutlm.training.line_classifier_fit import fit_onto_checkpoint

        classifier = fit_onto_checkpoint(checkpoint, datasets, runtime=runtime)
        out.update(fields=sorted(classifier.models), fitted_on=classifier.fitted_on)
    if known is not None:
        known.save(checkpoint)
    return out
