"""Names users choose that later become keys, object-key segments and directory names.

A job name ends up in ``runs/<job>/``, ``<data-dir>/training/<job>`` and a SageMaker job name; an
export id in ``bundles/<job>/<export id>/``; a model name in ``<name>.mlpackage``. Each is checked
here, at the edge (CLI flags, the training entry, Lambda payloads, queue messages), before any
work is done, so ``--job-name ../../x`` is one clear error instead of checkpoints written outside
the data dir. This is the one name rule: messages and payloads use :func:`check_name` with their
field's name, the CLI the ``validate_*`` helpers with their flag's.
"""

from __future__ import annotations

import re

from receipt_dynamo.errors import EntityValidationError

NAME_MAX = 63
"""Longest name (the SageMaker job-name length)."""
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")
"""A letter or digit, then up to 62 letters, digits, ``.``, ``_`` or ``-`` (63 in all); no ``/``,
no leading dot, so never a path escape. Used with ``fullmatch``; the ``\\Z`` keeps a trailing
newline out even where someone calls ``match`` (``$`` would let ``"name\\n"`` through)."""
SHOWN_CHARS = 80
"""How much of a hostile value an error message (and so a log line) repeats."""


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` capped at ``limit`` characters, with the full length when cut: a 250 KB
    id from a message is named in an error (and the log line it becomes) without being copied."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value)} characters" if isinstance(value, str | bytes) else type(value).__name__
    return f"{text[:limit]}... ({size})"


def is_name(value: object) -> bool:
    """Whether ``value`` follows the name rule."""
    return isinstance(value, str) and NAME_PATTERN.fullmatch(value) is not None


def check_name(what: str, value: object, *, where: str | None = None) -> str:
    """``value`` if it follows the name rule, else EntityValidationError: one line naming
    ``what`` (``job_id``, ``--job-name``...) and ``where`` it came from, the value capped."""
    if is_name(value):
        return str(value)
    source = f" ({where})" if where else ""
    raise EntityValidationError(
        f"{what} {shown(value)} is not allowed{source}: use 1-{NAME_MAX} letters, digits, '.', "
        "'_' or '-', starting with a letter or digit (it becomes a folder and object-key name)"
    )


def validate_job_name(name: object) -> str:
    """``name`` if it is a safe training job name, else EntityValidationError naming --job-name."""
    return check_name("job name", name, where="--job-name")


def validate_export_id(export_id: object) -> str:
    """``export_id`` if it is a safe export id, else EntityValidationError naming --export-id."""
    return check_name("export id", export_id, where="--export-id")


def validate_model_name(name: object) -> str:
    """``name`` if it is a safe model (``.mlpackage``) name, else an error naming --model-name."""
    return check_name("model name", name, where="--model-name")
