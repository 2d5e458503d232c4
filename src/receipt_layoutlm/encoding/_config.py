"""The versioned encoding parameters and their ``encoding.json`` form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from receipt_layoutlm.encoding._boxes import CLS_BOX, PAD_BOX, SEP_BOX
from receipt_layoutlm.errors import EncodingError

ENCODING_VERSION: str = "1.0.0"
"""Bump the major part when old checkpoints can no longer be encoded the same way, the minor part
for compatible additions, the patch part for fixes that do not change any encoded tensor."""

LABEL_SCHEME = "BIO"


def _major(version: str) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        raise EncodingError(
            f"encoding version {version!r} is not of the form MAJOR.MINOR.PATCH; "
            "re-export the checkpoint with this version of receipt-labeler"
        ) from None


@dataclass(frozen=True)
class EncodingConfig:
    """Parameters of the encoding spec; written to every checkpoint and bundle as encoding.json."""

    max_seq_length: int = 512
    """Tokens per window, including [CLS] and [SEP]."""
    stride: int = 128
    """Tokens of overlap between consecutive windows; whole words only, so the overlap is the
    largest run of trailing words whose sub-tokens fit in ``stride`` (never more)."""
    line_overlap: float = 0.5
    """Vertical-overlap ratio (of the smaller height) that puts two words on one line when the
    receipt has no OCR line ids."""
    version: str = ENCODING_VERSION
    """Encoding spec version (semantic); a different major version is refused."""

    def __post_init__(self) -> None:
        if isinstance(self.max_seq_length, bool) or not isinstance(self.max_seq_length, int):
            raise EncodingError(f"max_seq_length must be an int, got {self.max_seq_length!r}")
        if self.max_seq_length < 3:
            raise EncodingError(
                f"max_seq_length={self.max_seq_length} leaves no room for a word between "
                "[CLS] and [SEP]; use at least 3 (512 for LayoutLM)"
            )
        if isinstance(self.stride, bool) or not isinstance(self.stride, int) or self.stride < 0:
            raise EncodingError(f"stride must be an int >= 0, got {self.stride!r}")
        if self.stride >= self.max_seq_length - 2:
            raise EncodingError(
                f"stride={self.stride} must be smaller than max_seq_length - 2 "
                f"({self.max_seq_length - 2}) so that windows advance; use e.g. "
                f"{(self.max_seq_length - 2) // 4}"
            )
        if not 0.0 < float(self.line_overlap) <= 1.0:
            raise EncodingError(
                f"line_overlap must be in (0, 1], got {self.line_overlap!r}; 0.5 is the default"
            )
        if _major(self.version) != _major(ENCODING_VERSION):
            raise EncodingError(
                f"encoding version {self.version} is not compatible with this code's "
                f"{ENCODING_VERSION} (major versions differ); use a receipt-labeler release "
                f"with encoding {_major(self.version)}.x or retrain the model"
            )

    def to_dict(self) -> dict[str, Any]:
        """Every parameter plus the fixed facts of this spec version (special boxes, scheme)."""
        out: dict[str, Any] = asdict(self)
        out["label_scheme"] = LABEL_SCHEME
        out["special_boxes"] = {"cls": list(CLS_BOX), "sep": list(SEP_BOX), "pad": list(PAD_BOX)}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EncodingConfig:
        """Read the parameters back; other keys (tokenizer facts, extras) are ignored.

        Raises :class:`EncodingError` when ``version`` is missing or of another major version.
        """
        if not isinstance(d, dict):
            raise EncodingError(f"encoding config must be a JSON object, got {type(d).__name__}")
        if "version" not in d:
            raise EncodingError(
                "encoding config has no 'version'; it was not written by "
                "EncodingConfig.write_json — re-export the checkpoint"
            )
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def write_json(
        self, path: str | Path, *, extra: dict[str, Any] | None = None, tokenizer: Any = None
    ) -> Path:
        """Write encoding.json: parameters, version, special boxes, label scheme, and the
        tokenizer facts (``tokenizer`` given, see :func:`tokenizer_facts`) plus ``extra``."""
        data = self.to_dict()
        if tokenizer is not None:
            from receipt_layoutlm.encoding._tokenizer import tokenizer_facts

            data["tokenizer"] = tokenizer_facts(tokenizer)
        if extra:
            data.update(extra)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read_json(cls, path: str | Path) -> EncodingConfig:
        """Read encoding.json written by :meth:`write_json`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EncodingError(
                f"{path} not found; every checkpoint and bundle must carry encoding.json "
                "(re-export it)"
            ) from None
        except json.JSONDecodeError as exc:
            raise EncodingError(f"{path} is not valid JSON ({exc}); re-export it") from None
        return cls.from_dict(data)
