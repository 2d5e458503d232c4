"""Field repairs for OCR'd words: what a photo's OCR does to a field that a transcript never does.

Tesseract's lines carry debris at their ends — ``|``, ``:``, ``”``, logo strokes read as
``——`` — and line-block decoding (``fields.lines``) takes whole lines, debris included
(``| Adoi | : UNIHAKKA …``). It also splits printed amounts at the decimal point (``7.`` ``30``),
so no single word parses as the total the picker is looking for, misreads single characters
(``08/69/2017`` for ``08/09/2017``), reads a decimal point as a comma (``27,90``) and leaves
strokes inside a line (``TAMAN BERKELEY | 41150 KLANG``). The repairs, each a
:class:`FieldCleanup` switch and each inert on clean transcripts (every word there has a letter
or digit at a field's edge and OCR confidence 1.0, no amount is split, dates parse, no stroke
stands between words of a value):

- :func:`rejoin_amounts` glues ``<digits>.`` + ``<2 digits>`` (and ``<digits>`` + ``.<2
  digits>``) on one line into one word before any field is read, so the total picker and the
  amount fields see ``7.30``;
- :func:`trim_edges` drops words at the two ends of a text field (merchant, address…) that carry
  no letter or digit, or whose OCR confidence is below :attr:`FieldCleanup.min_edge_confidence`.
  Only the edges: ``&`` and ``-`` inside an address are part of it.
- :func:`drop_inner_debris` drops words INSIDE a text field that are no word of the training
  truth: no letter or digit and not one of :data:`SYMBOL_WORDS` (``&``, ``,``, ``-``…);
- :func:`repair_date` gives a date span that does not parse the one valid date a single OCR
  character confusion (:data:`OCR_CONFUSIONS`) away from it;
- :func:`decimal_point` writes an amount field's ``<digits>,<2 digits>`` as ``<digits>.<2
  digits>`` (SROIE's annotations never keep the print's decimal comma);
- :func:`letter_confusions` reads ``$`` beside a letter and ``~`` between letters or digits
  inside a merchant or address as what was printed (``JALAN $S21/39``, ``1851~A``);
- :func:`strip_glued_debris` strips strokes glued to a word's ends (``__UNIHAKKA``);
- the merchant's name rules of ``fields.company_name`` (``SON BHD`` read as ``SDN BHD``, a
  registration number and what follows it cut, the name ended at its legal suffix), switched
  here too, and an address ended before a phone number or date (``fields.address_text``).

All but :func:`rejoin_amounts` touch only the chosen field's words, never every word of the
receipt.

Pure Python, no numpy (the worker's field budget is 1 ms a receipt).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from receipt_layoutlm.fields.parsing import parse_date

_ALNUM = re.compile(r"[^\W_]")  # a letter or digit in any script
_INTEGER_DOT = re.compile(r"\d{1,7}\.")
_CENTS = re.compile(r"\d{2}")
_INTEGER = re.compile(r"\d{1,7}")
_DOT_CENTS = re.compile(r"\.\d{2}")


@dataclass(frozen=True)
class FieldCleanup:
    """Which OCR repairs ``extract_fields`` applies (``fields.ocr_cleanup``)."""

    rejoin_amounts: bool = True
    """Glue amounts the OCR split at the decimal point (``7.`` ``30`` → ``7.30``) before any
    field is read."""
    trim_edges: bool = True
    """Drop debris words at both ends of a text field's span."""
    min_edge_confidence: float = 0.3
    """An edge word whose OCR confidence is below this is debris. Fixed a priori (Tesseract
    gives misread strokes and noise confidences well under a half; real words it is unsure of
    sit around a half), never tuned on the sample photos; transcripts carry 1.0 and are
    untouched."""
    drop_inner_debris: bool = True
    """Drop words inside a text field's span that have no letter or digit and are not one of
    :data:`SYMBOL_WORDS` (the symbol words the training truth keeps): ``TAMAN BERKELEY | 41150``
    loses its ``|``. OCR confidence plays no part: Tesseract is often sure of a stroke."""
    repair_dates: bool = True
    """A date span whose text does not parse becomes the one valid date a single
    :data:`OCR_CONFUSIONS` substitution gives (``08/69/2017`` → ``08/09/2017``); when several
    do, the one printed elsewhere on the receipt, if exactly one is; else it stays."""
    date_alone: bool = True
    """A date field's text that holds one date with other characters glued to it is the date
    alone (``DATE:11/03/18``, ``21/05/2018TIME:``, ``20180428/191204``; :func:`date_alone`)."""
    sole_date: bool = True
    """A date no word was labelled for (nor found by the fallback), or whose words are no date
    even repaired, is the one date the receipt prints, when it prints exactly one
    (``fields.finishing.sole_date``)."""
    cash_rounding: bool = True
    """A total off the 5-cent grid is the cash-rounded total printed within 2 cents of it, if
    the receipt prints one (``fields.finishing.cash_rounded``)."""
    decimal_point: bool = True
    """An amount field's text ``<digits>,<2 digits>`` is written ``<digits>.<2 digits>``
    (``27,90`` → ``27.90``; its value was 27.9 already). A dataset convention: none of the 596
    SROIE training totals keeps a decimal comma (one thousands comma, ``1,007.50``, is left
    alone). WildReceipt's annotations keep the print (24 totals such as ``23,00``), but it is
    scored on values, so this changes none of its scores; turn it off where the text must stay
    as printed."""
    letter_confusions: bool = True
    """Inside a merchant or address, ``$`` beside a letter is an ``S`` and ``~`` between
    letters or digits a ``-`` (:func:`letter_confusions`)."""
    strip_glued_debris: bool = True
    """A merchant's or address's words lose the :data:`GLUED_DEBRIS` characters glued to their
    ends (``__UNIHAKKA`` → ``UNIHAKKA``; :func:`strip_glued_debris`)."""
    company_suffix: bool = True
    """A merchant's ``SON BHD`` (``S0N``, ``SQN``) is ``SDN BHD``
    (``fields.company_name.company_suffix``)."""
    registration_number: bool = True
    """A merchant's company registration number and what follows it (``SDN BHD(728384-M)``,
    ``COMPANY NO: MA0057302-M``), or a registration label without its number (``(CO.``), is
    not part of the name (``fields.company_name.registration_number``)."""
    ends_at_legal_suffix: bool = True
    """A merchant that reads on after its last legal suffix (``SDN BHD``, ``BHD``, ``S/B``)
    ends there: a branch or address line after the name is not part of it
    (``fields.company_name.ends_at_legal_suffix``)."""
    legal_name_line: bool = True
    """A merchant read over several lines whose last line is a whole legal name (``TK DIVISION
    KITCHEN SDN BHD``) is that line: the brand or branch above it is not part of it
    (``fields.finishing.legal_name_line``)."""
    address_ends_before_contact: bool = True
    """An address ends before a phone number, a date or a ``TEL``/``FAX``/``GST`` label read on
    after it (``fields.address_text.ends_before_contact``)."""

    @classmethod
    def off(cls) -> FieldCleanup:
        """No repair: the fields exactly as the model's words give them (every switch off, a
        switch added later included)."""
        return cls(**{f.name: False for f in dataclasses.fields(cls) if f.default is True})

    @property
    def cleans_text(self) -> bool:
        """Whether any repair of text fields' words is on."""
        return self.trim_edges or self.drop_inner_debris


DEFAULT_CLEANUP = FieldCleanup()
"""What inference and evaluation apply unless told otherwise."""

W = TypeVar("W")


def is_debris(text: str, ocr_confidence: float, min_confidence: float) -> bool:
    """Whether a word at a field's edge is OCR debris rather than part of the value."""
    return not _ALNUM.search(text) or ocr_confidence < min_confidence


def trim_edges(span: Sequence[W], cleanup: FieldCleanup = DEFAULT_CLEANUP) -> list[W]:
    """``span`` without its debris words at either end; the span unchanged when every word is
    debris (the field's words are then the best there is). Words need ``text`` and
    ``ocr_confidence``."""
    def debris(word: Any) -> bool:
        return is_debris(word.text, float(word.ocr_confidence), cleanup.min_edge_confidence)

    start, stop = 0, len(span)
    while start < stop and debris(span[start]):
        start += 1
    while stop > start and debris(span[stop - 1]):
        stop -= 1
    return list(span[start:stop]) if start < stop else list(span)


SYMBOL_WORDS: frozenset[str] = frozenset({"&", ",", ".", ":", "-", "/", "(", ")"})
"""Words without a letter or digit that a text field keeps inside it. Counted once on the
company and address values of the 596 SROIE training receipts
(``sroie_train_596.jsonl``), every whitespace-separated word with no letter or digit: ``&`` 108,
``,`` 8, ``.`` 3, ``:`` 3 (``LOT NO : 20``, ``DIMILIKI OLEH : DOVE``), ``-`` 1, ``/`` 1, ``)``
1, nothing else; ``(`` added as the pair of ``)``. Frozen here, never fitted on the sample
photos. Anything else (``|``, ``”``, ``—``, ``;``, ``_``…) inside a value is OCR debris.
``:`` is the close call: inside the addresses of the 265 OCR'd renders of training receipts a
lone ``:`` is debris 4 times (2 receipts, ``PANAS, : SETAPAK``), against the 3 the truth keeps,
so it stays."""


def drop_inner_debris(span: Sequence[W]) -> list[W]:
    """``span`` without the words between its first and last word with a letter or digit that
    have none and are not one of :data:`SYMBOL_WORDS`. Words need ``text``."""
    texts = [str(getattr(word, "text", "")).strip() for word in span]
    has_alnum = [bool(_ALNUM.search(text)) for text in texts]
    if True not in has_alnum:
        return list(span)
    first = has_alnum.index(True)
    last = len(span) - 1 - has_alnum[::-1].index(True)
    return [
        word for n, word in enumerate(span)
        if not first < n < last or has_alnum[n] or texts[n] in SYMBOL_WORDS
    ]


def clean_text_span(span: Sequence[W], cleanup: FieldCleanup = DEFAULT_CLEANUP) -> list[W]:
    """A text field's words after the switched-on word repairs: edges trimmed
    (:func:`trim_edges`), then inner debris dropped (:func:`drop_inner_debris`)."""
    kept = trim_edges(span, cleanup) if cleanup.trim_edges else list(span)
    return drop_inner_debris(kept) if cleanup.drop_inner_debris else kept


OCR_CONFUSIONS: dict[str, str] = {
    # Closed-loop digits: a broken, filled or smudged loop turns one into another. In the
    # OCR'd renders of the SROIE training receipts the invalid misread dates are 18/63/18,
    # 62-03-18, 92/03/2018 (truth 18/03/18, 02-03-18, 02/03/2018) and 94-01-18 (truth
    # 24-01-18: a 2 read as 9, left out of the table, so it is repaired to 04-01-18, wrong as
    # it was before).
    "0": "689", "6": "089", "8": "069", "9": "068",
    # A bar with or without its flag.
    "1": "7", "7": "1",
    # Letters read for the digit of the same shape.
    "O": "0", "o": "0", "D": "0", "Q": "0",
    "I": "1", "l": "1", "|": "1", "i": "1",
    "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "g": "9",
}
"""Character → the digits OCR commonly confuses it with, kept small on purpose: each entry is a
glyph-shape confusion, and a larger table makes more misread dates ambiguous (two valid
repairs), which :func:`repair_date` then leaves alone."""


MAX_DATE_CHARS = 32
"""Longer span texts are not tried (``September 30, 2018`` is 18 characters): each character
costs a few parses, and the fields step has 1 ms a receipt."""


def date_candidates(text: str) -> dict[str, str]:
    """Each valid date (ISO) one :data:`OCR_CONFUSIONS` substitution in ``text`` gives → the
    first text giving it; none for a text over :data:`MAX_DATE_CHARS`."""
    out: dict[str, str] = {}
    if len(text) > MAX_DATE_CHARS:
        return out
    for n, char in enumerate(text):
        for digit in OCR_CONFUSIONS.get(char, ""):
            candidate = text[:n] + digit + text[n + 1:]
            iso = parse_date(candidate)
            if iso is not None and iso not in out:
                out[iso] = candidate
    return out


def repair_date(text: str, printed: Callable[[], Iterable[str | None]]) -> tuple[str, str] | None:
    """``(text, iso)`` of the one valid date a single OCR confusion away from ``text`` (which
    does not parse); when several are, the one among ``printed()`` (the dates parsed from the
    receipt's other words, asked for only then), if exactly one is; else None."""
    candidates = date_candidates(text)
    if len(candidates) > 1:
        seen = set(printed())
        candidates = {iso: t for iso, t in candidates.items() if iso in seen}
    if len(candidates) != 1:
        return None
    ((iso, repaired),) = candidates.items()
    return repaired, iso


_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(\d{1,2}[/.-](?:\d{1,2}|[A-Za-z]{3})[/.-]\d{2,4}|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"
    r"|\d{8})(?!\d)"
)


def date_alone(text: str) -> tuple[str, str] | None:
    """``(date, iso)`` when ``text`` holds exactly one one-word date (``parse_date``'s numeric
    and ``15/APR/2017`` forms) with other characters glued to it; None when the text is that
    date already or holds no or several dates; brackets around the date itself stay. A dataset
    convention: 625 of the 626 SROIE training dates are the date alone and the other is the
    date in its brackets, while the label word a transcript or Tesseract prints is often glued
    to it (``DATE:02/02/17``, 10 of the 626)."""
    found = [(m, iso) for m in _DATE_IN_TEXT.finditer(text) if (iso := parse_date(m[1]))]
    if len(found) != 1:
        return None
    match, iso = found[0]
    start, end = match.span(1)
    if text[start - 1 : start] == "(" and text[end : end + 1] == ")":
        start, end = start - 1, end + 1  # brackets around the date itself stay, as annotated
    alone = text[start:end]
    return None if alone == text.strip() else (alone, iso)


_DECIMAL_COMMA = re.compile(r"(?<![\d.,])(\d{1,7}),(\d{2})(?![\d.,])")


def decimal_point(text: str) -> str:
    """``text`` with each ``<digits>,<2 digits>`` amount written ``<digits>.<2 digits>``;
    thousands groups (``1,007.50``, ``1,234``) stay."""
    return _DECIMAL_COMMA.sub(r"\1.\2", text) if "," in text else text


_GLUED_CONFUSION = re.compile(r"(?<=[A-Za-z$])\$|\$(?=[A-Za-z$])|(?<=[^\W_])~(?=[^\W_])")
_AS_PRINTED = {"$": "S", "~": "-"}


def letter_confusions(text: str) -> str:
    """``text`` (a merchant or address) with ``$`` beside a letter (or another ``$``) read as
    ``S`` and ``~`` between letters or digits read as ``-``: ``JALAN $$21/39`` → ``JALAN
    SS21/39``, ``1851~A`` → ``1851-A``. Neither character occurs in the company and address
    values of the 596 SROIE training receipts nor in WildReceipt's store names and addresses,
    so the text as read cannot be the value; in the OCR'd renders of the SROIE training
    receipts ``$S21``, ``$$21``, ``1851~A`` are such misreads. ``$`` before a digit (an amount)
    stays. ``!`` is left alone although ``ZHENG HU!`` and ``TAMPO!`` in those renders are
    misread ``I``s: WildReceipt's store names end with a real one (``CLOCKED!``,
    ``WELCOME TO SAFEWAY!``)."""
    if "$" not in text and "~" not in text:
        return text
    return _GLUED_CONFUSION.sub(lambda m: _AS_PRINTED[m.group()], text)


GLUED_DEBRIS = "|_“”‘’{}[]—"
"""Strokes Tesseract glues to a word's ends (``__UNIHAKKA``, ``“SAAR``, ``[P.NISANTHI]`` in the
OCR'd renders of the SROIE training receipts). None of these characters occurs anywhere in the
company and address values of the 596 training receipts (their only symbols are ``, . / - & (
) ' : # ;``)."""
_EDGE_DEBRIS = re.escape(GLUED_DEBRIS)
_GLUED_EDGES = re.compile(
    rf"(?<!\S)[{_EDGE_DEBRIS}]+(?=[^\s{_EDGE_DEBRIS}])|(?<=[^\s{_EDGE_DEBRIS}])[{_EDGE_DEBRIS}]+(?!\S)"
)


def strip_glued_debris(text: str) -> str:
    """``text`` (a merchant or address) without :data:`GLUED_DEBRIS` characters at the ends of
    its words; a word made only of them stays (the word-level repairs judge those)."""
    if not any(char in text for char in GLUED_DEBRIS):
        return text
    return _GLUED_EDGES.sub("", text)


def _pair_joins(left: str, right: str) -> bool:
    return bool(
        (_INTEGER_DOT.fullmatch(left) and _CENTS.fullmatch(right))
        or (_INTEGER.fullmatch(left) and _DOT_CENTS.fullmatch(right))
    )


_RIGHT_HALF = re.compile(r"\.?\d{2}")
"""What the right word of any pair :func:`_pair_joins` glues reads (stripped): one test that
rules out most neighbours before the left word is looked at."""


def _amount_joins(
    texts: Sequence[str], lines: Sequence[int | None], rows: Sequence[int] | None = None
) -> list[int]:
    """The positions whose word :func:`rejoin_amounts` glues to the next one, left to right (a
    glued pair is not glued again), from the words' texts, line ids and rows."""
    joins: list[int] = []
    right_halves = [i for i, text in enumerate(texts) if i and _RIGHT_HALF.fullmatch(text.strip())]
    for j in right_halves:
        i = j - 1
        if joins and joins[-1] >= i - 1:
            continue  # the left word is already the right half of a glued pair (or this is)
        line = lines[i]
        if (line is not None and line == lines[j]
                and (rows is None or rows[i] == rows[j])
                and _pair_joins(texts[i].strip(), texts[j].strip())):
            joins.append(i)
    return joins


def rejoin_amounts(
    words: Sequence[W], rows: Sequence[int] | None = None
) -> tuple[list[W], list[int] | None]:
    """``words`` with split amounts glued, and ``rows`` (one printed row per word) kept aligned.

    Two neighbours in reading order on the same line (and row, when rows are given) whose texts
    read ``<digits>.`` + ``<2 digits>`` or ``<digits>`` + ``.<2 digits>`` become one word: the
    first word with the joined text, its ``joined`` holding the second's indices, the lower
    confidence of the two and, per label, the higher probability (either half may be the one
    the model recognised as the amount). Words need ``text``, ``line``, ``confidence``,
    ``probabilities``, ``index``, ``joined`` and ``ocr_confidence`` (``fields._words.Word``).
    """
    # The pairs first, from the texts (one regex a word finds the few possible right halves),
    # then only those words are rebuilt: most receipts glue none.
    joins = _amount_joins([w.text for w in words],  # type: ignore[attr-defined]
                          [w.line for w in words], rows)  # type: ignore[attr-defined]
    out: list[Any] = []
    start = 0
    for i in joins:
        out.extend(words[start:i])
        out.append(_glued(words[i], words[i + 1]))
        start = i + 2
    out.extend(words[start:])
    if rows is None:
        return out, None
    dropped = {i + 1 for i in joins}  # each glued pair keeps its first word's row
    return out, [row for n, row in enumerate(rows) if n not in dropped] if joins else list(rows)


def _glued(word: Any, nxt: Any) -> Any:
    probabilities = {
        k: max(float(word.probabilities.get(k, 0.0)), float(nxt.probabilities.get(k, 0.0)))
        for k in {*word.probabilities, *nxt.probabilities}
    }
    return dataclasses.replace(
        word,
        text=word.text.strip() + nxt.text.strip(),
        label=word.label or nxt.label,
        confidence=min(word.confidence, nxt.confidence),
        ocr_confidence=min(word.ocr_confidence, nxt.ocr_confidence),
        probabilities=probabilities,
        joined=(*word.joined, nxt.index, *nxt.joined),
    )
