"""Read pen-stroke digits from a UNIPEN text file (UCI "Pen-Based Recognition of Handwritten Digits").

The shared ``pendigits/pendigits-orig.tra`` holds 7,494 digits written on a tablet by 30 people:
the pen trajectories themselves, the closest real data to a person drawing on the Draw tab's canvas.
The layout this reader accepts::

    .SEGMENT DIGIT 6-7 ? "4"        one digit: its stroke numbers (n or n-m), a quality mark, the label
    .COMMENT 4 1 117                label, writer (1..30), position of the digit on the writer's sheet
    .PEN_DOWN                       one stroke ...
     267  333                       ... of tablet points "x y" (0..500, y grows UPWARDS)
    .PEN_UP
    .DT 100                         time between strokes (ignored)

Header keywords (``.INCLUDE``, ``.LEXICON``, ``.HIERARCHY``...) and ``.DT`` are skipped. The
``.COMMENT`` line is not documented by the README beside the data; that its second number is the
writer was measured on the file: it takes 30 values, 250 digits each (≈ 250 per writer in the UCI
description), and every value's digits follow one and the same 250-digit prompt sheet in the third
number's order (3 writers with missing digits are shifted by one from there on). The file itself is
shuffled — every block of 1,500 consecutive records holds all 30 writers — so the writer, not the
position in the file, is what keeps a writer's digits on one side of a split.

Malformed input raises :class:`~workbench.core.errors.DatasetError` naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.errors import DatasetError

#: The side of the tablet's writing box, in tablet units (points lie in 0..TABLET_SIDE).
TABLET_SIDE = 500.0

_SEGMENT = re.compile(r'^\.SEGMENT\s+(\S+)\s+(\d+(?:-\d+)?)\s+(\S+)\s+"([^"]*)"\s*$')
_COMMENT = re.compile(r"^\.COMMENT\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_POINT = re.compile(rf"^\s*({_NUMBER})\s+({_NUMBER})\s*$")


@dataclass(frozen=True)
class PenDigit:
    """One digit: its strokes in tablet coordinates (y up), label and where it came from.

    Attributes:
        strokes: one float64 array (N, 2) of ``(x, y)`` tablet points per pen stroke, in writing order.
        label: the digit, 0..9.
        index: the record's position in the file, from 0.
        writer: the writer from the ``.COMMENT`` line (1..30 in the shared file), None without one.
        line: the line number (from 1) of the record's ``.SEGMENT``, for messages.
    """

    strokes: tuple[np.ndarray, ...]
    label: int
    index: int
    writer: int | None = None
    line: int = 0


def read_pendigits(path: str | Path) -> list[PenDigit]:
    """Every digit in a UNIPEN file, in file order (see the module docstring for the layout)."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except FileNotFoundError:
        raise DatasetError(f"Expected a UNIPEN pen-digits file. Received: {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"Expected a UNIPEN pen-digits file (plain ASCII text). Received: {path} "
                           f"has a non-ASCII byte at offset {exc.start}") from None
    except OSError as exc:
        raise DatasetError(f"Expected a readable UNIPEN pen-digits file. Received: {path} "
                           f"({exc.strerror or type(exc).__name__})") from None
    return parse_pendigits(text.splitlines(), source=str(path))


def parse_pendigits(lines: Iterable[str], source: str = "<text>") -> list[PenDigit]:
    """Parse UNIPEN lines into :class:`PenDigit` records; ``source`` names the input in errors."""
    digits: list[PenDigit] = []
    current: dict | None = None  # the open segment: label, line, writer, strokes
    stroke: list[tuple[float, float]] | None = None  # the open stroke (pen down)
    number = 0

    def fail(expected: str, received: str) -> DatasetError:
        return DatasetError(f"Expected {expected}. Received: line {number} of {source}: {received}")

    def close_segment() -> None:
        if current is None:
            return
        if not current["strokes"]:
            raise DatasetError(f"Expected at least one .PEN_DOWN ... .PEN_UP stroke per .SEGMENT. Received: "
                               f"none in the segment at line {current['line']} of {source}")
        digits.append(PenDigit(tuple(current["strokes"]), current["label"], len(digits), current["writer"],
                               current["line"]))

    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text:
            continue
        if not text.startswith("."):
            match = _POINT.match(text)
            if match is None:
                raise fail('a tablet point "x y" (two numbers) or a .KEYWORD line', repr(raw[:80]))
            if stroke is None:
                raise fail("tablet points only between .PEN_DOWN and .PEN_UP", repr(raw[:80]))
            x, y = float(match.group(1)), float(match.group(2))
            if not (np.isfinite(x) and np.isfinite(y)):
                raise fail("finite tablet coordinates", repr(raw[:80]))
            stroke.append((x, y))
            continue
        keyword = text.split(None, 1)[0]
        if stroke is not None and keyword != ".PEN_UP":
            raise fail(".PEN_UP to end the open stroke", repr(raw[:80]))
        if keyword == ".SEGMENT":
            close_segment()
            match = _SEGMENT.match(text)
            if match is None:
                raise fail('.SEGMENT DIGIT <n or n-m> <quality> "<label>"', repr(raw[:80]))
            level, label = match.group(1), match.group(4)
            if level != "DIGIT":
                raise fail("a .SEGMENT of level DIGIT", f"level {level}")
            if len(label) != 1 or not label.isdigit():
                raise fail('a digit label "0" to "9"', repr(label))
            current = {"label": int(label), "line": number, "writer": None, "strokes": []}
        elif keyword == ".COMMENT":
            match = _COMMENT.match(text)
            # Only "<label> <writer> <position>" of this segment's label names a writer; other comments
            # are free text.
            if current is not None and match is not None and int(match.group(1)) == current["label"]:
                current["writer"] = int(match.group(2))
        elif keyword == ".PEN_DOWN":
            if current is None:
                raise fail(".PEN_DOWN only inside a .SEGMENT", repr(raw[:80]))
            stroke = []
        elif keyword == ".PEN_UP":
            if stroke is None:
                raise fail(".PEN_UP only after .PEN_DOWN", repr(raw[:80]))
            if not stroke:
                raise fail('at least one "x y" point between .PEN_DOWN and .PEN_UP', ".PEN_UP right after .PEN_DOWN")
            current["strokes"].append(np.array(stroke, dtype=np.float64))
            stroke = None
        # Other keywords (.INCLUDE, .LEXICON, .HIERARCHY, .DT, ...) say nothing about the strokes.
    if stroke is not None:
        raise DatasetError(f"Expected .PEN_UP to end the last stroke. Received: the end of {source} "
                           f"(line {number}) with the pen down")
    close_segment()
    if not digits:
        raise DatasetError(f"Expected at least one .SEGMENT DIGIT with strokes. Received: none in {source}")
    return digits


def canvas_strokes(digit: PenDigit | Iterable[np.ndarray]) -> list[np.ndarray]:
    """The strokes in the canvas's orientation: y flipped to grow downwards, still in tablet units."""
    strokes = digit.strokes if isinstance(digit, PenDigit) else digit
    return [np.column_stack([s[:, 0], TABLET_SIDE - s[:, 1]]) for s in strokes]


def split_by_writer(digits: list[PenDigit], val_writers: Iterable[int]) -> tuple[list[PenDigit], list[PenDigit]]:
    """(train, validation): the digits of ``val_writers`` are validation, every other writer's train."""
    wanted = {int(w) for w in val_writers}
    writers = {d.writer for d in digits}
    if None in writers:
        first = next(d for d in digits if d.writer is None)
        raise DatasetError(f"Expected a writer (.COMMENT <label> <writer> <position>) for every digit to split "
                           f"by writer. Received: none for the digit at line {first.line}")
    missing = sorted(wanted - writers)
    if not wanted or missing or wanted >= writers:
        raise DatasetError(f"Expected validation writers among the {len(writers)} writers in the file "
                           f"({min(writers)}..{max(writers)}), leaving at least one for training. Received: "
                           f"{', '.join(map(str, sorted(wanted))) or 'none'}"
                           + (f" (not in the file: {', '.join(map(str, missing))})" if missing else ""))
    return [d for d in digits if d.writer not in wanted], [d for d in digits if d.writer in wanted]
