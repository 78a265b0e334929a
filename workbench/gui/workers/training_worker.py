"""TrainingWorker: runs ``core.training.train`` for the GUI and reports through signals.

Each run trains in a child process ("spawn"), and the worker, on its own thread, relays the child's
events to its signals. TensorFlow keeps about 12 MB for every traced training step after the model
is gone (a plain Keras loop does the same; ``clear_session`` does not return it), so a session that
trains all day in one process grows without bound: ``bench/memory_growth.py`` measures +12.6 MB per
run in-process and +0.1 MB per run this way. A child that crashes (out of memory, a native fault)
also leaves the app standing, and a Stop the child does not obey within :data:`STOP_GRACE_S` ends
it: every file of the run is written atomically, so the last checkpoint survives.

The cost is starting the child: it imports TensorFlow again (a few seconds before the first epoch).
The run stays in this thread instead when the configuration cannot be pickled, in a frozen build
(multiprocessing there needs ``freeze_support`` in the entry point), or when the environment sets
``WORKBENCH_TRAIN_IN_PROCESS=1``.

The payloads are plain dicts of floats and strings. The worker never touches a widget.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from workbench.core.training.events import CancelToken, TrainingListeners

_log = logging.getLogger(__name__)

# The app and its training process share the GPU: by default the first TensorFlow to start takes
# nearly all of its memory, and the other would fail. Set before TensorFlow loads (it loads lazily,
# after this module); an explicit choice in the environment is kept. Inherited by the child.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

STOP_GRACE_S = 15.0  # after Stop, how long the child may take to save and leave before it is ended
_POLL_S = 0.05
_EVENTS = ("run_started", "phase_started", "batch_ended", "epoch_ended", "run_finished", "log", "stage_started")
OUT_OF_MEMORY = "Training ran out of memory. Try a smaller batch size or input size."


def in_process_reason() -> str | None:
    """Why every run trains in the app's own process (None: each in a child process of its own)."""
    if os.environ.get("WORKBENCH_TRAIN_IN_PROCESS", "") not in ("", "0"):
        return "WORKBENCH_TRAIN_IN_PROCESS is set"
    if getattr(sys, "frozen", False):
        return "a frozen build"
    return None


def train_in_child_process(config) -> str | None:
    """Why ``config`` trains in this process rather than in a child, or None when a child is used."""
    reason = in_process_reason()
    if reason is not None:
        return reason
    try:
        pickle.dumps(config)
    except Exception as exc:  # a phase with a lambda, a strategy object, ...
        return f"the configuration cannot be sent to a child process ({type(exc).__name__}: {exc})"
    return None


class TrainingWorker(QObject):
    run_started = Signal(dict)
    phase_started = Signal(dict)
    batch_ended = Signal(dict)
    epoch_ended = Signal(dict)
    run_finished = Signal(dict)
    log = Signal(str)
    stage_started = Signal(dict)  # validating, saving, evaluating: work between or after the batches
    failed = Signal(str)
    finished = Signal()

    def __init__(self, config, cancel: CancelToken) -> None:
        super().__init__()
        self._config = config
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        """Train; ``failed`` on any error, ``finished`` always, so the UI never stays busy."""
        from workbench.gui.workers.priority import lower_current_thread_priority

        lower_current_thread_priority()
        try:
            reason = train_in_child_process(self._config)
            if reason is None:
                self._run_in_child()
            else:
                _log.info("Training in the GUI process: %s", reason)
                self._run_here()
        except Exception as exc:  # the app must survive anything training throws
            _log.exception("Training crashed")
            self.failed.emit(f"Training failed: {type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()

    # -- in this thread ------------------------------------------------------------------------

    def _run_here(self) -> None:
        from workbench.core.errors import WorkbenchError
        from workbench.core.training import train

        listeners = TrainingListeners(
            run_started=self.run_started.emit,
            phase_started=self.phase_started.emit,
            batch_ended=self.batch_ended.emit,
            epoch_ended=self.epoch_ended.emit,
            run_finished=self.run_finished.emit,
            log=self.log.emit,
            stage_started=self.stage_started.emit,
        )
        try:
            result = train(self._config, listeners, self._cancel)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
            return
        except MemoryError:
            self.failed.emit(OUT_OF_MEMORY)
            return
        if result.status == "failed":
            self.failed.emit(result.message)

    # -- in a child process --------------------------------------------------------------------

    def _run_in_child(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        # A pipe, not a Queue: the child holds its only write end, so the child's death reads as end
        # of file, even in the middle of a message; and no feeder thread has to be flushed at its exit.
        events, child_end = context.Pipe(duplex=False)
        # A flag in shared memory without a lock: an Event's set() waits for the child's waiting
        # thread to wake, so a frozen child would freeze this thread (and Stop) with it.
        stop = context.RawValue("b", 0)
        # daemon: a child still training when the app quits is ended with it, never orphaned.
        process = context.Process(target=child_main, args=(self._config, child_end, stop),
                                  name="workbench-training", daemon=True)
        process.start()
        child_end.close()
        try:
            self._relay(process, events, stop)
        finally:
            process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join()
            events.close()

    def _relay(self, process, events, stop) -> None:
        """Emit the child's events until it reports its end, dies, or ignores a Stop for too long."""
        stop_deadline = None
        while True:
            if self._cancel.cancelled and stop_deadline is None:
                stop.value = 1
                stop_deadline = time.monotonic() + STOP_GRACE_S
            try:
                if not events.poll(_POLL_S):
                    if stop_deadline is not None and time.monotonic() > stop_deadline:
                        process.kill()
                        process.join()
                        self._ended_after_stop()
                        return
                    continue
                kind, payload = events.recv()
            except (EOFError, OSError):  # the child died, perhaps in the middle of a message
                process.join(5.0)
                self.failed.emit(_died_message(process.exitcode, self._saved_model()))
                return
            if kind in _EVENTS:
                getattr(self, kind).emit(payload)
            elif kind == "failed":
                self.failed.emit(payload)
                return
            elif kind == "done":
                return

    def _saved_model(self) -> Path | None:
        """The run's model.keras, when the run got as far as a checkpoint."""
        model = Path(self._config.out_dir) / "model.keras" if self._config.out_dir else None
        return model if model is not None and model.is_file() else None

    def _ended_after_stop(self) -> None:
        """The child did not stop within the grace period and was ended; its files are whole."""
        model = self._saved_model()
        message = (f"Stopped: the training process did not stop within {STOP_GRACE_S:.0f} s and was ended; "
                   + ("the best checkpoint so far is kept." if model else "no epoch had finished, so no model was saved."))
        self.log.emit(message)
        self.run_finished.emit({"status": "cancelled", "run_dir": str(self._config.out_dir or ""),
                                "model_path": str(model or ""), "best_val_accuracy": None, "epochs_run": None,
                                "message": message})


def _died_message(exitcode: int | None, model: Path | None) -> str:
    kept = (f"The best checkpoint so far is kept: {model}." if model else
            "No epoch had finished, so no model was saved.")
    if exitcode is not None and exitcode < 0:
        import signal

        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"Training failed: the training process was ended by {name}{hint}. {kept}"
    return f"Training failed: the training process exited unexpectedly (exit code {exitcode}). {kept}"


def child_main(config, events, stop) -> None:
    """The training process: train ``config``, sending ``(event, payload)`` tuples through the pipe
    end ``events``, the last ``("done", None)`` or ``("failed", message)``; ``stop.value`` 1 = Stop."""
    import multiprocessing

    from workbench.core.errors import WorkbenchError
    from workbench.gui.workers.priority import lower_current_thread_priority

    lower_current_thread_priority()  # as the GUI's training thread; TensorFlow's pools inherit it
    cancel = CancelToken()
    parent = multiprocessing.parent_process()

    def watch_stop() -> None:
        # The user's Stop, or the app gone (killed, crashed): stop at the next batch and keep what was
        # saved, rather than train on orphaned for hours.
        while not stop.value and (parent is None or parent.is_alive()):
            time.sleep(_POLL_S)
        cancel.cancel()

    threading.Thread(target=watch_stop, name="stopWatcher", daemon=True).start()

    def send(message: tuple) -> None:
        try:
            events.send(message)
        except OSError:
            pass  # the app is gone: nobody to tell, and the watcher stops the run

    def sender(kind: str):
        return lambda payload: send((kind, payload))

    listeners = TrainingListeners(**{kind: sender(kind) for kind in _EVENTS})
    try:
        from workbench.core.training import train

        result = train(config, listeners, cancel)
        send(("failed", result.message) if result.status == "failed" else ("done", None))
    except WorkbenchError as exc:
        send(("failed", str(exc)))
    except MemoryError:
        send(("failed", OUT_OF_MEMORY))
    except BaseException as exc:
        _log.exception("Training crashed")
        send(("failed", f"Training failed: {type(exc).__name__}: {exc}"))
    finally:
        events.close()  # everything sent is in the pipe: send() returns once it is written
        # Skip the interpreter's teardown: TensorFlow's can take seconds (or crash) and nothing is left
        # to write; every artefact was written and fsynced atomically.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
