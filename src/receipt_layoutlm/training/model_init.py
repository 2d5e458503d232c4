"""Build the LayoutLMForTokenClassification to train: fine-tune, warm start or from scratch.

``--init-from`` copies a BERT-family text encoder (word, 1-D position and token-type
embeddings, embedding LayerNorm, the encoder layers) into a LayoutLM of the same sizes; the 2-D
box embeddings and the classification head start fresh and are listed in
:attr:`ModelInit.new_tensors` (they may get a higher learning rate).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receipt_layoutlm.errors import TrainingError
from receipt_layoutlm.training._config import TrainingConfig

log = logging.getLogger(__name__)

TINY_SIZES = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "max_position_embeddings": 512,
    "max_2d_position_embeddings": 1024,
}
"""Sizes of ``--model-size tiny`` (from scratch; for tests and smoke runs)."""

_TEXT_PREFIXES = ("embeddings.", "encoder.", "pooler.")
# Parts of a BERT checkpoint that mean the same thing in LayoutLM; pooler and MLM heads do not.
_SKIP_SUFFIXES = ("position_ids",)


@dataclass
class ModelInit:
    """The model to train, its tokenizer and where its weights came from."""

    model: Any
    """A ``LayoutLMForTokenClassification`` with ``num_labels = len(label_list)``."""
    tokenizer: Any
    """The WordPiece tokenizer that matches the model's vocabulary (encoding.load_tokenizer)."""
    source: str
    """``pretrained:<path>``, ``init_from:<path>`` or ``scratch:<size>``."""
    new_tensors: list[str] = field(default_factory=list)
    """Names of parameters that start from random init (all of them from scratch)."""
    copied_tensors: list[str] = field(default_factory=list)
    """Names of parameters copied from the warm-start checkpoint."""


def _label_kwargs(label_list: Sequence[str]) -> dict[str, Any]:
    labels = list(label_list)
    return {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {name: i for i, name in enumerate(labels)},
    }


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or os.environ.get(
        "TRANSFORMERS_OFFLINE", ""
    ) not in ("", "0")


def resolve_pretrained(name: str) -> Path:
    """``--pretrained``: an existing directory, else a Hugging Face Hub id resolved to its local
    snapshot (downloaded unless ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` is set, in which case
    only the local cache is used)."""
    if Path(name).is_dir():
        return Path(name)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    offline = _offline()
    try:
        return Path(snapshot_download(repo_id=name, local_files_only=offline))
    except LocalEntryNotFoundError:
        if offline:
            raise TrainingError(
                f"--pretrained {name}: no such directory, and the Hugging Face hub is offline "
                "(HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE) with no cached snapshot of that id; "
                f"download it once with `hf download {name}` where the hub is reachable, or "
                "pass a local LayoutLM checkpoint directory"
            ) from None
        raise TrainingError(
            f"--pretrained {name}: cannot reach the Hugging Face hub to download it; check the "
            "network or pass a local LayoutLM checkpoint directory"
        ) from None
    except HFValidationError:
        raise TrainingError(
            f"--pretrained {name}: no such directory, and not a hub id (owner/name) either"
        ) from None
    except Exception as exc:  # repository not found, gated, HTTP errors: one readable line
        raise TrainingError(
            f"--pretrained {name}: cannot download it from the Hugging Face hub "
            f"({type(exc).__name__}: {exc})"
        ) from None


def _from_pretrained(name: str, label_list: Sequence[str]) -> ModelInit:
    from transformers import LayoutLMForTokenClassification

    from receipt_layoutlm.encoding import load_tokenizer

    path = resolve_pretrained(name)
    try:
        model = LayoutLMForTokenClassification.from_pretrained(
            str(path),
            local_files_only=True,
            ignore_mismatched_sizes=True,
            **_label_kwargs(label_list),
        )
    except OSError as exc:
        raise TrainingError(f"--pretrained {name}: cannot load a LayoutLM model ({exc})") from exc
    tokenizer = load_tokenizer(path)
    new = [n for n, _ in model.named_parameters() if n.startswith("classifier.")]
    copied = [n for n, _ in model.named_parameters() if n not in new]
    return ModelInit(model, tokenizer, f"pretrained:{name}", new, copied)


def _read_bert_state(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    import json

    from safetensors.torch import load_file

    config_file = path / "config.json"
    if not config_file.is_file():
        raise TrainingError(f"--init-from {path}: no config.json; pass a BERT checkpoint directory")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    weights = path / "model.safetensors"
    if weights.is_file():
        state = load_file(str(weights))
    elif (path / "pytorch_model.bin").is_file():
        import torch

        state = torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise TrainingError(
            f"--init-from {path}: no model.safetensors or pytorch_model.bin in the directory"
        )
    # BertForMaskedLM/BertModel checkpoints differ by a "bert." prefix.
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    return config, state


def _warm_start(
    path_str: str,
    label_list: Sequence[str],
    seed: int,
    box_init: str = "random",
    layers: int | None = None,
) -> ModelInit:
    import torch
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    from receipt_layoutlm.encoding import load_tokenizer

    path = Path(path_str)
    if not path.is_dir():
        raise TrainingError(f"--init-from {path}: not a directory")
    bert_config, state = _read_bert_state(path)
    if bert_config.get("model_type") not in (None, "bert", "layoutlm", "roberta"):
        log.warning("--init-from %s: model_type %s is not BERT", path, bert_config["model_type"])
    sizes = {
        k: bert_config[k]
        for k in (
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "hidden_act",
            "max_position_embeddings",
            "type_vocab_size",
            "layer_norm_eps",
            "hidden_dropout_prob",
            "attention_probs_dropout_prob",
            "initializer_range",
            "pad_token_id",
        )
        if k in bert_config
    }
    if layers is not None:
        sizes["num_hidden_layers"] = _kept_layers(path, sizes.get("num_hidden_layers"), layers)
    torch.manual_seed(seed)
    model = LayoutLMForTokenClassification(LayoutLMConfig(**sizes, **_label_kwargs(label_list)))
    target = model.layoutlm.state_dict()
    copied: list[str] = []
    with torch.no_grad():
        for name, tensor in state.items():
            if not name.startswith(_TEXT_PREFIXES) or name.endswith(_SKIP_SUFFIXES):
                continue
            if name not in target:
                continue
            if tuple(target[name].shape) != tuple(tensor.shape):
                raise TrainingError(
                    f"--init-from {path}: tensor {name} has shape {tuple(tensor.shape)} but the "
                    f"LayoutLM built from its config expects {tuple(target[name].shape)}"
                )
            target[name].copy_(tensor.to(target[name].dtype))
            copied.append(f"layoutlm.{name}")
    if not any(n.endswith("word_embeddings.weight") for n in copied):
        raise TrainingError(
            f"--init-from {path}: no embeddings/encoder tensors found; is it a BERT checkpoint?"
        )
    from receipt_layoutlm.training.box_init import init_box_embeddings

    std = model.config.initializer_range
    started = init_box_embeddings(model, box_init, std)  # type: ignore[arg-type]
    if started:
        log.info("box embeddings start %s: %s", box_init, ", ".join(started))
    params = [name for name, _ in model.named_parameters()]
    new = [name for name in params if name not in set(copied)]
    log.info("warm start from %s: %d tensors copied, new: %s", path, len(copied), ", ".join(new))
    return ModelInit(model, load_tokenizer(path), f"init_from:{path}", new, copied)


def _scratch(size: str, label_list: Sequence[str], seed: int) -> ModelInit:
    import torch
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    from receipt_layoutlm.encoding import load_tokenizer
    from receipt_layoutlm.pretrained import minilm_dir

    tokenizer = load_tokenizer(minilm_dir())
    sizes = TINY_SIZES if size == "tiny" else {}
    torch.manual_seed(seed)
    config = LayoutLMConfig(vocab_size=len(tokenizer), **sizes, **_label_kwargs(label_list))
    model = LayoutLMForTokenClassification(config)
    new = [name for name, _ in model.named_parameters()]
    return ModelInit(model, tokenizer, f"scratch:{size}", new, [])


def _kept_layers(path: Path, available: int | None, layers: int) -> int:
    """``--init-layers``: the lower layers are kept (the tensors of the others are not in the
    smaller model, so the copy skips them); they hold the general features a new task starts
    from, the top ones are the most specific to the pre-training objective."""
    if available is None or layers > available:
        has = "no num_hidden_layers in its config" if available is None else f"{available} layers"
        raise TrainingError(f"--init-layers {layers}: the warm start {path} has {has}")
    if layers < available:
        log.info("warm start from %s: first %d of its %d layers kept", path, layers, available)
    return layers


def build_model(config: TrainingConfig, label_list: Sequence[str]) -> ModelInit:
    """The model for ``config``: ``pretrained`` → fine-tune it; ``init_from`` → warm start;
    neither → ``tiny`` from scratch, or (``base``) a warm start from the MiniLM package."""
    if config.pretrained:
        return _from_pretrained(config.pretrained, label_list)
    if config.init_from:
        return _warm_start(config.init_from, label_list, config.seed,
                           config.box_embedding_init, config.init_layers)
    if config.model_size == "tiny":
        return _scratch("tiny", label_list, config.seed)
    from receipt_layoutlm.pretrained import minilm_dir

    return _warm_start(str(minilm_dir()), label_list, config.seed, config.box_embedding_init,
                       config.init_layers)
