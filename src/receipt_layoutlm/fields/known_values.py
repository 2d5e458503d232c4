"""Known values: a read merchant or address replaced by the value it nearly spells.

A photo's company and address are often the right span with OCR character errors in it
(``MR. D.I.Y. SON BHD``, ``LOT 1451-A & 1851-B, JALAN KPB 6``), or in the print's case where the
annotation is upper case. Vendors repeat: most receipts a user reviews come from shops whose
name and address were already annotated on earlier receipts. :class:`KnownValues` holds those
annotated texts per field, fitted on training receipts' ground truth
(``training.known_values_fit``: only values seen on at least two receipts, so a value printed
once — perhaps a person's name — is never shipped inside a bundle), and :meth:`KnownValues.snap`
replaces a read value by the known one it matches:

- compared case-folded with whitespace collapsed; an exact hit is a dictionary look-up;
- else rapidfuzz's ``fuzz.ratio`` (100 = the same string) of at least
  :attr:`KnownValues.min_ratio`;
- else, with :attr:`KnownValues.partial`, a known value (at least
  :attr:`KnownValues.partial_min_share` of the read text's length) found nearly inside a longer
  read text (``fuzz.partial_ratio``): a company span that kept a branch line or a person's name;
- refused when another known value scores within :attr:`KnownValues.ambiguity_margin` of the
  best: two shops of one chain differ by a branch name, and a guess between them is worse than
  the text as read.

The replacement is the known value as annotated (which also gives the annotation's case); the
word indices and confidence stay the read span's, and ``FieldValue.snapped_from`` keeps the text
as read. Stored as plain JSON (:data:`KNOWN_VALUES_FILE`) next to the model, like the total
picker, so every runtime applies it in pure Python (rapidfuzz, no numpy).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rapidfuzz import fuzz, process

from receipt_layoutlm.bundle_format import (
    KNOWN_VALUES_FILE,
    MAX_FITTED_FILE_BYTES,
    checked_fitted_version,
    read_fitted_file,
)
from receipt_layoutlm.errors import CheckpointError

if TYPE_CHECKING:
    from receipt_layoutlm.fields.values import FieldValue

KNOWN_VALUES_VERSION = 1
KNOWN_FIELDS: tuple[str, ...] = ("merchant", "address")
"""The fields a lexicon is fitted for (the SROIE text keys)."""
MAX_FILE_BYTES = MAX_FITTED_FILE_BYTES
"""A larger known-values file is refused unread (a lexicon of 100 000 addresses is ~8 MB)."""
MAX_VALUE_CHARS = 1000
"""A known value longer than this is refused: no merchant or address is that long."""
_SPACE = re.compile(r"\s+")
_RIVALS = 5
"""How many best matches are compared when deciding whether a match is ambiguous."""


def normalise(text: str) -> str:
    """The string values are compared as: case-folded, whitespace runs collapsed, stripped."""
    return _SPACE.sub(" ", text).strip().casefold()


class _Index(NamedTuple):
    exact: dict[str, str]
    """Normalised text → the known value as annotated."""
    normals: list[str]
    """The distinct normalised texts, for rapidfuzz."""
    originals: list[str]
    """The known value as annotated, per entry of ``normals``."""


@dataclass(frozen=True)
class KnownValues:
    """Known texts per field and how a read value is matched to them."""

    values: Mapping[str, Mapping[str, int]]
    """Field (``merchant``, ``address``) → known text as annotated → on how many training
    receipts it was seen."""
    min_ratio: float = 95.0
    """Smallest rapidfuzz score (0-100) between the read text and a known value, both
    normalised, for the read text to be replaced. 95 is what the 5 folds of
    ``benchmarks/known_values_bench.py`` agreed on (docs/training.md), from the a-priori grid
    80/85/90/95: the only threshold that helped or held every fold, transcripts and OCR'd
    re-renders alike."""
    partial: bool = False
    """Also replace a read text that nearly contains a known value (``fuzz.partial_ratio``)
    when no whole-string match is found: a company span that kept a branch line. Off by
    default: on the folds it lost more transcripts (a longer true name snapped to a chain's
    shorter one) than it won re-renders."""
    partial_min_share: float = 0.5
    """A partial match needs the known value to be at least this share of the read text's
    length (fixed a priori: a short name inside a long span is more likely a coincidence)."""
    ambiguity_margin: float = 2.0
    """A match is refused when a second known value scores within this many points of the best
    one (fixed a priori)."""
    min_chars: int = 4
    """Read texts shorter than this (normalised) are never replaced (fixed a priori)."""
    fitted_on: Mapping[str, Any] = field(default_factory=dict)
    """What the fit saw (receipts, values kept per field), for the record."""

    @functools.cached_property
    def _indexes(self) -> dict[str, _Index]:
        indexes = {}
        for name, known in self.values.items():
            # Case variants of one value share an entry: the most frequent spelling wins.
            best: dict[str, tuple[int, str]] = {}
            for text, count in sorted(known.items()):
                key = normalise(text)
                if key and (key not in best or count > best[key][0]):
                    best[key] = (count, text)
            exact = {key: text for key, (_, text) in best.items()}
            indexes[name] = _Index(exact, list(exact), list(exact.values()))
        return indexes

    def match(self, field_name: str, text: str) -> str | None:
        """The known value ``text`` is read as for ``field_name``; None when there is none or
        the match is ambiguous."""
        index = self._indexes.get(field_name)
        query = normalise(text)
        if index is None or len(query) < self.min_chars:
            return None
        hit = index.exact.get(query)
        if hit is not None:
            return hit
        found = self._best(query, index.normals, fuzz.ratio)
        if found is None and self.partial:
            shortest = self.partial_min_share * len(query)
            choices = {n: s for n, s in enumerate(index.normals)
                       if shortest <= len(s) < len(query)}
            found = self._best(query, choices, fuzz.partial_ratio)
        return None if found is None else index.originals[found]

    def _best(self, query: str, choices: Any, scorer: Any) -> int | None:
        top = process.extract(query, choices, scorer=scorer, limit=_RIVALS,
                              score_cutoff=self.min_ratio)
        if not top:
            return None
        # Annotators spell one address with and without a space after a comma
        # ("SS21/39,47400" and "SS21/39, 47400"): such rivals are one value, not two shops,
        # and the closest spelling is the one to give.
        best = _SPACE.sub("", top[0][0])
        rivals = [m for m in top[1:] if m[1] >= top[0][1] - self.ambiguity_margin]
        if any(_SPACE.sub("", m[0]) != best for m in rivals):
            return None
        return int(top[0][2])

    def snap(self, field_name: str, value: FieldValue) -> FieldValue:
        """``value`` with its text replaced by the known value it matches (word indices and
        confidence kept, the text as read in ``snapped_from``); ``value`` itself when none."""
        known = self.match(field_name, value.text)
        if known is None or known == value.text:
            return value
        snapped_value = known if isinstance(value.value, str) else value.value
        return dataclasses.replace(value, text=known, value=snapped_value,
                                   snapped_from=value.text)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": KNOWN_VALUES_VERSION,
            "values": {name: dict(sorted(known.items())) for name, known in self.values.items()},
            **{p: getattr(self, p) for p in _PARAMETERS},
            "fitted_on": dict(self.fitted_on),
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "known values") -> KnownValues:
        data = checked_fitted_version(data, KNOWN_VALUES_VERSION, "known-values", source,
                                      "layoutlm-cli fit-fields")
        values = _checked_values(data.get("values"), source)
        parameters = {}
        for name, (kinds, low, high) in _PARAMETERS.items():
            if name not in data:
                continue
            given = data[name]
            if not isinstance(given, kinds) or (bool not in kinds and isinstance(given, bool)):
                raise CheckpointError(f"{source}: {name} must be a "
                                      f"{' or '.join(k.__name__ for k in kinds)}, got {given!r}")
            if not low <= given <= high:
                raise CheckpointError(f"{source}: {name} must lie in {low}..{high}, got {given!r}")
            parameters[name] = given
        fitted_on = data.get("fitted_on", {})
        if not isinstance(fitted_on, dict):
            raise CheckpointError(f"{source}: fitted_on must be an object")
        return cls(values=values, fitted_on=fitted_on, **parameters)

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / KNOWN_VALUES_FILE
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return path


_PARAMETERS: dict[str, tuple[tuple[type, ...], float, float]] = {
    "min_ratio": ((int, float), 0, 100),
    "partial": ((bool,), False, True),
    "partial_min_share": ((int, float), 0, 1),
    "ambiguity_margin": ((int, float), 0, 100),
    "min_chars": ((int,), 0, MAX_VALUE_CHARS),
}
"""Matching parameters a known-values file may set: accepted types and range."""


def _checked_values(values: Any, source: str) -> dict[str, dict[str, int]]:
    if not isinstance(values, dict):
        raise CheckpointError(f"{source}: 'values' must map fields to known texts")
    out: dict[str, dict[str, int]] = {}
    for name, known in values.items():
        if not isinstance(known, dict):
            raise CheckpointError(f"{source}: values of {name!r} must map texts to counts")
        for text, count in known.items():
            if len(text) > MAX_VALUE_CHARS:
                raise CheckpointError(f"{source}: a {name} value is {len(text)} characters "
                                      f"long (at most {MAX_VALUE_CHARS})")
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise CheckpointError(f"{source}: the count of a {name} value must be a "
                                      f"positive integer, got {count!r}")
        out[str(name)] = dict(known)
    return out


def load_known_values(directory: str | Path) -> KnownValues | None:
    """The known values stored in a checkpoint or bundle directory; None when it has none."""
    data = read_fitted_file(directory, KNOWN_VALUES_FILE, "known values",
                            max_bytes=MAX_FILE_BYTES)
    if data is None:
        return None
    return KnownValues.from_json(data, source=str(Path(directory) / KNOWN_VALUES_FILE))
