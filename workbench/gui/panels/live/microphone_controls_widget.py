"""MicrophoneControlsWidget: the Microphone tab's two control rows.

Row one: input device, Refresh, level meter. Row two: capture mode (push to talk / auto trigger /
continuous), the "Hold to talk" button (push-to-talk only), the detector's noise floor and trigger
level as numbers, and the trigger threshold in dB above the noise floor. It only reports what the
user did; :class:`MicrophoneTestWidget` acts on it. The mode and the threshold are remembered in
QSettings.

The meter, its lines and the numbers are levels in the detector's speech band (200-3800 Hz): in a
noisy room the user sees the floor rise with the noise and the trigger level follow it.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPushButton, QRadioButton, QSlider,
                               QVBoxLayout, QWidget)

from workbench.core.sources.microphone import InputDevice
from workbench.core.sources.utterance import DetectorConfig
from workbench.gui import settings_keys
from workbench.gui.widgets.level_meter_widget import LevelMeterWidget
from workbench.gui.workers.microphone_controller import MODES

MODE_TITLES = {"push": "Push to talk", "auto": "Auto trigger", "continuous": "Continuous"}
HINTS = {"push": "Hold “Hold to talk” while you speak, then let go.",
         "auto": "Say a word: recording starts and stops by itself.",
         "continuous": "Speak: the newest second is classified four times a second."}
DEFAULT_THRESHOLD_DB = int(DetectorConfig().threshold_db)


def _dbfs(value: float) -> str:
    return f"{value:.0f} dBFS".replace("-", "\u2212")


class MicrophoneControlsWidget(QWidget):
    """Device picker, level meter, mode, push-to-talk button and threshold slider.

    Signals:
        device_chosen(int): the user picked the input device with this PortAudio index.
        refresh_requested(): list the devices again.
        mode_changed(str): one of :data:`MODES`.
        threshold_changed(int): dB above the noise floor.
        talk_pressed(), talk_released(): the push-to-talk button.
    """

    device_chosen = Signal(int)
    refresh_requested = Signal()
    mode_changed = Signal(str)
    threshold_changed = Signal(int)
    talk_pressed = Signal()
    talk_released = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("micControls")
        settings = QSettings()
        self._devices = QComboBox(self)
        self._devices.setObjectName("micDeviceCombo")
        self._devices.setAccessibleName("Input device")
        self._devices.setMinimumContentsLength(22)
        self._devices.activated.connect(self._on_device_activated)
        self._refresh = QPushButton("Refresh", self)
        self._refresh.setObjectName("micRefreshButton")
        self._refresh.setAccessibleName("Refresh the list of input devices")
        self._refresh.setToolTip("List the input devices again (after plugging one in) and reopen")
        self._refresh.clicked.connect(self._on_refresh_clicked)
        self.meter = LevelMeterWidget(self)
        self._group = QButtonGroup(self)
        self._buttons: dict[str, QRadioButton] = {}
        for i, mode in enumerate(MODES):
            button = QRadioButton(MODE_TITLES[mode], self)
            button.setObjectName(f"micMode_{mode}")
            button.setAccessibleName(f"{MODE_TITLES[mode]} mode")
            button.setToolTip(HINTS[mode])
            self._group.addButton(button, i)
            self._buttons[mode] = button
        self._talk = QPushButton("Hold to talk", self)
        self._talk.setObjectName("micTalkButton")
        self._talk.setAccessibleName("Hold to record")
        self._talk.setToolTip("Records while held down")
        self._talk.pressed.connect(self._on_talk_pressed)
        self._talk.released.connect(self._on_talk_released)
        self._threshold = QSlider(Qt.Orientation.Horizontal, self)
        self._threshold.setObjectName("micThresholdSlider")
        self._threshold.setAccessibleName("Trigger threshold in dB above the noise floor")
        self._threshold.setToolTip("How far above the room's noise floor (grey line on the meter) a sound "
                                   "must be to count as speech (red line)")
        self._threshold.setRange(3, 40)
        self._threshold.setFixedWidth(130)
        self._threshold_label = QLabel("", self)
        self._threshold_label.setObjectName("micThresholdLabel")
        self._threshold_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("40 dB "))
        self._levels = QLabel("", self)
        self._levels.setObjectName("micNoiseFloorLabel")
        self._levels.setAccessibleName("Noise floor and trigger level")
        self._levels.setToolTip("The room's noise as the detector hears it (grey line on the meter) and the "
                                "level a sound must reach to start a recording (red line), in the speech "
                                "band (200-3800 Hz). The floor follows the room: steady noise does not "
                                "trigger, and speech above it still does.")
        self._levels.setMinimumWidth(self.fontMetrics().horizontalAdvance("noise floor \u2212100 dBFS, "
                                                                          "threshold \u2212100 dBFS"))

        devices = QHBoxLayout()
        devices.addWidget(QLabel("Input:", self))
        devices.addWidget(self._devices, 2)
        devices.addWidget(self._refresh)
        devices.addWidget(self.meter, 3)
        modes = QHBoxLayout()
        for button in self._buttons.values():
            modes.addWidget(button)
        modes.addSpacing(8)
        modes.addWidget(self._talk)
        modes.addStretch(1)
        modes.addWidget(self._levels)
        modes.addSpacing(8)
        threshold_caption = QLabel("&Threshold:", self)
        threshold_caption.setBuddy(self._threshold)
        modes.addWidget(threshold_caption)
        modes.addWidget(self._threshold)
        modes.addWidget(self._threshold_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(devices)
        layout.addLayout(modes)

        threshold = settings.value(settings_keys.MICROPHONE_THRESHOLD_DB, DEFAULT_THRESHOLD_DB, type=int)
        self._threshold.setValue(int(threshold))
        self._threshold_label.setText(f"{self._threshold.value()} dB")
        mode = str(settings.value(settings_keys.MICROPHONE_MODE, "auto", type=str))
        self._buttons[mode if mode in MODES else "auto"].setChecked(True)
        self._talk.setVisible(self.mode() == "push")
        self._group.idToggled.connect(self._on_mode_toggled)
        self._threshold.valueChanged.connect(self._on_threshold_changed)

    # ------------------------------------------------------------------------------------ public
    def set_devices(self, devices: list[InputDevice], current: int | None) -> None:
        """List ``devices``; select the one with PortAudio index ``current``."""
        self._devices.clear()
        for device in devices:
            self._devices.addItem(f"{device.label} · {device.default_sample_rate / 1000:g} kHz", device.index)
        row = self._devices.findData(current) if current is not None else -1
        if row >= 0:
            self._devices.setCurrentIndex(row)

    def current_device(self) -> int | None:
        data = self._devices.currentData()
        return int(data) if data is not None else None

    def device_labels(self) -> list[str]:
        return [self._devices.itemText(i) for i in range(self._devices.count())]

    def select_device(self, index: int) -> bool:
        row = self._devices.findData(int(index))
        if row >= 0:
            self._devices.setCurrentIndex(row)
        return row >= 0

    def mode(self) -> str:
        return MODES[max(0, self._group.checkedId())]

    def set_mode(self, mode: str) -> None:
        self._buttons[mode].setChecked(True)

    def threshold(self) -> int:
        return self._threshold.value()

    def set_threshold(self, value: int) -> None:
        self._threshold.setValue(int(value))

    def set_detector_levels(self, floor_dbfs: float | None, threshold_dbfs: float | None) -> None:
        """Show the detector's noise floor and (``None`` in push-to-talk: unused) trigger level."""
        parts = [] if floor_dbfs is None else [f"noise floor {_dbfs(floor_dbfs)}"]
        if threshold_dbfs is not None:
            parts.append(f"threshold {_dbfs(threshold_dbfs)}")
        text = ", ".join(parts)
        if text != self._levels.text():  # 25 ticks a second; most change nothing
            self._levels.setText(text)

    def detector_levels_text(self) -> str:
        return self._levels.text()

    def set_refresh_enabled(self, enabled: bool) -> None:
        self._refresh.setEnabled(enabled)

    def set_talk_enabled(self, enabled: bool) -> None:
        self._talk.setEnabled(enabled)

    def talk_button(self) -> QPushButton:
        return self._talk

    # ----------------------------------------------------------------------------------- private
    @Slot(int)
    def _on_device_activated(self, _row: int) -> None:
        if (index := self.current_device()) is not None:
            self.device_chosen.emit(index)

    @Slot()
    def _on_refresh_clicked(self) -> None:
        self.refresh_requested.emit()

    @Slot(int, bool)
    def _on_mode_toggled(self, button_id: int, checked: bool) -> None:
        if checked:
            mode = MODES[button_id]
            self._talk.setVisible(mode == "push")
            QSettings().setValue(settings_keys.MICROPHONE_MODE, mode)
            self.mode_changed.emit(mode)

    @Slot(int)
    def _on_threshold_changed(self, value: int) -> None:
        self._threshold_label.setText(f"{value} dB")
        QSettings().setValue(settings_keys.MICROPHONE_THRESHOLD_DB, int(value))
        self.threshold_changed.emit(int(value))

    @Slot()
    def _on_talk_pressed(self) -> None:
        self._talk.setText("Recording… release to stop")
        self.talk_pressed.emit()

    @Slot()
    def _on_talk_released(self) -> None:
        self._talk.setText("Hold to talk")
        self.talk_released.emit()
