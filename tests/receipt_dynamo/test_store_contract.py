"""One contract suite for every backend (see conftest.store: sqlite and dynamodb over moto)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from dynamo_factories import at, label, new_id, receipt, whole_receipt

from receipt_dynamo import (
    CoreMLExportJob,
    EntityAlreadyExistsError,
    EntityNotFoundError,
    ExportStatus,
    Image,
    Job,
    JobMetric,
    JobStatus,
    OCRJob,
    OCRJobStatus,
    OCRRoutingDecision,
    ProtectedLabelError,
    QuantizeMode,
    ReceiptStore,
    RoutingStatus,
    Table,
    ValidationStatus,
)
from receipt_dynamo._table import Item, Key


def image(image_id: str | None = None) -> Image:
    return Image(image_id=image_id or new_id(), width=1200, height=1600, raw_s3_bucket="raw",
                 raw_s3_key="images/a.png", timestamp_added=at(0), source="upload")


def job(name: str = "layoutlm-a", created: float = 0, **extra) -> Job:
    return Job(job_id=new_id(), name=name, created_at=at(created),
               job_config={"lr": 5e-5, "epochs": 3, "labels": ["DATE", "TAX"]},
               tags={"skip-coreml-export": "false"}, **extra)


def test_conditional_add_overwrite_get_update_delete(store: ReceiptStore) -> None:
    img = image()
    store.add_image(img)
    assert store.get_image(img.image_id) == img
    with pytest.raises(EntityAlreadyExistsError, match=img.image_id):
        store.add_image(img)
    bigger = img.with_changes(width=2400)
    store.add_image(bigger, overwrite=True)
    assert store.get_image(img.image_id).width == 2400
    store.update_image(img.with_changes(source="sroie"))
    assert store.get_image(img.image_id).source == "sroie"
    store.delete_image(img.image_id)
    with pytest.raises(EntityNotFoundError):
        store.get_image(img.image_id)
    with pytest.raises(EntityNotFoundError):
        store.delete_image(img.image_id)
    with pytest.raises(EntityNotFoundError, match="add it first"):
        store.update_image(img)


def test_batch_add_more_than_25_and_list_paginates(store: ReceiptStore) -> None:
    images = [image() for _ in range(57)]
    store.add_images(images)
    listed = store.list_images()
    assert sorted(i.image_id for i in listed) == sorted(i.image_id for i in images)
    assert {i.image_id: i for i in listed} == {i.image_id: i for i in images}


def test_receipt_details_one_gsi4_query_over_many_pages(store: ReceiptStore) -> None:
    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 2, n_lines=5, words_per_line=6)
    other = whole_receipt(image_id, 3, n_lines=1, words_per_line=2)
    store.write_receipt(rec, lines, words, labels)
    store.write_receipt(*other)
    details = store.get_receipt_details(image_id, 2)
    assert details.receipt == rec
    assert details.lines == lines
    assert details.words == words
    assert details.labels == labels
    assert store.list_receipt_words(image_id, 2, line_id=3) == [w for w in words if w.line_id == 3]
    assert store.list_receipt_lines(image_id, 2) == lines
    assert store.list_word_labels(image_id, 2) == labels
    assert store.list_receipts(image_id) == [rec, other[0]]
    assert store.get_receipt_word(image_id, 2, 4, 5) == words[3 * 6 + 4]
    with pytest.raises(EntityNotFoundError, match="receipt 9"):
        store.get_receipt_details(image_id, 9)


def test_write_receipt_refuses_existing_and_delete_removes_children(store: ReceiptStore) -> None:
    image_id = new_id()
    parts = whole_receipt(image_id, 1)
    store.write_receipt(*parts)
    with pytest.raises(EntityAlreadyExistsError, match="overwrite=True"):
        store.write_receipt(*parts)
    store.delete_receipt(image_id, 1)
    assert store.list_receipt_words(image_id, 1) == []
    assert store.list_word_labels(image_id, 1) == []
    with pytest.raises(EntityNotFoundError):
        store.get_receipt_details(image_id, 1)
    with pytest.raises(EntityNotFoundError):
        store.delete_receipt(image_id, 1)


def test_write_receipt_overwrite_replaces_but_keeps_human_labels(store: ReceiptStore) -> None:
    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=2, words_per_line=3)
    human = labels[0].with_changes(validation_status=ValidationStatus.VALID,
                                   label_proposed_by="ann")
    store.write_receipt(rec, lines, words, [human, *labels[1:]])
    # Re-OCR: fewer words, new proposals for every word including the human-validated one.
    new_words = words[:4]
    proposals = [lab.with_changes(label_proposed_by="model-v2") for lab in labels[:4]]
    result = store.write_receipt(rec, lines, new_words, proposals, overwrite=True)
    assert (result.written, result.skipped_protected) == (3, 1)
    details = store.get_receipt_details(image_id, 1)
    assert details.words == new_words
    assert details.labels == [human, *proposals[1:]]


class DelegatingTable(Table):
    """A real backend behind a wrapper; subclasses break or interleave single calls."""

    def __init__(self, inner: Table) -> None:
        self.inner = inner
        self.transactional = inner.transactional

    def put_item(self, item, *, condition=None):
        self.inner.put_item(item, condition=condition)

    def get_item(self, pk, sk):
        return self.inner.get_item(pk, sk)

    def delete_item(self, pk, sk, *, condition=None):
        self.inner.delete_item(pk, sk, condition=condition)

    def query(self, index, pk, **options):
        return self.inner.query(index, pk, **options)

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        self.inner.batch_write(puts=puts, deletes=deletes)

    def transact_write(self, ops):
        self.inner.transact_write(ops)

    def atomic(self):
        return self.inner.atomic()


class FailingTable(DelegatingTable):
    """A real backend that breaks after writing half of the first batch it is given."""

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        if puts:
            self.inner.batch_write(puts=puts[: len(puts) // 2])
            raise RuntimeError("injected failure in the middle of a batch")
        self.inner.batch_write(deletes=deletes)


class InterleavingTable(DelegatingTable):
    """A real backend that runs another writer's work once, just before a chosen step:
    ``before_children`` before the first batch that puts items, ``before_commit`` before the
    Receipt item (the commit marker) is put."""

    def __init__(self, inner: Table, *, before_children=None, before_commit=None) -> None:
        super().__init__(inner)
        self.before_children, self.before_commit = before_children, before_commit

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        if puts and self.before_children:
            hook, self.before_children = self.before_children, None
            hook()
        super().batch_write(puts=puts, deletes=deletes)

    def put_item(self, item, *, condition=None):
        if item["TYPE"] == "RECEIPT" and self.before_commit:
            hook, self.before_commit = self.before_commit, None
            hook()
        super().put_item(item, condition=condition)


def _without_token(item: Item) -> Item:
    return {k: v for k, v in item.items() if k != "write_token"}


def test_write_receipt_failure_midway_leaves_nothing(store: ReceiptStore) -> None:
    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=4, words_per_line=10)
    broken = ReceiptStore(FailingTable(store.table))
    with pytest.raises(RuntimeError, match="injected"):
        broken.write_receipt(rec, lines, words, labels)
    with pytest.raises(EntityNotFoundError):
        store.get_receipt_details(image_id, 1)
    assert list(store.table.iter_query("GSI4", rec.index_keys()["GSI4PK"])) == []
    # The same receipt writes fine afterwards.
    store.write_receipt(rec, lines, words, labels)
    assert len(store.get_receipt_details(image_id, 1).words) == 40


def test_failed_overwrite_leaves_the_old_receipt_or_nothing_never_a_mix(
    store: ReceiptStore,
) -> None:
    image_id = new_id()
    old = whole_receipt(image_id, 1, n_lines=3, words_per_line=4)
    store.write_receipt(*old)
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=2, words_per_line=10)
    new = (rec.with_changes(width=999), lines, words,
           [lab.with_changes(label_proposed_by="model-v2") for lab in labels])
    with pytest.raises(RuntimeError, match="injected"):
        ReceiptStore(FailingTable(store.table)).write_receipt(*new, overwrite=True)
    if store.table.transactional:
        details = store.get_receipt_details(image_id, 1)  # rolled back: the old receipt whole
        assert (details.receipt, details.lines, details.words, details.labels) == old
    else:
        with pytest.raises(EntityNotFoundError):  # absent, as the docstring promises
            store.get_receipt_details(image_id, 1)
        old_items = [e.to_item() for e in (*old[1], *old[2], *old[3])]
        left = list(store.table.iter_query(None, rec.pk, sk_begins_with=rec.sk))
        assert left  # old children the failed write never reached stay as leftovers...
        assert all(_without_token(i) in old_items for i in left)  # ...but none of the new
    store.write_receipt(*new, overwrite=True)
    details = store.get_receipt_details(image_id, 1)
    assert (details.receipt, details.lines, details.words, details.labels) == new


def test_losing_concurrent_writer_keeps_the_winners_children(store: ReceiptStore) -> None:
    if store.table.transactional:
        pytest.skip("SQLite runs write_receipt in one BEGIN IMMEDIATE transaction: no race")
    image_id = new_id()
    loser = whole_receipt(image_id, 1, n_lines=3, words_per_line=4)
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=2, words_per_line=4)
    winner = (rec.with_changes(width=700), lines, words,
              [lab.with_changes(label_proposed_by="winner") for lab in labels])
    # The loser has written its children; the winner writes the whole receipt and commits
    # before the loser's conditional put of the Receipt item.
    racing = InterleavingTable(store.table, before_commit=lambda: store.write_receipt(*winner))
    with pytest.raises(EntityAlreadyExistsError, match="someone else"):
        ReceiptStore(racing).write_receipt(*loser)
    details = store.get_receipt_details(image_id, 1)
    assert (details.receipt, details.lines, details.words, details.labels) == winner


def test_overwrite_keeps_labels_validated_while_it_runs(store: ReceiptStore) -> None:
    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=2, words_per_line=3)
    store.write_receipt(rec, lines, words, labels)
    reproposed, dropped = (
        lab.with_changes(validation_status=ValidationStatus.VALID, label_proposed_by="ann")
        for lab in (labels[2], labels[4])
    )

    def annotator_validates() -> None:
        store.update_word_label(reproposed)
        store.update_word_label(dropped)

    # Between write_receipt's read of the stored labels and its label writes, a human
    # validates one label the overwrite re-proposes and one it no longer proposes.
    racing = InterleavingTable(store.table, before_children=annotator_validates)
    proposals = [lab.with_changes(label_proposed_by="model-v2")
                 for i, lab in enumerate(labels) if i != 4]
    result = ReceiptStore(racing).write_receipt(rec, lines, words, proposals, overwrite=True)
    assert (result.written, result.skipped_protected) == (len(proposals) - 1, 1)
    assert result.skipped == (proposals[2],)
    expected = [reproposed if lab.sk == reproposed.sk else lab for lab in proposals] + [dropped]
    by_key = sorted(store.get_receipt_details(image_id, 1).labels, key=lambda lab: lab.sk)
    assert by_key == sorted(expected, key=lambda lab: lab.sk)


def test_write_receipt_clears_leftovers_of_an_interrupted_write(store: ReceiptStore) -> None:
    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 1)
    store.add_receipt_words(words)  # children without their Receipt item: an interrupted write
    with pytest.raises(EntityNotFoundError):
        store.get_receipt_details(image_id, 1)
    store.write_receipt(rec, lines, words[:2], labels[:2])
    assert store.get_receipt_details(image_id, 1).words == words[:2]


def test_label_indexes(store: ReceiptStore) -> None:
    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=3, words_per_line=3)
    labels = [
        lab.with_changes(validation_status=ValidationStatus.VALID) if i % 3 == 0 else lab
        for i, lab in enumerate(labels)
    ]
    store.write_receipt(rec, lines, words, labels)
    valid = [lab for lab in labels if lab.validation_status == ValidationStatus.VALID]
    assert store.list_labels_by_status(ValidationStatus.VALID) == valid
    assert store.list_labels_by_status("PENDING") == [
        lab for lab in labels if lab.validation_status == ValidationStatus.PENDING
    ]
    name = labels[4].label
    assert store.list_labels_by_label(name) == [lab for lab in labels if lab.label == name]
    extra = label(image_id, 1, 2, 2, "TAX")
    store.add_word_label(extra)
    assert store.list_labels_for_word(image_id, 1, 2, 2) == sorted(
        [extra, labels[4]], key=lambda lab: lab.label
    )
    moved = labels[4].with_changes(validation_status=ValidationStatus.INVALID)
    store.update_word_label(moved)
    assert moved in store.list_labels_by_status("INVALID")
    assert labels[4] not in store.list_labels_by_status("PENDING")
    store.delete_word_label(image_id, 1, 2, 2, "TAX")
    with pytest.raises(EntityNotFoundError):
        store.get_word_label(image_id, 1, 2, 2, "TAX")


def test_label_protection_single_writes(store: ReceiptStore) -> None:
    image_id = new_id()
    human = label(image_id, 1, 1, 1, status=ValidationStatus.VALID, by="annotator")
    store.add_word_label(human)
    proposal = label(image_id, 1, 1, 1, status=ValidationStatus.PENDING, by="model-v2")
    with pytest.raises(EntityAlreadyExistsError):
        store.add_word_label(proposal)
    with pytest.raises(ProtectedLabelError, match="VALID/INVALID"):
        store.add_word_label(proposal, overwrite=True)
    with pytest.raises(ProtectedLabelError):
        store.update_word_label(proposal.with_changes(validation_status="NEEDS_REVIEW"))
    assert store.get_word_label(image_id, 1, 1, 1, "GRAND_TOTAL") == human
    # A human decision replaces anything, and then proposals may replace non-protected ones.
    rejected = human.with_changes(validation_status=ValidationStatus.INVALID)
    store.add_word_label(rejected, overwrite=True)
    assert store.get_word_label(image_id, 1, 1, 1, "GRAND_TOTAL") == rejected
    pending = label(image_id, 1, 1, 2)
    store.add_word_label(pending)
    store.add_word_label(pending.with_changes(confidence=0.9), overwrite=True)
    assert store.get_word_label(image_id, 1, 1, 2, "GRAND_TOTAL").confidence == 0.9
    with pytest.raises(EntityNotFoundError):
        store.update_word_label(label(image_id, 1, 9, 9))


def test_label_protection_batch_skips_protected_only(store: ReceiptStore) -> None:
    image_id = new_id()
    humans = [label(image_id, 1, 1, w, status=s, by="ann")
              for w, s in ((1, ValidationStatus.VALID), (2, ValidationStatus.INVALID))]
    store.propose_word_labels(humans)
    proposals = [label(image_id, 1, 1, w, by="model-v3") for w in range(1, 31)]
    result = store.propose_word_labels(proposals)
    assert (result.written, result.skipped_protected) == (28, 2)
    assert {(s.line_id, s.word_id) for s in result.skipped} == {(1, 1), (1, 2)}
    stored = {(lab.line_id, lab.word_id): lab for lab in store.list_word_labels(image_id, 1)}
    assert len(stored) == 30
    assert stored[(1, 1)] == humans[0] and stored[(1, 2)] == humans[1]
    assert all(stored[(1, w)] == proposals[w - 1] for w in range(3, 31))


def test_jobs_by_status_and_name(store: ReceiptStore) -> None:
    old = job("layoutlm-x", created=0)
    new = job("layoutlm-x", created=60, status=JobStatus.RUNNING)
    other = job("layoutlm-y", created=30)
    store.add_jobs([old, new, other])
    assert store.get_job_by_name("layoutlm-x") == new
    with pytest.raises(EntityNotFoundError, match="layoutlm-z"):
        store.get_job_by_name("layoutlm-z")
    assert store.list_jobs(JobStatus.PENDING) == [old, other]
    done = new.with_changes(status=JobStatus.SUCCEEDED, updated_at=at(120),
                            results={"best_f1": 0.91, "epoch": 2})
    store.update_job(done)
    assert store.get_job(new.job_id) == done
    assert store.list_jobs("succeeded") == [done]
    assert store.list_jobs("running") == []
    everyone = sorted(j.job_id for j in (old, new, other))
    assert sorted(j.job_id for j in store.list_jobs()) == everyone


def test_job_metrics(store: ReceiptStore) -> None:
    run = job()
    store.add_job(run)
    losses = [JobMetric(job_id=run.job_id, metric_name="loss", value=1.0 / (i + 1), step=i,
                        timestamp=at(i)) for i in range(10)]
    f1 = JobMetric(job_id=run.job_id, metric_name="eval_f1", value={"DATE": 0.9, "TAX": 0.5},
                   epoch=1, timestamp=at(5))
    store.add_job_metrics([*losses, f1])
    assert store.list_job_metrics(run.job_id, "loss") == losses
    assert store.list_job_metrics(run.job_id) == [f1, *losses]
    assert store.list_metrics_by_name("eval_f1") == [f1]
    assert store.get_job_metric(run.job_id, "loss", at(3)) == losses[3]
    store.delete_job(run.job_id)
    assert store.list_job_metrics(run.job_id) == []
    with pytest.raises(EntityNotFoundError):
        store.get_job(run.job_id)


def test_export_jobs_by_status_and_job(store: ReceiptStore) -> None:
    run = job("layoutlm-e")
    exports = [
        CoreMLExportJob(export_id=new_id(), job_id=run.job_id if i % 2 else run.name,
                        model_s3_uri=f"s3://models/{i}", quantize=QuantizeMode.FLOAT16,
                        output_s3_prefix="s3://bundles/", created_at=at(i))
        for i in range(6)
    ]
    for export in exports:
        store.add_export_job(export)
    with pytest.raises(EntityAlreadyExistsError):
        store.add_export_job(exports[0])
    finished = exports[1].with_changes(status=ExportStatus.SUCCEEDED, model_size_bytes=123456,
                                       export_duration_seconds=12.5,
                                       bundle_s3_uri="s3://bundles/x.zip")
    store.update_export_job(finished)
    assert store.list_export_jobs_by_status(ExportStatus.SUCCEEDED) == [finished]
    assert store.list_export_jobs_by_status("PENDING") == [e for e in exports if e != exports[1]]
    assert store.list_export_jobs_for_job(run.name) == exports[0::2]
    assert store.list_export_jobs_for_job(run.job_id) == [finished, exports[3], exports[5]]
    assert store.get_export_job(exports[1].export_id) == finished
    store.delete_export_job(finished.export_id)
    assert len(store.list_export_jobs()) == 5


def test_ocr_jobs_and_routing_by_status(store: ReceiptStore) -> None:
    image_id = new_id()
    jobs = [OCRJob(image_id=image_id, job_id=new_id(), s3_bucket="raw", s3_key=f"k{i}",
                   created_at=at(i)) for i in range(5)]
    store.add_ocr_jobs(jobs)
    done = jobs[2].with_changes(status=OCRJobStatus.COMPLETED, updated_at=at(100))
    store.update_ocr_job(done)
    assert store.list_ocr_jobs_by_status("COMPLETED") == [done]
    assert store.list_ocr_jobs_by_status(OCRJobStatus.PENDING) == [j for j in jobs if j != jobs[2]]
    assert len(store.list_ocr_jobs(image_id)) == 5
    decision = OCRRoutingDecision(image_id=image_id, job_id=done.job_id, s3_bucket="out",
                                  s3_key="ocr_results/x.json", receipt_count=2, created_at=at(9))
    store.add_routing_decision(decision)
    assert store.list_routing_decisions_by_status(RoutingStatus.PENDING) == [decision]
    completed = decision.with_changes(status=RoutingStatus.COMPLETED)
    store.update_routing_decision(completed)
    assert store.list_routing_decisions_by_status("COMPLETED") == [completed]
    assert store.get_routing_decision(image_id, done.job_id) == completed
    assert store.list_routing_decisions(image_id) == [completed]
    store.delete_ocr_job(done.image_id, done.job_id)
    with pytest.raises(EntityNotFoundError):
        store.get_ocr_job(image_id, done.job_id)


def test_query_pages_and_transact_write(store: ReceiptStore) -> None:
    from receipt_dynamo import ConditionFailedError, TransactOp
    from receipt_dynamo._table import MUST_NOT_EXIST

    image_id = new_id()
    rec, lines, words, labels = whole_receipt(image_id, 1, n_lines=2, words_per_line=5)
    store.write_receipt(rec, lines, words, labels)
    gsi4 = rec.index_keys()["GSI4PK"]
    first, key = store.table.query("GSI4", gsi4, limit=3)
    assert len(first) == 3 and key is not None
    second, _ = store.table.query("GSI4", gsi4, limit=3, start_key=key)
    assert [i["GSI4SK"] for i in first + second] == sorted(i["GSI4SK"] for i in first + second)
    newest_first = list(store.table.iter_query("GSI4", gsi4, ascending=False))
    assert [i["GSI4SK"] for i in newest_first] == sorted(
        (i["GSI4SK"] for i in newest_first), reverse=True)
    fresh = receipt(new_id())
    with pytest.raises(ConditionFailedError) as failure:
        store.table.transact_write([
            TransactOp(item=fresh.to_item(), condition=MUST_NOT_EXIST),
            TransactOp(item=rec.to_item(), condition=MUST_NOT_EXIST),
        ])
    assert failure.value.index == 1
    assert store.table.get_item(fresh.pk, fresh.sk) is None
    store.table.transact_write([TransactOp(item=fresh.to_item(), condition=MUST_NOT_EXIST)])
    assert store.get_receipt(fresh.image_id, 1) == fresh


def test_jobs_written_with_lower_case_statuses_stay_readable(store: ReceiptStore) -> None:
    """Jobs stored before JobStatus went upper-case read back, and list under their status."""
    legacy = job("layoutlm-legacy", created=10, status=JobStatus.SUCCEEDED)
    item = legacy.to_item()
    item["status"] = "succeeded"
    item["GSI1PK"] = "STATUS#succeeded"
    store.table.put_item(item)
    current = job("layoutlm-now", created=20, status=JobStatus.SUCCEEDED)
    store.add_job(current)
    assert store.get_job(legacy.job_id).status is JobStatus.SUCCEEDED
    assert store.list_jobs(JobStatus.SUCCEEDED) == [store.get_job(legacy.job_id), current]
    assert store.list_jobs("succeeded") == store.list_jobs("SUCCEEDED")
    assert store.list_jobs(JobStatus.FAILED) == []
    assert current.to_item()["status"] == "SUCCEEDED"


def _every_entity(image_id: str) -> list[tuple[str, object, tuple]]:
    """(entity name, entity, the ids get_X and delete_X take) for each of the nine classes."""
    from dynamo_factories import line, word

    run = job()
    export = CoreMLExportJob(export_id=new_id(), job_id=run.name, model_s3_uri="s3://runs/best",
                             quantize=QuantizeMode.FLOAT16, output_s3_prefix="s3://bundles/x",
                             created_at=at(0))
    ocr = OCRJob(image_id=image_id, job_id=new_id(), s3_bucket="raw", s3_key="k",
                 created_at=at(0))
    return [
        ("image", image(image_id), (image_id,)),
        ("receipt_line", line(image_id, 1, 2), (image_id, 1, 2)),
        ("receipt_word", word(image_id, 1, 2, 3), (image_id, 1, 2, 3)),
        ("word_label", label(image_id, 1, 2, 3, "TAX"), (image_id, 1, 2, 3, "TAX")),
        ("job", run, (run.job_id,)),
        ("job_metric", JobMetric(job_id=run.job_id, metric_name="f1", value=0.5,
                                 timestamp=at(5)), (run.job_id, "f1", at(5))),
        ("export_job", export, (export.export_id,)),
        ("ocr_job", ocr, (image_id, ocr.job_id)),
        ("routing_decision", OCRRoutingDecision(image_id=image_id, job_id=ocr.job_id,
                                                s3_bucket="o", s3_key="k", receipt_count=1,
                                                created_at=at(0)), (image_id, ocr.job_id)),
    ]


def test_delete_takes_the_ids_get_takes(store: ReceiptStore) -> None:
    for name, entity, ids in _every_entity(new_id()):
        getattr(store, f"add_{name}")(entity)
        assert getattr(store, f"get_{name}")(*ids) == entity, name
        getattr(store, f"delete_{name}")(*ids)
        with pytest.raises(EntityNotFoundError, match="not found"):
            getattr(store, f"get_{name}")(*ids)
        with pytest.raises(EntityNotFoundError, match="cannot delete"):
            getattr(store, f"delete_{name}")(*ids)
