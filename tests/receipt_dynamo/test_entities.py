"""Entity validation, exact item round trips (plain, DynamoDB wire, SQLite JSON) and key order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from dynamo_factories import label, new_id, word
from hypothesis import given, settings
from hypothesis import strategies as st

from receipt_dynamo import (
    CORE_LABELS,
    BoundingBox,
    CoreMLExportJob,
    EntityValidationError,
    Image,
    Job,
    JobMetric,
    OCRJob,
    OCRRoutingDecision,
    Receipt,
    ReceiptLine,
    ReceiptWord,
    ReceiptWordLabel,
    register_labels,
)
from receipt_dynamo.backends.dynamo_expressions import from_dynamo, to_dynamo
from receipt_dynamo.backends.sqlite import decode_item, encode_item
from receipt_dynamo.vocabulary import (
    ExportStatus,
    JobStatus,
    OCRJobStatus,
    QuantizeMode,
    RoutingStatus,
    ValidationStatus,
)

# --- validation ------------------------------------------------------------------------------


def test_bad_uuid_is_rejected_with_the_field_name() -> None:
    with pytest.raises(EntityValidationError, match=r"Image.image_id must be a UUID"):
        Image(image_id="not-a-uuid", width=1, height=1, raw_s3_bucket="b", raw_s3_key="k")


@pytest.mark.parametrize("receipt_id", [0, -1, True, 1.5, 100_000])
def test_bad_receipt_id(receipt_id: object) -> None:
    with pytest.raises(EntityValidationError, match="receipt_id"):
        label(new_id(), receipt_id, 1, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("confidence", [0, 1.5, -0.1, float("nan")])
def test_bad_confidence(confidence: float) -> None:
    with pytest.raises(EntityValidationError, match=r"confidence"):
        label(new_id(), 1, 1, 1).with_changes(confidence=confidence)


def test_confidence_one_is_allowed() -> None:
    assert label(new_id(), 1, 1, 1).with_changes(confidence=1).confidence == 1.0


@pytest.mark.parametrize("name", ["NOT_A_LABEL", "grand_total", "GRAND TOTAL", ""])
def test_unknown_or_malformed_label(name: str) -> None:
    with pytest.raises(EntityValidationError, match="label"):
        label(new_id(), 1, 1, 1, name)


def test_registered_native_labels_are_accepted_and_stored_ones_always_read() -> None:
    name = f"NATIVE_{uuid.uuid4().hex[:8].upper()}"
    register_labels([name])
    stored = label(new_id(), 1, 1, 1, name).to_item()
    assert ReceiptWordLabel.from_item(stored).label == name
    foreign = dict(stored, label="UNREGISTERED_ELSEWHERE")
    assert ReceiptWordLabel.from_item(foreign).label == "UNREGISTERED_ELSEWHERE"
    with pytest.raises(EntityValidationError, match="register"):
        label(new_id(), 1, 1, 1, "UNREGISTERED_ELSEWHERE")


def test_z_timestamps_are_converted_never_stored() -> None:
    job = Job(job_id=new_id(), name="j", created_at="2024-05-01T10:00:00Z")
    item = job.to_item()
    assert item["created_at"] == "2024-05-01T10:00:00+00:00"
    assert not any(isinstance(v, str) and v.endswith("Z") for v in item.values())
    assert datetime.fromisoformat(item["GSI1SK"].removeprefix("CREATED#")).tzinfo == UTC


def test_datetimes_and_offsets_become_utc() -> None:
    tz = timezone(timedelta(hours=2))
    metric = JobMetric(job_id=new_id(), metric_name="loss", value=1,
                       timestamp=datetime(2024, 5, 1, 12, 0, tzinfo=tz))
    assert metric.timestamp == "2024-05-01T10:00:00+00:00"
    with pytest.raises(EntityValidationError, match="ISO 8601"):
        metric.with_changes(timestamp="yesterday")


def test_geometry_frame_is_checked() -> None:
    image_id = new_id()
    with pytest.raises(EntityValidationError, match=r"outside \[0, 1\]"):
        word(image_id, 1, 1, 1).with_changes(bounding_box=BoundingBox(0.5, 0.5, 0.6, 0.1))
    pixels = word(image_id, 1, 1, 1).with_changes(
        bounding_box=BoundingBox(50, 60, 120, 30), normalized=False,
        top_left=None, top_right=None, bottom_right=None, bottom_left=None)
    assert (pixels.bottom_right.x, pixels.bottom_right.y) == (170.0, 90.0)
    with pytest.raises(EntityValidationError, match="origin"):
        pixels.with_changes(origin="center")
    with pytest.raises(EntityValidationError, match="NaN"):
        pixels.with_changes(top_left={"x": float("nan"), "y": 0})


def test_metric_name_may_not_break_keys() -> None:
    with pytest.raises(EntityValidationError, match="'#'"):
        JobMetric(job_id=new_id(), metric_name="a#b", value=1.0)


# --- round trips -----------------------------------------------------------------------------

uuids = st.uuids().map(str)
ids = st.integers(min_value=1, max_value=99_999)
# DynamoDB numbers span 1e-130..1e125; the stored values here are fractions, pixels or seconds.
unit = st.floats(min_value=0, max_value=1).filter(lambda v: v == 0 or v > 1e-100)
finite = st.floats(min_value=-1e9, max_value=1e9).filter(lambda v: v == 0 or abs(v) > 1e-100)
conf = st.floats(min_value=1e-9, max_value=1)
text = st.text(min_size=1, max_size=20)
stamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                      timezones=st.just(UTC))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | finite | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=3),
    max_leaves=8,
)
json_dicts = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


@st.composite
def normalized_geometry(draw: st.DrawFn) -> dict:
    x, y = draw(unit), draw(unit)
    w = draw(st.floats(min_value=0, max_value=1 - x).filter(lambda v: v == 0 or v > 1e-100))
    h = draw(st.floats(min_value=0, max_value=1 - y).filter(lambda v: v == 0 or v > 1e-100))
    return {"text": draw(text), "bounding_box": BoundingBox(x, y, w, h), "normalized": True,
            "origin": draw(st.sampled_from(["top-left", "bottom-left"])),
            "angle_degrees": draw(finite), "confidence": draw(conf)}


entities = st.one_of(
    st.builds(Image, image_id=uuids, width=ids, height=ids, raw_s3_bucket=text,
              raw_s3_key=text, timestamp_added=stamps,
              sha256=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
              image_type=st.none() | text, source=st.none() | text),
    st.builds(Receipt, image_id=uuids, receipt_id=ids, width=ids, height=ids,
              raw_s3_bucket=text, raw_s3_key=text, timestamp_added=stamps),
    st.builds(lambda g, **k: ReceiptLine(**g, **k), normalized_geometry(), image_id=uuids,
              receipt_id=ids, line_id=ids),
    st.builds(lambda g, **k: ReceiptWord(**g, **k), normalized_geometry(), image_id=uuids,
              receipt_id=ids, line_id=ids, word_id=ids),
    st.builds(ReceiptWordLabel, image_id=uuids, receipt_id=ids, line_id=ids, word_id=ids,
              label=st.sampled_from(CORE_LABELS), label_proposed_by=text,
              validation_status=st.sampled_from(ValidationStatus),
              confidence=st.none() | conf, reasoning=st.none() | st.text(max_size=30),
              timestamp_added=stamps),
    st.builds(Job, job_id=uuids, name=text.filter(lambda t: "#" not in t),
              status=st.sampled_from(JobStatus), created_at=stamps, updated_at=stamps,
              job_config=json_dicts, results=json_dicts,
              tags=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
              status_message=st.none() | text),
    st.builds(JobMetric, job_id=uuids, metric_name=text.filter(lambda t: "#" not in t),
              value=finite | json_dicts | st.sampled_from([float("inf"), float("-inf")]),
              timestamp=stamps, epoch=st.none() | ids, step=st.none() | ids),
    st.builds(CoreMLExportJob, export_id=uuids, job_id=text.filter(lambda t: "#" not in t),
              model_s3_uri=text, quantize=st.sampled_from(QuantizeMode), output_s3_prefix=text,
              status=st.sampled_from(ExportStatus), created_at=stamps,
              model_size_bytes=st.none() | st.integers(0, 10**12),
              export_duration_seconds=st.none() | unit, error_message=st.none() | text),
    st.builds(OCRJob, image_id=uuids, job_id=uuids, s3_bucket=text, s3_key=text,
              status=st.sampled_from(OCRJobStatus), created_at=stamps,
              receipt_id=st.none() | ids),
    st.builds(OCRRoutingDecision, image_id=uuids, job_id=uuids, s3_bucket=text, s3_key=text,
              receipt_count=st.integers(0, 50), status=st.sampled_from(RoutingStatus),
              created_at=stamps),
)


@settings(max_examples=300, deadline=None)
@given(entities)
def test_item_round_trips_exactly(entity) -> None:
    cls = type(entity)
    item = entity.to_item()
    assert cls.from_item(item) == entity
    assert cls.from_item(from_dynamo(to_dynamo(item))) == entity
    assert cls.from_item(decode_item(encode_item(item))) == entity
    assert {"PK", "SK", "TYPE"} <= item.keys()


def test_numbers_outside_dynamodb_range_fail_clearly() -> None:
    metric = JobMetric(job_id=new_id(), metric_name="loss", value=1e-300)
    with pytest.raises(EntityValidationError, match="outside DynamoDB's range"):
        to_dynamo(metric.to_item())


def test_dynamodb_normalised_numbers_still_round_trip() -> None:
    metric = JobMetric(job_id=new_id(), metric_name="loss", value=2.0, step=3)
    wire = to_dynamo(metric.to_item())
    wire["value"] = {"N": "2"}  # what DynamoDB returns for 2.0
    assert JobMetric.from_item(from_dynamo(wire)) == metric


# --- key order -------------------------------------------------------------------------------

word_keys = st.lists(st.tuples(ids, ids), min_size=2, max_size=30, unique=True)


@given(word_keys)
def test_zero_padding_sorts_numerically(pairs: list[tuple[int, int]]) -> None:
    image_id = str(uuid.UUID(int=1))
    words = [word(image_id, 1, min(l_, 99_999), w) for l_, w in pairs]
    by_sk = sorted(words, key=lambda w: w.sk)
    assert [(w.line_id, w.word_id) for w in by_sk] == sorted(pairs)
    by_gsi4 = sorted(words, key=lambda w: w.index_keys()["GSI4SK"])
    assert by_gsi4 == by_sk


@given(word_keys, st.lists(st.sampled_from(CORE_LABELS), min_size=1, max_size=4, unique=True))
def test_labels_of_one_word_are_contiguous(pairs, names) -> None:
    image_id = str(uuid.UUID(int=2))
    labels = [label(image_id, 1, l_, w, n) for l_, w in pairs for n in names]
    for key in ("SK", "GSI4SK"):
        ordered = sorted(labels, key=lambda lab, k=key: lab.to_item()[k])
        words_in_order = [(lab.line_id, lab.word_id) for lab in ordered]
        # Contiguous: each word appears in one run, and runs follow numeric word order.
        runs = [k for i, k in enumerate(words_in_order) if i == 0 or words_in_order[i - 1] != k]
        assert runs == sorted(pairs)
    # GSI1 groups by label first; within one label it follows the word order.
    for name in names:
        same = sorted((lab for lab in labels if lab.label == name),
                      key=lambda lab: lab.to_item()["GSI1SK"])
        assert [(lab.line_id, lab.word_id) for lab in same] == sorted(pairs)


@pytest.mark.parametrize(
    ("name", "ok"),
    [("GRAND_TOTAL", True), ("O", True), ("TOTAL2", True), ("2TOTAL", False),
     ("_TOTAL", False), ("grand_total", False), ("GRAND TOTAL", False), ("", False),
     ("TOTAL\n", False), (None, False)],
)
def test_one_label_rule(name: object, ok: bool) -> None:
    """The rule every layer (entities, JSONL importer, merge config) checks labels against."""
    from receipt_dynamo.vocabulary import is_label_name

    assert is_label_name(name) is ok


@pytest.mark.parametrize("stored", ["succeeded", "SUCCEEDED", "Succeeded"])
def test_job_status_reads_old_lower_case_values(stored: str) -> None:
    assert JobStatus(stored) is JobStatus.SUCCEEDED
    assert JobStatus.SUCCEEDED.value == "SUCCEEDED"


def test_job_status_rejects_unknown_values() -> None:
    with pytest.raises(ValueError):
        JobStatus("done")
