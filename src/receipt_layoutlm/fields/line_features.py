"""What the line classifier (``fields.line_classifier``) reads of each printed line.

A receipt's company block is a few whole lines near the top; what goes wrong from a photo is
which lines: the person's name printed above the shop name, the registration number
``(123456-A)``, a branch or GST line, logo debris. Those lines differ from the company's in
ways a word model trained on transcripts does not weigh: their patterns, their place among
the lines and what the lines around them look like. One feature row per line:

- the model's view: mean and max probability of the field's labels over the line's words, the
  share of words whose argmax is one of them, the probability of every other label, and how the
  line's mean compares with the receipt's best line;
- position: rank from the top, relative rank, first line or not;
- patterns of the text: company suffixes (``SDN BHD``, ``ENTERPRISE``, ``TRADING``,
  ``RESTAURANT``…), a registration number, a GST/tax id, a phone, address words and postcodes,
  digit, upper-case and letter ratios, length, mean OCR confidence;
- the same model and pattern figures for the line above and the line below.

Lines are the encoding's reading-order lines (``Word.line``, from ``encoding``'s line index);
nothing here orders words again. Pure Python (the field step's budget is about 1 ms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from receipt_layoutlm.fields._words import Word

PATTERNS: dict[str, re.Pattern[str]] = {
    "company_suffix": re.compile(
        r"\bS[DO0]N\.?\s*BH[DO0]\b|\bBHD\b|\bBERHAD\b|\bS/B\b|\bPLT\b|\bENTERPRISES?\b|"
        r"\bTRADING\b|\bRESTAURANTS?\b|\bRESTORAN\b|\bCOMPANY\b|\bCO\.|\bSYARIKAT\b|"
        r"\bHARDWARE\b|\bMART\b|\bSTORES?\b|\bMARKETING\b|\bINDUSTRIES\b|\bBAKERY\b|"
        r"\bBAKERIES\b|\bSTATIONERY\b|\bSTATIONERS\b|\bCAFE\b|\bKEDAI\b|\bPERNIAGAAN\b"
    ),
    "registration": re.compile(
        r"\(?\b\d{4,8}\s*-\s*[A-Z]\b\)?|\bCO\.?\s*REG|\bROC\b|\bCOMPANY\s*NO|\bREG\.?\s*NO"
    ),
    "tax_id": re.compile(r"\bGST\b|\bTAX\b|\bSST\b|\bID\s*NO|\bTIN\b"),
    "phone": re.compile(r"\bTEL\b|\bPHONE\b|\bFAX\b|\bH/?P\b|\b0\d{1,2}\s*-\s*\d{6,8}\b"),
    "address": re.compile(
        r"\bJALAN\b|\bJLN\b|\bTAMAN\b|\bLOT\b|\bNO\.?\s*\d|\bLORONG\b|\bBATU\b|\bKAMPUNG\b|"
        r"\bSELANGOR\b|\bKUALA\b|\bLUMPUR\b|\bJOHOR\b|\bPULAU\b|\bPERAK\b|\bMELAKA\b|"
        r"\bPAHANG\b|\bKEDAH\b|\bPERSIARAN\b|\bBANDAR\b|\bWILAYAH\b|\bFLOOR\b|\bLEVEL\b"
    ),
    "postcode": re.compile(r"\b\d{5}\b"),
    "document": re.compile(
        r"\bINVOICE\b|\bRECEIPT\b|\bCASHIER\b|\bTABLE\b|\bBILL\b|\bDATE\b|\bTIME\b|"
        r"\bQTY\b|\bTOTAL\b|\bMEMBER\b|\bWELCOME\b|\bTHANK"
    ),
    "branch": re.compile(r"\bBRANCH\b|\bCAWANGAN\b|\bOUTLET\b|\bMALL\b|\bCITY\b|\bPARK\b"),
    "web": re.compile(r"WWW\.|\.COM\b|@|\bEMAIL\b|HTTP"),
}
"""Text patterns looked for on a line (upper-cased): each is one 0/1 feature."""

_MODEL = ("p_mean", "p_max", "p_share", "p_other", "p_gap_best")
_TEXT = (
    *PATTERNS,
    "digits",
    "upper",
    "letters",
    "log_chars",
    "log_words",
    "ocr_mean",
)
_NEIGHBOUR = ("p_mean", "company_suffix", "registration", "address", "tax_id", "exists")


def feature_names() -> list[str]:
    """The features of one line, in the order :func:`line_features` gives them."""
    own = [*_MODEL, "rank", "log_rank", "relative_rank", "first", *_TEXT]
    return own + [f"above_{n}" for n in _NEIGHBOUR] + [f"below_{n}" for n in _NEIGHBOUR]


def receipt_lines(words: Sequence[Word]) -> list[list[int]]:
    """Positions of each line's words, lines in reading order (a new line wherever the line id
    changes); empty when a word has no line."""
    lines: list[list[int]] = []
    previous: int | None = None
    for position, word in enumerate(words):
        if word.line is None:
            return []
        if not lines or word.line != previous:
            lines.append([])
        lines[-1].append(position)
        previous = word.line
    return lines


def _text_figures(words: Sequence[Word]) -> dict[str, float]:
    text = " ".join(w.text for w in words)
    upper = text.upper()
    chars = len(text) - text.count(" ")
    letters = sum(map(str.isalpha, text))
    figures = {name: float(p.search(upper) is not None) for name, p in PATTERNS.items()}
    figures.update(
        digits=sum(map(str.isdigit, text)) / max(1, chars),
        upper=sum(map(str.isupper, text)) / max(1, letters),
        letters=letters / max(1, chars),
        log_chars=math.log1p(chars),
        log_words=math.log1p(len(words)),
        ocr_mean=sum(w.ocr_confidence for w in words) / max(1, len(words)),
    )
    return figures


def _model_figures(
    words: Sequence[Word], own: Sequence[float], labels: Sequence[str]
) -> dict[str, float]:
    every = sum(sum(w.probabilities.values()) for w in words)
    return {
        "p_mean": sum(own) / len(own),
        "p_max": max(own),
        "p_share": sum(w.label in labels for w in words) / len(words),
        "p_other": (every - sum(own)) / len(own),
    }


class LineTable:
    """What every field's line features read of one receipt, computed once for all of them:
    its lines and each line's text figures (asked for as needed)."""

    def __init__(self, words: Sequence[Word], lines: Sequence[Sequence[int]]) -> None:
        self.words = words
        self.lines = lines
        self._text: dict[int, dict[str, float]] = {}

    def text(self, n: int) -> dict[str, float]:
        """Line ``n``'s text figures (:func:`_text_figures`)."""
        figures = self._text.get(n)
        if figures is None:
            figures = self._text[n] = _text_figures([self.words[p] for p in self.lines[n]])
        return figures

    def means_and_peaks(self, own: Sequence[float]) -> tuple[list[float], list[float]]:
        """Per line the mean and the largest of ``own`` (one value per word) over its words
        (a line's words are consecutive)."""
        means, peaks = [], []
        for line in self.lines:
            part = own[line[0] : line[-1] + 1]
            means.append(sum(part) / len(part))
            peaks.append(max(part))
        return means, peaks


def line_features(
    words: Sequence[Word],
    lines: Sequence[Sequence[int]],
    labels: Sequence[str],
    min_probability: float | None = None,
    *,
    table: LineTable | None = None,
    own: Sequence[float] | None = None,
) -> tuple[list[int], list[list[float]]]:
    """Feature rows (:func:`feature_names`) for the field fed by ``labels``: the numbers of the
    lines described and one row each — every line, or with ``min_probability`` only the lines
    with a word the model gives at least that probability of the field (their neighbours'
    figures still count). ``table`` (of these words and lines) shares what several fields read
    of the receipt; ``own`` is each word's probability of ``labels`` when already known."""
    if own is None:
        if len(labels) == 1:
            own = [w.probabilities.get(labels[0], 0.0) for w in words]
        else:
            own = [sum(w.probabilities.get(label, 0.0) for label in labels) for w in words]
    if not lines:
        return [], []
    if table is None:
        table = LineTable(words, lines)
    means, peaks = table.means_and_peaks(own)
    best = max(means)
    count = len(lines)
    wanted = [
        n for n, peak in enumerate(peaks) if min_probability is None or peak >= min_probability
    ]
    rows: list[list[float]] = []
    for n in wanted:
        line_words = [words[p] for p in lines[n]]
        own_line = [own[p] for p in lines[n]]
        figures = {**_model_figures(line_words, own_line, labels), **table.text(n)}
        figures["p_gap_best"] = best - means[n]
        row = [figures[name] for name in _MODEL]
        row += [float(n), math.log1p(n), n / max(1, count - 1), float(n == 0)]
        row += [figures[name] for name in _TEXT]
        for m in (n - 1, n + 1):
            if 0 <= m < count:
                other = {"p_mean": means[m], **table.text(m)}
                row += [other[name] for name in _NEIGHBOUR[:-1]] + [1.0]
            else:
                row += [0.0] * len(_NEIGHBOUR)
        rows.append(row)
    return wanted, rows
