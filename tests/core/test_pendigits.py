"""The UNIPEN pen-digit reader: records, strokes, labels, writers, the y axis, and malformed input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.paths import SHARED_DATA, require_shared
from workbench.core.errors import DatasetError
from workbench.core.image.pendigits import (
    TABLET_SIDE,
    PenDigit,
    canvas_strokes,
    parse_pendigits,
    read_pendigits,
    split_by_writer,
)

PENDIGITS = SHARED_DATA / "pendigits" / "pendigits-orig.tra"

# Written for the test in the shared file's layout: a header, a one-stroke "7" (top bar drawn high on
# the tablet, so at LARGE y, then down to the bottom-left), a two-stroke "4" (segment "1-2"), and a
# "1" whose .COMMENT is free text (no writer).
EXCERPT = """\
.INCLUDE        dene.doc

.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"
.HIERARCHY      DIGIT

.SEGMENT DIGIT    0 ? "7"
.COMMENT 7 3  12
.PEN_DOWN
 100  400
 300  400
 150  100
.PEN_UP
.DT 100

.SEGMENT DIGIT    1-2 ? "4"
.COMMENT 4 9  40
.PEN_DOWN
 120  380
 100  200
 260  200
.PEN_UP
.DT 100
.PEN_DOWN
 220  300
 220  90
.PEN_UP
.DT 100

.SEGMENT DIGIT    3 ? "1"
.COMMENT drawn slowly
.PEN_DOWN
 250.5  410
.PEN_UP
"""


def test_records_hold_strokes_labels_writers_and_order():
    digits = parse_pendigits(EXCERPT.splitlines())
    assert [d.label for d in digits] == [7, 4, 1]
    assert [d.index for d in digits] == [0, 1, 2]
    assert [d.writer for d in digits] == [3, 9, None]
    assert [d.line for d in digits] == [6, 15, 29]
    seven, four, one = digits
    assert len(seven.strokes) == 1 and len(four.strokes) == 2 and len(one.strokes) == 1
    np.testing.assert_array_equal(seven.strokes[0], [[100, 400], [300, 400], [150, 100]])
    np.testing.assert_array_equal(four.strokes[1], [[220, 300], [220, 90]])
    np.testing.assert_array_equal(one.strokes[0], [[250.5, 410]])
    assert all(s.dtype == np.float64 and s.shape[1] == 2 for d in digits for s in d.strokes)


def test_tablet_y_grows_upwards_and_canvas_strokes_flip_it():
    seven = parse_pendigits(EXCERPT.splitlines())[0]
    flipped = canvas_strokes(seven)[0]
    # The 7's bar is the top of the digit: on the tablet its y is the largest, on the canvas the smallest.
    assert seven.strokes[0][0, 1] > seven.strokes[0][-1, 1]
    assert flipped[0, 1] < flipped[-1, 1]
    np.testing.assert_array_equal(flipped[:, 0], seven.strokes[0][:, 0])
    np.testing.assert_array_equal(flipped[:, 1], TABLET_SIDE - seven.strokes[0][:, 1])


def test_read_from_a_file(tmp_path):
    path = tmp_path / "excerpt.tra"
    path.write_text(EXCERPT, encoding="ascii")
    assert [d.label for d in read_pendigits(path)] == [7, 4, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (".SEGMENT DIGIT 0 ? \"7\"\n 1 2\n", "line 2 of <text>: ' 1 2'"),  # a point with the pen up
        (".SEGMENT DIGIT 0 ? \"7\"\n.PEN_DOWN\n 1 2\n", "the pen down"),  # the file ends mid-stroke
        (".PEN_DOWN\n 1 2\n.PEN_UP\n", ".PEN_DOWN only inside a .SEGMENT"),
        (".SEGMENT DIGIT 0 ? \"7\"\n.PEN_UP\n", ".PEN_UP only after .PEN_DOWN"),
        (".SEGMENT DIGIT 0 ? \"7\"\n.PEN_DOWN\n.PEN_UP\n", "right after .PEN_DOWN"),
        (".SEGMENT DIGIT 0 ? \"7\"\n.PEN_DOWN\n 1 2\n.PEN_DOWN\n", "Expected .PEN_UP to end the open stroke"),
        (".SEGMENT DIGIT 0 ? \"7\"\n.PEN_DOWN\n 1 two\n.PEN_UP\n", "two numbers"),
        (".SEGMENT DIGIT 0 ? \"7\"\n.PEN_DOWN\n 1 2 3\n.PEN_UP\n", "two numbers"),
        (".SEGMENT DIGIT 0 ? \"x\"\n.PEN_DOWN\n 1 2\n.PEN_UP\n", "a digit label \"0\" to \"9\". Received: line 1"),
        (".SEGMENT WORD 0 ? \"7\"\n", "level DIGIT"),
        (".SEGMENT DIGIT 0 ?\n", ".SEGMENT DIGIT <n or n-m>"),
        (".SEGMENT DIGIT 0 ? \"7\"\n.SEGMENT DIGIT 1 ? \"1\"\n.PEN_DOWN\n 1 2\n.PEN_UP\n",
         "none in the segment at line 1"),
        (".INCLUDE x\n", "none in <text>"),
        ("", "none in <text>"),
    ],
)
def test_malformed_input_names_the_line(text, expected):
    with pytest.raises(DatasetError) as caught:
        parse_pendigits(text.splitlines())
    message = str(caught.value)
    assert message.startswith("Expected ") and "Received: " in message
    assert expected in message


def test_unreadable_files_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_pendigits(tmp_path / "missing.tra")
    binary = tmp_path / "binary.tra"
    binary.write_bytes(b".SEGMENT DIGIT 0 ? \"7\"\n\xff\xfe")
    with pytest.raises(DatasetError, match="non-ASCII byte at offset 23"):
        read_pendigits(binary)


def test_split_by_writer_keeps_each_writer_on_one_side():
    stroke = (np.zeros((1, 2)),)
    digits = [PenDigit(stroke, i % 10, i, writer=1 + i % 4) for i in range(40)]
    train, val = split_by_writer(digits, [2, 4])
    assert {d.writer for d in val} == {2, 4} and {d.writer for d in train} == {1, 3}
    assert len(train) + len(val) == 40
    for wrong in ([5], [], [1, 2, 3, 4]):
        with pytest.raises(DatasetError, match="Expected validation writers among the 4 writers"):
            split_by_writer(digits, wrong)
    with pytest.raises(DatasetError, match="Expected a writer"):
        split_by_writer([*digits, PenDigit(stroke, 0, 40)], [2])


def test_the_shared_file_has_30_writers_of_about_250_digits():
    digits = read_pendigits(require_shared(PENDIGITS))
    assert len(digits) == 7494
    assert sorted({d.label for d in digits}) == list(range(10))
    per_writer = np.bincount([d.writer for d in digits])[1:]
    assert len(per_writer) == 30 and per_writer.min() >= 247 and per_writer.max() == 250
    points = np.concatenate([s for d in digits for s in d.strokes])
    assert points.min() >= 0 and points.max() <= TABLET_SIDE
    # Shuffled, not in writer order: a block of consecutive records holds many writers.
    assert len({d.writer for d in digits[:1500]}) == 30
