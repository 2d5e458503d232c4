"""Printed keys the model left unread, recognised by their letters.

Key–value pairing (``encoding.pair_keys_with_values``) gives an amount its class from the key
printed beside it, but only from a key the model read. Rare keys are the ones it misses: tips
are printed on a few receipts in ten (``Gratuity``, ``18%Gratuity``, ``Tip:``), and a model
trained on a couple of hundred receipts reads them as ``OTHERS``, so their amounts go to the
look-alike tax or total. :class:`KeyLexicon` holds the keys' letters as the training receipts
print them (``training.key_lexicon_fit``: a word's letters that most of the time name one key,
on at least two receipts) and :meth:`KeyLexicon.relabel` gives that key to a word the model
left outside every key and value (``O``, ``OTHERS``, ``IGNORE``) before pairing reads the keys.

Letters only, case-folded (:func:`key_letters`): keys carry rates, colons and symbols that vary
from shop to shop (``18%Gratuity``, ``TVA%``, ``*Tip:``). A word the model reads as a key or a
value is left as it is: the lexicon adds keys the model missed, it does not overrule it. A
relabelled word's confidence is the model's own probability of the key, so a review sees how
sure the model was. Stored as plain JSON (:data:`KEY_LEXICON_FILE`) next to the model, like the
total picker, so every runtime applies it in pure Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.bundle_format import (
    KEY_LEXICON_FILE,
    checked_fitted_version,
    read_fitted_file,
)
from receipt_layoutlm.errors import CheckpointError

if TYPE_CHECKING:
    from receipt_layoutlm.encoding import WordPrediction

KEY_LEXICON_VERSION = 1
MIN_LETTERS = 2
"""A word with fewer letters than this is never a lexicon key (``T`` or ``%`` alone say
nothing of which key they are)."""
MAX_KEY_CHARS = 200
"""A stored key longer than this is refused: no printed key is that long."""
_KEY_SUFFIX = "_KEY"
"""A key label ends with this (``encoding.KEY_SUFFIX``; the fields package loads without
numpy, which the encoding package brings)."""


def key_letters(text: str) -> str:
    """What a word is compared as: its letters, case-folded (digits, symbols and spaces
    dropped)."""
    return "".join(ch for ch in text.casefold() if ch.isalpha())


@dataclass(frozen=True)
class KeyLexicon:
    """Printed keys by their letters, fitted on training receipts."""

    keys: Mapping[str, str]
    """:func:`key_letters` of a printed key → the key label it names (``TIPS_KEY``)."""
    fitted_on: Mapping[str, Any] = field(default_factory=dict)
    """What the fit saw (receipts, keys kept), for the record."""

    def relabel(
        self, predictions: Sequence[WordPrediction], tags: Sequence[str]
    ) -> list[WordPrediction]:
        """``predictions`` with every word the model left outside the keys and values, whose
        letters name a key of the model's ``tags`` with a value label beside it, relabelled as
        that key. Unchanged words are the same objects; a model without key/value pairs gets
        its predictions back as they are."""
        # The encoding package brings numpy; the fields package is imported without it.
        from receipt_layoutlm.encoding import add_keys

        if not self.keys:
            return list(predictions)
        return add_keys(predictions, tags, lambda text: self.keys.get(key_letters(text)))

    def to_json(self) -> dict[str, Any]:
        return {"version": KEY_LEXICON_VERSION, "keys": dict(sorted(self.keys.items())),
                "fitted_on": dict(self.fitted_on)}

    @classmethod
    def from_json(cls, data: Any, *, source: str = "key lexicon") -> KeyLexicon:
        data = checked_fitted_version(data, KEY_LEXICON_VERSION, "key-lexicon", source,
                                      "layoutlm-cli fit-fields --key-lexicon fit")
        keys = data.get("keys")
        if not isinstance(keys, dict):
            raise CheckpointError(f"{source}: 'keys' must map a key's letters to its label")
        for letters, label in keys.items():
            if not isinstance(label, str) or not label.endswith(_KEY_SUFFIX):
                raise CheckpointError(
                    f"{source}: key {letters[:40]!r} must name a label ending in "
                    f"{_KEY_SUFFIX}, got {str(label)[:40]!r}")
            if len(letters) > MAX_KEY_CHARS or key_letters(letters) != letters or not letters:
                raise CheckpointError(
                    f"{source}: key {letters[:40]!r} is not a printed key's case-folded "
                    f"letters (at most {MAX_KEY_CHARS})")
        fitted_on = data.get("fitted_on", {})
        if not isinstance(fitted_on, dict):
            raise CheckpointError(f"{source}: fitted_on must be an object")
        return cls(keys=dict(keys), fitted_on=fitted_on)

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / KEY_LEXICON_FILE
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return path


def load_key_lexicon(directory: str | Path) -> KeyLexicon | None:
    """The key lexicon stored in a checkpoint or bundle directory; None when it has none."""
    data = read_fitted_file(directory, KEY_LEXICON_FILE, "key lexicon")
    if data is None:
        return None
    return KeyLexicon.from_json(data, source=str(Path(directory) / KEY_LEXICON_FILE))
