"""PanelTabs: the main window's tabs, each panel in a scroll area of its own.

A panel asks for the room its controls need (the Test tab's Camera page about 700 px tall); without
scroll areas the window could not be made smaller than the largest panel, and on a 1280×720 screen
(or a high-DPI one scaled to that) its bottom was cut off. Here a panel fills its tab whenever the tab
is large enough and scrolls when it is not, so the window's minimum size no longer depends on its panels.

The tabs are addressed by panel, as before: :meth:`widget`, :meth:`currentWidget`, :meth:`indexOf` and
:meth:`setCurrentWidget` take and return the panels, not their scroll areas.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class PanelScrollArea(QScrollArea):
    """The scroll area holding one panel (resized with the tab, scrolling below the panel's minimum)."""

    def __init__(self, panel: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        panel = panel if panel is not None else QWidget()
        self.setObjectName(f"{panel.objectName() or 'panel'}Scroll")
        self.setAccessibleName(panel.accessibleName() or "Panel")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(panel)


class PanelTabs(QTabWidget):
    """A QTabWidget whose pages are panels wrapped in :class:`PanelScrollArea`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panelTabs")  # the owner names its own
        self.setAccessibleName("Tabs")

    def addTab(self, panel: QWidget, label: str) -> int:  # noqa: N802 (Qt API)
        return super().addTab(PanelScrollArea(panel), label)

    def page(self, index: int) -> QWidget | None:
        """The scroll area of tab ``index`` (what QTabWidget itself holds)."""
        return super().widget(index)

    def widget(self, index: int) -> QWidget | None:
        page = super().widget(index)
        return page.widget() if isinstance(page, PanelScrollArea) else page

    def currentWidget(self) -> QWidget | None:  # noqa: N802 (Qt API)
        return self.widget(self.currentIndex())

    def indexOf(self, widget: QWidget) -> int:  # noqa: N802 (Qt API)
        for index in range(self.count()):
            if widget is self.widget(index) or widget is super().widget(index):
                return index
        return -1

    def setCurrentWidget(self, widget: QWidget) -> None:  # noqa: N802 (Qt API)
        index = self.indexOf(widget)
        if index >= 0:
            self.setCurrentIndex(index)
