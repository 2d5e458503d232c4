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
    key_lexicon: bool = False,
    min_count: int = 2,
    runtime: str = "torch",
) -> dict[str, Any]:
    """Fit the line classifier (from the checkpoint's predictions on ``datasets``), the known
    values (from their key values) and/or the key lexicon (from their word labels) into
    ``checkpoint``, replacing those there; what was fitted, as the CLI prints it. Nothing is
    written unless every requested fit succeeds."""
    if not (line_classifier or known_values or key_lexicon):
        raise DatasetError("fit-fields: --line-classifier none, --known-values none and "
                           "--key-lexicon none leave nothing to fit")
    out: dict[str, Any] = {"checkpoint": str(checkpoint)}
    # The lexicons are fitted first: they read no model, so a dataset without what they need
    # is refused in a second. Saved last: a refused line classifier leaves the checkpoint as
    # it was.
    lexicons: list[Any] = []
    if known_values:
        from receipt_layoutlm.training.known_values_fit import fit_known_values_from_files

        lexicons.append(fit_known_values_from_files(datasets, min_count=min_count))
        out["known_values"] = dict(lexicons[-1].fitted_on)
    if key_lexicon:
        from receipt_layoutlm.training.key_lexicon_fit import fit_key_lexicon_from_files

        lexicons.append(fit_key_lexicon_from_files(datasets, min_count=min_count))
        out["key_lexicon"] = dict(lexicons[-1].fitted_on)
    if line_classifier:
        from receipt_layoutlm.training.line_classifier_fit import fit_onto_checkpoint

        classifier = fit_onto_checkpoint(checkpoint, datasets, runtime=runtime)
        out.update(fields=sorted(classifier.models), fitted_on=classifier.fitted_on)
    for fitted in lexicons:
        fitted.save(checkpoint)
    return out
