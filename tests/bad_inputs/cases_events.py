"""Corpus rows, group ``events``: S3 object-created events for the upload Lambda that name
another bucket or directory, keys that escape the raw store, and records that are not records.

Each row runs the handler on one event in the case's local environment (one row on S3 at the
moto server); its ``message`` is the handler's log line for the bad record, and its check
asserts that exactly the event's good records were registered (Image + OCRJob + one message
each) and that nothing outside the raw store was read into a job or written.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bad_input_harness import Case, Workspace
from cases_ocr import _jpeg
from cases_security_messages import logged

G = "events"
HUGE_KEY = "raw/" + "k" * 250_000 + ".jpg"


def _raw(ws: Workspace) -> Path:
    return ws.data_dir / "objects"


def _photos(ws: Workspace) -> None:
    """Two photos in the raw store, one outside it (a sibling directory the role could read)."""
    for key in ("raw/a.jpg", "raw/b.jpg"):
        ws.write(f"data/objects/{key}", _jpeg())
    ws.write("elsewhere/raw/a.jpg", _jpeg())
    ws.write("outside/secret.jpg", _jpeg())


def _record(bucket: str, key: str) -> dict[str, Any]:
    return {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}  # fmt: skip


def record(bucket: str, key: str) -> Callable[[Workspace], Any]:
    """One record; ``{raw}`` and ``{root}`` in the bucket name are the case's directories."""
    return lambda ws: _record(bucket.format(raw=_raw(ws), root=ws.root), key)


GOOD_A = record("{raw}", "raw/a.jpg")
GOOD_B = record("{raw}", "raw/b.jpg")


def upload(*records: Any, event: Any = None) -> Callable[[Workspace], str]:
    """The upload Lambda on an event of ``records`` (callables of the workspace, or values
    sent as they are), or on ``event`` itself; the output lists the registered keys."""

    def command(ws: Workspace) -> str:
        from receipt_cloud.handlers.upload import handler

        body = event if event is not None else {
            "Records": [r(ws) if callable(r) else r for r in records]
        }
        out = handler(body, None, settings=ws.settings())
        return "registered: " + ",".join(r["s3_key"] for r in out["registered"])

    return logged(command)


def registered(*keys: str) -> Callable[[Workspace, Any], None]:
    """Exactly these raw keys have an OCRJob and a queued message; the photos outside the raw
    store were never registered."""

    def check(ws: Workspace, _before: Any) -> None:
        settings = ws.settings()
        jobs = settings.open_store().list_ocr_jobs() if keys else []
        assert sorted(j.s3_key for j in jobs) == sorted(keys)
        assert {j.s3_bucket for j in jobs} <= {str(_raw(ws))}
        queue = settings.open_queue("ocr_jobs")
        messages = queue.receive(max_messages=10, wait_seconds=0.2)
        assert len(messages) == len(keys)
        assert sorted(p.name for p in (ws.root / "outside").iterdir()) == ["secret.jpg"]

    return check


SKIPPED = r"WARNING receipt_cloud\.handlers\.upload: upload event record {n} skipped: "
NOT_A_RECORD = "the record has no s3\\.bucket\\.name and s3\\.object\\.key strings"


def outside(what: str, why: str, *, capped: bool = False) -> str:
    """The refusal of the URI rule for ``what`` (a regex of the bucket/key shown; a capped one
    has no closing quote)."""
    shown = f"'{what}" if capped else f"'{what}'"
    return rf"uploaded object {shown} is refused: {why}; it must stay inside file://\S+/objects"


def skipped(name: str, bad: Any, reason: str, *, position: int = 1) -> Case:
    """An event of GOOD_A, ``bad`` (at ``position``) and GOOD_B: the bad record skipped with
    ``reason``, the two good ones registered."""
    records: list[Any] = [GOOD_A, GOOD_B]
    records.insert(position, bad)
    return Case(name=f"upload_event_{name}", group=G, setup=_photos, command=upload(*records),
                exit_code=0, message=SKIPPED.format(n=position) + reason,
                check=registered("raw/a.jpg", "raw/b.jpg"))  # fmt: skip


def _s3_event(ws: Workspace) -> str:
    """A photo in the stack's raw bucket and one in a bucket it does not own, in one event."""
    import boto3

    s3 = boto3.client("s3")
    raw, foreign = f"raw-{uuid.uuid4().hex[:12]}", f"foreign-{uuid.uuid4().hex[:12]}"
    for bucket in (raw, foreign):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="raw/a.jpg", Body=_jpeg())
    ws.state["raw_bucket"] = raw
    settings = ws.settings(raw_uri=f"s3://{raw}", region="us-east-1",
                         endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    from receipt_cloud.handlers.upload import handler

    event = {"Records": [_record(foreign, "raw/a.jpg"), _record(raw, "raw/a.jpg")]}
    out = handler(event, None, settings=settings)
    return "registered: " + ",".join(f"{r['s3_bucket']}/{r['s3_key']}" for r in out["registered"])


def _s3_registered(ws: Workspace, _before: Any) -> None:
    jobs = ws.settings().open_store().list_ocr_jobs()
    assert [(j.s3_bucket, j.s3_key) for j in jobs] == [(ws.state["raw_bucket"], "raw/a.jpg")]


def results_event(event: Any) -> Callable[[Workspace], str]:
    """The export results Lambda on ``event``; the output lists the records it reports."""

    def command(ws: Workspace) -> str:
        from receipt_cloud.handlers import export_results

        failures = export_results.handler(event, None, settings=ws.settings())
        return "batchItemFailures: " + ",".join(f["itemIdentifier"]
                                                 for f in failures["batchItemFailures"])

    return logged(command)


def auto_export_event(event: Any) -> Callable[[Workspace], Any]:
    def command(ws: Workspace) -> Any:
        from receipt_cloud.handlers import auto_export

        return auto_export.handler(event, None, settings=ws.settings())

    return command


def _nothing_registered(ws: Workspace, before: Any) -> None:
    assert ws.items() == before
    assert ws.settings().open_queue("ocr_jobs").receive(max_messages=10) == []


CASES = [
    skipped("root_directory_as_bucket", record("/", "etc/hostname"),
            outside("/etc/hostname", "it is in another directory than this store's")),
    skipped("sibling_directory_as_bucket", record("{root}/elsewhere", "raw/a.jpg"),
            outside(r"\S+/elsewhere/raw/a\.jpg", "it is in another directory than this store's")),
    skipped("bucket_with_dot_dot", record("{raw}/..", "outside/secret.jpg"),
            outside(r"\S+/objects/\.\./outside/secret\.jpg",
                    "its bucket is not this store's directory")),
    skipped("key_dot_dot", record("{raw}", ".."),
            outside(r"\S+/objects/\.\.", r"it has a '\.\.' segment")),
    skipped("key_escapes_the_store", record("{raw}", "raw/../../../outside/secret.jpg"),
            outside(r"\S+/objects/raw/\.\./\.\./\.\./outside/secret\.jpg",
                    r"it has a '\.\.' segment"), position=0),
    skipped("key_percent_encoded_dots", record("{raw}", "raw/%252e%252e/%252e%252e/x.jpg"),
            outside(r"\S+/objects/raw/%2e%2e/%2e%2e/x\.jpg",
                    r"it percent-encodes a '\.', '/', '\\' or control character")),
    skipped("key_backslashes", record("{raw}", "raw\\..\\..\\outside\\secret.jpg"),
            outside(r"\S+/objects/raw\\\\\.\..*", "it contains a backslash")),
    skipped("key_nul_byte", record("{raw}", "raw/a.jpg%00.png"),
            outside(r"\S+/objects/raw/a\.jpg\\x00\.png",
                    r"it contains a control character \(NUL, newline\.\.\.\)")),
    skipped("key_absolute", record("{raw}", "/etc/hostname"),
            outside(r"\S+/objects//etc/hostname", "it is absolute")),
    skipped("key_250kb", record("{raw}", HUGE_KEY),
            outside(r"\S+/objects/raw/kkk+\.\.\. \(\d+ characters\)",
                    r"it is 250008 characters long \(at most 1024\)", capped=True)),
    skipped("record_is_none", None,
            "the record is NoneType, not an S3 event record object", position=0),
    skipped("record_is_a_string", "ObjectCreated",
            "the record is str, not an S3 event record object"),
    skipped("record_without_s3", {"eventName": "ObjectCreated:Put"}, NOT_A_RECORD),
    skipped("record_bucket_not_a_string",
            {"s3": {"bucket": {"name": 7}, "object": {"key": "raw/a.jpg"}}}, NOT_A_RECORD),
    Case(name="upload_event_is_not_an_object", group=G, setup=_photos,
         command=upload(event=[None]), exit_code=0, check=_nothing_registered,
         message=r"WARNING receipt_cloud\.handlers\.upload: upload event skipped: the event is "
                 r"list, not an object; nothing to register"),
    Case(name="upload_event_records_not_a_list", group=G, setup=_photos,
         command=upload(event={"Records": {"s3": {}}}), exit_code=0, check=_nothing_registered,
         message=r"WARNING receipt_cloud\.handlers\.upload: upload event skipped: the event's "
                 r"Records is dict, not a list; nothing to register"),
    Case(name="export_results_event_is_none", group=G, command=results_event(None),
         exit_code=0, message=r"ERROR receipt_cloud\.handlers\.export_results: export results "
                              r"event skipped: it is NoneType, not an object with a Records list"),
    Case(name="export_results_records_not_objects", group=G,
         command=results_event({"Records": [None, "x", {"messageId": "m-1", "body": "{oops"}]}),
         exit_code=0, message=r"ERROR receipt_cloud\.handlers\.export_results: export results "
                              r"record 0 skipped: it is NoneType without a messageId"),
    Case(name="auto_export_event_is_none", group=G, command=auto_export_event(None),
         exit_code=2, message=r"error: event has no detail object \(got NoneType\); not a "
                              r"SageMaker Training Job State Change event"),
    Case(name="auto_export_detail_not_an_object", group=G,
         command=auto_export_event({"detail": "Completed"}), exit_code=2,
         message=r"error: event has no detail object \(got dict\); .*"),
    Case(name="auto_export_job_name_escapes", group=G,
         command=auto_export_event({"detail": {"TrainingJobName": "layoutlm-../../x",
                                               "TrainingJobStatus": "Completed"}}),
         exit_code=2, message=r"error: event's detail\.TrainingJobName 'layoutlm-\.\./\.\./x' "
                              r"is not a job name"),
    Case(name="upload_event_foreign_s3_bucket", group=G, command=logged(_s3_event),
         exit_code=0, needs=("aws_env",), check=_s3_registered,
         message=SKIPPED.format(n=0) + r"uploaded object 'foreign-\w+/raw/a\.jpg' is refused: "
                 r"it is in bucket 'foreign-\w+', not this store's 'raw-\w+'; it must stay "
                 r"inside s3://raw-\w+"),
]  # fmt: skip
