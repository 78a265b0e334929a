"""LiveInputTab: what the Test panel asks of each of its input tabs (draw, microphone, files, ...)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class LiveInputTab(Protocol):
    """An input tab of the Test panel (a QWidget).

    A tab loads its model only once it is shown (``showEvent``), so TensorFlow never loads for a
    tab nobody opened, and opens devices (the microphone) only while it is shown.
    """

    def set_model(self, path: str) -> None:
        """Use the model at ``path`` ("" for none); a model the tab cannot use is explained in the tab."""

    def preferred_model(self, current: str) -> str:
        """A model to switch to when the tab is opened while ``current`` is chosen, or "" to keep it
        (the Microphone tab, shown with the digit-drawing model, picks the shipped spoken-digit one)."""

    def shutdown(self) -> None:
        """End the tab's threads and close its devices (before the panel closes)."""
