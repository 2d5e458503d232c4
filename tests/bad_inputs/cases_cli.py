"""Corpus rows: hostile ``layoutlm-cli`` flags and paths (names, statuses, data dirs, output
files), each refused in one line before any work is done."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from bad_input_harness import Case, Workspace, holds

from receipt_dynamo.errors import StoreUnavailableError
from receipt_layoutlm.importers import export_store

G = "cli"
WORDS = ["TOTAL", "9.00"]
OLD_EXPORT = '{"key": "old"}\n'


def record(key: str, text: str = "TOTAL") -> dict[str, Any]:
    return {"key": key, "width": 200, "height": 100, "words": [
        {"text": text, "corners": [[10, 10], [50, 10], [50, 20], [10, 20]], "label": "GRAND_TOTAL"},
        {"text": "9.00", "corners": [[60, 10], [100, 10], [100, 20], [60, 20]]}]}


def imported(ws: Workspace, *keys: str) -> None:
    ws.write_jsonl("seed.jsonl", [record(k) for k in keys or ("a", "b", "c")])
    code, out, err = ws.cli("import", "jsonl", str(ws.path("seed.jsonl")),
                            "--data-dir", str(ws.data_dir))
    assert code == 0, out + err


def seeded_with_old_export(ws: Workspace) -> None:
    imported(ws)
    ws.write("out.jsonl", OLD_EXPORT)


def old_export_intact(ws: Workspace, before: Any) -> None:
    assert ws.path("out.jsonl").read_text(encoding="utf-8") == OLD_EXPORT
    assert [p.name for p in ws.root.iterdir() if p.name.startswith(".out.jsonl")] == []
    assert ws.items() == before


def nothing_trained(ws: Workspace, before: Any) -> None:
    assert ws.items() == before, "a Job record was written"
    assert not (ws.data_dir / "training").exists() or not any((ws.data_dir / "training").iterdir())
    assert not (ws.root.parent / "x").exists()


class _DyingStore:
    """A store that fails while the export reads its second receipt (a crash mid-export)."""

    def __init__(self, store: Any) -> None:
        self._store, self._reads = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get_receipt_details(self, *args: Any) -> Any:
        self._reads += 1
        if self._reads == 2:
            raise StoreUnavailableError("connection lost while exporting")
        return self._store.get_receipt_details(*args)


def export_dies_midway(ws: Workspace) -> int:
    store = ws.open_store()
    try:
        return export_store(_DyingStore(store), ws.path("out.jsonl"))
    finally:
        store.close()


def infinite_corner_stored_long_ago(ws: Workspace) -> None:
    """A store written before corners were range-checked: one word holds x = Infinity."""
    seeded_with_old_export(ws)
    with contextlib.closing(sqlite3.connect(ws.table_path)) as conn, conn:
        pk, sk, item = conn.execute(
            "SELECT PK, SK, item FROM receipts WHERE TYPE = 'RECEIPT_WORD' ORDER BY PK, SK"
        ).fetchone()
        conn.execute("UPDATE receipts SET item = ? WHERE PK = ? AND SK = ?",
                     (item.replace('"top_left":{"x":', '"top_left":{"x":"Infinity","was":'),
                      pk, sk))


def cli_from(folder: str, *argv: str) -> Any:
    """Run the CLI with ``folder`` (under the case root) as the working directory."""

    def command(ws: Workspace) -> str:
        cwd = ws.path(folder)
        cwd.mkdir(parents=True, exist_ok=True)
        with contextlib.chdir(cwd):
            code, out, err = ws.cli(*argv, "--data-dir", str(ws.data_dir))
        assert code == 0, out + err
        return out.strip()

    return command


def table_in_data_dir(ws: Workspace, _before: Any) -> None:
    assert (ws.data_dir / "mine.sqlite3").is_file()
    assert not (ws.path("elsewhere") / "mine.sqlite3").exists()


def locked_by_a_writer(ws: Workspace) -> None:
    imported(ws, "a")
    conn = sqlite3.connect(ws.table_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    ws.cleanups.append(conn.close)


def round_trip(ws: Workspace) -> str:
    """Import, export-dataset, import the export into a fresh data dir: what the last says."""
    ws.write_jsonl("in.jsonl", [record("a"), record("b", "A\u2028B\u2029C\x85D"), record("c")])
    for argv in (("import", "jsonl", str(ws.path("in.jsonl"))),
                 ("export-dataset", str(ws.path("out.jsonl")))):
        code, out, err = ws.cli(*argv, "--data-dir", str(ws.path("first")))
        assert code == 0, out + err
    code, out, err = ws.cli("import", "jsonl", str(ws.path("out.jsonl")),
                            "--data-dir", str(ws.data_dir))
    return out.strip()


def mix_with_an_unlabelled_dataset(ws: Workspace) -> None:
    ws.write_jsonl("a.jsonl", [record(k) for k in ("a1", "a2", "a3")])
    unlabelled = record("e1")
    unlabelled["words"][0].pop("label")
    ws.write_jsonl("e.jsonl", [unlabelled])


def mix_checkpoint(ws: Workspace) -> None:
    """Only the checkpoint.json of a --mix model: --label-set is checked before anything loads."""
    ws.write("ckpt/checkpoint.json",
             '{"dataset_labels": {"sroie": ["DATE"], "wild": ["DATE", "TIME"]}}')


def refused(name: str, argv: list[str], message: str, **kwargs: Any) -> Case:
    return Case(name=name, group=G, command=argv, exit_code=2, message=message, **kwargs)


CASES = [
    # Defect 5: names become paths; they are checked before any work.
    refused("train_job_name_escapes_data_dir",
            ["train", "--job-name", "../../x", "--dataset", "{root}/d.jsonl"],
            r"error: job name '\.\./\.\./x' is not allowed \(--job-name\): .*",
            setup=lambda ws: ws.write_jsonl("d.jsonl", [record("a")]), check=nothing_trained),
    refused("train_job_name_with_slash", ["train", "--job-name", "a/b"],
            r"error: job name 'a/b' is not allowed \(--job-name\): .*", check=nothing_trained),
    refused("train_job_name_hidden", ["train", "--job-name", ".hidden"],
            r"error: job name '\.hidden' is not allowed \(--job-name\): .*",
            check=nothing_trained),
    refused("export_coreml_export_id_escapes",
            ["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--export-id", "../../x"],
            r"error: export id '\.\./\.\./x' is not allowed \(--export-id\): .*"),
    refused("export_coreml_model_name_path",
            ["export-coreml", "--checkpoint-dir", "{root}/ckpt", "--model-name", "../M"],
            r"error: model name '\.\./M' is not allowed \(--model-name\): .*"),
    # Defect 11: a missing dataset leaves no run folder and no Job.
    refused("train_missing_dataset", ["train", "--job-name", "j1", "--dataset", "{root}/no.jsonl"],
            r"error: dataset file \S*no\.jsonl does not exist; pass an existing \.jsonl file",
            check=nothing_trained),
    # Issue 18: a mix of datasets names each one; each must annotate something to mask by.
    refused("train_mix_without_a_name", ["train", "--job-name", "j1", "--mix", "{root}/a.jsonl"],
            r"error: --mix takes NAME=FILE\.jsonl, got '\S*a\.jsonl'", check=nothing_trained),
    refused("train_mix_name_escapes",
            ["train", "--job-name", "j1", "--mix", "../x={root}/a.jsonl"],
            r"error: dataset name '\.\./x' is not allowed \(--mix\): .*", check=nothing_trained),
    refused("train_mix_and_dataset", ["train", "--job-name", "j1", "--dataset", "{root}/a.jsonl",
                                      "--mix", "a={root}/a.jsonl"],
            r"error: --dataset and --mix both name training data; pass every dataset of the mix "
            r"as --mix NAME=FILE\.jsonl", check=nothing_trained),
    refused("train_mix_missing_file",
            ["train", "--job-name", "j1", "--mix", "a={root}/no.jsonl"],
            r"error: dataset file \S*no\.jsonl does not exist; pass an existing \.jsonl file",
            check=nothing_trained),
    refused("train_mix_dataset_without_labels",
            ["train", "--job-name", "j1", "--mix", "a={root}/a.jsonl", "--mix", "e={root}/e.jsonl"],
            r"error: dataset 'e' of --mix annotates no label in the training receipts \(after "
            r"merges and --allowed-label\); a mix needs each dataset's labels to mask by",
            setup=mix_with_an_unlabelled_dataset, check=nothing_trained),
    # Issue 21: a smaller model from the warm start's lower layers; nothing to keep is refused.
    refused("train_init_layers_zero",
            ["train", "--job-name", "j1", "--dataset", "{root}/d.jsonl", "--init-layers", "0"],
            r"error: invalid training config: init_layers must be >= 1",
            setup=lambda ws: ws.write_jsonl("d.jsonl", [record("a")]), check=nothing_trained),
    refused("train_init_layers_without_a_warm_start",
            ["train", "--job-name", "j1", "--dataset", "{root}/d.jsonl", "--init-layers", "2",
             "--model-size", "tiny"],
            r"error: invalid training config: init_layers needs a warm start \(--init-from or "
            r"--model-size base\)",
            setup=lambda ws: ws.write_jsonl("d.jsonl", [record("a")]), check=nothing_trained),
    refused("evaluate_unknown_label_set",
            ["evaluate", "--model", "{root}/ckpt", "--dataset", "{root}/a.jsonl",
             "--label-set", "cord"],
            r"error: --label-set 'cord': unknown dataset; the model was trained on sroie, wild",
            setup=mix_checkpoint),
    # Defect 8: export-dataset refuses an unknown status and never truncates the old file.
    refused("export_dataset_unknown_status",
            ["export-dataset", "{root}/out.jsonl", "--status", "VALIDATED"],
            r"error: unknown label status 'VALIDATED'; use one of NONE, PENDING, VALID, INVALID, "
            r"NEEDS_REVIEW \(--status\)", setup=seeded_with_old_export, check=old_export_intact),
    Case(name="export_dataset_dies_midway_keeps_old_file", group=G, setup=seeded_with_old_export,
         command=export_dies_midway, exit_code=2,
         message=r"error: connection lost while exporting", check=old_export_intact),
    refused("export_dataset_infinite_corner_in_store", ["export-dataset", "{root}/out.jsonl"],
            r"error: receipt [0-9a-f-]{36}#00001 cannot be exported: Point\.x must be a finite "
            r"number \(not NaN or infinity\), got inf; fix or delete it \(nothing was written\)",
            setup=infinite_corner_stored_long_ago, check=old_export_intact),
    Case(name="export_dataset_lowercase_status_accepted", group=G, setup=seeded_with_old_export,
         command=["export-dataset", "{root}/out.jsonl", "--status", "valid"], exit_code=0,
         message=r"wrote 3 receipts to \S*out\.jsonl", check=lambda ws, _b: None),
    # Defect 9: file-system refusals are one line.
    refused("export_dataset_to_a_directory", ["export-dataset", "{root}"],
            r"error: \S+ is a directory; pass the path of the \.jsonl file to write",
            setup=imported),
    refused("export_dataset_into_missing_folder", ["export-dataset", "{root}/no/such/out.jsonl"],
            r"error: cannot write \S*out\.jsonl: No such file or directory", setup=imported),
    refused("data_dir_under_a_file", ["jobs", "list", "--data-dir", "{root}/afile/data"],
            r"error: cannot open the SQLite table file \S+: .*Not a directory.*",
            setup=lambda ws: ws.write("afile", "x"), data_dir_flag=False),
    refused("import_with_data_dir_under_a_file",
            ["import", "jsonl", "{root}/in.jsonl", "--data-dir", "{root}/afile/data"],
            r"error: cannot open the SQLite table file \S+: .*Not a directory.*",
            setup=lambda ws: (ws.write("afile", "x"), ws.write_jsonl("in.jsonl", [record("a")])),
            data_dir_flag=False),
    # Defect 11: a relative --table-name lives in the data dir; reading needs no write lock.
    Case(name="relative_table_name_in_data_dir", group=G,
         command=cli_from("elsewhere", "jobs", "list", "--table-name", "mine.sqlite3"),
         exit_code=0, message=r"name\s+status\s+best_f1\s+epoch\s+created",
         check=table_in_data_dir),
    Case(name="read_while_another_process_writes", group=G, setup=locked_by_a_writer,
         command=["jobs", "list"], exit_code=0,
         message=r"name\s+status\s+best_f1\s+epoch\s+created"),
    # Defect 1 end to end: export → import keeps every receipt.
    Case(name="export_import_round_trip_line_separators", group=G, command=round_trip,
         exit_code=0, message=r"receipts: read 3, written 3, skipped \(already stored\) 0, "
         r"failed 0", check=holds({"a": WORDS, "b": ["A\u2028B\u2029C\x85D", "9.00"],
                                   "c": WORDS})),
    # Flags argparse refuses.
    refused("import_limit_zero", ["import", "jsonl", "x", "--limit", "0"],
            r"layoutlm-cli import: error: argument --limit: must be at least 1, got 0"),
    refused("import_unknown_format", ["import", "csv", "x"],
            r"layoutlm-cli import: error: argument format: invalid choice: 'csv' .*"),
    refused("import_unknown_label_mode", ["import", "jsonl", "x", "--labels", "all"],
            r"layoutlm-cli import: error: argument --labels: invalid choice: 'all' .*"),
    refused("train_epochs_not_a_number", ["train", "--epochs", "many"],
            r"layoutlm-cli train: error: argument --epochs: invalid int value: 'many'"),
    refused("unknown_command", ["frobnicate"],
            r"layoutlm-cli: error: argument COMMAND: invalid choice: 'frobnicate' .*",
            data_dir_flag=False),
    refused("unknown_job", ["jobs", "show", "nope"], r"error: .*'nope'.*"),
    refused("stack_outputs_file_missing",
            ["jobs", "list", "--env", "dev", "--stack-outputs", "{root}/nope.json"],
            r"error: stack outputs file \S*nope\.json does not exist; .*"),
    refused("stack_outputs_file_not_json",
            ["jobs", "list", "--env", "dev", "--stack-outputs", "{root}/o.json"],
            r"error: stack outputs file \S*o\.json is not valid JSON: .*",
            setup=lambda ws: ws.write("o.json", "{nope")),
    refused("stack_outputs_file_is_a_directory",
            ["jobs", "list", "--env", "dev", "--stack-outputs", "{root}"],
            r"error: \[Errno 21\] Is a directory: '\S+'"),
    refused("promote_missing_bundle", ["promote", "{root}/no-bundle"], r"error: .*no-bundle.*"),

    # layoutlm-cli synth and report (issue 14): refused in one line, nothing written.
    Case(name="synth_count_zero", group=G, command=["synth", "--count", "0", "--out", "{root}/s"],
         exit_code=2, message=r"error: synth: count must be at least 1, got 0",
         data_dir_flag=False, check=lambda ws, _b: _absent(ws, "s")),
    Case(name="synth_font_missing", group=G,
         command=["synth", "--count", "1", "--out", "{root}/s", "--font", "{root}/no.ttf"],
         exit_code=2, message=r"error: synth: font \S*no\.ttf is not a file; pass a TrueType "
         r"\(\.ttf\) file", data_dir_flag=False, check=lambda ws, _b: _absent(ws, "s")),
    refused("report_unknown_job", ["report", "--job", "layoutlm-nope", "--output", "{root}/r.html"],
            r"error: no Job named 'layoutlm-nope'.*", check=lambda ws, _b: _absent(ws, "r.html")),
    refused("report_output_is_a_directory", ["report", "--job", "layoutlm-r", "--output", "{root}"],
            r"error: --output \S+ is a directory; pass the path of the \.html file to write",
            setup=lambda ws: _job(ws, "layoutlm-r"), check=lambda ws, before: _no_tmp(ws)),
]


def _absent(ws: Workspace, name: str) -> None:
    assert not ws.path(name).exists(), f"{name} was written"


def _job(ws: Workspace, name: str) -> None:
    import uuid

    from receipt_dynamo.entities import Job

    with contextlib.closing(ws.open_store()) as store:
        store.add_job(Job(job_id=str(uuid.uuid4()), name=name))


def _no_tmp(ws: Workspace) -> None:
    assert not (ws.root.parent / f".{ws.root.name}.tmp").exists(), "a temporary file was left"
