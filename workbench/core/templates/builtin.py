"""Registers the built-in templates (the ``builtin`` entry point of ``workbench.templates``)."""

from __future__ import annotations

from typing import Callable

from workbench.core.templates.base import TemplateSpec


def register_builtin_templates(register: Callable[[TemplateSpec], TemplateSpec]) -> None:
    from workbench.core.templates.digits import CANVAS_DIGITS_CNN, MNIST_CNN, SIMPLE_CNN
    from workbench.core.templates.image import REGULARIZED_CNN, TRANSFER_KERAS, TRANSFER_VGG16
    from workbench.core.templates.audio import AUDIO_CNN, AUDIO_SPECTROGRAM_CNN
    from workbench.core.templates.sequence import VIDEO_CNN_GRU, VIDEO_CNN_LSTM
    from workbench.core.templates.transfer import TRANSFER_SQUEEZENET

    for spec in (SIMPLE_CNN, MNIST_CNN, CANVAS_DIGITS_CNN, REGULARIZED_CNN, TRANSFER_SQUEEZENET, TRANSFER_VGG16,
                 TRANSFER_KERAS, AUDIO_SPECTROGRAM_CNN, AUDIO_CNN, VIDEO_CNN_LSTM, VIDEO_CNN_GRU):
        register(spec)
