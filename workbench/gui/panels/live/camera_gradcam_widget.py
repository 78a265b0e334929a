"""CameraGradCamWidget: the Camera tab's "Grad-CAM" toggle, layer picker and heat map views.

With the toggle on, each answer the tab shows is offered here (the prepared model input and the
predicted class); a :class:`~workbench.gui.workers.camera_gradcam_worker.CameraGradCamController`
takes the newest one when its thread is free and the rate allows (a few maps a second) and drops
the rest. Where the map is shown depends on the model:

- digit models (``mnist_style``): beside the feed, over the model's 28×28 input (:attr:`input_view`),
  because their preparation cuts the digit out, scales and centres it: the map is about that
  picture, and laid over the feed it would sit in the wrong place;
- other image models: over the feed itself (:class:`FeedHeatOverlay`), since their input is the
  whole frame stretched to the model's size. The colours are of the newest map, so on a moving
  picture they trail it by the map's age (a fraction of a second).

Video models get no Grad-CAM (the toggle is disabled and the note says why). Turning it off,
another model or another layer discards the map being computed.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.gui.panels.live.camera_gradcam_jobs import CameraGradCamJob
from workbench.gui.panels.live.gradcam_jobs import OVERLAY_ALPHA
from workbench.gui.widgets.model_input_view_widget import ModelInputViewWidget
from workbench.gui.workers.camera_gradcam_worker import MAX_PER_SECOND, CameraGradCamController

DEFAULT_LAYER = "last convolution"
TOOLTIP = ("Colour where the model finds evidence for the class it names: red strong, blue none, as seen by the "
           "chosen convolution layer (Grad-CAM). Digit models: shown beside the feed, over the model's own 28×28 "
           "input, because the digit is cut out and centred before the model reads it. Other image models: laid "
           f"over the feed. At most {MAX_PER_SECOND:g} maps a second, computed in the background; on a moving "
           "picture the colours trail it slightly.")
NOT_VIDEO = ("No Grad-CAM for video models: they read a clip of frames at once, so there is no one picture to "
             "colour. Choose an image model to use it.")
NO_MODEL = "Grad-CAM needs an image model."


class FeedHeatOverlay(QWidget):
    """The heat map's colours painted over the feed's picture (a child of the feed view, on top of it)."""

    def __init__(self, feed: QWidget) -> None:
        super().__init__(feed)
        self.setObjectName("cameraGradCamFeedOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._feed = feed
        self._image: QImage | None = None
        self._scaled: QPixmap | None = None
        self.setGeometry(feed.rect())
        feed.installEventFilter(self)
        self.hide()

    def set_colours(self, rgb: np.ndarray | None) -> None:
        """Paint ``rgb`` ((H, W, 3) uint8, stretched over the feed's picture) from now on; None: nothing."""
        if rgb is None:
            self._image = self._scaled = None
            self.hide()
            return
        pixels = np.ascontiguousarray(rgb[..., :3].astype(np.uint8))
        self._image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0],
                             QImage.Format.Format_RGB888).copy()
        self._scaled = None
        self.show()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self._feed and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._feed.rect())
        return False

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        rect = self._feed.image_rect()
        if self._image is None or rect.isEmpty():
            return
        if self._scaled is None or self._scaled.size() != rect.size():  # scaled once per map and size
            self._scaled = QPixmap.fromImage(self._image.scaled(rect.size(), Qt.AspectRatioMode.IgnoreAspectRatio,
                                                                Qt.TransformationMode.SmoothTransformation))
        painter = QPainter(self)
        painter.setOpacity(OVERLAY_ALPHA)
        painter.drawPixmap(rect.topLeft(), self._scaled)
        painter.end()


class CameraGradCamWidget(QWidget):
    """The toggle, the layer picker and a note; owns the Grad-CAM thread and both views.

    :attr:`input_view` (the digit models' view) is for the owner to place beside its "What the model
    sees"; the feed overlay is a child of ``feed``.

    Signals:
        shown(dict): a heat map is on screen: ``layer``, ``class_index``, ``frame_index``, ``ms``,
            ``thread`` (where it was computed), ``on_input`` (beside the feed, not over it).
        failed(str): a heat map could not be made.
    """

    shown = Signal(object)
    failed = Signal(str)

    def __init__(self, cache, feed: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraGradCamWidget")
        self._model_path = ""
        self._on_input = False
        self._class_names: list[str] = []
        self._layers_of = ""
        self._picture: np.ndarray | None = None
        self._controller = CameraGradCamController(CameraGradCamJob(cache), "cameraGradCamThread", self)
        self._controller.explained.connect(self._on_explained)
        self._controller.failed.connect(self._on_failed)
        self.feed_overlay = FeedHeatOverlay(feed)
        self.input_view = ModelInputViewWidget("Where it looked (Grad-CAM)", parent=self)
        self.input_view.setToolTip(TOOLTIP)
        self.input_view.hide()

        self.toggle = QCheckBox("Grad-CAM", self)
        self.toggle.setObjectName("cameraGradCamToggle")
        self.toggle.setAccessibleName("Show the Grad-CAM heat map")
        self.toggle.toggled.connect(self._on_toggled)
        self.layer_combo = QComboBox(self)
        self.layer_combo.setObjectName("cameraGradCamLayer")
        self.layer_combo.setAccessibleName("Grad-CAM layer")
        self.layer_combo.setToolTip("The convolution layer whose activations the heat map weighs. The last one "
                                    "sees whole shapes, coarsely; earlier ones see finer, simpler patterns.")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self._note = QLabel("", self)
        self._note.setObjectName("cameraGradCamNote")
        self._note.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.toggle)
        row.addWidget(QLabel("Layer", self))
        row.addWidget(self.layer_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self._note)
        self._reset_layers()
        self.set_model("", None, False)

    # ------------------------------------------------------------------------------------ public
    def set_model(self, model_path: str, mode: str | None, mnist_style: bool) -> None:
        """The tab's model (and what the camera does with it); a map being computed is discarded."""
        self._model_path, self._on_input = str(model_path or ""), bool(mnist_style)
        self._controller.discard()
        self._reset_layers()
        self._show(None)
        usable = mode == "image"
        reason = "" if usable else (NOT_VIDEO if mode == "video" else NO_MODEL)
        self.toggle.setEnabled(usable)
        self.layer_combo.setEnabled(usable)
        self.toggle.setToolTip(TOOLTIP if usable else reason)
        self._note.setText("" if usable else (reason if mode == "video" else ""))

    def set_class_names(self, names: list[str]) -> None:
        self._class_names = list(names)

    def offer(self, model_input: np.ndarray, class_index: int, frame_index: int,
              frame_size: tuple[int, int] | None = None) -> bool:
        """The newest answer: start its heat map if Grad-CAM is on and its thread free (else dropped)."""
        if not self.is_on() or not self._model_path:
            return False
        return self._controller.offer({
            "model_path": self._model_path, "model_input": model_input, "class_index": int(class_index),
            "layer": self.layer_combo.currentData(), "on_input": self._on_input, "frame_index": int(frame_index),
            "frame_size": None if self._on_input else frame_size})

    def clear(self) -> None:
        """Nothing to explain (a blank frame): hide the map, ignore the one being computed."""
        self._controller.discard()
        self._show(None)

    def is_on(self) -> bool:
        return self.toggle.isEnabled() and self.toggle.isChecked()

    def picture(self) -> np.ndarray | None:
        """The map on screen (RGB): the model's input with it blended in, or its colours over the feed."""
        return self._picture

    def on_feed(self) -> bool:
        """The map on screen lies over the feed (not beside it)."""
        return self._picture is not None and not self._on_input

    def note_text(self) -> str:
        return self._note.text()

    def layer_names(self) -> list[str]:
        """The layers the picker offers (after the model's first map; before: none)."""
        return [self.layer_combo.itemData(i) for i in range(1, self.layer_combo.count())]

    def select_layer(self, layer: str) -> None:
        self.layer_combo.setCurrentIndex(max(0, self.layer_combo.findData(layer)))

    def shutdown(self) -> None:
        """End the Grad-CAM thread (a map being computed finishes first and is ignored)."""
        self._controller.shutdown()

    # ----------------------------------------------------------------------------------- private
    def _show(self, picture: np.ndarray | None) -> None:
        self._picture = picture
        if picture is None or not self._on_input:
            self.input_view.set_input(None)
            self.input_view.setVisible(False)
        if picture is None or self._on_input:
            self.feed_overlay.set_colours(None)
        if picture is None:
            return
        if self._on_input:
            self.input_view.set_input(picture)
            self.input_view.setVisible(True)
        else:
            self.feed_overlay.set_colours(picture)

    def _reset_layers(self) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem(DEFAULT_LAYER, None)
        self.layer_combo.blockSignals(False)
        self._layers_of = ""

    def _fill_layers(self, model_path: str, layers: list[str], chosen: str) -> None:
        if model_path == self._layers_of:
            return
        current = self.layer_combo.currentData()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem(f"{DEFAULT_LAYER} ({chosen})", None)
        for layer in reversed(layers):  # the deepest first: the usual choice
            self.layer_combo.addItem(layer, layer)
        self.layer_combo.setCurrentIndex(max(0, self.layer_combo.findData(current)) if current else 0)
        self.layer_combo.blockSignals(False)
        self._layers_of = model_path

    @Slot(bool)
    def _on_toggled(self, checked: bool) -> None:
        self._controller.discard()
        self._show(None)
        self._note.setText("Computing the first heat map…" if checked else "")

    @Slot(int)
    def _on_layer_changed(self, _index: int) -> None:
        self._controller.discard()
        self._show(None)

    @Slot(object)
    def _on_explained(self, result: object) -> None:
        if not self.is_on() or result["model_path"] != self._model_path:
            return  # a late map of a model no longer shown
        self._fill_layers(result["model_path"], list(result["layers"]), result["layer"])
        self._show(result["picture"])
        index = int(result["class_index"])
        label = self._class_names[index] if index < len(self._class_names) else str(index)
        where = "over the model's input, beside the feed" if self._on_input else "over the feed"
        self._note.setText(f"Grad-CAM for “{label}” from layer {result['layer']}, {where}: red is where the "
                           f"evidence for it is, blue where there is none ({result['ms']:.0f} ms per map).")
        self.shown.emit({k: result[k] for k in ("layer", "class_index", "frame_index", "ms", "thread", "on_input")})

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.is_on():
            self._note.setText(f"No Grad-CAM: {message}")
            self.failed.emit(message)
