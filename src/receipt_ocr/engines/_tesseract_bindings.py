"""Two ways to call Tesseract, chosen by name (``TesseractConfig.binding``).

``tesserocr``  Tesseract's C API in this process: the language models are loaded once per
               worker process and reused for every image.
``pytesseract`` the ``tesseract`` program, started once per image: it reloads eng+msa (~0.3 s of
               CPU) for every image, but needs only the Debian package.

Both return Tesseract's TSV table as columns (``text``, ``conf``, ``left``... as
``pytesseract.image_to_data`` names them), so the engine reads one format.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image

from receipt_ocr.errors import EngineUnavailableError, ReceiptOcrError

_COLUMNS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top",
            "width", "height", "conf", "text")
_COMMON_TESSDATA = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                    "/opt/homebrew/share/tessdata", "/usr/local/share/tessdata")


class OcrTimeoutError(ReceiptOcrError, RuntimeError):
    """Tesseract gave up on an image after ``timeout_seconds`` (retried like any other error)."""


@dataclass(frozen=True)
class Call:
    """What one recognition needs besides the image."""

    language: str
    psm: int
    thresholding: int
    dpi: int | None
    tessdata_dir: str | None
    timeout_seconds: float
    invert_retry: bool


class Binding(Protocol):
    name: str

    def languages(self, tessdata_dir: str | None) -> set[str]: ...

    def data(self, image: Image.Image, call: Call) -> dict[str, list]: ...

    def version(self) -> str: ...


class PytesseractBinding:
    name = "pytesseract"

    def __init__(self) -> None:
        try:
            import pytesseract
        except ImportError:
            raise EngineUnavailableError(
                "the tesseract engine needs pytesseract or tesserocr: pip install "
                "'receipt-labeler[ocr]'"
            ) from None
        if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
            raise EngineUnavailableError(
                "the tesseract binary is not on PATH; install it (Debian: apt-get install "
                "tesseract-ocr, macOS: brew install tesseract) or choose --ocr-engine vision"
            )
        self._pytesseract = pytesseract

    def languages(self, tessdata_dir: str | None) -> set[str]:
        options = {"config": f'--tessdata-dir "{tessdata_dir}"'} if tessdata_dir else {}
        return set(self._pytesseract.get_languages(**options))

    def data(self, image: Image.Image, call: Call) -> dict[str, list]:
        parts = [f"--psm {call.psm}", f"-c thresholding_method={call.thresholding}",
                 f"-c tessedit_do_invert={int(call.invert_retry)}"]
        if call.dpi:
            parts.append(f"--dpi {call.dpi}")
        if call.tessdata_dir:
            parts.insert(0, f'--tessdata-dir "{call.tessdata_dir}"')
        try:
            return self._pytesseract.image_to_data(
                image, lang=call.language, config=" ".join(parts),
                output_type=self._pytesseract.Output.DICT, timeout=call.timeout_seconds,
            )
        except RuntimeError as exc:
            if "timeout" in str(exc).lower():
                raise OcrTimeoutError(_timeout_message(call)) from None
            raise

    def version(self) -> str:
        return str(self._pytesseract.get_tesseract_version())


class TesserocrBinding:
    name = "tesserocr"

    def __init__(self) -> None:
        try:
            import tesserocr
        except ImportError:
            raise EngineUnavailableError(
                "the tesserocr binding is not installed: pip install tesserocr (or choose "
                "binding 'pytesseract')"
            ) from None
        self._tesserocr = tesserocr
        # One API per (thread, call): the C API object is neither thread-safe nor cheap to
        # re-initialise, and a worker process reuses it for every image.
        self._local = threading.local()

    def languages(self, tessdata_dir: str | None) -> set[str]:
        path = tessdata_dir or find_tessdata()
        if path is None:
            return set()
        return set(self._tesserocr.get_languages(_with_slash(path))[1])

    def _api(self, call: Call):
        cached = getattr(self._local, "api", None)
        if cached is not None and cached[0] == call:
            return cached[1]
        if cached is not None:
            cached[1].End()
        path = call.tessdata_dir or find_tessdata()
        if path is None:
            raise EngineUnavailableError(_NO_TESSDATA)
        api = self._tesserocr.PyTessBaseAPI(
            path=_with_slash(path), lang=call.language, psm=call.psm, init=True,
        )
        api.SetVariable("tessedit_do_invert", str(int(call.invert_retry)))
        api.SetVariable("thresholding_method", str(call.thresholding))
        self._local.api = (call, api)
        return api

    def data(self, image: Image.Image, call: Call) -> dict[str, list]:
        api = self._api(call)
        api.SetImage(image)
        if call.dpi:
            api.SetSourceResolution(call.dpi)
        if not api.Recognize(timeout=int(call.timeout_seconds * 1000)):
            raise OcrTimeoutError(_timeout_message(call))
        return parse_tsv(api.GetTSVText(0))

    def version(self) -> str:
        # "tesseract 5.3.0\n leptonica-..." → "5.3.0", as pytesseract reports the program's.
        return self._tesserocr.tesseract_version().splitlines()[0].split()[-1]


def parse_tsv(text: str) -> dict[str, list]:
    """Tesseract's TSV rows (no header) as columns, numbers parsed, like ``image_to_data``."""
    columns: dict[str, list] = {name: [] for name in _COLUMNS}
    for row in text.splitlines():
        cells = row.split("\t")
        if len(cells) < len(_COLUMNS) - 1:
            continue
        cells += [""] * (len(_COLUMNS) - len(cells))
        for name, cell in zip(_COLUMNS, cells, strict=True):
            if name == "text":
                columns[name].append(cell)
            elif name == "conf":
                columns[name].append(float(cell))
            else:
                columns[name].append(int(cell))
    return columns


def find_tessdata() -> str | None:
    """Where the installed language data lives: ``$TESSDATA_PREFIX``, the ``tesseract``
    program's own directory, then the usual package locations."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix and Path(prefix).is_dir():
        return prefix
    program = shutil.which("tesseract")
    if program:
        listing = subprocess.run([program, "--list-langs"], capture_output=True, text=True,
                                 timeout=30, check=False)
        found = re.search(r'"([^"]+)"', listing.stdout + listing.stderr)
        if found and Path(found.group(1)).is_dir():
            return found.group(1)
    return next((p for p in _COMMON_TESSDATA if Path(p).is_dir()), None)


def _with_slash(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def _timeout_message(call: Call) -> str:
    return f"Tesseract gave up on the image after {call.timeout_seconds:g} s"


_NO_TESSDATA = (
    "no Tesseract language data found (set TESSDATA_PREFIX or install tesseract-ocr-eng)"
)

_BINDINGS: dict[str, type] = {"tesserocr": TesserocrBinding, "pytesseract": PytesseractBinding}
BINDING_NAMES = ("auto", *_BINDINGS)


def open_binding(name: str) -> Binding:
    """The binding ``name``; ``auto`` is tesserocr when it is installed, else pytesseract."""
    if name == "auto":
        try:
            return TesserocrBinding()
        except EngineUnavailableError:
            return PytesseractBinding()
    try:
        return _BINDINGS[name]()
    except KeyError:
        raise ValueError(
            f"unknown Tesseract binding {name!r}; choose one of {', '.join(BINDING_NAMES)}"
        ) from None
