"""Names users choose that later become keys, object-key segments and directory names.

A job name ends up in ``runs/<job>/``, ``<data-dir>/training/<job>`` and a SageMaker job name; an
export id in ``bundles/<job>/<export id>/``; a model name in ``<name>.mlpackage``. Each is checked
here, at the edge (CLI flags, the training entry, Lambda payloads), before any work is done, so
``--job-name ../../x`` is one clear error instead of checkpoints written outside the data dir.
"""

from __future__ import annotations

import re

from receipt_dynamo.errors import EntityValidationError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
"""A letter or digit, then up to 62 letters, digits, ``.``, ``_`` or ``-`` (63 in all, the
SageMaker job-name length); no ``/``, no leading dot, so never a path escape."""


def _check(what: str, flag: str, value: object) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise EntityValidationError(
            f"{what} {value!r} is not allowed ({flag}): use 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it becomes a folder and object-key name)"
        )
    return value


def validate_job_name(name: object) -> str:
    """``name`` if it is a safe training job name, else EntityValidationError naming --job-name."""
    return _check("job name", "--job-name", name)


def validate_export_id(export_id: object) -> str:
    """``export_id`` if it is a safe export id, else EntityValidationError naming --export-id."""
    return _check("export id", "--export-id", export_id)


def validate_model_name(name: object) -> str:
    """``name`` if it is a safe model (``.mlpackage``) name, else an error naming --model-name."""
    return _check("model name", "--model-name", name)
