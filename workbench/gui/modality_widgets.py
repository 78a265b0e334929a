"""What the GUI shows for each modality, in one mapping (napari's ``layer_to_controls`` pattern).

The core's registry (:mod:`workbench.core.modality`) says what differs in the data; this says what
differs on screen: which Augmentation page edits a modality's spec, which live inputs of the Test tab
feed its models, how the Files tab lists and details its files, and whether its samples can be shown
as image thumbnails. Panels ask :func:`widgets_for` instead of branching on a modality's name, so a
new modality's GUI is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QTableWidgetItem, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.modality import DEFAULT_MODALITY, get_modality
from workbench.gui.panels.augmentation.audio_augmentation_panel import AudioAugmentationPanel
from workbench.gui.panels.augmentation.augmentation_panel import AugmentationPanel
from workbench.gui.panels.augmentation.video_augmentation_panel import VideoAugmentationPanel
from workbench.gui.panels.live.camera_test_widget import CameraTestWidget
from workbench.gui.panels.live.draw_test_widget import DrawTestWidget
from workbench.gui.panels.live.file_cells import (TEXT_ROW, THUMBNAIL_ROW, empty_cell, image_cell, sound_cell,
                                                  video_cell)
from workbench.gui.panels.live.files_jobs import (FilePrediction, predict_image_file, predict_sound_file,
                                                  predict_video_file)
from workbench.gui.panels.live.image_file_detail_widget import ImageFileDetailWidget
from workbench.gui.panels.live.microphone_test_widget import MicrophoneTestWidget
from workbench.gui.panels.live.sound_file_detail_widget import SoundFileDetailWidget
from workbench.gui.panels.live.video_file_detail_widget import VideoFileDetailWidget


@dataclass(frozen=True)
class LiveInput:
    """A Test-tab input that feeds one modality's models (a :class:`LiveInputTab`).

    Attributes:
        key: how the Test panel names the tab (``test_panel.inputs[key]``).
        title: the tab's title.
        widget: the tab's class, built with the Test panel's ``PredictorCache``.
    """

    key: str
    title: str
    widget: type[QWidget]


#: The webcam feeds image models (each frame) and video models (the last seconds): one tab for both.
CAMERA = LiveInput("camera", "Camera", CameraTestWidget)


@dataclass(frozen=True)
class ModalityWidgets:
    """The widgets and words of one modality.

    Attributes:
        name: the core registry's name.
        label: the Files tab's first column and, with an "s", its file dialog's filter.
        augmentation_panel: the Augmentation tab's page editing this modality's spec (None: none yet).
        live_inputs: the Test tab's inputs for models of this modality.
        file_cell: makes the first cell of a Files-tab row from the file's path.
        file_row_height: the Files table's row height.
        predict_file: how the Files tab predicts one file (runs on its TaskRunner thread).
        file_detail: shown below the Files table for the selected row (None: nothing to show).
        file_models: other modalities whose models can classify this modality's files too (an
            image model reads a video frame by frame, along its timeline).
        files_hint: added to the Files tab's prompt.
        select_hint: added to the Files tab's status once files are classified (with a detail view).
        thumbnails: samples can be shown as image thumbnails (Data examples, Results mistakes).
        clips: Results shows a cell's samples as clips to hear, with the selected one's spectrogram.
    """

    name: str
    label: str
    augmentation_panel: type[QWidget] | None = None
    live_inputs: tuple[LiveInput, ...] = ()
    file_cell: Callable[[str], QTableWidgetItem] = empty_cell
    file_row_height: int = THUMBNAIL_ROW
    predict_file: FilePrediction = predict_image_file
    file_detail: type[QWidget] | None = None
    file_models: tuple[str, ...] = ()
    files_hint: str = ""
    select_hint: str = ""
    thumbnails: bool = False
    clips: bool = False

    @property
    def noun(self) -> str:
        """How messages name one sample ("image", "sound", "video"): the core's word for it."""
        try:
            return get_modality(self.name).noun
        except WorkbenchError:
            return self.name


MODALITY_WIDGETS: dict[str, ModalityWidgets] = {
    "image": ModalityWidgets(
        "image", "Image", augmentation_panel=AugmentationPanel,
        live_inputs=(LiveInput("draw", "Draw", DrawTestWidget), CAMERA),
        file_cell=image_cell, predict_file=predict_image_file, file_detail=ImageFileDetailWidget, thumbnails=True,
        select_hint=" Select an image's row to see its probabilities and, with Grad-CAM, where the model looked.",
    ),
    "audio": ModalityWidgets(
        "audio", "Sound", augmentation_panel=AudioAugmentationPanel,
        live_inputs=(LiveInput("microphone", "Microphone", MicrophoneTestWidget),),
        file_cell=sound_cell, file_row_height=TEXT_ROW, predict_file=predict_sound_file,
        file_detail=SoundFileDetailWidget,
        files_hint=" Recordings longer than the model's clip are also read word by word.",
        select_hint=" Select a row to see and hear what the model read.", clips=True,
    ),
    "video": ModalityWidgets(
        "video", "Video", augmentation_panel=VideoAugmentationPanel, live_inputs=(CAMERA,),
        file_cell=video_cell, predict_file=predict_video_file, file_detail=VideoFileDetailWidget,
        file_models=("image",),
        files_hint=" A video is read window by window along its timeline.",
        select_hint=" Select a video's row to see the probabilities along its timeline.",
    ),
}


def widgets_for(modality: str | None) -> ModalityWidgets:
    """The entry of ``modality`` (the default modality's for None or ""); a modality registered
    without GUI entry gets the plain one: no panels, no thumbnails."""
    name = modality or DEFAULT_MODALITY
    return MODALITY_WIDGETS.get(name) or ModalityWidgets(name, name.capitalize())


def live_inputs() -> list[LiveInput]:
    """Every modality's live inputs, in the mapping's order (the default modality's first); an input
    that feeds several modalities (the camera: images and video) is listed once."""
    entries: dict[str, LiveInput] = {}
    for widgets in MODALITY_WIDGETS.values():
        for entry in widgets.live_inputs:
            entries.setdefault(entry.key, entry)
    return list(entries.values())


def thumbnail_modalities() -> frozenset[str]:
    """The modalities whose samples can be shown as image thumbnails."""
    return frozenset(name for name, widgets in MODALITY_WIDGETS.items() if widgets.thumbnails)
