"""Live input sources behind plain numpy interfaces, free of Qt.

- :mod:`~workbench.core.sources.camera`: :class:`CameraSource`, a webcam, video file or stream URL read
  on its own thread keeping only the newest frame (plus, on request, a bounded ring of the last
  seconds); :func:`list_cameras`; :class:`CameraUnavailable` saying why a camera cannot be used.
- :mod:`~workbench.core.sources.camera_collect`: save a frame (PNG) or the last seconds (MJPG .avi)
  into a folder-per-class dataset.
- :mod:`~workbench.core.sources.microphone`: :class:`MicrophoneSource`, a PortAudio input stream
  (through ``sounddevice``) whose callback only copies into a ring buffer; the reader drains it.
  ``sounddevice`` is imported lazily, so a machine without PortAudio can import this package and
  gets a :class:`MicrophoneUnavailable` that says what to install.
- :mod:`~workbench.core.sources.ring_buffer`: the lock-guarded numpy ring buffer the callback writes.
- :mod:`~workbench.core.sources.utterance`: an energy detector that cuts utterances out of a
  stream, silence trimming, a sliding-window classifier with smoothing, and ``save_wav``.
- :mod:`~workbench.core.sources.display_spectrogram`: a cheap streaming log-mel spectrogram for
  display only (models compute their own features inside the saved model).
"""

from workbench.core.sources.camera import CameraInfo, CameraSource, CameraUnavailable, Frame, list_cameras

__all__ = ["CameraInfo", "CameraSource", "CameraUnavailable", "Frame", "list_cameras"]
