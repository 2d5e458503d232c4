"""Corpus rows: hostile dataset files given to ``layoutlm-cli import`` (JSONL, SROIE,
WildReceipt, CORD)."""

from __future__ import annotations

import json
from typing import Any

from bad_input_harness import Case, Workspace, holds, holds_keys

G = "importers"
GOOD_WORDS = ["TOTAL", "9.00"]


def word(text: str, x: float = 10, y: float = 10, w: float = 40, h: float = 10,
         label: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"text": text,
                            "corners": [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]}
    if label:
        item["label"] = label
    return item


def receipt(key: str, words: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid 200 x 100 JSONL receipt with two words on one line (overridable)."""
    record = {"key": key, "width": 200, "height": 100,
              "words": words or [word("TOTAL", 10, 10), word("9.00", 60, 10, label="GRAND_TOTAL")]}
    record.update(fields)
    return record


def three_with(middle: dict[str, Any] | str) -> list[Any]:
    """Receipts a, <middle>, c: the bad one sits between two good ones."""
    return [receipt("a"), middle, receipt("c")]


def jsonl_case(name: str, middle: dict[str, Any] | str, message: str, *,
               expected: dict[str, list[str]] | None = None, located: bool = True) -> Case:
    """A JSONL file whose line 2 is bad: the problem names line 2 (``located``), a and c are
    imported (or ``expected``)."""

    def setup(ws: Workspace) -> None:
        if isinstance(middle, str):
            ws.write("in.jsonl", "".join(
                (line if isinstance(line, str) else json.dumps(line)) + "\n"
                for line in three_with(middle)))
        else:
            ws.write_jsonl("in.jsonl", three_with(middle))

    return Case(
        name=name, group=G, setup=setup, command=["import", "jsonl", "{root}/in.jsonl"],
        exit_code=0, message=rf"  \S*in\.jsonl:2: {message}" if located else message,
        check=holds(expected or {"a": GOOD_WORDS, "c": GOOD_WORDS}),
    )


# -- SROIE ------------------------------------------------------------------------------------

BOX_ROWS = "10,10,90,10,90,30,10,30,TOTAL 9.00\n10,40,90,40,90,60,10,60,THANK YOU\n"


def sroie(ws: Workspace, boxes: dict[str, bytes | str], entities: dict[str, bytes | str]) -> None:
    for name, text in boxes.items():
        ws.write(f"sroie/box/{name}.txt", text)
    for name, text in entities.items():
        ws.write(f"sroie/entities/{name}.txt", text)


def sroie_case(name: str, boxes: dict[str, bytes | str], entities: dict[str, bytes | str],
               message: str, check: Any, exit_code: int = 0) -> Case:
    return Case(name=name, group=G, setup=lambda ws: sroie(ws, boxes, entities),
                command=["import", "sroie", "{root}/sroie"], exit_code=exit_code,
                message=message, check=check)


def sroie_with_small_image(ws: Workspace) -> None:
    """r1's image is 50 x 40 pixels but its boxes reach 90 x 60; r2 has no image (size from the
    boxes)."""
    from PIL import Image

    sroie(ws, {"r1": BOX_ROWS, "r2": BOX_ROWS}, {})
    ws.path("sroie/img").mkdir()
    Image.new("RGB", (50, 40), "white").save(ws.path("sroie/img/r1.jpg"))


def labels_of(ws: Workspace) -> set[str]:
    store = ws.open_store()
    try:
        return {label.label for r in store.list_receipts()
                for label in store.get_receipt_details(r.image_id, r.receipt_id).labels}
    finally:
        store.close()


def no_merchant_label(ws: Workspace, _before: Any) -> None:
    assert "sroie:r1" in ws.receipts()
    assert "MERCHANT_NAME" not in labels_of(ws)


# -- WildReceipt / CORD ---------------------------------------------------------------------


def wild_line(name: str, **overrides: Any) -> str:
    record = {"file_name": f"{name}.jpg", "height": 100, "width": 200, "annotations": [
        {"box": [10, 30, 50, 30, 50, 10, 10, 10], "text": "TOTAL", "label": 23},
        {"box": [60, 30, 90, 30, 90, 10, 60, 10], "text": "9.00", "label": 23}]}
    record.update(overrides)
    return json.dumps(record)


def wild_case(name: str, middle: str, message: str, expected: list[str] | None = None) -> Case:
    lines = [wild_line("a"), middle, wild_line("c")]

    def setup(ws: Workspace) -> None:
        ws.write("wild/class_list.txt", "".join(
            f"{n}\n" for n in ("Ignore",) + ("x",) * 22 + ("Total_value", "Total_key", "Others")))
        ws.write("wild/train.txt", "\n".join(lines) + "\n")

    keys = expected if expected is not None else ["wildreceipt:a.jpg", "wildreceipt:c.jpg"]
    return Case(name=name, group=G, setup=setup, command=["import", "wildreceipt", "{root}/wild"],
                exit_code=0, message=rf"  \S*train\.txt:2: {message}", check=holds_keys(*keys))


def cord_receipt(**overrides: Any) -> dict[str, Any]:
    quad = {"x1": 10, "y1": 10, "x2": 60, "y2": 10, "x3": 60, "y3": 30, "x4": 10, "y4": 30}
    record: dict[str, Any] = {
        "valid_line": [{"category": "total.total_price",
                        "words": [{"quad": quad, "text": "9.00", "is_key": 0}]}],
        "meta": {"image_size": {"width": 200, "height": 100}}}
    record.update(overrides)
    return record


def cord_case(name: str, bad: Any, message: str) -> Case:
    def setup(ws: Workspace) -> None:
        ws.write("cord/good.json", json.dumps(cord_receipt()))
        ws.write("cord/bad.json", bad if isinstance(bad, str) else json.dumps(bad))

    return Case(name=name, group=G, setup=setup, command=["import", "cord", "{root}/cord"],
                exit_code=0, message=rf"  \S*bad\.json(:\d+)?: {message}",
                check=holds_keys("cord:good"))


CASES = [
    # Defect 1: line separators inside a word are characters, not line ends.
    *(jsonl_case(f"jsonl_word_holds_{name}", receipt("b", [word(f"A{char}B")]),
                 r"receipts: read 3, written 3, skipped \(already stored\) 0, failed 0",
                 expected={"a": GOOD_WORDS, "b": [f"A{char}B"], "c": GOOD_WORDS}, located=False)
      for name, char in (("u2028", "\u2028"), ("u2029", "\u2029"), ("u0085", "\u0085"),
                         ("vertical_tab", "\x0b"), ("form_feed", "\x0c"), ("u001e", "\x1e"))),
    Case(name="jsonl_crlf_line_ends", group=G,
         setup=lambda ws: ws.write("in.jsonl", "\r\n".join(
             json.dumps(r) for r in three_with(receipt("b"))) + "\r\n"),
         command=["import", "jsonl", "{root}/in.jsonl"], exit_code=0,
         message=r"receipts: read 3, written 3, .*",
         check=holds_keys("a", "b", "c")),
    sroie_case("sroie_latin1_row_with_byte_0x85",
               {"r1": b"10,10,90,10,90,30,10,30,CAF\x85 NOIR\n"
                      b"10,40,90,40,90,60,10,60,TOTAL 9.00\n"},
               {"r1": '{"total": "9.00"}'},
               r"  \S*r1\.txt:1: not valid UTF-8; file read as latin-1",
               holds({"sroie:r1": ["CAF", "NOIR", "TOTAL", "9.00"]})),
    # Defects 2 and 4: sizes and coordinates no backend can (or should) hold.
    jsonl_case("jsonl_width_1e308", receipt("b", width=1e308),
               r"width 1e\+308 must be a finite number in \(0, 100000\]; receipt skipped"),
    jsonl_case("jsonl_width_int_beyond_float", '{"key": "b", "width": 1' + "0" * 400
               + ', "height": 100, "words": []}', r"width must be a finite number, got 10+.*"),
    jsonl_case("jsonl_width_negative", receipt("b", width=-100),
               r"width -100 must be a finite number in \(0, 100000\]; receipt skipped"),
    jsonl_case("jsonl_width_zero", receipt("b", width=0),
               r"width 0 must be a finite number in \(0, 100000\]; receipt skipped"),
    jsonl_case("jsonl_negative_coordinates", receipt("b", [word("X", -500, -500)]),
               r"word 0 \('X'\) corner \(-500, -500\) lies outside the 200 x 100 page; "
               "receipt skipped"),
    jsonl_case("jsonl_boxes_beyond_small_image",
               receipt("b", [word("X", 400, 900, 60, 100)], width=50, height=40),
               r"word 0 \('X'\) corner \(400, 900\) lies outside the 50 x 40 page; "
               "receipt skipped"),
    jsonl_case("jsonl_corner_1e308", receipt("b", [word("X", 1e308, 10)]),
               r"word 0 \('X'\) corner \(1e\+308, 10\) lies outside the 200 x 100 page; .*"),
    jsonl_case("jsonl_infinite_corner", '{"key": "b", "width": 200, "height": 100, "words": '
               '[{"text": "X", "corners": [[Infinity, 1], [2, 1], [2, 2], [1, 2]]}]}',
               r"words\[0\]\.corners must be a finite number, got inf; receipt skipped"),
    jsonl_case("jsonl_nan_box", '{"key": "b", "width": 200, "height": 100, "words": '
               '[{"text": "X", "box": [NaN, 1, 2, 2]}]}',
               r"words\[0\]\.box must be a finite number, got nan; receipt skipped"),
    # Defect 3: a malformed record is a problem on its line, the rest imports.
    jsonl_case("jsonl_corners_are_objects",
               receipt("b", [{"text": "X", "corners": [{"x": 1, "y": 1}] * 4}]),
               r'words\[0\]\.corners must be 4 \[x, y\] points, got \{"x": 1, "y": 1\}; '
               "receipt skipped"),
    jsonl_case("jsonl_word_is_a_string", receipt("b", ["TOTAL"]),  # type: ignore[list-item]
               r'words\[0\] must be a JSON object, got "TOTAL"; receipt skipped'),
    jsonl_case("jsonl_corner_has_three_numbers",
               receipt("b", [{"text": "X", "corners": [[1, 1, 1]] * 4}]),
               r"words\[0\]\.corners must be 4 \[x, y\] points, .*; receipt skipped"),
    jsonl_case("jsonl_not_json", "{not json",
               r"not valid JSON \(.*\); receipt skipped"),
    jsonl_case("jsonl_array_not_object", "[1, 2]", r"expected a JSON object; receipt skipped"),
    jsonl_case("jsonl_missing_key", {"width": 200, "height": 100, "words": []},
               r"'key' must be a non-empty string; receipt skipped"),
    jsonl_case("jsonl_bad_origin", receipt("b", origin="center"),
               r"'origin' must be one of .*, got 'center'; receipt skipped"),
    jsonl_case("jsonl_empty_word_text", receipt("b", [word(" ")]),
               r"words\[0\]\.text must be a non-empty string; receipt skipped"),
    jsonl_case("jsonl_lowercase_label", receipt("b", [word("X", label="total")]),
               r"words\[0\]\.label 'total' is not upper-case .*; receipt skipped"),
    jsonl_case("jsonl_segment_id_not_an_integer",
               receipt("b", [{**word("X"), "segment_id": "7"}]),
               r"words\[0\]\.segment_id must be an integer; receipt skipped"),
    jsonl_case("jsonl_segment_class_not_a_string",
               receipt("b", [{**word("X"), "segment_id": 1, "segment_class": 5}]),
               r"words\[0\]\.segment_class must be a non-empty string; receipt skipped"),
    jsonl_case("jsonl_duplicate_key", receipt("a"),
               r"duplicate receipt key 'a' .*; receipt skipped", expected={"a": GOOD_WORDS,
                                                                        "c": GOOD_WORDS}),
    jsonl_case("jsonl_foreign_label_dropped", receipt("b", [word("X", label="NOT_A_LABEL")]),
               r"labels \['NOT_A_LABEL'\] are not core labels; dropped .*",
               expected={"a": GOOD_WORDS, "b": ["X"], "c": GOOD_WORDS}),
    Case(name="jsonl_empty_file", group=G, setup=lambda ws: ws.write("in.jsonl", "\n \n"),
         command=["import", "jsonl", "{root}/in.jsonl"], exit_code=1,
         message=r"  \S*in\.jsonl:1: empty file: no receipts", check=holds({})),
    Case(name="jsonl_missing_file", group=G, command=["import", "jsonl", "{root}/nope.jsonl"],
         exit_code=2, message=r"error: \S*nope\.jsonl does not exist; pass .*"),
    Case(name="jsonl_folder_without_jsonl", group=G, setup=lambda ws: ws.write("d/x.txt", "x"),
         command=["import", "jsonl", "{root}/d"], exit_code=2,
         message=r"error: \S*/d holds no \*\.jsonl files; .*"),
    Case(name="jsonl_reimport_adds_nothing", group=G,
         setup=lambda ws: (ws.write_jsonl("in.jsonl", [receipt("a")]),
                           ws.cli("import", "jsonl", str(ws.path("in.jsonl")), "--data-dir",
                                  str(ws.data_dir))),
         command=["import", "jsonl", "{root}/in.jsonl"], exit_code=0,
         message=r"receipts: read 1, written 0, skipped \(already stored\) 1, failed 0"),
    # SROIE.
    sroie_case("sroie_entities_without_box_file", {"r1": BOX_ROWS},
               {"r1": '{"total": "9.00"}', "r2": '{"total": "1.00"}'},
               r"  \S*entities/r2\.txt: no \S*box/r2\.txt: the receipt's words are missing; "
               "receipt skipped", holds_keys("sroie:r1")),
    sroie_case("sroie_null_entity_value",
               {"r1": "10,10,90,10,90,30,10,30,NONE\n10,40,90,40,90,60,10,60,TOTAL 9.00\n"},
               {"r1": '{"company": null, "total": "9.00"}'},
               r"receipts: read 1, written 1, .*", no_merchant_label),
    sroie_case("sroie_row_with_too_few_numbers", {"r1": "10,10,90,TOTAL\n" + BOX_ROWS},
               {"r1": "{}"}, r"  \S*r1\.txt:1: expected 8 comma-separated coordinates .*",
               holds({"sroie:r1": ["TOTAL", "9.00", "THANK", "YOU"]})),
    sroie_case("sroie_row_with_nan", {"r1": "nan,10,90,10,90,30,10,30,X\n" + BOX_ROWS},
               {"r1": "{}"}, r"  \S*r1\.txt:1: coordinates must be finite numbers .*",
               holds({"sroie:r1": ["TOTAL", "9.00", "THANK", "YOU"]})),
    sroie_case("sroie_entities_not_json", {"r1": BOX_ROWS}, {"r1": "{total"},
               r"  \S*entities/r1\.txt:1: not valid JSON .*; no labels",
               holds({"sroie:r1": ["TOTAL", "9.00", "THANK", "YOU"]})),
    sroie_case("sroie_empty_box_file", {"r1": BOX_ROWS, "r2": ""}, {},
               r"  \S*box/r2\.txt:1: empty box file: no text lines; receipt skipped",
               holds_keys("sroie:r1")),
    Case(name="sroie_boxes_beyond_a_small_image", group=G, setup=sroie_with_small_image,
         command=["import", "sroie", "{root}/sroie"], exit_code=0,
         message=r"  \S*box/r1\.txt: word 1 \('9\.00'\) corner \(58, 10\) lies outside the "
                 r"50 x 40 page; receipt skipped",
         check=holds_keys("sroie:r2")),
    Case(name="sroie_not_a_sroie_folder", group=G, setup=lambda ws: ws.write("s/x.txt", "x"),
         command=["import", "sroie", "{root}/s"], exit_code=2,
         message=r"error: \S*/s is not a SROIE directory: .*"),
    # WildReceipt.
    wild_case("wildreceipt_annotations_is_a_string", wild_line("b", annotations="TOTAL 9.00"),
              r"malformed receipt \(ValueError\(\"'annotations' must be a list of objects.*"),
    wild_case("wildreceipt_annotation_not_object", wild_line("b", annotations=["TOTAL"]),
              r"annotation 0 is not an object; segment skipped",
              ["wildreceipt:a.jpg", "wildreceipt:b.jpg", "wildreceipt:c.jpg"]),
    wild_case("wildreceipt_not_json", "{oops", r"not valid JSON \(.*\); receipt skipped"),
    wild_case("wildreceipt_missing_file_name", json.dumps({"width": 1, "height": 1}),
              r"malformed receipt \(KeyError\('file_name'\)\); receipt skipped"),
    wild_case("wildreceipt_label_out_of_range", wild_line("b", annotations=[
        {"box": [10, 30, 50, 30, 50, 10, 10, 10], "text": "X", "label": 99}]),
        r"annotation 0: label 99 is not a class id \(0\.\.25\); segment imported without a label",
        ["wildreceipt:a.jpg", "wildreceipt:b.jpg", "wildreceipt:c.jpg"]),
    wild_case("wildreceipt_box_beyond_page", wild_line("b", width=20, height=10),
              r"word 0 \('TOTAL'\) corner .* lies outside the 20 x 10 page; receipt skipped"),
    Case(name="wildreceipt_empty_folder", group=G, setup=lambda ws: ws.path("w").mkdir(),
         command=["import", "wildreceipt", "{root}/w"], exit_code=2,
         message=r"error: \S*/w holds no WildReceipt annotation files .*"),
    # CORD.
    cord_case("cord_not_a_receipt", {"foo": 1},
              r"not a CORD receipt \(missing or bad .*\); expected .*"),
    cord_case("cord_not_json", "{oops", r"not valid JSON \(.*\); receipt skipped"),
    cord_case("cord_infinite_image_size",
              cord_receipt(meta={"image_size": {"width": 1e999, "height": 100}}),
              r"meta\.image_size .* is not finite; receipt skipped"),
    Case(name="cord_empty_folder", group=G, setup=lambda ws: ws.path("c").mkdir(),
         command=["import", "cord", "{root}/c"], exit_code=2,
         message=r"error: \S*/c holds no CORD \*\.json files; .*"),
]
