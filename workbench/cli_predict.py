"""``workbench predict``: files read by a model, one result per file on stdout.

Still images and sound clips are prepared and read in chunks as single samples; files of a modality
read along a timeline (a video's windows) and long recordings (one answer per word) print the whole
file's answer, then one line per part. A file that cannot be read is named on stderr with the reason
and the others are still read (exit status 2 when any failed).
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.cli import _note_unfinished_run
from workbench.cli_common import EXIT_USAGE, print_json
from workbench.core.errors import WorkbenchError


def predict_command(args: argparse.Namespace) -> int:
    """``workbench predict``: every file given, read by the model, in the order given."""
    from workbench.core.inference import Predictor

    if args.top_k < 1:
        raise WorkbenchError(f"Expected --top-k of at least 1. Received: {args.top_k}")
    from workbench.cli_progress import StderrProgress

    predictor = Predictor.load(args.model)
    _note_unfinished_run(args.model)
    with StderrProgress() as progress:
        return _predict_files(args, predictor, progress)


#: Files prepared and predicted at a time by ``workbench predict`` (the progress bar moves per chunk).
PREDICT_CHUNK = 32


def _predict_files(args: argparse.Namespace, predictor, progress) -> int:
    from workbench.core.data.scan import display_path

    failed: list[str] = []
    total, done = len(args.files), 0
    progress.update("predicting", 0, total)  # shown while the model reads the first files

    def advance(count: int = 1) -> None:
        nonlocal done
        done += count
        progress.update("predicting", done, total)

    def print_result(line: str) -> None:
        progress.clear()  # a result never shares its line with the bar
        print(line, flush=True)

    def report_failure(path: str, message: str) -> None:
        """A file that cannot be read is said (with why) and the others are still predicted."""
        failed.append(path)
        progress.clear()
        if args.json:
            print_json({"source": display_path(path), "error": display_path(message)})
        else:
            print(f"workbench predict: error: {display_path(message)}", file=sys.stderr, flush=True)

    if args.words:
        predictor.audio_config  # noqa: B018  (raises "Expected a sound model" for any other model)
        from workbench.core.inference.sound_files import predict_sound_file

        for path in args.files:
            try:
                result = predict_sound_file(predictor, path, top_k=args.top_k, display=False)
            except WorkbenchError as exc:
                report_failure(path, str(exc))
                advance()
                continue
            print_result(json.dumps(result.to_dict()) if args.json else
                         _timeline_text(result.prediction, f"{result.duration_s:.2f} s", result.words))
            advance()
        return EXIT_USAGE if failed else 0

    def show(p) -> None:
        print_result(json.dumps(p.to_dict()) if args.json else f"{display_path(p.source)}: {_top_text(p.top)}")

    # Files of a modality read along a timeline (video: a `predict_file` of its modality) are read window
    # by window; the others, in runs, as single samples. Output keeps the order of the files given.
    run: list[str] = []
    for path in [*args.files, None]:
        reader = _timeline_reader(path) if path is not None else None
        if path is not None and reader is None:
            run.append(path)
            continue
        for start in range(0, len(run), PREDICT_CHUNK):
            chunk = run[start:start + PREDICT_CHUNK]
            for p in predictor.predict_files(chunk, top_k=args.top_k, on_error=report_failure):
                show(p)
            advance(len(chunk))
        run = []
        if reader is None:
            continue
        try:
            result = reader(predictor, path, top_k=args.top_k)
        except WorkbenchError as exc:
            report_failure(path, str(exc))
            advance()
            continue
        print_result(json.dumps(result.to_dict()) if args.json else _timeline_text(
            result.prediction, f"{result.duration_s:.2f} s, {result.fps:g} fps", result.windows))
        advance()
    return EXIT_USAGE if failed else 0


def _top_text(top) -> str:
    """``5 94.7%, 3 5.3%, 9 0.0%``: the top classes with their probabilities."""
    from workbench.core.data.scan import display_path

    return ", ".join(f"{display_path(c)} {prob:.1%}" for c, prob in top)


def _timeline_text(prediction, detail: str, parts) -> str:
    """A file read part by part (a recording's words, a video's windows): the whole file's answer,
    then one line per part with its start and end."""
    from workbench.core.data.scan import display_path

    lines = [f"{display_path(prediction.source)} ({detail}): {_top_text(prediction.top)}"]
    lines += [f"  {part.start_s:.2f}-{part.end_s:.2f} s: {_top_text(part.top)}" for part in parts]
    return "\n".join(lines)


def _timeline_reader(path: str):
    """The ``predict_file(predictor, path, top_k)`` of the file's modality when it reads files along a
    timeline (video: window by window), else None."""
    from workbench.core.modality import get_modality, modality_of_file

    name = modality_of_file(path)
    return getattr(get_modality(name), "predict_file", None) if name else None
