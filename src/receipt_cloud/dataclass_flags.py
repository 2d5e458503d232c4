"""Command-line flags generated from a config dataclass: each flag's type, default, choices and
help come from its field (annotation, default, ``Literal`` values, attribute docstring), so a
default is written once, in the dataclass. Torch-free and shared: ``layoutlm-cli`` (training,
export, the export worker) and ``receipt-ocr`` build their flags with it.

Hand-written rather than simple_parsing/tyro: those derive flag names, groups and help layout
themselves, and this CLI's flag names, metavars and help lines must stay as they are.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

_UNSET: Any = object()


@dataclass(frozen=True)
class Flag:
    """One flag of one dataclass field; everything but ``field`` overrides what the field says."""

    field: str
    """The dataclass field the flag sets."""
    flag: str | None = None
    """Option string; default ``--`` + the field name with dashes."""
    help: str | None = None
    """Help text; ``{default}`` expands to the field's default (or the ``defaults`` instance's
    value, :func:`add_flags`). None: the attribute docstring; ``""``: no help line."""
    default: Any = _UNSET
    """The argparse default; default the field's (None makes "not given" visible)."""
    convert: Callable[[Any], Any] | None = None
    """Applied to the parsed value (not None) by :func:`flag_values`; its errors are the
    library's own (one readable line), unlike an argparse ``type=``."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Other add_argument keywords (metavar, action, choices, type)."""
    aliases: tuple[str, ...] = ()
    """Other option strings for the same flag (an old spelling users still type)."""

    @property
    def option(self) -> str:
        return self.flag or "--" + self.field.replace("_", "-")

    @property
    def dest(self) -> str:
        return self.option.lstrip("-").replace("-", "_")


@cache
def field_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` from the string literal under each annotated attribute of ``cls``
    (and its dataclass bases), whitespace collapsed."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _plain(text: str) -> str:
    """A docstring as help text: no reST markup, ``%`` escaped for argparse."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "")
    return text.replace("%", "%%")


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _scalar(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


def _shown(value: Any) -> str:
    """A default as help shows it: ``120`` for ``120.0``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _argument(
    spec: Flag, f: dataclasses.Field, annotation: Any, doc: str, defaults: object | None
) -> dict[str, Any]:
    default = _field_default(f) if defaults is None else getattr(defaults, f.name)
    kwargs: dict[str, Any] = {"default": default if spec.default is _UNSET else spec.default}
    scalar = _scalar(annotation)
    if scalar is bool:
        kwargs["action"] = "store_true"
    elif typing.get_origin(scalar) is Literal:
        kwargs["choices"] = list(typing.get_args(scalar))
    elif scalar in (int, float):
        kwargs["type"] = scalar
    help_text = _plain(doc)
    if spec.help is not None:
        help_text = spec.help.replace("{default}", _shown(default))
    if help_text:
        kwargs["help"] = help_text
    kwargs.update(spec.kwargs)
    return kwargs


def add_flags(
    parser: Any, cls: type, flags: Iterable[Flag | str], *, defaults: object | None = None
) -> list[Flag]:
    """Add one argument per flag (a field name stands for ``Flag(name)``) to ``parser`` (a
    parser or argument group), in order; returns the specs for :func:`flag_values`.

    ``defaults``, an instance of ``cls``, gives the defaults instead of the fields' own (one
    program's setting of a shared config, like the OCR worker's ``WorkerConfig``)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    specs = _specs(flags)
    for spec in specs:
        if spec.field not in fields:
            raise ValueError(f"{cls.__name__} has no field {spec.field!r}")
        field_ = fields[spec.field]
        kwargs = _argument(spec, field_, hints[spec.field], docs.get(spec.field, ""), defaults)
        if spec.aliases:
            kwargs.setdefault("dest", spec.dest)  # the new spelling names it, not the first
        parser.add_argument(spec.option, *spec.aliases, **kwargs)
    return specs


def _specs(flags: Iterable[Flag | str]) -> list[Flag]:
    return [Flag(spec) if isinstance(spec, str) else spec for spec in flags]


def flag_values(args: argparse.Namespace, flags: Iterable[Flag | str]) -> dict[str, Any]:
    """``{field: value}`` of the flags whose parsed value is not None (given, or defaulted to a
    value by the field), with ``convert`` applied and lists made tuples."""
    values: dict[str, Any] = {}
    for spec in _specs(flags):
        value = getattr(args, spec.dest)
        if value is None:
            continue
        if spec.convert is not None:
            value = spec.convert(value)
        values[spec.field] = tuple(value) if isinstance(value, list) else value
    return values
