"""ImageFileDetailWidget: the Files tab's selected image, its probabilities, and where the model looked.

Shown under the Files tab's table for image files. The picture and every class's probability come
with the row (:class:`~workbench.gui.panels.live.files_jobs.ImageFileView`, plain data). The
"Grad-CAM" toggle lays a heat map of the predicted class over the picture: red where the chosen
convolution layer's evidence for that class is, blue where there is none. The map is computed on
this widget's own TaskRunner thread (:func:`~workbench.gui.panels.live.gradcam_jobs.gradcam_job`);
selecting another row or layer supersedes a map still being computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.gui.panels.live.gradcam_jobs import ExplainerCache, gradcam_job
from workbench.gui.widgets.probability_bars_widget import ProbabilityBarsWidget
from workbench.gui.workers.task_runner import TaskRunner

PROMPT = "Select an image's row above to see it, its probabilities and, with Grad-CAM, where the model looked."
#: The picture's square on screen, in pixels.
PICTURE_SIDE = 320
DEFAULT_LAYER = "last convolution"


def rgb_pixmap(image: np.ndarray, side: int) -> QPixmap:
    """An RGB uint8 array as a pixmap fitted into a ``side`` × ``side`` square (aspect kept)."""
    pixels = np.ascontiguousarray(image[..., :3].astype(np.uint8))
    qimage = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy()).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation)


class ImageFileDetailWidget(QWidget):
    """The selected image (or its Grad-CAM overlay) and its class probabilities.

    Signals:
        gradcam_shown(str): the overlay now shows the heat map of that layer.
        gradcam_failed(str): the heat map could not be made (the message says why).
    """

    gradcam_shown = Signal(str)
    gradcam_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageFileDetailWidget")
        self.setAccessibleName("Selected image")
        self._cache = None  # the Files tab's PredictorCache (set_predictor_cache)
        self._explainers = ExplainerCache()  # touched only on the runner's thread
        self._runner = TaskRunner("gradcamThread", self)
        self._runner.result_ready.connect(self._on_gradcam_ready)
        self._runner.failed.connect(self._on_gradcam_failed)
        self._view = None  # the ImageFileView shown
        self._class_names: list[str] = []
        self._layers_of = ""  # the model whose layers the picker lists
        self.overlay: np.ndarray | None = None  # the overlay shown (None: the plain picture)

        self._title = QLabel(PROMPT, self)
        self._title.setObjectName("imageFileTitle")
        self._title.setWordWrap(True)
        self._picture = QLabel(self)
        self._picture.setObjectName("imageFilePicture")
        self._picture.setAccessibleName("The selected image")
        self._picture.setFixedSize(PICTURE_SIDE + 2, PICTURE_SIDE + 2)
        self._picture.setFrameShape(QFrame.Shape.Box)
        self._picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.toggle = QCheckBox("Grad-CAM", self)
        self.toggle.setObjectName("imageGradCamToggle")
        self.toggle.setAccessibleName("Show the Grad-CAM heat map")
        self.toggle.setToolTip("Colour the picture by how much each place speaks for the predicted class "
                               "(red: strong evidence, blue: none), as seen by the chosen convolution layer.")
        self.toggle.toggled.connect(self._on_toggled)
        self.layer_combo = QComboBox(self)
        self.layer_combo.setObjectName("imageGradCamLayer")
        self.layer_combo.setAccessibleName("Grad-CAM layer")
        self.layer_combo.setToolTip("The convolution layer whose activations the heat map weighs. The last one "
                                    "sees whole objects, coarsely; earlier ones see finer, simpler patterns.")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self._reset_layers()
        self._note = QLabel("", self)
        self._note.setObjectName("imageFileNote")
        self._note.setWordWrap(True)
        self.bars = ProbabilityBarsWidget(self)
        self.bars.setMinimumWidth(220)

        controls = QHBoxLayout()
        controls.addWidget(self.toggle)
        controls.addWidget(QLabel("Layer", self))
        controls.addWidget(self.layer_combo, 1)
        side = QVBoxLayout()
        side.addWidget(self._title)
        side.addLayout(controls)
        side.addWidget(self._note)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._picture, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(side, 2)
        layout.addWidget(self.bars, 2)
        self.clear()

    # ------------------------------------------------------------------------------------ public
    def set_predictor_cache(self, cache) -> None:
        """The Files tab's loaded models: the Grad-CAM job takes the row's model from there."""
        self._cache = cache

    def show_prediction(self, view, _part: int | None, class_names: Sequence[str]) -> None:
        """A Files-tab row: the image of ``view`` (an :class:`~workbench.gui.panels.live.files_jobs.
        ImageFileView`)."""
        self._view, self._class_names = view, list(class_names)
        if view.model_path != self._layers_of:
            self._reset_layers()
        name = Path(view.source).name
        index = view.predicted_index
        label = self._class_names[index] if index < len(self._class_names) else str(index)
        self._title.setText(f"{name}: {label} {view.probabilities[index]:.0%}")
        self.bars.set_probabilities(self._class_names, view.probabilities)
        self._show_picture(None)
        self._request()

    def clear(self) -> None:
        self._runner.cancel()
        self._view = None
        self._show_picture(None)
        self.bars.clear()
        self._title.setText(PROMPT)
        self._note.setText("")

    def title_text(self) -> str:
        return self._title.text()

    def note_text(self) -> str:
        return self._note.text()

    def layer_names(self) -> list[str]:
        """The layers the picker offers (after the first heat map of a model; before: none)."""
        return [self.layer_combo.itemData(i) for i in range(1, self.layer_combo.count())]

    def select_layer(self, layer: str) -> None:
        """Explain with ``layer`` (one of :meth:`layer_names`)."""
        self.layer_combo.setCurrentIndex(max(0, self.layer_combo.findData(layer)))

    def shutdown(self) -> None:
        self._runner.shutdown()

    # ----------------------------------------------------------------------------------- private
    def _reset_layers(self) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem(DEFAULT_LAYER, None)
        self.layer_combo.blockSignals(False)
        self._layers_of = ""

    def _fill_layers(self, model_path: str, layers: list[str], chosen: str) -> None:
        if model_path == self._layers_of:
            return
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem(f"{DEFAULT_LAYER} ({chosen})", None)
        for layer in reversed(layers):  # the deepest first: the usual choice
            self.layer_combo.addItem(layer, layer)
        self.layer_combo.blockSignals(False)
        self._layers_of = model_path

    def _request(self) -> None:
        """Compute the heat map of the shown row, if Grad-CAM is on (supersedes one in progress)."""
        if not self.toggle.isChecked() or self._view is None:
            self._runner.cancel()
            return
        if self._cache is None:
            self._note.setText("Grad-CAM needs the Files tab's models (no model cache was given).")
            return
        view = self._view
        self._note.setText("Computing the Grad-CAM heat map…")
        self._runner.submit(partial(gradcam_job, self._cache, self._explainers, view.model_path, view.source,
                                    view.predicted_index, self.layer_combo.currentData()))

    def _show_picture(self, overlay: np.ndarray | None) -> None:
        self.overlay = overlay
        image = overlay if overlay is not None else (self._view.image if self._view is not None else None)
        if image is None:
            self._picture.clear()
            self._picture.setText("" if self._view is None else "(cannot show this file)")
        else:
            self._picture.setPixmap(rgb_pixmap(image, PICTURE_SIDE))

    @Slot(bool)
    def _on_toggled(self, checked: bool) -> None:
        if checked:
            self._request()
        else:
            self._runner.cancel()
            self._show_picture(None)
            self._note.setText("")

    @Slot(int)
    def _on_layer_changed(self, _index: int) -> None:
        self._request()

    @Slot(object)
    def _on_gradcam_ready(self, result: object) -> None:
        view = self._view
        if view is None or result.source != view.source or result.model_path != view.model_path \
                or not self.toggle.isChecked():
            return  # a late answer for a row no longer shown
        self._fill_layers(result.model_path, result.layers, result.layer)
        self._show_picture(result.overlay)
        label = self._class_names[result.class_index] if result.class_index < len(self._class_names) else ""
        where = "the model's input (the digit as it was normalised)" if result.on_model_input else "the picture"
        self._note.setText(f"Grad-CAM for “{label}” from layer {result.layer}, over {where}: red is where the "
                           "evidence for it is, blue where there is none.")
        self.gradcam_shown.emit(result.layer)

    @Slot(str)
    def _on_gradcam_failed(self, message: str) -> None:
        self._note.setText(f"No Grad-CAM: {message}")
        self.gradcam_failed.emit(message)
