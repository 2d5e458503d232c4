"""Rules for a merchant's text (the SROIE company key), each read from the training truth's
conventions and each a :class:`~receipt_layoutlm.fields.ocr_cleanup.FieldCleanup` switch.

The line classifier (``fields.line_classifier``) chooses the company's lines; what these rules
mend is inside those lines, where no line choice can: an OCR misread of the legal suffix, a
registration number printed on the name's line, a branch or address line read on after the
name's legal suffix. Pure Python (the fields step's budget is about 1 ms).
"""

from __future__ import annotations

import re

_SON_BHD = re.compile(r"\bS[O0Q]N(?=\.?\s+BHD\b)")


def company_suffix(text: str) -> str:
    """``text`` (a merchant) with ``SON BHD`` (``S0N``, ``SQN``: the ``D`` misread as a round
    glyph) written ``SDN BHD``. The suffix of 321 of the 596 SROIE training companies is
    ``SDN BHD`` and none reads ``SON BHD``; the OCR'd renders of those receipts read ``SON
    BHD`` 4 times."""
    return _SON_BHD.sub("SDN", text) if "BHD" in text else text


_SPACES = re.compile(r"\s+")
_LABEL = r"\bCO(?:MPANY)?\.? ?(?:REG(?:ISTRATION)?\.? ?)?(?:NO|NUMBER)\b\.? ?:?"
_REGISTRATION = re.compile(
    rf"(?:[(\[] ?)?(?:{_LABEL} ?(?:[(\[] ?)?)?\b[A-Z]{{0,3}}\d{{4,8}} ?- ?[A-Z]\b"  # 273500-U
    rf"|{_LABEL} ?$"  # a label whose number is on the next line
    r"|\(CO(?:MPANY)?\.? ?$"  # the label cut at its first word
)
"""Matched against the text with its whitespace runs as one space: every optional space is at
most one character, so no input makes the search slower than linear."""


def registration_number(text: str) -> str:
    """``text`` (a merchant) without a company registration number and what follows it
    (``BROADVIEW MARKETING SDN BHD(728384-M)``, ``PERNIAGAAN ZHENG HUI JM0325965-V``,
    ``FILL IN ENTERPRISE COMPANY NO: MA0057302-M``, ``KING'S CONFECTIONERY S/B 273500-U
    (KSB)``), or a registration label left without its number (``ADVANCO COMPANY COMPANY REG.
    NO.``, ``DION REALTIES SDN BHD (CO.``). None of the company values of the 626 SROIE
    training receipts holds one (no run of 4 digits, no ``(CO``, no ``REG``, no ``NO:``), while
    the model's spans keep them where the number shares the name's line; a text that is
    nothing but the number stays."""
    flat = _SPACES.sub(" ", text)
    found = _REGISTRATION.search(flat)
    if found is None or not flat[: found.start()].strip():
        return text
    return flat[: found.start()].rstrip()


_LEGAL_SUFFIX = re.compile(r"\bBHD\b\.?|\bBERHAD\b\.?|\bS/B\b|\bSB\b")
"""The legal suffixes a Malaysian company name ends with (``SDN BHD``, ``BHD``, ``BERHAD``,
``S/B``, ``SB``), with the period the print gives ``BHD`` (22 training values keep it; no value
writes ``S/B.``)."""


_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*")
"""A bracketed qualifier after the suffix belongs to the name (``… SDN BHD (JALAN KLANG LAMA)``,
the one training value that reads on after its suffix)."""


def ends_at_legal_suffix(text: str) -> str:
    """``text`` (a merchant) ended at its last legal suffix when words follow it
    (``GUARDIAN HEALTH AND BEAUTY SDN BHD BANDAR BARU RAWANG`` → ``… SDN BHD``). Of the 626
    SROIE training companies, 405 hold a legal suffix and one reads on after it (``CHECKERS
    HYPERMARKET SDN BHD (JALAN KLANG LAMA)``, a bracketed qualifier, kept); the model's company
    spans read on after it where a branch or address line follows the name's. A text without a
    suffix stays."""
    ends = [found.end() for found in _LEGAL_SUFFIX.finditer(text)]
    if not ends or not text[ends[-1]:].strip() or _QUALIFIER.fullmatch(text[ends[-1]:]):
        return text
    return text[: ends[-1]]


_ENDS_IN_SUFFIX = re.compile(rf"(?:\bS[DO0]N\.? ?BH[DO0]\b\.?|{_LEGAL_SUFFIX.pattern}) ?$")
"""A line ending in a legal suffix, ``SDN`` (read as ``S0N``, ``SON``) and all, so the words
before it are the name's."""


def is_complete_legal_name(line: str) -> bool:
    """Whether one printed line is a company's whole legal name: it ends with a legal suffix
    (``SDN BHD``, ``BHD``, ``BERHAD``, ``S/B``, ``SB``) after at least two words, the first
    of which starts with a letter or digit and is not ``CO.`` (``TK DIVISION KITCHEN SDN BHD``
    is one; ``RESTAURANT SDN BHD``, ``CO. (M) SDN BHD`` and ``& TEA LEAF (M) SDN. BHD.`` end a
    name begun on the line above)."""
    flat = _SPACES.sub(" ", line).strip()
    found = _ENDS_IN_SUFFIX.search(flat)
    if found is None:
        return False
    before = flat[: found.start()].split()
    return (len(before) >= 2 and before[0][0].isalnum()
            and before[0].upper().rstrip(".") != "CO")
