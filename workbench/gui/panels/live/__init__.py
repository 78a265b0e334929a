"""The Test tab's inputs: drawing, microphone and files (a camera tab joins later).

Each input is a QWidget with the :class:`~workbench.gui.panels.live.live_input_tab.LiveInputTab`
methods; which inputs serve which modality is :data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS`'s
to say. An input loads its model when it is shown and lets go of devices (the microphone) when hidden.
"""
