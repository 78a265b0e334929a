"""TrainingPanel: start and stop a run, watch its curves, progress and log live; a run in several
phases (transfer learning: the head, then fine-tuning) shows a marker where each later phase begins.

The panel only talks to a :class:`TrainingController`: Start turns the shared state into a core
``TrainConfig`` and hands it over; every figure shown arrives through the controller's signals,
received by ``@Slot`` methods here (queued onto the GUI thread, never lambdas). Nothing in this
panel blocks: Stop sets the cancel flag and the UI waits for ``finished``.

Start stays disabled, with the reason beside it, until there is a dataset and the template fits it
(:func:`workbench.core.templates.fit.template_fit`, the check the run itself would fail on). After
the batches the run says what it is doing (``stage_started``: validating, saving, evaluating) instead
of "about 0:00 left". Changing the dataset or the template clears the previous run's figures.

Where the run trains (one device or mirrored, CPU replicas, mixed precision) is chosen in a
:class:`DistributionWidget` above the figures, which says the global batch and learning rate before
Start; once the run has started, ``run_started`` says which device(s) train ("Training on 2 × CPU
(mirrored) — global batch 128, learning rate 0.002 (2 × 0.001)").
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QSplitter,
    QVBoxLayout, QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.templates import get_template
from workbench.core.templates.fit import template_fit
from workbench.core.training.trainer import default_run_dir
from workbench.gui.panels.distribution_widget import DistributionWidget
from workbench.gui.panels.panel_widgets import message_label, set_message, set_progress_deferred
from workbench.gui.panels.training_readouts import device_text, finished_text, format_duration, format_number
from workbench.gui.state import AppState, unsaved_runs_root
from workbench.gui.widgets._style import message_style
from workbench.gui.widgets.training_curves_widget import TrainingCurvesWidget

LOG_MAX_LINES = 5000
START_KEYS = "Ctrl+Return"  # the Start action's key, as the tooltips say it
READOUT_INTERVAL_MS = 200  # counters and progress follow batch reports at the curves' pace (see _show_latest_batch)
READY, NOT_READY = "Ready.", "Not ready to train:"
class TrainingPanel(QWidget):
    """Start/Stop, live curves, epoch/step/learning-rate/speed labels, progress with ETA, run log."""

    run_requested = Signal(str)  # the run folder a Start click launched

    def __init__(self, state: AppState, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.setAccessibleName("Training")
        self._state = state
        self._controller = controller
        self.runs_root: str = unsaved_runs_root()
        self._runs_root_saved = False
        self._first_batch: tuple[float, int] | None = None  # (time, global step) for the ETA
        self._epochs = 0
        self._stopping = False
        self._learning_rate: float | None = None  # the run's, before scaling with the replicas
        self._latest_batch: tuple[dict, float] | None = None  # (report, when it arrived), not shown yet
        self._readout_timer = QTimer(self)
        self._readout_timer.setObjectName("trainReadoutTimer")
        self._readout_timer.setSingleShot(True)
        self._readout_timer.setInterval(READOUT_INTERVAL_MS)
        self._readout_timer.timeout.connect(self._show_latest_batch)

        self._start_button = QPushButton("Start training", self)
        self._start_button.setObjectName("trainStartButton")
        self._start_button.setAccessibleName("Start training")
        self._start_button.setToolTip(f"Train the chosen template on the chosen dataset ({START_KEYS})")
        self._start_button.clicked.connect(self._on_start_clicked)
        self._stop_button = QPushButton("Stop", self)
        self._stop_button.setObjectName("trainStopButton")
        self._stop_button.setAccessibleName("Stop training")
        self._stop_button.setToolTip("Stop after the current batch; the best model so far is kept (Esc)")
        self._stop_button.setEnabled(False)
        self._stop_button.clicked.connect(self._on_stop_clicked)
        # The same two commands with keys, for the main window's Training menu (and its shortcuts).
        self.start_action = QAction("&Start training", self)
        self.start_action.setObjectName("actionStartTraining")
        self.start_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.start_action.triggered.connect(self._on_start_clicked)
        self.stop_action = QAction("S&top training", self)
        self.stop_action.setObjectName("actionStopTraining")
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))  # enabled (and so active) only while training
        self.stop_action.triggered.connect(self._on_stop_clicked)
        self._status = self._label("trainStatusLabel", "Training status", READY)
        self._status.setWordWrap(True)
        self._training_text = ""  # the status while batches run, shown again after a stage
        self._in_stage = False
        # Why Start is disabled (no dataset, a template for other data), said before Start, not after it.
        self._blocked = message_label("trainStartBlockedLabel", "Why training cannot start")
        self._blocked.hide()
        # Where runs are written: the app's data folder until the project is saved, then next to it.
        self._runs_folder = message_label("trainRunsFolderLabel", "Where new runs are saved")
        self._runs_folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._runs_folder.setEnabled(False)  # the palette's dimmed text: a note, not a message
        self._error = self._label("trainErrorLabel", "Training error", "")
        self._error.setStyleSheet(message_style("error", bold=True))  # readable in light and dark palettes
        self._error.setWordWrap(True)
        self._error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._error.hide()

        self._distribution = DistributionWidget(state, self)
        self._distribution.changed.connect(self._on_distribution_changed)
        self._device_label = self._label("trainDeviceLabel", "Device that trains", "")
        self._device_label.setWordWrap(True)
        self._device_label.hide()
        self._epoch_label = self._label("trainEpochLabel", "Epoch", "Epoch —")
        self._step_label = self._label("trainStepLabel", "Step", "Step —")
        self._lr_label = self._label("trainLearningRateLabel", "Learning rate", "Learning rate —")
        self._speed_label = self._label("trainSpeedLabel", "Samples per second", "— samples/s")
        self._metrics_label = self._label("trainMetricsLabel", "Latest metrics", "")
        self._progress = QProgressBar(self)
        self._progress.setObjectName("trainProgressBar")
        self._progress.setAccessibleName("Training progress")
        self._progress.setRange(0, 1)
        self._progress.setValue(0)
        self._eta_label = self._label("trainEtaLabel", "Time left", "")

        self._curves = TrainingCurvesWidget(self)
        for metric in ("loss", "accuracy"):
            # pyqtgraph 0.14 rescales unit-less axes whose values stay below 1 ("accuracy (x0.001)",
            # ticks at 200..800); loss and accuracy read best as plain numbers.
            self._curves.plot(metric).getAxis("left").enableAutoSIPrefix(False)
        self._log = QPlainTextEdit(self)
        self._log.setObjectName("trainLog")
        self._log.setAccessibleName("Training log")
        self._log.setReadOnly(True)
        self._log.setMaximumBlockCount(LOG_MAX_LINES)  # a long run must not grow memory without bound
        self._log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._log.setPlaceholderText("The run's log appears here.")

        buttons = QHBoxLayout()
        buttons.addWidget(self._start_button)
        buttons.addWidget(self._stop_button)
        buttons.addWidget(self._status, 1)
        stats = QGridLayout()
        for col, widget in enumerate((self._epoch_label, self._step_label, self._lr_label, self._speed_label)):
            stats.addWidget(widget, 0, col)
        stats.addWidget(self._metrics_label, 1, 0, 1, 4)
        stats.addWidget(self._device_label, 2, 0, 1, 4)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self._progress, 1)
        progress_row.addWidget(self._eta_label)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self._curves)
        splitter.addWidget(self._log)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self._distribution)
        layout.addWidget(self._blocked)
        layout.addWidget(self._runs_folder)
        layout.addWidget(self._error)
        layout.addLayout(stats)
        layout.addLayout(progress_row)
        layout.addWidget(splitter, 1)

        controller.run_started.connect(self._on_run_started)
        controller.phase_started.connect(self._on_phase_started)
        controller.batch_ended.connect(self._on_batch_ended)
        controller.epoch_ended.connect(self._on_epoch_ended)
        controller.run_finished.connect(self._on_run_finished)
        controller.log.connect(self._on_log)
        controller.stage_started.connect(self._on_stage_started)
        controller.failed.connect(self._on_failed)
        controller.finished.connect(self._on_finished)
        state.dataset_changed.connect(self._on_dataset_changed)
        state.template_changed.connect(self._on_template_changed)
        self._sync_buttons()

    def _label(self, name: str, accessible: str, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        return label

    # ----------------------------------------------------------------------------------- public
    @property
    def curves(self) -> TrainingCurvesWidget:
        return self._curves

    @property
    def controller(self):
        return self._controller

    @property
    def distribution(self) -> DistributionWidget:
        return self._distribution

    @Slot(dict)
    def set_local_devices(self, found: dict) -> None:
        """The devices TensorFlow found (the window's loader): the strategy choices follow them."""
        self._distribution.set_local_devices(found)

    def device_text(self) -> str:
        """Which device(s) the run trains on ("" before a run has started)."""
        return self._device_label.text()

    def set_runs_root(self, root: str, saved: bool) -> None:
        """Write new runs into ``root`` and say where: ``saved`` is False before the project's first save."""
        self.runs_root = root
        self._runs_root_saved = saved
        self._show_runs_folder()

    def runs_folder_text(self) -> str:
        return self._runs_folder.text()

    def _show_runs_folder(self) -> None:
        if self._runs_root_saved:
            text = f"Runs are saved in {self.runs_root}, next to the project."
        else:
            text = (f"Runs are saved in {self.runs_root} until the project is saved: File ▸ Save project "
                    "moves them next to it.")
        set_message(self._runs_folder, text)

    def error_text(self) -> str:
        """The error shown in the panel ("" when none)."""
        return self._error.text()

    def start_blocker(self) -> str:
        """Why Start is disabled ("" when a run can start): no dataset, or a template for other data."""
        if not self._state.dataset_path:
            return "Choose a dataset in the Data panel to train on."
        fit = template_fit(self._state.template_id, self._state.scan)
        if not fit.fits:
            return f"{fit.reason}. Choose a template for this data in the Model panel."
        return self._distribution.blocker()

    def start(self) -> bool:
        """Start a run with the current state; problems go to the error label (False), never raise."""
        if self._controller.running:
            return False
        fit = template_fit(self._state.template_id, self._state.scan)
        if self._state.dataset_path and not fit.fits:  # refused here, not seconds later by the run
            self._show_error(self.start_blocker())
            return False
        if self._state.dataset_path and self._distribution.blocker():
            self._show_error(self._distribution.blocker())
            return False
        try:
            run_dir = self._new_run_dir()
            devices = self._distribution.devices
            config = self._state.train_config(out_dir=str(run_dir), gpus=self._distribution.gpus(),
                                              cpu_bfloat16=bool(devices and devices.cpu_bfloat16))
            # Check the values here so a bad one shows at once rather than from the worker thread.
            learning_rate = get_template(config.template).resolve_hparams(config.hparams)["learning_rate"]
        except WorkbenchError as exc:
            self._show_error(str(exc))
            return False
        self._learning_rate = float(learning_rate)
        self._reset_for_run(learning_rate)
        self._append_log(f"Starting {config.template} → {run_dir}")
        self._controller.start(config)
        self._sync_buttons()
        self.run_requested.emit(str(run_dir))
        return True

    def stop(self) -> None:
        """Ask the run to stop after the current batch; ``finished`` re-enables Start."""
        if self._controller.running:
            self._stopping = True
            self._status.setText("Stopping after the current batch…")
            self._controller.stop()
            self._sync_buttons()

    def shutdown(self) -> None:
        """Stop a run in progress and wait for its thread (the main window calls this on close)."""
        if self._controller.running:
            self._controller.stop_and_wait()

    # --------------------------------------------------------------------------------- private
    def _new_run_dir(self) -> Path:
        run_dir = default_run_dir(self._state.template_id, self.runs_root)
        candidate, n = run_dir, 2
        while candidate.exists():  # two runs started within one second
            candidate, n = run_dir.with_name(f"{run_dir.name}-{n}"), n + 1
        return candidate

    def _clear_run(self) -> None:
        """Forget the previous run's figures (another dataset or template makes them someone else's)."""
        if self._controller.running:
            return
        self._show_error("")
        self._readout_timer.stop()
        self._latest_batch, self._first_batch, self._epochs, self._in_stage = None, None, 0, False
        self._curves.clear()
        self._progress.setRange(0, 1)
        self._progress.setValue(0)
        self._eta_label.setText("")
        self._epoch_label.setText("Epoch —")
        self._step_label.setText("Step —")
        self._lr_label.setText("Learning rate —")
        self._speed_label.setText("— samples/s")
        self._metrics_label.setText("")
        self._device_label.setText("")
        self._device_label.hide()
        self._status.setText(READY)

    def _reset_for_run(self, learning_rate: float) -> None:
        self._show_error("")
        self._in_stage = False
        self._stopping = False
        self._first_batch = None
        self._epochs = 0
        self._readout_timer.stop()
        self._latest_batch = None
        self._curves.clear()
        self._log.clear()
        self._progress.setRange(0, 1)
        self._progress.setValue(0)
        self._eta_label.setText("")
        self._epoch_label.setText("Epoch —")
        self._step_label.setText("Step —")
        self._lr_label.setText(f"Learning rate {learning_rate:.2g}")
        self._speed_label.setText("— samples/s")
        self._metrics_label.setText("")
        self._device_label.setText("")
        self._device_label.hide()
        self._status.setText("Preparing the data and loading TensorFlow…")

    def _sync_buttons(self) -> None:
        running = self._controller.running
        blocker = "" if running else self.start_blocker()
        self._start_button.setEnabled(not running and not blocker)
        self._start_button.setToolTip(blocker or f"Train the chosen template on the chosen dataset ({START_KEYS})")
        self.start_action.setEnabled(self._start_button.isEnabled())
        set_message(self._blocked, blocker, "warning" if self._state.dataset_path else "info")
        if not running and self._status.text() in (READY, NOT_READY):  # never over a finished run's result
            self._status.setText(NOT_READY if blocker else READY)
        self._stop_button.setEnabled(running and not self._stopping)
        self.stop_action.setEnabled(self._stop_button.isEnabled())
        self._distribution.setEnabled(not running)  # a run keeps the devices it started on

    def _show_error(self, message: str) -> None:
        self._error.setText(message)
        self._error.setVisible(bool(message))

    def _append_log(self, line: str) -> None:
        self._log.appendPlainText(f"[{time.strftime('%H:%M:%S')}] {line}")

    @Slot()
    def _on_start_clicked(self) -> None:
        self.start()

    @Slot()
    def _on_stop_clicked(self) -> None:
        self.stop()

    @Slot(dict)
    def _on_run_started(self, info: dict) -> None:
        self._sync_buttons()  # a run may also be started elsewhere (the main window's menu)
        self._epochs = int(info.get("epochs") or 0)
        total = max(1, self._epochs * int(info.get("steps_per_epoch") or 0))
        self._progress.setRange(0, total)
        self._progress.setValue(0)
        self._curves.set_epoch_span(self._epochs)
        self._epoch_label.setText(f"Epoch 1/{self._epochs}")
        self._training_text = (f"Training on {info.get('num_train', '?')} samples, validating on "
                               f"{info.get('num_val', '?')} ({len(info.get('class_names', []))} classes)…")
        self._status.setText(self._training_text)
        where = device_text(info, self._learning_rate)
        self._device_label.setText(where)
        self._device_label.setVisible(bool(where))

    @Slot(dict)
    def _on_phase_started(self, phase: dict) -> None:
        """A later phase (fine-tuning) gets a line on the curves where its first epoch begins."""
        index, first = int(phase.get("index") or 0), phase.get("first_epoch")
        if index > 0 and isinstance(first, (int, float)):
            label = str(phase.get("name") or f"phase {index + 1}").replace("_", "-")
            self._curves.add_phase_marker(first - 1, label)
        if index > 0 or int(phase.get("count") or 1) > 1:
            self._lr_label.setText(f"Learning rate {format_number(phase.get('learning_rate'), '.2g')}")

    @Slot(dict)
    def _on_stage_started(self, stage: dict) -> None:
        """Validating, saving or evaluating: what the run does between and after its batches."""
        self._readout_timer.stop()
        self._show_latest_batch()  # the last batch's exact figures first
        self._in_stage = True
        if not self._stopping:
            self._status.setText(str(stage.get("message") or f"{str(stage.get('stage', '')).capitalize()}…"))
        after_last = stage.get("epoch") is None
        if after_last or stage.get("epoch") == self._epochs:  # no batches left: "about 0:00 left" would mislead
            self._eta_label.setText(str(stage.get("stage") or ""))
        if after_last:
            self._append_log(str(stage.get("message") or stage.get("stage")))

    @Slot(dict)
    def _on_batch_ended(self, batch: dict) -> None:
        if self._in_stage:  # batches again after validating and saving an epoch
            self._in_stage = False
            if not self._stopping and self._training_text:
                self._status.setText(self._training_text)
        self._curves.add_batch_point(batch)
        now = time.perf_counter()
        if self._first_batch is None:
            # Timing from the first batch leaves TensorFlow's start-up and tracing out of the ETA.
            self._first_batch = (now, int(batch.get("global_step", 0)))
        self._latest_batch = (batch, now)
        if not self._readout_timer.isActive():
            self._readout_timer.start()

    @Slot()
    def _show_latest_batch(self) -> None:
        """Counters, progress and ETA from the newest batch report, at the curves' pace.

        Batch reports come ten times a second; every label change repaints and is sent to the
        display server, CPU taken from training on a 2-core machine. Five times a second reads
        as live; the end of each epoch and of the run show their exact figures at once.
        """
        if self._latest_batch is None:
            return
        (batch, received), self._latest_batch = self._latest_batch, None
        step, total = int(batch.get("global_step", 0)), int(batch.get("total_steps", 0))
        if total > 0:
            if self._progress.maximum() != total:
                self._progress.setRange(0, total)
            set_progress_deferred(self._progress, min(step, total))
        epochs = self._epochs or "?"
        self._epoch_label.setText(f"Epoch {batch.get('epoch', '?')}/{epochs}")
        self._step_label.setText(f"Step {batch.get('step', '?')}/{batch.get('steps_per_epoch', '?')}")
        self._speed_label.setText(f"{format_number(batch.get('samples_per_second'), ',.0f')} samples/s")
        self._metrics_label.setText(f"Batch loss {format_number(batch.get('loss'), '.4f')}, "
                                    f"accuracy {format_number(batch.get('accuracy'), '.1%')}")
        if self._first_batch is not None and step > self._first_batch[1] and total:
            per_step = (received - self._first_batch[0]) / (step - self._first_batch[1])
            self._eta_label.setText(f"about {format_duration(per_step * (total - step))} left")

    @Slot(dict)
    def _on_epoch_ended(self, epoch: dict) -> None:
        self._readout_timer.stop()
        self._show_latest_batch()
        self._curves.add_epoch_point(epoch)
        self._lr_label.setText(f"Learning rate {format_number(epoch.get('learning_rate'), '.2g')}")
        val = (f", val_loss {format_number(epoch.get('val_loss'), '.4f')}, val_accuracy {format_number(epoch.get('val_accuracy'), '.1%')}"
               if epoch.get("val_loss") is not None else "")
        self._append_log(
            f"Epoch {epoch.get('epoch')}/{epoch.get('epochs')}: loss {format_number(epoch.get('loss'), '.4f')}, "
            f"accuracy {format_number(epoch.get('accuracy'), '.1%')}{val}, lr {format_number(epoch.get('learning_rate'), '.2g')}, "
            f"{format_number(epoch.get('samples_per_second'), ',.0f')} samples/s, "
            f"elapsed {format_duration(float(epoch.get('elapsed') or 0))}")

    @Slot(str)
    def _on_log(self, line: str) -> None:
        self._append_log(line)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_error(message)
        self._append_log(f"ERROR: {message}")
        self._status.setText("Failed.")

    @Slot(dict)
    def _on_run_finished(self, payload: dict) -> None:
        self._readout_timer.stop()
        self._show_latest_batch()
        if payload.get("status") == "completed":
            self._progress.setValue(self._progress.maximum())
            self._eta_label.setText("done")
        else:
            self._eta_label.setText("")
        self._status.setText(finished_text(payload))
        if payload.get("model_path"):
            self._append_log(f"Model saved to {payload['model_path']}")
        self._state.run_finished.emit(dict(payload))

    @Slot()
    def _on_distribution_changed(self) -> None:
        self._sync_buttons()

    @Slot(object)
    def _on_dataset_changed(self, _scan) -> None:
        self._clear_run()
        self._sync_buttons()

    @Slot(str)
    def _on_template_changed(self, _template_id: str) -> None:
        self._clear_run()
        self._sync_buttons()

    @Slot()
    def _on_finished(self) -> None:
        if self._stopping and self._status.text().startswith("Stopping"):
            self._status.setText("Stopped.")
        self._stopping = False
        self._sync_buttons()

