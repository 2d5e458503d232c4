"""What goes into a training set: statuses, label merges, allowed labels, split and sampling."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from receipt_dynamo.names import check_name
from receipt_dynamo.vocabulary import is_label_name
from receipt_layoutlm.errors import DatasetError

MERGE_PRESETS: dict[str, dict[str, str]] = {
    "none": {},
    "amounts": {
        "LINE_TOTAL": "AMOUNT",
        "SUBTOTAL": "AMOUNT",
        "TAX": "AMOUNT",
        "GRAND_TOTAL": "AMOUNT",
    },
    "date_time": {"TIME": "DATE"},
    "address_phone": {"PHONE_NUMBER": "ADDRESS", "ADDRESS_LINE": "ADDRESS"},
}
MERGE_PRESETS["sroie"] = {
    **MERGE_PRESETS["amounts"],
    **MERGE_PRESETS["date_time"],
    **MERGE_PRESETS["address_phone"],
}
"""Named label merges (original label → merged label); ``sroie`` is the union of the other three:
PHONE_NUMBER and ADDRESS_LINE → ADDRESS, the amounts → AMOUNT, TIME → DATE (the seed's names;
``fields.FIELD_LABELS`` reads both the original and the merged names)."""

SPLIT_FIELDS = ("dev_ratio", "split_seed", "split_file")
"""DatasetConfig fields that decide the split."""
MERGE_FIELDS = ("merge_preset", "label_merges", "merge_amounts", "allowed_labels")
"""DatasetConfig fields that decide the label set."""


def parse_mix_entry(entry: str) -> tuple[str, str]:
    """``NAME=FILE.jsonl`` → ``(name, file)``; the name follows the CLI's name rule (it is
    recorded in the checkpoint and named again by ``evaluate --label-set``)."""
    name, sep, path = str(entry).partition("=")
    if not sep or not path:
        raise DatasetError(f"--mix takes NAME=FILE.jsonl, got {entry!r}")
    try:
        check_name("dataset name", name, where="--mix")
    except ValueError as exc:
        raise DatasetError(str(exc)) from None
    return name, path



def parse_mix(entries: Iterable[str]) -> dict[str, str]:
    """``{name: file}`` of ``--mix`` entries in order; a name given twice is refused."""
    mix: dict[str, str] = {}
    for entry in entries:
        name, path = parse_mix_entry(entry)
        if name in mix:
            raise DatasetError(f"--mix names dataset {name!r} twice; give each dataset one name")
        mix[name] = path
    return mix



def parse_label_merges(text: str) -> dict[str, str]:
    """``--label-merges``: a JSON object ``{"ORIGINAL": "MERGED"}``."""
    try:
        merges = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"--label-merges is not valid JSON: {exc}") from None
    if not isinstance(merges, dict):
        raise DatasetError('--label-merges must be a JSON object {"ORIGINAL": "MERGED"}')
    return merges


@dataclass(frozen=True)
class DatasetConfig:
    """How receipts become a training set; recorded in the Job so a run can be reproduced."""

    statuses: tuple[str, ...] = ("VALID",)
    """Label validation statuses that count as ground truth."""
    unverified: Literal["o", "mask"] = "o"
    """Words with label rows but none of ``statuses`` (unverified proposals): ``o`` trains them as
    O, ``mask`` leaves them out of the loss (-100) and out of the metrics. Words without any label
    row are O in both modes (a verified receipt's unlabelled words are its O words)."""
    merge_preset: str = "none"
    """One of :data:`MERGE_PRESETS`: ``none``, ``amounts``, ``date_time``, ``address_phone``,
    ``sroie``."""
    label_merges: Mapping[str, str] = field(default_factory=dict)
    """Extra merges ``{ORIGINAL: MERGED}`` applied on top of the preset (they win on conflict);
    a target ``O`` drops the label."""
    merge_amounts: bool = False
    """Legacy switch, same as adding the ``amounts`` preset."""
    allowed_labels: tuple[str, ...] = ()
    """Merged labels to keep; every other label becomes O. Empty keeps all."""
    dev_ratio: float = 0.2
    """Share of receipts in the dev split (seeded split); ignored with ``split_file``."""
    split_seed: int = 42
    """Seed of the receipt-level shuffle that makes the split."""
    split_file: str | None = None
    """A frozen split, JSON ``{"train": [keys], "dev": [keys]}``; receipts in neither are
    left out."""
    downsample_empty: float = 1.0
    """Share of training windows without any entity to keep (1.0 keeps all); dev is never
    downsampled."""
    dataset_file: str | None = None
    """A JSONL dataset file (``importers.jsonl`` format) to read instead of the store."""
    mix: tuple[str, ...] = ()
    """Several JSONL datasets trained as one model, each ``NAME=FILE.jsonl``: the label list is
    the union, and a word labelled O in dataset NAME counts as O *or any label NAME does not
    annotate* in its loss (``training.label_masks``); the checkpoint records each dataset's
    labels. Instead of ``dataset_file``."""

    def __post_init__(self) -> None:
        if self.unverified not in ("o", "mask"):
            raise DatasetError(f"unverified must be 'o' or 'mask', got {self.unverified!r}")
        if self.merge_preset not in MERGE_PRESETS:
            raise DatasetError(
                f"unknown merge preset {self.merge_preset!r}; choose one of "
                f"{', '.join(sorted(MERGE_PRESETS))}"
            )
        for source, target in dict(self.label_merges).items():
            for name in (source, target):
                if not is_label_name(name):
                    raise DatasetError(
                        f"label merge {source!r} → {target!r}: labels must be upper-case names "
                        "like GRAND_TOTAL (or O as a target)"
                    )
        if not 0.0 <= self.dev_ratio < 1.0:
            raise DatasetError(f"dev_ratio must be in [0, 1), got {self.dev_ratio}")
        if not 0.0 <= self.downsample_empty <= 1.0:
            raise DatasetError(f"downsample_empty must be in [0, 1], got {self.downsample_empty}")
        if not self.statuses:
            raise DatasetError("statuses is empty; pass at least VALID")
        object.__setattr__(self, "statuses", tuple(s.upper() for s in self.statuses))
        object.__setattr__(self, "allowed_labels", tuple(self.allowed_labels))
        object.__setattr__(self, "label_merges", dict(self.label_merges))
        object.__setattr__(self, "mix", tuple(self.mix))
        if self.mix:
            if self.dataset_file:
                raise DatasetError(
                    "--dataset and --mix both name training data; pass every dataset of the mix "
                    "as --mix NAME=FILE.jsonl"
                )
            parse_mix(self.mix)

    @property
    def reads_files(self) -> bool:
        """Whether the receipts come from dataset files (``dataset_file`` or ``mix``), not the
        store."""
        return bool(self.dataset_file or self.mix)

    @property
    def merges(self) -> dict[str, str]:
        """The effective merge map: preset, then ``merge_amounts``, then ``label_merges``."""
        merged: dict[str, str] = dict(MERGE_PRESETS[self.merge_preset])
        if self.merge_amounts:
            merged.update(MERGE_PRESETS["amounts"])
        merged.update(self.label_merges)
        for source, target in merged.items():
            if target != source and target in merged and merged[target] != target:
                raise DatasetError(
                    f"label merges chain {source} → {target} → {merged[target]}; "
                    f"merge {source} straight to {merged[target]}"
                )
        return merged

    def merged_label(self, label: str | None) -> str | None:
        """A word's label after merges and the allowed-labels filter (None means O)."""
        if label is None or label in ("", "O"):
            return None
        name = self.merges.get(label, label)
        if name == "O":
            return None
        if self.allowed_labels and name not in self.allowed_labels:
            return None
        return name

    def evaluation_merges(self, labels: Iterable[str | None]) -> dict[str, str]:
        """The label renames as one map for evaluating against ``labels`` (the truth's): the
        merges, plus ``label → O`` for each label the allowed-labels filter drops."""
        merges = dict(self.merges)
        if self.allowed_labels:
            for label in sorted({name for name in labels if name}):
                if self.merged_label(label) is None:
                    merges[label] = "O"
        return merges

    @classmethod
    def inherit(
        cls, given: Mapping[str, Any], recorded: Mapping[str, Any] | None = None
    ) -> DatasetConfig:
        """The config of the ``given`` fields (what the user set), completed from ``recorded``
        (a checkpoint's training config) so evaluation sees the data the model learned from:
        its ``statuses`` always (the receipts that count as labelled decide the split), its
        split fields unless any split field is given, its merge fields unless any merge field
        is given; anything else takes the default."""
        values = dict(given)
        if recorded:
            if recorded.get("statuses"):
                values["statuses"] = tuple(recorded["statuses"])
            for group in (SPLIT_FIELDS, MERGE_FIELDS):
                if not any(name in given for name in group):
                    values.update({k: recorded[k] for k in group if k in recorded})
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["statuses"] = list(self.statuses)
        d["allowed_labels"] = list(self.allowed_labels)
        d["mix"] = list(self.mix)
        d["effective_merges"] = self.merges
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatasetConfig:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in d.items() if k in known}
        for key in ("statuses", "allowed_labels", "mix"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
