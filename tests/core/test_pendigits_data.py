"""Pen digits as training data: rendered the Draw tab's way, split by writer, into an npz the trainer reads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli import run_cli
from workbench.core.data.pipeline import split_dataset
from workbench.core.data.scan import scan_dataset
from workbench.core.evaluation import evaluation_subset
from workbench.core.image.digits import mnist_style
from workbench.core.image.pendigits import canvas_strokes, parse_pendigits, read_pendigits
from workbench.core.image.pendigits_data import build_digits_npz, pen_digit_inputs, render_pen_digit

# Strokes per label, tablet units, y up: rough but real-looking digits.
SHAPES = {
    0: [[(250, 400), (180, 330), (180, 180), (250, 110), (320, 180), (320, 330), (250, 400)]],
    1: [[(240, 400), (250, 250), (255, 100)]],
    7: [[(170, 400), (330, 400), (230, 100)]],
}


def write_tra(path, writers=(1, 2, 3), per_writer=2) -> None:
    lines, index = [".HIERARCHY DIGIT", ""], 0
    for writer in writers:
        for k in range(per_writer):
            for label, strokes in SHAPES.items():
                lines += [f'.SEGMENT DIGIT {index} ? "{label}"', f".COMMENT {label} {writer} {k + 1}"]
                for stroke in strokes:
                    wobble = 7 * writer + 3 * k  # each writer draws a little differently
                    lines += [".PEN_DOWN", *(f" {x + wobble} {y - wobble}" for x, y in stroke), ".PEN_UP", ".DT 100"]
                index += 1
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def write_mnist(path, n=40) -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        top, left = rng.integers(4, 10, size=2)
        x[i, top:top + 14, left:left + 4 + i % 10] = 255
    np.savez(path, x_train=x, y_train=np.arange(n) % 10)


@pytest.fixture
def sources(tmp_path):
    tra, mnist = tmp_path / "pen.tra", tmp_path / "mnist.npz"
    write_tra(tra)
    write_mnist(mnist)
    return tra, mnist


def test_npz_holds_mnist_and_pen_digits_split_by_writer(sources, tmp_path):
    tra, mnist = sources
    out = tmp_path / "build" / "digits_pen.npz"
    source = build_digits_npz(tra, out, val_writers=[2], renders=2, seed=7, mnist=mnist, mnist_val_split=0.25)
    with np.load(out) as data:
        arrays = {k: data[k] for k in data.files}
    assert sorted(arrays) == ["source", "x_test", "x_train", "x_val", "y_test", "y_train", "y_val"]
    # MNIST 30 / 10 (stratified 25 %); pen: writers 1 and 3 (12 digits) × 2 renders, writer 2's 6 digits once.
    assert len(arrays["x_train"]) == 30 + 24 and len(arrays["x_val"]) == 10 + 6 and len(arrays["x_test"]) == 6
    for name in ("x_train", "x_val", "x_test"):
        assert arrays[name].dtype == np.uint8 and arrays[name].shape[1:] == (28, 28)
    np.testing.assert_array_equal(arrays["x_val"][-6:], arrays["x_test"])
    np.testing.assert_array_equal(arrays["y_val"][-6:], arrays["y_test"])

    held = [d for d in read_pendigits(tra) if d.writer == 2]
    x_held, y_held = pen_digit_inputs(held)
    np.testing.assert_array_equal(arrays["x_test"], x_held)
    np.testing.assert_array_equal(arrays["y_test"], [d.label for d in held])
    assert sorted(np.bincount(arrays["y_train"][30:], minlength=10)[[0, 1, 7]]) == [8, 8, 8]

    recorded = json.loads(str(arrays["source"]))
    assert recorded == json.loads(json.dumps(source))
    assert recorded["split"]["val_writers"] == [2] and recorded["split"]["train_writers"] == [1, 3]
    assert recorded["render"]["renders_per_training_digit"] == 2 and recorded["mnist"]["val"] == 10

    # The same seed makes the same file.
    again = tmp_path / "again.npz"
    build_digits_npz(tra, again, val_writers=[2], renders=2, seed=7, mnist=mnist, mnist_val_split=0.25)
    with np.load(again) as data:
        np.testing.assert_array_equal(data["x_train"], arrays["x_train"])


def test_pen_digits_are_prepared_as_the_draw_tab_prepares_a_drawing(sources):
    tra, _ = sources
    digit = read_pendigits(tra)[2]  # a 7
    canvas = render_pen_digit(canvas_strokes(digit))
    assert canvas.shape == (280, 280) and canvas[:140].max() == 255 > canvas[:40].max()
    x, y = pen_digit_inputs([digit])
    np.testing.assert_array_equal(x[0], np.rint(mnist_style(canvas)[..., 0]).astype(np.uint8))
    # Varied renders differ from each other and keep MNIST's 20-pixel box and centre.
    varied, labels = pen_digit_inputs([digit], renders=4, rng=np.random.default_rng(1))
    assert labels.tolist() == [7] * 4 and len({v.tobytes() for v in varied}) == 4
    for image in varied:
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20
    with pytest.raises(ValueError, match="Expected renders >= 1"):
        pen_digit_inputs([digit], renders=2)


def test_the_trainer_validates_on_the_files_own_split(sources, tmp_path):
    tra, mnist = sources
    out = tmp_path / "digits_pen.npz"
    build_digits_npz(tra, out, val_writers=[3], renders=1, mnist=mnist, mnist_val_split=0.25, command="workbench x")
    report = scan_dataset(out)
    assert report.kind == "npz" and report.num_samples == 30 + 12
    assert sum(report.split_counts["val"].values()) == 16 and sum(report.split_counts["test"].values()) == 6
    assert report.to_dict()["source"]["command"] == "workbench x"  # so the model's sidecar records the recipe
    split = split_dataset(report, val_fraction=0.5, seed=1)  # the fraction does not apply: the file decides
    assert split.info["method"] == "pre-split arrays"
    assert (len(split.train), len(split.val), len(split.test)) == (42, 16, 6)
    test = evaluation_subset(report, report.class_names)  # `workbench evaluate` measures the held-out writers
    assert len(test) == 6 and test.ids[0] == "npz:x_test[0]"


def test_cli_writes_the_npz_and_refuses_unknown_writers(sources, tmp_path, capsys):
    tra, _ = sources
    out = tmp_path / "pen.npz"
    assert run_cli(["pen-digits", str(tra), "--out", str(out), "--val-writers", "1", "--renders", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "validation 6" in printed and "writers 1" in printed
    with np.load(out) as data:
        assert len(data["x_train"]) == 12 and "mnist" not in json.loads(str(data["source"]))
    assert run_cli(["pen-digits", str(tra), "--out", str(out), "--val-writers", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Expected validation writers among the 3 writers" in err[0] and "Received: 4" in err[0]
    assert run_cli(["pen-digits", str(tra), "--out", str(out), "--val-writers", "one"]) == 2
    assert "Expected --val-writers" in capsys.readouterr().err


def test_parse_of_the_test_file_sees_three_writers(sources):
    digits = parse_pendigits(sources[0].read_text().splitlines())
    assert len(digits) == 18 and {d.writer for d in digits} == {1, 2, 3}


def test_an_npz_source_that_is_not_a_json_object_is_ignored(tmp_path):
    x, y = np.zeros((10, 28, 28), np.uint8), np.arange(10) % 2
    for i, source in enumerate([np.arange(3), np.array("not json"), np.array("[1, 2]")]):
        path = tmp_path / f"s{i}.npz"
        np.savez(path, x_train=x, y_train=y, source=source)
        report = scan_dataset(path)
        assert report.source is None and "source" not in report.to_dict()
