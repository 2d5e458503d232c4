"""A rule for an address's text (the SROIE address key), read from the training truth's
conventions and switched by :class:`~receipt_layoutlm.fields.ocr_cleanup.FieldCleanup`.

The line classifier (``fields.line_classifier``) chooses the address's lines; the line after
an address often prints the shop's phone number or the receipt's date, sometimes on the
address's own last line (``… 53300 KUALA LUMPUR 03-41318972``), where no line choice can cut
it. Pure Python (the fields step's budget is about 1 ms).
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
_CONTACT_OR_DATE = re.compile(
    r"\b0\d{1,2} ?- ?\d{3,4} ?\d{3,4}\b"  # a phone number: 03-41318972, 013-336 3999
    r"|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"  # a date: 17/05/17
    r"|\b(?:TEL|FAX|PHONE|GST)\b"  # a contact or tax label
)
"""Matched against the text with its whitespace runs as one space (linear in any input)."""


def ends_before_contact(text: str) -> str:
    """``text`` (an address) ended before its first phone number, date, or ``TEL``/``FAX``/
    ``PHONE``/``GST`` label (``… SHAH ALAM 013-336 3999`` → ``… SHAH ALAM``). None of the 625
    SROIE training addresses holds one. A text that begins with one stays as it is."""
    flat = _SPACES.sub(" ", text)
    found = _CONTACT_OR_DATE.search(flat)
    if found is None or not flat[: found.start()].strip():
        return text
    return flat[: found.start()].rstrip()
