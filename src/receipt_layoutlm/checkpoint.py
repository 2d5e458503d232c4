"""The checkpoint directory contract shared by training, export and the runtimes.

A checkpoint directory holds:

``model.safetensors`` + ``config.json``   Hugging Face ``save_pretrained`` (id2label/label2id set)
``tokenizer.json`` + ``tokenizer_config.json`` + ``vocab.txt``   the WordPiece tokenizer
``label_map.json``                        ``{"id2label", "label2id", "labels"}``
``encoding.json``                         the encoding spec (parameters, version, tokenizer facts)
``checkpoint.json``                       free-form metadata (training job, epoch, metrics, ...)

Training's ``best/`` is written with :func:`save_checkpoint`; export and every runtime read it with
:func:`load_checkpoint`, from a local directory: remote checkpoints (``s3://``) are fetched first
(``remote_dirs.fetched_checkpoint`` / ``fetch_checkpoint``), and what the training run recorded
in ``checkpoint.json`` is read by ``run_record``.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receipt_layoutlm.bundle_format import (
    CONFIG_FILE,
    ENCODING_FILE,
    LABEL_MAP_FILE,
    META_FILE,
    VOCAB_FILE,
    WEIGHT_FILES,
)
from receipt_layoutlm.errors import CheckpointError
from receipt_layoutlm.run_record import read_meta, training_dataset_config

if TYPE_CHECKING:
    from transformers import LayoutLMForTokenClassification, PreTrainedTokenizerBase

    from receipt_layoutlm.encoding import EncodingConfig


@dataclass
class Checkpoint:
    """A loaded checkpoint: model in eval mode on CPU, its tokenizer, labels and encoding spec."""

    model: LayoutLMForTokenClassification
    """``LayoutLMForTokenClassification`` in eval mode."""
    tokenizer: PreTrainedTokenizerBase
    """The fast WordPiece tokenizer, loaded through ``encoding.load_tokenizer``."""
    labels: list[str]
    """Tag list in id order (``labels[i]`` is the tag of logit ``i``)."""
    encoding_config: EncodingConfig
    """The encoding spec the model was trained with."""
    path: Path
    """Local directory the checkpoint was loaded from."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Contents of ``checkpoint.json`` (training job, epoch, metrics...); empty when absent."""
    dataset_config: dict[str, Any] = field(default_factory=dict)
    """The ``DatasetConfig`` dict the model was trained with (``run_record``); empty when
    unrecorded. Read with the rest, so a fetched checkpoint is not visited again for it."""

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def label_map(labels: Sequence[str]) -> dict[str, Any]:
    """The ``label_map.json`` document for a tag list (string keys, as JSON needs)."""
    labels = list(labels)
    if len(set(labels)) != len(labels):
        raise CheckpointError(f"label list has duplicates: {labels}; each tag must appear once")
    return {
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
        "labels": labels,
    }


def read_label_map(path: str | Path) -> list[str]:
    """The tag list (in id order) from a ``label_map.json``; :class:`CheckpointError` if bad."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"{path} is missing; a checkpoint or bundle needs label_map.json "
            "({id2label, label2id, labels}); use the best/ directory `layoutlm-cli train` wrote"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if "labels" in data:
            labels = [str(x) for x in data["labels"]]
        else:
            id2label = data["id2label"]
            labels = [str(id2label[str(i)]) for i in range(len(id2label))]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{path} is not a valid label map ({exc!r}); expected {{id2label, label2id, labels}}"
        ) from None
    if not labels:
        raise CheckpointError(f"{path} has no labels; re-save the checkpoint with its label list")
    return labels


def write_vocab(tokenizer: PreTrainedTokenizerBase, path: str | Path) -> Path:
    """Write ``vocab.txt`` (one token per line, line number = id) from the tokenizer.

    transformers 5 no longer writes vocab.txt on ``save_pretrained``; the on-device tokenizer needs
    it, so it is produced from the live vocabulary instead of copied from wherever the base came
    from.
    """
    vocab = tokenizer.get_vocab()
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    ids = [i for _, i in by_id]
    if ids != list(range(len(ids))):
        raise CheckpointError(
            "tokenizer vocabulary ids are not contiguous from 0; cannot write vocab.txt "
            "(use a BERT-style WordPiece tokenizer)"
        )
    path = Path(path)
    path.write_text("".join(f"{tok}\n" for tok, _ in by_id), encoding="utf-8")
    return path


def save_checkpoint(
    directory: str | Path,
    model: LayoutLMForTokenClassification,
    tokenizer: PreTrainedTokenizerBase,
    label_list: Sequence[str],
    encoding_config: EncodingConfig,
    *,
    extra_meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write a complete checkpoint directory and return its path.

    The model's config gets ``id2label``/``label2id`` from ``label_list`` so the HF config alone
    also names the tags. NaN/Inf weights are refused before anything is written.
    """
    labels = list(label_list)
    num_labels = int(getattr(model.config, "num_labels", len(labels)))
    if num_labels != len(labels):
        raise CheckpointError(
            f"model has {num_labels} output labels but the label list has {len(labels)}; "
            "build the model with num_labels=len(label_list)"
        )
    check_finite_weights(model, where="model to save")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.config.id2label = dict(enumerate(labels))
    model.config.label2id = {label: i for i, label in enumerate(labels)}
    model.save_pretrained(str(directory), safe_serialization=True)
    tokenizer.save_pretrained(str(directory))
    write_vocab(tokenizer, directory / VOCAB_FILE)
    (directory / LABEL_MAP_FILE).write_text(
        json.dumps(label_map(labels), indent=2) + "\n", encoding="utf-8"
    )
    encoding_config.write_json(directory / ENCODING_FILE, tokenizer=tokenizer)
    meta = dict(extra_meta or {})
    (directory / META_FILE).write_text(
        json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    return directory


def refuse_outside_links(directory: str | Path, what: str = "checkpoint") -> None:
    """:class:`CheckpointError` when a symlink under ``directory`` leads outside it: export and
    the runtimes read (and export copies into a bundle) whatever a checkpoint's files are, so a
    ``tokenizer_config.json`` linked to ``/etc/passwd`` or to another user's file is refused.
    Links that stay inside the directory are fine (Hugging Face caches use them)."""
    directory = Path(directory)
    root = directory.resolve()
    # os.walk without following links: a link to "/" must be refused, not walked.
    for parent, dirs, files in os.walk(directory, followlinks=False):
        for name in sorted([*dirs, *files]):
            path = Path(parent) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                rel = path.relative_to(directory).as_posix()
                raise CheckpointError(
                    f"{what} {directory}: {rel} is a symlink to a file outside the {what}; "
                    "refused (copy the real file in instead)"
                )


def check_checkpoint_dir(directory: str | Path) -> Path:
    """Raise :class:`CheckpointError` unless ``directory`` looks like a complete checkpoint
    whose files all live inside it (:func:`refuse_outside_links`)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(
            f"checkpoint directory {directory} does not exist; pass the training run's best/ "
            "directory (or --checkpoint-uri for a remote one)"
        )
    refuse_outside_links(directory)
    if not any((directory / name).is_file() for name in WEIGHT_FILES):
        raise CheckpointError(
            f"checkpoint directory {directory} has no weights file ({' or '.join(WEIGHT_FILES)}); "
            "use the best/ (or checkpoint-<step>/) directory `layoutlm-cli train` wrote"
        )
    if not (directory / CONFIG_FILE).is_file():
        raise CheckpointError(f"checkpoint directory {directory} has no {CONFIG_FILE}")
    if not (directory / LABEL_MAP_FILE).is_file():
        raise CheckpointError(
            f"checkpoint directory {directory} has no {LABEL_MAP_FILE}; use the best/ "
            "directory `layoutlm-cli train` wrote, which carries the tags"
        )
    return directory


def check_finite_weights(model: LayoutLMForTokenClassification, *, where: str) -> None:
    """Raise :class:`CheckpointError` naming the first tensors holding NaN/Inf."""
    import torch

    bad = [
        name
        for name, tensor in model.state_dict().items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise CheckpointError(
            f"{where} has NaN/Inf weights in {shown}; training diverged — use an earlier "
            "checkpoint or a lower learning rate"
        )


def _read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object file; CheckpointError naming the file when it is anything else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the checkpoint is corrupt, "
                              "re-save or re-download it") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object; the checkpoint is corrupt")
    return data


def load_checkpoint(directory: str | Path) -> Checkpoint:
    """Load a checkpoint directory written by :func:`save_checkpoint` (model on CPU, eval mode)."""
    directory = check_checkpoint_dir(directory)
    labels = read_label_map(directory / LABEL_MAP_FILE)
    # The tokenizer loader reads config.json too and would take the blame for a corrupt one.
    _read_json_object(directory / "config.json")

    from receipt_layoutlm.encoding import EncodingConfig, load_tokenizer
    from receipt_layoutlm.errors import EncodingError

    try:
        encoding_config = EncodingConfig.read_json(directory / ENCODING_FILE)
        tokenizer = load_tokenizer(directory)
    except EncodingError as exc:
        raise CheckpointError(f"checkpoint {directory}: {exc}") from None

    from transformers import LayoutLMForTokenClassification

    try:
        model = LayoutLMForTokenClassification.from_pretrained(
            str(directory), local_files_only=True, attn_implementation="eager"
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"cannot load the model in {directory}: {exc}") from None
    except pickle.UnpicklingError:
        # torch.load(weights_only=True) refused a pickle that would run code: never load it.
        raise CheckpointError(
            f"checkpoint {directory}: its weights file is a pickle holding more than tensors, "
            "which is refused (it could run code); use a checkpoint with model.safetensors "
            "(what `layoutlm-cli train` writes)"
        ) from None
    if model.config.num_labels != len(labels):
        raise CheckpointError(
            f"checkpoint {directory}: model has {model.config.num_labels} outputs but "
            f"label_map.json lists {len(labels)} labels; the files come from different runs"
        )
    check_finite_weights(model, where=f"checkpoint {directory}")
    model.eval()
    meta = read_meta(directory)
    return Checkpoint(
        model=model,
        tokenizer=tokenizer,
        labels=labels,
        encoding_config=encoding_config,
        path=directory,
        meta=meta,
        dataset_config=training_dataset_config(directory, meta),
    )
