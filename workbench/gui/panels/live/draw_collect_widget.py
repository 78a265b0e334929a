"""DrawCollectWidget: the Draw tab's "Collect drawings" group (build a dataset by drawing).

Collapsed by default. When open, a click on a class button (or the class's digit key on the canvas,
which :class:`~workbench.gui.panels.live.draw_test_widget.DrawTestWidget` forwards) asks the owner to
save the drawing into ``<dataset>/<class>/``. The dataset folder is remembered in QSettings. Below the
buttons, "Adapt to my examples" (:class:`AdaptWidget`) teaches the model the drawings collected there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from workbench.gui import settings_keys
from workbench.gui.panels.live.adapt_widget import AdaptWidget

DIGIT_CLASSES = [str(d) for d in range(10)]
BUTTONS_PER_ROW = 10


class DrawCollectWidget(QWidget):
    """A collapsible section: dataset folder, one button per class, and what was saved last.

    Signals:
        save_requested(str): the user picked a class for the current drawing.
    """

    save_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawCollectGroup")
        self._toggle = QToolButton(self)
        self._toggle.setObjectName("drawCollectToggle")
        self._toggle.setText("Collect drawings")
        self._toggle.setAccessibleName("Collect drawings into a dataset")
        self._toggle.setToolTip("Save drawings into a folder-per-class dataset to train on later.")
        self._toggle.setCheckable(True)
        self._toggle.setAutoRaise(True)
        self._toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._toggle.setArrowType(Qt.ArrowType.RightArrow)
        self._directory = str(QSettings().value(settings_keys.DRAW_COLLECT_DIR, "", type=str) or "")
        self._class_names: list[str] = []
        self._body = QFrame(self)
        self._body.setFrameShape(QFrame.Shape.StyledPanel)
        self._folder = QLabel(self._body)
        self._folder.setObjectName("drawCollectFolder")
        self._folder.setAccessibleName("Dataset folder for collected drawings")
        self._folder.setMinimumWidth(120)
        self._choose = QPushButton("Choose folder…", self._body)
        self._choose.setObjectName("drawCollectChooseButton")
        self._choose.setAccessibleName("Choose the dataset folder for collected drawings")
        self._choose.clicked.connect(self._on_choose_clicked)
        hint = QLabel("Click a class (or press its digit key on the canvas) to save the drawing as "
                      "<folder>/<class>/draw_<time>.png and clear the canvas.", self._body)
        hint.setWordWrap(True)
        self._buttons_holder = QWidget(self._body)
        self._buttons = QGridLayout(self._buttons_holder)
        self._buttons.setContentsMargins(0, 0, 0, 0)
        self._buttons.setSpacing(4)
        self._status = QLabel("", self._body)
        self._status.setObjectName("drawCollectStatus")
        self._status.setAccessibleName("Last saved drawing")
        self._status.setWordWrap(True)
        #: "Adapt to my examples": the owner (the Draw tab) answers its ``adapt_requested``.
        self.adapt = AdaptWidget("draw", "drawings", self._body)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Dataset folder:", self._body))
        folder_row.addWidget(self._folder, 1)
        folder_row.addWidget(self._choose)
        body = QVBoxLayout(self._body)
        body.addLayout(folder_row)
        body.addWidget(hint)
        body.addWidget(self._buttons_holder)
        body.addWidget(self._status)
        body.addWidget(self.adapt)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self._body)
        self._toggle.toggled.connect(self._on_toggled)
        self._body.setVisible(False)
        self._show_directory()
        self.set_class_names(DIGIT_CLASSES)

    # ------------------------------------------------------------------------------------ public
    def isChecked(self) -> bool:  # noqa: N802 (reads like the QGroupBox it stands in for)
        """Collect mode is open: class buttons and digit keys save drawings."""
        return self._toggle.isChecked()

    def setChecked(self, checked: bool) -> None:  # noqa: N802
        self._toggle.setChecked(checked)

    def directory(self) -> str:
        """The dataset folder ("" when none chosen yet)."""
        return self._directory

    def set_directory(self, path: str | Path) -> None:
        """Use (and remember) ``path`` as the dataset folder."""
        self._directory = str(path)
        QSettings().setValue(settings_keys.DRAW_COLLECT_DIR, self._directory)
        self._show_directory()

    def class_names(self) -> list[str]:
        return list(self._class_names)

    def set_class_names(self, names: Sequence[str]) -> None:
        """One button per class; rebuilt only when the names change."""
        names = [str(n) for n in names]
        if names == self._class_names:
            return
        self._class_names = names
        while self._buttons.count():
            item = self._buttons.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for i, name in enumerate(names):
            button = QPushButton(name, self._buttons_holder)
            button.setObjectName(f"drawCollectClass_{i}")
            button.setAccessibleName(f"Save the drawing as class {name}")
            button.setToolTip(f"Save the drawing into {name}/ and clear the canvas")
            button.setProperty("className", name)
            button.clicked.connect(self._on_class_clicked)
            self._buttons.addWidget(button, i // BUTTONS_PER_ROW, i % BUTTONS_PER_ROW)

    def class_for_key(self, digit: int) -> str | None:
        """The class a digit key saves into: the class named after it, else the digit-th class."""
        if str(digit) in self._class_names:
            return str(digit)
        if 0 <= digit < len(self._class_names):
            return self._class_names[digit]
        return None

    def show_message(self, text: str) -> None:
        self._status.setText(text)

    def status_text(self) -> str:
        return self._status.text()

    def ensure_directory(self) -> bool:
        """True when a dataset folder is set, asking the user for one if not."""
        if not self._directory:
            self._on_choose_clicked()
        return bool(self._directory)

    # ----------------------------------------------------------------------------------- private
    def _show_directory(self) -> None:
        text = self._directory or "(none chosen)"
        self._folder.setText(text)
        self._folder.setToolTip(text)

    @Slot(bool)
    def _on_toggled(self, checked: bool) -> None:
        self._body.setVisible(checked)
        self._toggle.setArrowType(Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow)

    @Slot()
    def _on_choose_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder for drawings", self._directory)
        if path:
            self.set_directory(path)

    @Slot()
    def _on_class_clicked(self) -> None:
        button = self.sender()
        if button is not None:
            self.save_requested.emit(str(button.property("className")))
