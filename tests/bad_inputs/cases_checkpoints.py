"""Corpus rows: corrupt or hostile checkpoints and bundles (``load_checkpoint``, ``promote``)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from bad_input_harness import Case, Workspace

G = "checkpoints"
MARKER = "pickle-ran.txt"


def tiny_checkpoint(ws: Workspace) -> Path:
    """A real (tiny) checkpoint directory at ``{root}/ckpt``."""
    import torch
    from transformers import LayoutLMConfig, LayoutLMForTokenClassification

    from receipt_layoutlm.checkpoint import save_checkpoint
    from receipt_layoutlm.encoding import EncodingConfig, label_list, load_tokenizer
    from receipt_layoutlm.pretrained import minilm_dir

    tokenizer = load_tokenizer(minilm_dir())
    labels = label_list(["GRAND_TOTAL"])
    torch.manual_seed(0)
    model = LayoutLMForTokenClassification(LayoutLMConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=64, num_labels=len(labels)))
    directory = ws.path("ckpt")
    save_checkpoint(directory, model, tokenizer, labels, EncodingConfig(max_seq_length=32,
                                                                        stride=8))
    return directory


class _RunsCode:
    """A pickle that, when loaded, would create a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def pickled_weights(ws: Workspace) -> None:
    directory = tiny_checkpoint(ws)
    for weights in directory.glob("model.safetensors"):
        weights.unlink()
    with (directory / "pytorch_model.bin").open("wb") as handle:
        pickle.dump({"weight": _RunsCode(ws.path(MARKER))}, handle, protocol=2)


def garbage_config(ws: Workspace) -> None:
    tiny_checkpoint(ws)
    ws.write("ckpt/config.json", "{this is not json")


def load(ws: Workspace) -> str:
    from receipt_layoutlm.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(ws.path("ckpt"))
    return f"loaded {len(checkpoint.labels)} labels"


def no_code_ran(ws: Workspace, before: Any) -> None:
    assert not ws.path(MARKER).exists(), "the pickle ran code while loading"
    assert ws.items() == before


def totals_only_receipts(ws: Workspace, fields: dict[str, str] | None = None) -> None:
    """The tiny checkpoint and receipts whose only labelled word is a total (with ``fields``:
    key values that do name a shop)."""
    tiny_checkpoint(ws)
    words = [{"text": t, "corners": [[x, 10], [x + 40, 10], [x + 40, 20], [x, 20]],
              **({"label": "GRAND_TOTAL"} if t == "9.00" else {})}
             for t, x in (("TOTAL", 10), ("9.00", 60))]
    ws.write_jsonl("in.jsonl", [{"key": key, "width": 200, "height": 100, "words": words,
                                 **({"fields": fields} if fields else {})}
                                for key in ("a", "b")])


def no_line_classifier_written(ws: Workspace, before: Any) -> None:
    assert not ws.path("ckpt/line_classifier.json").exists()
    assert ws.items() == before


def no_known_values_written(ws: Workspace, before: Any) -> None:
    assert not ws.path("ckpt/known_values.json").exists()
    assert ws.items() == before


def no_key_lexicon_written(ws: Workspace, before: Any) -> None:
    assert not ws.path("ckpt/key_lexicon.json").exists()
    assert not ws.path("ckpt/known_values.json").exists()
    assert ws.items() == before


FIT_KNOWN_VALUES = ["fit-fields", "{root}/ckpt", "--dataset", "{root}/in.jsonl",
                    "--line-classifier", "none"]


def fit_fields(ws: Workspace) -> str:
    """What ``layoutlm-cli fit-fields {root}/ckpt --dataset {root}/in.jsonl`` calls."""
    from receipt_layoutlm.training.line_classifier_fit import fit_onto_checkpoint

    return str(fit_onto_checkpoint(ws.path("ckpt"), [ws.path("in.jsonl")]).fitted_on)


def load_runtime_of(ws: Workspace) -> str:
    from receipt_layoutlm.runtime import load_runtime

    return f"loaded {load_runtime('torch', ws.path('ckpt')).name}"


# -- bundles --------------------------------------------------------------------------------


def bundle(ws: Workspace, *, passed: bool = True) -> Path:
    from receipt_layoutlm.bundles.manifest import write_manifest

    directory = ws.path("bundle")
    ws.write("bundle/vocab.txt", "[PAD]\n[UNK]\n")
    ws.write("bundle/label_map.json", '{"labels": ["O"]}')
    write_manifest(directory, {"export_id": "e1", "parity": {"passed": passed}})
    return directory


def edit_manifest(ws: Workspace, change: Any) -> None:
    path = ws.path("bundle/manifest.json")
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def manifest_lists(rel: str) -> Any:
    """A bundle whose manifest also vouches for ``rel`` (outside it) with the right checksum."""

    def setup(ws: Workspace) -> None:
        from receipt_layoutlm.bundles.manifest import sha256_file

        bundle(ws)
        secret = ws.write("secret.txt", "not part of the bundle")
        entry = {"size": secret.stat().st_size, "sha256": sha256_file(secret)}
        edit_manifest(ws, lambda m: m["files"].update(
            {rel.format(secret=secret): entry}))

    return setup


def tampered(ws: Workspace) -> None:
    bundle(ws)
    ws.write("bundle/vocab.txt", "[PAD]\n[UNK]\n[EVIL]\n")


def nothing_exported(ws: Workspace, before: Any) -> None:
    assert not ws.path("out").exists(), "the refused export left a bundle behind"
    assert ws.items() == before


def nothing_promoted(ws: Workspace, before: Any) -> None:
    assert not (ws.data_dir / "objects" / "bundles" / "active.json").exists()
    assert ws.items() == before


def promote_refused(name: str, setup: Any, message: str) -> Case:
    return Case(name=name, group=G, setup=setup, command=["promote", "{root}/bundle"],
                exit_code=2, message=message, check=nothing_promoted)


CASES = [
    Case(name="pickled_checkpoint_refused_in_one_line", group=G, setup=pickled_weights,
         command=load, exit_code=2,
         message=r"error: checkpoint \S+ckpt: its weights file is a pickle holding more than "
                 r"tensors, which is refused .*", check=no_code_ran),
    Case(name="garbage_config_json_blamed_on_config", group=G, setup=garbage_config,
         command=load, exit_code=2,
         message=r"error: \S+ckpt/config\.json is not valid JSON \(.*\); the checkpoint is "
                 r"corrupt, .*"),
    Case(name="checkpoint_without_weights", group=G,
         setup=lambda ws: [p.unlink() for p in tiny_checkpoint(ws).glob("model.safetensors")],
         command=load, exit_code=2,
         message=r"error: checkpoint directory \S+ckpt has no weights file .*"),
    Case(name="fit_fields_without_company_or_address_labels", group=G,
         setup=totals_only_receipts,
         command=fit_fields, exit_code=2,
         message=r"error: fit-fields: no labelled merchant or address lines in \S+in\.jsonl; "
                 r"nothing to fit", check=no_line_classifier_written),
    Case(name="corrupt_line_classifier_json_blamed_on_it", group=G,
         setup=lambda ws: (tiny_checkpoint(ws), ws.write("ckpt/line_classifier.json", "{oops")),
         command=load_runtime_of, exit_code=2,
         message=r"error: \S+ckpt/line_classifier\.json: unreadable line classifier \(.*\)"),
    Case(name="line_classifier_of_other_features_refused", group=G,
         setup=lambda ws: (tiny_checkpoint(ws), ws.write(
             "ckpt/line_classifier.json",
             '{"version": 1, "features": ["p_mean"], "models": {}}')),
         command=load_runtime_of, exit_code=2,
         message=r"error: \S+ckpt/line_classifier\.json: fitted on other features than this "
                 r"code computes; refit it \(layoutlm-cli fit-fields\)"),
    Case(name="fit_fields_known_values_without_key_values", group=G,
         setup=totals_only_receipts, command=[*FIT_KNOWN_VALUES, "--known-values", "fit"],
         exit_code=2, data_dir_flag=False,
         message=r"error: fit-fields: no receipt in \S+in\.jsonl has a merchant or address "
                 r"value \(the dataset's 'fields'\); no known values to fit",
         check=no_known_values_written),
    Case(name="fit_fields_line_classifier_refused_keeps_known_values_unwritten", group=G,
         setup=lambda ws: totals_only_receipts(ws, {"company": "KEDAI MAJU SDN BHD"}),
         command=["fit-fields", "{root}/ckpt", "--dataset", "{root}/in.jsonl",
                  "--known-values", "fit"],
         exit_code=2, data_dir_flag=False,
         message=r"error: fit-fields: no labelled merchant or address lines in \S+in\.jsonl; "
                 r"nothing to fit", check=no_known_values_written),
    Case(name="fit_fields_with_nothing_to_fit", group=G, command=FIT_KNOWN_VALUES,
         exit_code=2, data_dir_flag=False,
         message=r"error: fit-fields: --line-classifier none, --known-values none and "
                 r"--key-lexicon none leave nothing to fit"),
    Case(name="fit_fields_key_lexicon_without_key_labels", group=G,
         setup=lambda ws: totals_only_receipts(ws, {"company": "KEDAI MAJU SDN BHD"}),
         command=[*FIT_KNOWN_VALUES, "--known-values", "fit", "--key-lexicon", "fit"],
         exit_code=2, data_dir_flag=False,
         message=r"error: fit-fields: no word in \S+in\.jsonl is labelled as a printed key "
                 r"\(X_KEY\); no key lexicon to fit", check=no_key_lexicon_written),
    Case(name="corrupt_key_lexicon_json_blamed_on_it", group=G,
         setup=lambda ws: (tiny_checkpoint(ws), ws.write("ckpt/key_lexicon.json", "[1, 2")),
         command=load_runtime_of, exit_code=2,
         message=r"error: \S+ckpt/key_lexicon\.json: unreadable key lexicon \(.*\)"),
    Case(name="key_lexicon_naming_a_value_refused", group=G,
         setup=lambda ws: (tiny_checkpoint(ws), ws.write(
             "ckpt/key_lexicon.json", '{"version": 1, "keys": {"total": "GRAND_TOTAL"}}')),
         command=load_runtime_of, exit_code=2,
         message=r"error: \S+ckpt/key_lexicon\.json: key 'total' must name a label ending in "
                 r"_KEY, got 'GRAND_TOTAL'"),
    Case(name="fit_fields_known_values_min_count_zero", group=G,
         command=[*FIT_KNOWN_VALUES, "--known-values", "fit", "--min-count", "0"],
         exit_code=2, data_dir_flag=False,
         message=r"layoutlm-cli fit-fields: error: argument --min-count: must be at least 1, "
                 r"got 0"),
    Case(name="corrupt_known_values_json_blamed_on_it", group=G,
         setup=lambda ws: (tiny_checkpoint(ws), ws.write("ckpt/known_values.json", "{oops")),
         command=load_runtime_of, exit_code=2,
         message=r"error: \S+ckpt/known_values\.json: unreadable known values \(.*\)"),
    Case(name="known_values_count_not_positive_refused", group=G,
         setup=lambda ws: (tiny_checkpoint(ws), ws.write(
             "ckpt/known_values.json",
             '{"version": 1, "values": {"merchant": {"A SHOP": -1}}}')),
         command=load_runtime_of, exit_code=2,
         message=r"error: \S+ckpt/known_values\.json: the count of a merchant value must be a "
                 r"positive integer, got -1"),
    Case(name="checkpoint_dir_missing", group=G, command=load, exit_code=2,
         message=r"error: checkpoint directory \S+ckpt does not exist; .*"),
    Case(name="int4_recipe_layer_pattern_matches_nothing", group=G,
         setup=lambda ws: tiny_checkpoint(ws),
         command=["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--output-dir", "{root}/out",
                  "--quantize", "int4", "--formats", "coreml", "--seq-length", "16",
                  "--int4-int8-layers", "classifier,classifer"],
         exit_code=2,
         message=r"error: --int4-int8-layers: 'classifer' matches no Linear/Embedding layer of "
                 r"the model \(e\.g\. .*\)",
         check=nothing_exported),
    Case(name="coreml_seq_lengths_longer_than_the_windows", group=G,
         setup=lambda ws: tiny_checkpoint(ws),
         command=["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--output-dir", "{root}/out",
                  "--formats", "coreml", "--seq-length", "16", "--coreml-seq-lengths", "8,32"],
         exit_code=2,
         message=r"error: --coreml-seq-lengths \[32\] must lie in 8\.\.16 \(--seq-length, the "
                 r"longest window\)",
         check=nothing_exported),
    Case(name="coreml_seq_lengths_not_numbers", group=G,
         command=["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--output-dir", "{root}/out",
                  "--coreml-seq-lengths", "128,short"],
         exit_code=2,
         message=r".*error: argument --coreml-seq-lengths: '128,short' is not a comma-separated "
                 r"list of whole numbers"),
    promote_refused("promote_manifest_path_escapes_bundle", manifest_lists("../secret.txt"),
                    r"error: \S+manifest\.json lists '\.\./secret\.txt', which points outside "
                    r"the bundle; the bundle is refused"),
    promote_refused("promote_manifest_absolute_path", manifest_lists("{secret}"),
                    r"error: \S+manifest\.json lists '/\S+secret\.txt', which points outside "
                    r"the bundle; the bundle is refused"),
    promote_refused("promote_tampered_file", tampered,
                    r"error: bundle \S+ does not match its manifest: vocab\.txt has .*"),
    promote_refused("promote_unlisted_file",
                    lambda ws: (bundle(ws), ws.write("bundle/extra.bin", "x")),
                    r"error: bundle \S+ does not match its manifest: extra\.bin is not listed "
                    r"in the manifest; .*"),
    promote_refused("promote_failed_parity", lambda ws: bundle(ws, passed=False),
                    r"error: \S+bundle: its manifest records a failed parity gate; re-export it"),
    promote_refused("promote_without_manifest",
                    lambda ws: ws.write("bundle/vocab.txt", "x"),
                    r"error: \S+bundle has no manifest\.json; only bundles written by "
                    r"export-coreml can be promoted"),
    promote_refused("promote_manifest_not_json",
                    lambda ws: (bundle(ws), ws.write("bundle/manifest.json", "{oops")),
                    r"error: \S+manifest\.json is not valid JSON \(.*\); the bundle is corrupt"),
]
