"""Small synthetic datasets for tests: a few dozen tiny images written to a temporary folder.

Every class is a simple, easily learnt pattern (a horizontal bar, a vertical bar, a blob, a
diagonal) drawn white on black at a jittered position, with noise, so a model trained for one or two
epochs already does better than chance while no two images are identical.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from PIL import Image

PATTERNS = ("hbar", "vbar", "blob", "diagonal")


def pattern_image(kind: str, size: int = 28, rng: np.random.Generator | None = None,
                  noise: float = 12.0) -> np.ndarray:
    """A (size, size) uint8 image of ``kind`` (see :data:`PATTERNS`) with positional jitter and noise."""
    rng = rng or np.random.default_rng(0)
    image = np.zeros((size, size), np.float32)
    centre = size // 2 + int(rng.integers(-2, 3))
    half = max(1, size // 10)
    lo, hi = size // 6, size - size // 6
    if kind == "hbar":
        image[centre - half:centre + half, lo:hi] = 255
    elif kind == "vbar":
        image[lo:hi, centre - half:centre + half] = 255
    elif kind == "blob":
        yy, xx = np.mgrid[:size, :size]
        image[(yy - centre) ** 2 + (xx - size // 2) ** 2 <= (size // 5) ** 2] = 255
    elif kind == "diagonal":
        for i in range(lo, hi):
            image[i, max(0, i - half):i + half] = 255
    else:
        raise ValueError(f"unknown pattern {kind!r}")
    image += rng.normal(0.0, noise, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def write_image_dataset(root: Path, counts: dict[str, int] | None = None, *, size: int = 28,
                        rgb: bool = False, ext: str = ".png", seed: int = 0,
                        name: str = "{cls}_{i:03d}") -> Path:
    """Write ``root/<class>/<name><ext>`` for each class in ``counts`` (default 3 classes × 20).

    Class ``k`` (in the order given) gets pattern ``PATTERNS[k % 4]``. Returns ``root``.
    """
    counts = counts if counts is not None else {"a_hbar": 20, "b_vbar": 20, "c_blob": 20}
    rng = np.random.default_rng(seed)
    for k, (cls, n) in enumerate(counts.items()):
        for i in range(n):
            array = pattern_image(PATTERNS[k % len(PATTERNS)], size, rng)
            if rgb:
                array = np.stack([array, array // 2, 255 - array], axis=-1)
            write_image(root / cls / f"{name.format(cls=cls, i=i)}{ext}", array)
    return root


def write_video_dataset(root: Path, counts: dict[str, int] | None = None, *, size: int = 16, frames: int = 4,
                        seed: int = 0) -> Path:
    """Write ``root/<class>/<class>_<i>.avi``: tiny Motion-JPEG clips (``frames`` × ``size``²) per class.

    Class ``k`` shows pattern ``PATTERNS[k % 4]`` drifting one pixel a frame; enough for a scan to
    index and verify them (video is not trained on yet). Needs OpenCV (cv2).
    """
    import cv2

    counts = counts if counts is not None else {"a_hbar": 2, "b_vbar": 2}
    rng = np.random.default_rng(seed)
    for k, (cls, n) in enumerate(counts.items()):
        for i in range(n):
            path = root / cls / f"{cls}_{i}.avi"
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (size, size))
            assert writer.isOpened(), f"OpenCV cannot write {path}"
            base = pattern_image(PATTERNS[k % len(PATTERNS)], size, rng)
            for f in range(frames):
                writer.write(cv2.cvtColor(np.roll(base, f, axis=1), cv2.COLOR_GRAY2BGR))
            writer.release()
    return root


# --- The broken-input corpus -------------------------------------------------------------------------
# Each writer builds a small dataset of good files plus every kind of hostile input a user's folder can
# hold, and returns what a scan must make of each case: ``cases`` maps a file (relative to the root) to
# the words its unreadable-reason must contain, or None when it must be read and trained on; ``skipped``
# maps a file or folder to the word its skipped-reason must contain. Cases the platform cannot make
# (a non-UTF-8 name on macOS, a symbolic link without the privilege, MP3 without libsndfile ≥ 1.1) are
# left out.

#: A file name whose bytes are not valid UTF-8 (Latin-1 "café"), as str with the OS's surrogate escapes.
NON_UTF8_NAME = b"caf\xe9"


def _try_non_utf8(folder: Path, suffix: str) -> Path | None:
    """A path in ``folder`` with a non-UTF-8 name, or None where the file system refuses such names."""
    import os

    path = folder / os.fsdecode(NON_UTF8_NAME + suffix.encode())
    try:
        path.write_bytes(b"")
    except (OSError, UnicodeEncodeError):
        return None
    path.unlink()
    return path


def _try_symlink(link: Path, target: str) -> bool:
    import os

    try:
        os.symlink(target, link, target_is_directory=True)
    except (OSError, NotImplementedError):
        return False
    return True


def write_broken_image_corpus(root: Path) -> tuple[dict[str, str | None], dict[str, str]]:
    """Two classes of 28×28 images ("a", "b", 5 good each) with empty, truncated, text-as-image,
    random-bytes, wrong-extension, 16-bit, RGBA and non-UTF-8-named files, a symbolic link loop, hidden
    files and folders, stray files, a sound file and a file outside the class folders."""
    write_image_dataset(root, {"a": 5, "b": 5})
    good = (root / "a" / "a_000.png").read_bytes()
    rng = np.random.default_rng(7)
    cases: dict[str, str | None] = {}

    (root / "a" / "empty.png").write_bytes(b"")
    cases["a/empty.png"] = "empty"
    (root / "a" / "truncated.png").write_bytes(good[: len(good) // 2])
    cases["a/truncated.png"] = "truncated"
    (root / "a" / "text.png").write_text("this is not an image\n" * 5)
    cases["a/text.png"] = "not an image"
    (root / "b" / "random.jpg").write_bytes(rng.bytes(600))
    cases["b/random.jpg"] = "not an image"
    (root / "b" / "png_named.jpg").write_bytes((root / "b" / "b_000.png").read_bytes())  # wrong extension
    cases["b/png_named.jpg"] = None
    sixteen = pattern_image("vbar", 28, rng).astype(np.uint16) * 257  # the full 16-bit range
    Image.fromarray(sixteen).save(root / "b" / "sixteen_bit.png")
    cases["b/sixteen_bit.png"] = None
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = pattern_image("vbar", 28, rng)  # strokes only in the alpha channel, as drawing apps save
    Image.fromarray(rgba, "RGBA").save(root / "b" / "rgba.png")
    cases["b/rgba.png"] = None
    odd = _try_non_utf8(root / "a", ".png")
    if odd is not None:
        odd.write_bytes(good)
        cases[str(odd.relative_to(root))] = None

    skipped: dict[str, str] = {}
    write_image(root / "a" / ".hidden" / "h.png", pattern_image("hbar", 28, rng))
    skipped["a/.hidden"] = "hidden"
    (root / "b" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    skipped["b/.DS_Store"] = "hidden"
    (root / ".cache").mkdir()
    skipped[".cache"] = "hidden"
    (root / "a" / "notes.txt").write_text("stray notes")
    skipped["a/notes.txt"] = "not an image"
    (root / "b" / "Thumbs.db").write_bytes(rng.bytes(64))
    skipped["b/Thumbs.db"] = "not an image"
    (root / "a" / "voice.wav").write_bytes(b"")
    skipped["a/voice.wav"] = "sound file"
    (root / "README.txt").write_text("about this dataset")
    skipped["README.txt"] = "outside the class folders"
    if _try_symlink(root / "a" / "loop", ".."):
        skipped["a/loop"] = "loop"
    return cases, skipped


def write_broken_sound_corpus(root: Path, sample_rate: int = 8000) -> tuple[dict[str, str | None], dict[str, str]]:
    """Two classes of tones ("low", "high", 4 good 0.3 s clips each at ``sample_rate``) with zero-byte,
    header-only, text, NaN, stereo 44.1 kHz, 24-bit, float, MP3-named-.wav, silent, very long (30 s) and
    non-UTF-8-named files."""
    import os

    import soundfile

    rng = np.random.default_rng(3)

    def tone(frequency: float, seconds: float, rate: int = sample_rate) -> np.ndarray:
        t = np.arange(int(seconds * rate)) / rate
        return (0.3 * np.sin(2 * np.pi * frequency * t) + rng.normal(0, 0.003, t.size)).astype(np.float32)

    frequencies = {"low": 400.0, "high": 2000.0}
    for cls, frequency in frequencies.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(4):
            soundfile.write(str(root / cls / f"{cls}_{i}.wav"), tone(frequency * (1 + 0.01 * i), 0.3), sample_rate)
    cases: dict[str, str | None] = {}
    (root / "low" / "zero_bytes.wav").write_bytes(b"")
    cases["low/zero_bytes.wav"] = "empty"
    soundfile.write(str(root / "low" / "header_only.wav"), np.zeros(0, np.float32), sample_rate)
    cases["low/header_only.wav"] = "no audio frames"
    (root / "high" / "text.wav").write_text("RIFF? no, just text\n" * 4)
    cases["high/text.wav"] = "Format not recognised"
    nan = tone(2000.0, 0.3)
    nan[100] = np.nan
    soundfile.write(str(root / "high" / "nan_float.wav"), nan, sample_rate, subtype="FLOAT")
    cases["high/nan_float.wav"] = "NaN"
    soundfile.write(str(root / "low" / "silence.wav"), np.zeros(int(0.3 * sample_rate), np.float32), sample_rate)
    cases["low/silence.wav"] = "silent"
    stereo = tone(400.0, 0.3, 44100)
    soundfile.write(str(root / "low" / "stereo_44k.wav"), np.stack([stereo, stereo * 0.5], axis=1), 44100)
    cases["low/stereo_44k.wav"] = None
    soundfile.write(str(root / "high" / "pcm24.wav"), tone(2000.0, 0.3), sample_rate, subtype="PCM_24")
    cases["high/pcm24.wav"] = None
    soundfile.write(str(root / "low" / "float.wav"), tone(400.0, 0.3), sample_rate, subtype="FLOAT")
    cases["low/float.wav"] = None
    # 30 s of tone bursts, 3 s apart: sound from start to end, so trimming silence leaves it long.
    long = tone(2000.0, 30.0) * (np.sin(np.linspace(0, 20 * np.pi, 30 * sample_rate)) > -0.5)
    soundfile.write(str(root / "high" / "very_long.wav"), long, sample_rate)
    cases["high/very_long.wav"] = None
    if "MP3" in soundfile.available_formats():
        mp3 = root / "high" / "mp3_named.mp3"
        try:
            soundfile.write(str(mp3), tone(2000.0, 0.5), sample_rate, format="MP3")
        except Exception:  # a libsndfile built without the MPEG encoder
            mp3.unlink(missing_ok=True)
        else:
            mp3.rename(root / "high" / "mp3_named.wav")
            cases["high/mp3_named.wav"] = None
    odd = _try_non_utf8(root / "low", ".wav")
    if odd is not None:
        soundfile.write(os.fsencode(odd), tone(400.0, 0.3), sample_rate)
        cases[str(odd.relative_to(root))] = None
    skipped = {"low/.hidden": "hidden"}
    (root / "low" / ".hidden").mkdir()
    soundfile.write(str(root / "low" / ".hidden" / "h.wav"), tone(400.0, 0.3), sample_rate)
    return cases, skipped


def write_broken_video_corpus(root: Path) -> tuple[dict[str, str | None], dict[str, str]]:
    """Two classes of tiny Motion-JPEG clips ("a_hbar", "b_vbar", 2 good each) with a truncated clip
    (20 frames cut to about half), a zero-frame clip, an empty file and a text file named .avi."""
    import cv2

    write_video_dataset(root, {"a_hbar": 2, "b_vbar": 2})
    full = root / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
    rng = np.random.default_rng(5)
    for _ in range(20):
        writer.write(cv2.cvtColor(pattern_image("hbar", 16, rng), cv2.COLOR_GRAY2BGR))
    writer.release()
    data = full.read_bytes()
    full.unlink()
    empty_clip = root / "b_vbar" / "zero_frames.avi"
    writer = cv2.VideoWriter(str(empty_clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
    writer.release()
    header = empty_clip.stat().st_size  # the container without frames: what a truncated clip keeps
    (root / "a_hbar" / "truncated.avi").write_bytes(data[: header + (len(data) - header) // 2])
    (root / "a_hbar" / "empty.avi").write_bytes(b"")
    (root / "b_vbar" / "text.avi").write_text("not a video\n")
    cases = {"a_hbar/truncated.avi": "truncated", "b_vbar/zero_frames.avi": "no video frames",
             "a_hbar/empty.avi": "empty", "b_vbar/text.avi": "not a video"}
    return cases, {}


UNTRAINABLE_REASON = "Training this test template is not available (it exists to check the refusal)"


@contextlib.contextmanager
def untrainable_template(template_id: str = "untrainable_demo"):
    """A template that declares it cannot train (as a plug-in or a modality without training would),
    registered for the duration of the block: the built-ins all train now."""
    import dataclasses

    from workbench.core.templates import get_template, registry

    spec = dataclasses.replace(get_template("simple_cnn"), id=template_id, title="Untrainable (test)",
                               training_unavailable=UNTRAINABLE_REASON)
    registry.register_template(spec)
    try:
        yield spec
    finally:
        registry._registry.pop(template_id, None)
