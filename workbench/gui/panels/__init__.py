"""The workbench's panels: data, model, augmentation, training, results, test.

Each panel is a QWidget taking the shared :class:`~workbench.gui.state.AppState` (and, where it needs
one, a worker controller); panels never reach into each other. Every panel module runs alone for
quick UI work, e.g. ``python -m workbench.gui.panels.training_panel [--screenshot out.png]``, and
has a ``shutdown()`` that ends its background threads (the main window calls it on close).
"""
